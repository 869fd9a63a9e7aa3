"""The join end to end on the simulated air: who joins, who does not, and why (domain.md §3-4)."""

from __future__ import annotations

import simpy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scapy.layers.dot15d4 import Dot15d4FCS
from scapy.layers.zigbee import ZigbeeNWK, ZigbeeSecurityHeader

from devices.alerts import AlertCode
from devices.device_log import DeviceLog, KeySource
from han.installcode import CODE_LENGTHS, InstallCode
from han_support import CHF, ESME, code, join, sent_by, whitelisted
from devices.han_join import HanJoin, KeyLevelJoin
from sim.han_time.frame_join import FrameLevelJoin, run_join

DATA = 1
_fast = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_right_code_joins_and_the_chf_reads_the_meter() -> None:
    report = join(code(1))
    assert report.joined and report.reason == "joined"
    assert report.key_source == KeySource.INSTALL_CODE.value
    assert [a.code for a in report.alerts] == [AlertCode.JOINING_SUCCEEDED]
    assert report.reading == {0x0000: 0, 0x0300: 0}
    assert report.attempts == 1 and report.drops == {"CHF": {}, "ESME": {}}


@_fast
@given(length=st.sampled_from(CODE_LENGTHS), data=st.data())
def test_random_codes_of_every_length_join(length: int, data: st.DataObject) -> None:
    secret = InstallCode(data.draw(st.binary(min_size=length, max_size=length)))
    assert join(secret, seed=data.draw(st.integers(0, 2**16))).joined


_codes = st.sampled_from(CODE_LENGTHS).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@_fast
@given(chf_code=_codes, meter_code=_codes)
def test_any_other_code_fails_and_the_meter_never_announces(chf_code: bytes, meter_code: bytes) -> None:
    assume(chf_code != meter_code)
    report = join(InstallCode(chf_code), InstallCode(meter_code))
    assert not report.joined and report.reason == "wrong link key"
    # The meter keeps steering (4 attempts a round, a growing back-off) until the window closes;
    # each attempt the CHF answered failed on the Transport Key's MIC, those after the close
    # found no network permitting joining.
    keyed = sum(f == "no usable Transport Key" for f in report.attempt_failures)
    assert report.attempts > 4 and report.drops["ESME"]["MIC check failed"] == keyed
    assert keyed + report.attempt_failures.count("no beacon permitting joining") == report.attempts
    assert max(f.time for f in report.frames if f.sender == "ESME") > 300.0 - 60.0 - 30.0
    assert sent_by(report, "ESME", DATA) == []  # no Device_annce, nor any other data frame
    assert [a.code for a in report.alerts] == [AlertCode.JOINING_FAILED]
    assert report.alerts[0].time == 300.0  # raised when the window closes


@_fast
@given(fraction=st.floats(0.0, 0.49))
def test_historic_log_device_rejoins_with_its_old_key_in_the_first_half(fraction: float) -> None:
    old, new = code(10), code(11)
    log = DeviceLog(CHF)
    log.add(ESME, old, 60, 0.0)
    env = simpy.Environment()
    env.run(until=1.0)
    assert run_join(env, log, CHF, ESME, old).joined
    log.remove(ESME, 100.0)
    log.add(ESME, new, 600, 200.0)  # back in the live log; its old key is in the historic log
    env.run(until=200.0 + fraction * 600)
    report = run_join(env, log, CHF, ESME, old)
    assert report.joined and report.key_source == KeySource.HISTORIC_LOG.value


def test_in_the_second_half_only_the_new_install_code_joins() -> None:
    old, new = code(10), code(11)
    log = DeviceLog(CHF)
    log.add(ESME, old, 60, 0.0)
    log.remove(ESME, 10.0)
    log.add(ESME, new, 600, 20.0)
    env = simpy.Environment(initial_time=20.0 + 301)
    refused = run_join(env, log, CHF, ESME, old)
    assert not refused.joined and refused.reason == "wrong link key"
    log = DeviceLog(CHF)
    log.add(ESME, old, 60, 0.0)
    log.remove(ESME, 10.0)
    log.add(ESME, new, 600, 20.0)
    report = run_join(simpy.Environment(initial_time=20.0 + 301), log, CHF, ESME, new)
    assert report.joined and report.key_source == KeySource.INSTALL_CODE.value


