"""The emulator's join logic driven frame by frame (sans-IO, no zigpy application):
permit windows, install-code keys, failures at window close, resets, determinism."""

from __future__ import annotations

import pytest
import zigpy.util

pytest.importorskip("zigpy_znp")

import zigpy_znp.commands as c  # noqa: E402
import zigpy_znp.types as t  # noqa: E402
from zigpy_znp.types.nvids import OsalNvIds  # noqa: E402

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.framing import encode  # noqa: E402
from han.eui import to_device_id  # noqa: E402
from han.znp.meters import EmulatedMeter, parse_eui64  # noqa: E402
from test_znp_emulator_serial import frames_of  # noqa: E402

CODE = "83FED3407A939723A5C639B26916D505C3B5"
ESME = EmulatedMeter.parse(f"00-DB-12-34-56-78-90-A0={CODE}")
RIGHT_KEY = bytes(zigpy.util.convert_install_code(bytes.fromhex(CODE)))
WRONG_KEY = bytes(range(16))


def send(emulator: ZStackEmulator, *requests, now: float | None = None) -> list:
    for request in requests:
        emulator.receive(encode(request), now)
    return frames_of(emulator.take_output())


def formed(seed: int = 0, **kwargs) -> ZStackEmulator:
    emulator = ZStackEmulator(meters=(ESME,), seed=seed, join_delay=0.5, **kwargs)
    replies = send(emulator, c.AppConfig.BDBStartCommissioning.Req(
        Mode=c.app_config.BDBCommissioningMode.NwkFormation), now=0.0)
    assert any(isinstance(r, c.ZDO.StateChangeInd.Callback)
               and r.State == t.DeviceState.StartedAsCoordinator for r in replies)
    return emulator


def add_key(emulator: ZStackEmulator, key: bytes, now: float) -> None:
    [rsp] = send(emulator, c.AppConfig.BDBAddInstallCode.Req(
        InstallCodeFormat=c.app_config.InstallCodeFormat.KeyDerivedFromInstallCode,
        IEEE=ESME.ieee, InstallCode=t.Bytes(key)), now=now)
    assert rsp.Status == t.Status.SUCCESS


def permit(emulator: ZStackEmulator, seconds: int, now: float) -> list:
    return send(emulator, c.ZDO.MgmtPermitJoinReq.Req(
        AddrMode=t.AddrMode.Broadcast, Dst=0xFFFC, Duration=seconds, TCSignificance=1), now=now)


def test_wrong_key_fails_at_window_close_then_right_key_joins_next_window() -> None:
    emulator = formed()
    add_key(emulator, WRONG_KEY, now=1.0)
    permit(emulator, 10, now=1.0)
    emulator.advance(5.0)
    assert emulator.outcomes == []  # refused, but the failure waits for the window's end
    assert not any(isinstance(f, c.ZDO.TCDevInd.Callback) for f in frames_of(emulator.take_output()))
    emulator.advance(11.0)
    [failure] = emulator.outcomes
    assert not failure.joined and failure.time == 11.0 and "mismatch" in failure.reason
    add_key(emulator, RIGHT_KEY, now=20.0)
    permit(emulator, 10, now=20.0)
    emulator.advance(21.0)
    joined = emulator.outcomes[-1]
    assert joined.joined and joined.time == 20.5 and joined.device_id == "00-DB-12-34-56-78-90-A0"
    frames = frames_of(emulator.take_output())
    [ind] = [f for f in frames if isinstance(f, c.ZDO.TCDevInd.Callback)]
    assert ind.SrcIEEE == ESME.ieee and ind.SrcNwk == joined.nwk and ind.ParentNwk == 0x0000
    assert emulator.joined() == {ESME.ieee: joined.nwk}
    emulator.advance(40.0)
    assert len(emulator.outcomes) == 2  # a joined meter is no failure when the window closes


def test_install_code_and_crc_format_is_accepted_too() -> None:
    emulator = formed()
    [rsp] = send(emulator, c.AppConfig.BDBAddInstallCode.Req(
        InstallCodeFormat=c.app_config.InstallCodeFormat.InstallCodeAndCRC,
        IEEE=ESME.ieee, InstallCode=t.Bytes(bytes.fromhex(CODE))), now=1.0)
    assert rsp.Status == t.Status.SUCCESS
    permit(emulator, 5, now=1.0)
    emulator.advance(2.0)
    assert [o.joined for o in emulator.outcomes] == [True]


def test_permit_zero_closes_the_window_early_and_reports() -> None:
    emulator = formed()
    add_key(emulator, RIGHT_KEY, now=1.0)
    permit(emulator, 60, now=1.0)
    permit(emulator, 0, now=1.2)  # before the meter's turn at 1.5 s
    emulator.advance(100.0)
    [failure] = emulator.outcomes
    assert not failure.joined and failure.time == 1.2 and "no device" in failure.reason


