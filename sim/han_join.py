"""One meter joining one Comms Hub's HAN, frame by frame, on the simulated air.

:func:`run_join` is the entry point scenario replays reuse: give it the CHF's device log
(after SRV 8.11 Add) and the code the meter really holds; it runs the join in SimPy and
returns what happened: every frame on air, the alerts, joined or not and why.
:class:`FrameLevelJoin` puts it behind ``devices.han_join.HanJoin`` for the DCC model;
:func:`join_statistics` runs many joins for the population model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from devices.alerts import Alert
from devices.device_log import MAX_JOIN_TIME_PERIOD, DeviceLog
from devices.han_join import JoinResult
from han.eui import to_eui64
from han.installcode import InstallCode
from han.joiner import Joiner, JoinState, JoinTiming
from han.trust_centre import TrustCentre
from han.zcl import MeterReading
from han.znp.meters import NetworkParameters
from sim.han_air import Air, OnAir

CHF, ESME = "CHF", "ESME"
_STATS_CHF, _STATS_ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
#: How long the CHF waits for the meter's answer to its first Metering read after the join.
ZCL_WAIT = 5.0
#: A CHF that has been running a while: its network frame counter is well past zero.
CHF_FRAME_COUNTER_SPAN = 1 << 20


@dataclass
class JoinReport:
    """What one join attempt did. Keys stay out of ``repr``; ``network_key`` is for ``--keys-out``."""

    joined: bool
    reason: str
    meter_joined: bool  # the meter's own view: it took the network key (the CHF may not know)
    key_source: str | None
    start: float
    duration: float
    attempts: int
    frames: list[OnAir]
    alerts: list[Alert]
    attempt_failures: list[str]
    drops: dict[str, dict[str, int]]
    reading: dict[int, Any]
    pan_id: int
    channel: int
    network_key: bytes = field(repr=False)

    @property
    def outcome(self) -> str:
        return "joined" if self.joined else "not joined"


def run_join(env: simpy.Environment | None, device_log: DeviceLog, chf_id: str, device_id: str,
             device_install_code: InstallCode, *, loss: float = 0.0, seed: int = 0,
             latency: float = 0.002, capture: bool = True, timing: JoinTiming = JoinTiming(),
             reading: MeterReading = MeterReading(0),
             network: NetworkParameters | None = None) -> JoinReport:
    """Run the meter ``device_id`` (holding ``device_install_code``) joining the CHF ``chf_id`` now.

    ``env`` None makes a fresh environment starting at time 0; otherwise the join starts at
    ``env.now`` and the call runs ``env`` until the join is decided (and, if it failed,
    until the window closes so the log raises 0x8F48). ``seed`` fixes PAN id, channel,
    network key, sequence numbers, addresses and every loss; ``network`` (a coordinator's
    own, with its key) replaces the PAN, channel, key, frame counter and short address.
    """
    env = env if env is not None else simpy.Environment()
    rng = np.random.default_rng(seed)
    pan_id = int(rng.integers(0x0001, 0xFFFF))
    channel = int(rng.integers(11, 27))
    network_key = rng.bytes(16)
    frame_counter = int(rng.integers(CHF_FRAME_COUNTER_SPAN))
    extended_pan_id = first_short = None
    if network is not None and network.network_key is not None:
        pan_id, channel, network_key = network.pan_id, network.channel, network.network_key
        frame_counter, first_short = network.nwk_frame_counter, network.next_short
        extended_pan_id = int.from_bytes(bytes(network.extended_pan_id), "little")
    wake = [env.event()]

    def changed() -> None:
        if not wake[0].triggered:
            wake[0].succeed()

    air = Air(env, rng, loss=loss, latency=latency, on_change=changed)
    chf = TrustCentre(to_eui64(chf_id), device_log, network_key, rng, pan_id=pan_id,
                      nwk_frame_counter=frame_counter, extended_pan_id=extended_pan_id,
                      first_short=first_short)
    esme = Joiner(to_eui64(device_id), bytes(device_install_code.link_key()), rng,
                  timing=timing, reading=reading)
    chf_radio, esme_radio = air.attach(CHF, chf), air.attach(ESME, esme)
    start = env.now
    alerts: list[Alert] = []
    seen = 0

    def permit() -> None:
        closes = device_log.next_window_close()
        chf.permit_until = closes if closes is not None else float("-inf")

    def director():
        nonlocal seen
        permit()
        esme_radio.send(esme.start(env.now))
        esme_radio.schedule_timer()
        joined_at = meter_joined_at = None
        while True:
            for decision in chf.decisions[seen:]:
                if decision.joined:
                    alerts.extend(device_log.joined(decision.device_id, decision.link_key, decision.time))
                    joined_at = decision.time
                    permit()
            seen = len(chf.decisions)
            if esme.state is JoinState.GAVE_UP:
                again = _second_half(device_log, device_id, env.now)
                if again is None:
                    break
                # The meter keeps trying through the window; at half-time the CHF stops
                # taking the historic key and takes the install code's instead.
                yield env.timeout(again - env.now)
                esme_radio.send(esme.start(env.now))
                esme_radio.schedule_timer()
                continue
            if esme.state is JoinState.JOINED and meter_joined_at is None:
                meter_joined_at = env.now
            if device_id in chf.readings or (
                    meter_joined_at is not None and env.now >= meter_joined_at + ZCL_WAIT):
                break  # read done, or the CHF never heard the meter that thinks it joined
            wake[0] = env.event()
            yield wake[0] | env.timeout(ZCL_WAIT)
        decided = chf.outcome(device_id, env.now)  # before expiry rewrites the window's state
        if joined_at is None:
            closes = device_log.next_window_close()
            if closes is not None:
                yield env.timeout(max(0.0, closes - env.now))
                alerts.extend(device_log.expire(env.now))
        return decided

    process = env.process(director())
    outcome = env.run(until=process)
    return JoinReport(
        joined=outcome.joined,
        meter_joined=esme.network_key is not None,
        reason=outcome.reason,
        key_source=outcome.key_source.value if outcome.joined else None,
        start=start,
        duration=outcome.time - start,
        attempts=esme.attempt,
        frames=air.capture() if capture else [],
        alerts=alerts,
        attempt_failures=list(esme.failures),
        drops={CHF: dict(chf.drops), ESME: dict(esme.drops)},
        reading=chf.readings.get(device_id, {}),
        pan_id=pan_id,
        channel=channel,
        network_key=network_key,
    )


def _second_half(device_log: DeviceLog, device_id: str, now: float) -> float | None:
    """When a meter that gave up should try again: the half-time of a window that starts
    with the historic key (the accepted key changes then), if still ahead; else None."""
    entry = getattr(device_log, "live", {}).get(device_id)  # key tables without windows: never
    window = entry.window if entry is not None else None
    if window is None or window.historic_key is None or not now < window.half < window.closes:
        return None
    return window.half


@dataclass(frozen=True)
class JoinStatistics:
    """Many independent joins of a right-code meter: what a population model samples from."""

    loss: float
    runs: int
    joined: int
    durations: np.ndarray  # seconds from first beacon request to the CHF's decision, joined runs
    attempts: np.ndarray  # whole-join attempts each joined run needed

    @property
    def success_rate(self) -> float:
        return self.joined / self.runs


def join_statistics(loss: float, runs: int, seed: int = 0, *, latency: float = 0.002,
                    timing: JoinTiming = JoinTiming()) -> JoinStatistics:
    """Run ``runs`` joins (each with its own seed spawned from ``seed``) and collect the outcomes."""
    durations, attempts = [], []
    for child in np.random.SeedSequence(seed).spawn(runs):
        run_seed = int(child.generate_state(1)[0])
        secret = InstallCode(np.random.default_rng(run_seed).bytes(16))
        log = DeviceLog(_STATS_CHF)
        log.add(_STATS_ESME, secret, MAX_JOIN_TIME_PERIOD, 0.0)
        report = run_join(None, log, _STATS_CHF, _STATS_ESME, secret, loss=loss, seed=run_seed,
                          latency=latency, capture=False, timing=timing)
        if report.joined:
            durations.append(report.duration)
            attempts.append(report.attempts)
    return JoinStatistics(loss, runs, len(durations), np.array(durations), np.array(attempts))


@dataclass
class FrameLevelJoin:
    """``devices.han_join.HanJoin`` done frame by frame: a drop-in for ``KeyLevelJoin`` in the DCC model.

    Each join runs :func:`run_join` from ``now`` on its own SimPy clock (seeded ``seed`` +
    the number of joins so far) and keeps its :class:`JoinReport` in :attr:`reports`, so a
    replay can write one pcap per join. As in ``KeyLevelJoin``, the alerts returned are the
    ones about the joining device, and a failure ends when the window closes (0x8F48).
    """

    loss: float = 0.0
    latency: float = 0.002
    seed: int = 0
    timing: JoinTiming = JoinTiming()
    reports: list[JoinReport] = field(default_factory=list)
    device_ids: list[str] = field(default_factory=list)  # the meter of each report (pcap names)

    def join(self, log: DeviceLog, device_id: str, device_install_code: InstallCode,
             now: float) -> JoinResult:
        entry = log.live.get(device_id)
        window_open = entry is not None and entry.window is not None and entry.window.is_open(now)
        refusal = None if window_open else log.refusal_reason(device_id, now)
        report = run_join(simpy.Environment(initial_time=now), log, log.chf_id, device_id,
                          device_install_code, loss=self.loss, latency=self.latency,
                          seed=self.seed + len(self.reports), timing=self.timing)
        self.reports.append(report)
        self.device_ids.append(device_id)
        if refusal is not None:  # no window at ``now``: the meter scans in vain (as KeyLevelJoin)
            return JoinResult(False, refusal, 0.0, [])
        alerts = [a for a in report.alerts if a.subject == device_id]
        end = max((a.time for a in alerts), default=now + report.duration)
        reason = f"joined with the {report.key_source} key" if report.joined else report.reason
        return JoinResult(report.joined, reason, end - now, alerts)