def test_closed_window_means_no_join_and_the_reason_says_so() -> None:
    log = whitelisted(code(2), window=10)
    report = run_join(simpy.Environment(initial_time=11.0), log, CHF, ESME, code(2))
    assert not report.joined and report.reason == "join window closed"
    assert report.attempt_failures == ["no beacon permitting joining"] * 4


def test_device_not_in_the_log_is_refused_while_another_window_is_open() -> None:
    log = DeviceLog(CHF)
    log.add("00-DB-12-34-56-78-90-B0", code(3), 300, 0.0)  # some other device's window
    report = run_join(None, log, CHF, ESME, code(3))
    assert not report.joined and report.reason == "not in the device log"
    assert set(report.attempt_failures) == {"association refused (pan access denied)"}  # all window long
    assert len(report.attempt_failures) == report.attempts > 4
    assert report.alerts[-1].subject == "00-DB-12-34-56-78-90-B0"  # its window closes unused


def test_same_seed_same_bytes_and_loss_is_survived_by_retries() -> None:
    first, second = join(code(4), loss=0.2, seed=7), join(code(4), loss=0.2, seed=7)
    assert [(f.time, f.raw, f.lost) for f in first.frames] == [(f.time, f.raw, f.lost) for f in second.frames]
    assert any(f.lost for f in first.frames)
    joined = sum(join(code(4), loss=0.2, seed=s).joined for s in range(10))
    assert joined >= 8  # MAC retries and whole-join retries carry most joins through 20% loss


def test_sequence_numbers_and_frame_counters_increase_per_sender() -> None:
    report = join(code(5), seed=3)
    for sender in ("CHF", "ESME"):
        mac = [f.raw for f in report.frames if f.sender == sender and f.label != "MAC ack" and not f.retry]
        seqs = [Dot15d4FCS(raw).seqnum for raw in mac]
        assert seqs == [(seqs[0] + i) % 256 for i in range(len(seqs))]
        counters = [Dot15d4FCS(raw)[ZigbeeSecurityHeader].fc for raw in sent_by(report, sender, DATA)
                    if Dot15d4FCS(raw)[ZigbeeNWK].flags.security]
        assert counters == sorted(counters) and len(set(counters)) == len(counters)


def test_no_key_or_code_in_reprs() -> None:
    secret = code(6)
    report = join(secret)
    text = repr(report) + repr(report.frames) + repr(report.alerts)
    for value in (secret.reveal(), bytes(secret.link_key()).hex(), report.network_key.hex()):
        assert value.upper() not in text.upper()
    assert "network_key" not in text and "raw=" not in text


def test_frame_level_join_agrees_with_the_key_level_model() -> None:
    """Two implementations of devices.han_join.HanJoin: same verdicts, same alerts, same log state."""
    right, wrong = code(50), code(51)
    frame_level: HanJoin = FrameLevelJoin()
    for chf_code, meter_code in ((right, right), (right, wrong)):
        verdicts = []
        for model in (KeyLevelJoin(join_seconds=1.0), frame_level):
            log = whitelisted(chf_code, window=120, now=10.0)
            result = model.join(log, ESME, meter_code, 10.0)
            verdicts.append((result.joined, [(a.code, a.subject) for a in result.alerts],
                             log.live[ESME].joined, log.live[ESME].window))
        assert verdicts[0] == verdicts[1]
    assert [r.joined for r in frame_level.reports] == [True, False]
    assert frame_level.join(whitelisted(right, window=120, now=10.0), ESME, right, 10.0).reason == (
        "joined with the install code key")
