"""The virtual EmberZNet stick's line, frame by frame: ASH as UG101 sets it (read back with
bellows' own ASH parser) and EZSP's answers to what a host gets wrong.

The end-to-end checks are bellows and zigbee-herdsman driving the stick
(test_ezsp_bellows.py, test_herdsman_ember.py); these pin the behaviours those clients
rarely exercise: NAKs, retransmission, the FAILED state, bad frames, a vanished host.
"""

from __future__ import annotations

import bellows.types as bt
from bellows.ash import AckFrame, DataFrame, ErrorFrame, NakFrame, RStackFrame

from benchmarks.stick_fuzz import (
    BLOCK,
    CANCEL,
    COMMANDS,
    EzspHost,
    ash_bytes,
    ash_frames,
    formed_ezsp_stick,
    fuzz_ezsp,
)
from han.ezsp import ash
from han.ezsp.emulator import EzspEmulator


def test_reset_answers_rstack_and_version_13_is_negotiated() -> None:
    stick = EzspEmulator()
    stick.receive(CANCEL + bytes.fromhex("c038bc7e"))  # RST, as hosts send it
    [rstack] = ash_frames(stick.take_output())
    assert isinstance(rstack, RStackFrame) and rstack.version == 2
    assert rstack.reset_code == bt.NcpResetCode.RESET_SOFTWARE
    host = EzspHost(stick)
    assert host.command("version", desiredProtocolVersion=13) == {
        "protocolVersion": 13, "stackType": 2, "stackVersion": 0x7440}


def _invalid_status(host: EzspHost, name: str, **params) -> bt.EzspStatus:
    host.stick.receive(host.data_frame(name, **params))
    [frame] = host.acknowledge(host.stick.take_output())
    assert int.from_bytes(frame[3:5], "little") == COMMANDS["invalidCommand"][0]
    return bt.EzspStatus(frame[5])


def test_commands_before_the_version_and_unknown_frames_get_invalid_command() -> None:
    host = EzspHost(EzspEmulator())
    assert host.reset()
    assert _invalid_status(host, "networkState") == bt.EzspStatus.ERROR_VERSION_NOT_SET
    assert host.command("version", desiredProtocolVersion=13) is not None
    frame = DataFrame(frm_num=host.tx, re_tx=False, ack_num=host.rx,
                      ezsp_frame=bytes([9, 0, 1, 0xEE, 0x7E]))  # frame ID 0x7EEE
    host.tx = (host.tx + 1) % 8
    host.stick.receive(ash_bytes(frame))
    [answer] = host.acknowledge(host.stick.take_output())
    assert answer[0] == 9 and bt.EzspStatus(answer[5]) == bt.EzspStatus.ERROR_INVALID_FRAME_ID


def test_out_of_sequence_and_corrupted_frames_are_naked_once() -> None:
    host = EzspHost(EzspEmulator())
    assert host.start()  # the version command was frame 0: the NCP wants frame 1
    host.tx = 4  # frames skipped
    host.stick.receive(host.data_frame("nop") + host.data_frame("nop"))
    naks = [f for f in ash_frames(host.stick.take_output()) if isinstance(f, NakFrame)]
    assert len(naks) == 1 and naks[0].ack_num == 1  # reject condition: one NAK, next wanted
    host.tx = 1
    assert host.command("nop") == {}  # the right frame clears the reject condition
    line = bytearray(host.data_frame("nop"))
    line[2] ^= 0x40  # a bit flipped on the wire: CRC fails
    host.stick.receive(bytes(line))
    assert any(isinstance(f, NakFrame) for f in ash_frames(host.stick.take_output()))
    host.tx = 2
    assert host.command("nop") == {}


def test_unacknowledged_frames_are_sent_again_then_the_ncp_fails_until_reset() -> None:
    stick = EzspEmulator()
    host = EzspHost(stick)
    assert host.start()
    stick.receive(host.data_frame("networkState"))
    first = [f for f in ash_frames(stick.take_output()) if isinstance(f, DataFrame)]
    assert len(first) == 1 and not first[0].re_tx
    stick.advance(stick.now + ash.T_RX_ACK + 0.01)
    [again] = ash_frames(stick.take_output())
    assert isinstance(again, DataFrame) and again.re_tx and again.frm_num == first[0].frm_num
    stick.receive(ash_bytes(NakFrame(res=0, ncp_ready=0, ack_num=first[0].frm_num)))
    assert [f.re_tx for f in ash_frames(stick.take_output())] == [True]  # NAK: send again
    for _ in range(ash.ACK_TIMEOUTS):
        stick.advance(stick.now + ash.T_RX_ACK_MAX + 0.01)
    frames = ash_frames(stick.take_output())
    assert isinstance(frames[-1], ErrorFrame)
    assert frames[-1].reset_code == bt.NcpResetCode.ERROR_EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT
    stick.receive(host.data_frame("nop"))
    assert stick.take_output() == b""  # FAILED: only RST is heard
    assert host.start()


def test_a_host_that_vanishes_mid_frame_leaves_nothing_for_the_next() -> None:
    stick, host = formed_ezsp_stick()
    stick.receive(host.data_frame("getEui64")[:5])  # half a frame, then the host is gone
    stick.new_line()
    fresh = EzspHost(stick)
    assert fresh.start()
    assert fresh.command("getEui64") == {"eui64": stick.ieee}
    # reset, the NCP starts its network from its tokens when told to, as EmberZNet does
    assert fresh.command("networkState")["status"] == bt.EmberNetworkStatus.NO_NETWORK
    assert fresh.command("networkInit", networkInitBitmask=0)["status"] == bt.EmberStatus.SUCCESS
    assert fresh.command("networkState")["status"] == bt.EmberNetworkStatus.JOINED_NETWORK


def test_acknowledgements_release_the_window() -> None:
    stick = EzspEmulator()
    host = EzspHost(stick)
    assert host.start()
    for _ in range(ash.TX_WINDOW + 2):  # more answers than the window: the rest wait
        stick.receive(host.data_frame("nop"))
    sent = [f for f in ash_frames(stick.take_output()) if isinstance(f, DataFrame)]
    assert len(sent) == ash.TX_WINDOW
    stick.receive(ash_bytes(AckFrame(res=0, ncp_ready=0, ack_num=(sent[-1].frm_num + 1) % 8)))
    assert len([f for f in ash_frames(stick.take_output()) if isinstance(f, DataFrame)]) == 2


def test_fuzzed_line_keeps_the_stick_bounded_and_serving() -> None:
    """A short run of benchmarks/stick_fuzz.py's EZSP fuzzing (the benchmark runs 100,000)."""
    figures = fuzz_ezsp(BLOCK, 2)
    assert figures["alive_after_every_block"] and figures["still_served"]
    assert figures["queued"] <= ash.MAX_QUEUED and figures["timers"] <= 8
    assert figures["peak_heap_kib"] < 4096