def test_no_joins_before_the_network_is_started() -> None:
    emulator = ZStackEmulator(meters=(ESME,))
    add_key(emulator, RIGHT_KEY, now=0.0)
    permit(emulator, 10, now=0.0)
    emulator.advance(20.0)
    assert emulator.outcomes == []


def test_reset_with_clear_state_forgets_the_network() -> None:
    emulator = formed()
    assert emulator.network() is not None
    send(emulator, c.SYS.OSALNVWrite.Req(
        Id=OsalNvIds.STARTUP_OPTION, Offset=0,
        Value=t.ShortBytes(bytes([t.StartupOptions.ClearState | t.StartupOptions.ClearConfig]))))
    [ind] = send(emulator, c.SYS.ResetReq.Req(Type=t.ResetType.Soft))
    assert isinstance(ind, c.SYS.ResetInd.Callback)
    assert emulator.network() is None
    [length] = send(emulator, c.SYS.OSALNVLength.Req(Id=OsalNvIds.EXTADDR))
    assert length.ItemLen == 8  # the hardware address survives a factory reset


def test_same_seed_same_bytes() -> None:
    def session(seed: int) -> bytes:
        emulator = formed(seed)
        add_key(emulator, RIGHT_KEY, now=1.0)
        permit(emulator, 5, now=1.0)
        emulator.advance(10.0)
        send(emulator, c.SYS.OSALNVReadExt.Req(Id=OsalNvIds.NIB, Offset=0))
        return bytes(emulator.nvram.osal[OsalNvIds.NIB]) + repr(emulator.outcomes).encode()

    assert session(4) == session(4)
    assert session(4) != session(5)


def test_eui64_forms() -> None:
    assert parse_eui64("00-DB-12-34-56-78-90-A0") == parse_eui64("00:db:12:34:56:78:90:a0")
    assert to_device_id(parse_eui64("00db1234567890a0")) == "00-DB-12-34-56-78-90-A0"
    with pytest.raises(ValueError, match="not 8 bytes"):
        parse_eui64("00-DB-12")


def test_seventeenth_meter_is_refused_when_the_address_table_is_full() -> None:
    from han.installcode import InstallCode
    from han.znp.nvram import TABLE_CAPACITY

    fleet = [EmulatedMeter(parse_eui64(f"00db0000000000{i:02x}"), InstallCode.generate(16))
             for i in range(TABLE_CAPACITY + 1)]
    emulator = ZStackEmulator(meters=tuple(fleet), join_delay=0.1)
    send(emulator, c.AppConfig.BDBStartCommissioning.Req(
        Mode=c.app_config.BDBCommissioningMode.NwkFormation), now=0.0)
    for meter in fleet:
        send(emulator, c.AppConfig.BDBAddInstallCode.Req(
            InstallCodeFormat=c.app_config.InstallCodeFormat.KeyDerivedFromInstallCode,
            IEEE=meter.ieee, InstallCode=t.Bytes(meter.link_key)), now=0.0)
    permit(emulator, 30, now=0.0)
    emulator.advance(31.0)
    assert sum(o.joined for o in emulator.outcomes) == TABLE_CAPACITY
    [refused] = [o for o in emulator.outcomes if not o.joined]
    assert refused.ieee == fleet[-1].ieee and "address table is full" in refused.reason


def test_without_install_code_key_the_global_key_is_offered_and_refused() -> None:
    """With BdbJoinUsesInstallCodeKey off and no key for the meter, the coordinator offers
    the well-known ZigBeeAlliance09 key: an install-code meter cannot use it."""
    seen = []

    def spy(network, meter, coordinator_key):
        seen.append(coordinator_key)
        from han.znp.meters import key_level_join
        return key_level_join(network, meter, coordinator_key)

    emulator = formed(joiner=spy)
    permit(emulator, 5, now=1.0)
    emulator.advance(7.0)  # the window closed at 6 s: one failure
    send(emulator, c.AppConfig.BDBSetJoinUsesInstallCodeKey.Req(BdbJoinUsesInstallCodeKey=True))
    permit(emulator, 5, now=8.0)
    emulator.advance(20.0)
    assert seen == [b"ZigBeeAlliance09", None]
    assert [o.joined for o in emulator.outcomes] == [False, False]


def test_meter_from_its_qr_label_equals_meter_from_eui_and_code() -> None:
    from_label = EmulatedMeter.parse(f"Z:00DB1234567890A0$I:{CODE}")
    assert from_label.ieee == ESME.ieee and from_label.link_key == ESME.link_key == RIGHT_KEY
    with pytest.raises(ValueError, match="give EUI64=INSTALLCODE or a QR string"):
        EmulatedMeter.parse("00DB1234567890A0")
