"""One meter joining one Comms Hub's HAN, frame by frame, on the simulated air.

:func:`run_join` is the entry point scenario replays reuse: give it the CHF's device log
(after SRV 8.11 Add) and the code the meter really holds; it runs the join in SimPy and
returns what happened: every frame on air, the alerts, joined or not and why.
:class:`FrameLevelJoin` puts it behind ``devices.han_join.HanJoin`` for the DCC model;
:func:`join_statistics` runs many joins for the population model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy

from devices.alerts import Alert
from devices.device_log import MAX_JOIN_TIME_PERIOD, DeviceLog, LinkStatistics
from devices.han_join import JoinResult
from han.eui import to_eui64, to_int
from han.installcode import InstallCode
from han.joiner import Joiner, JoinState, JoinTiming
from han.trust_centre import JoinDecision, KeyAuthority, TrustCentre
from han.zcl import MeterReading
from han.znp.meters import NetworkParameters
from sim.han_time.air import Air, OnAir
from sim.han_time.link import LinkBudget

CHF, ESME = "CHF", "ESME"
_STATS_CHF, _STATS_ESME = "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"
#: How long the CHF waits for the meter's answer to its first Metering read after the join.
ZCL_WAIT = 5.0
#: A CHF that has been running a while: its network frame counter is well past zero.
CHF_FRAME_COUNTER_SPAN = 1 << 20
#: Second seed word of the stream that draws what radios measure (RSSI): losses keep theirs.
LINK_STREAM = 0x4C494E4B


class JoinLog(KeyAuthority, Protocol):
    """What a join needs of the CHF's whitelist: ``DeviceLog`` fits, and so does the one key
    a ZigBee stick holds for a meter (``sim.han_time.stick_join``)."""

    def joined(self, device_id: str, link_key: bytes, now: float) -> list[Alert]: ...

    def expire(self, now: float) -> list[Alert]: ...

    def next_window_close(self) -> float | None: ...


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
    #: What the CHF measured of the meter's link during this attempt (frames heard, unicasts).
    link: LinkStatistics = field(default_factory=LinkStatistics)

    @property
    def outcome(self) -> str:
        return "joined" if self.joined else "not joined"


class HanNetwork:
    """One Comms Hub's HAN for as long as the hub runs it: one PAN ID, channel, extended PAN ID
    and network key, one trust centre (the hub's radio, the GPF ID) whose frame counters,
    short addresses and sequence numbers carry across every join, rejoin and leave, and the
    meters' radios, which keep theirs too. A scenario replay keeps one per premises.

    ``formed``: a network a real coordinator formed (the virtual stick's), whose PAN ID,
    extended PAN ID, channel, network key, frame counter and next short address the
    trust centre takes instead of drawing its own.
    """

    def __init__(self, radio_id: str, rng: np.random.Generator,
                 formed: NetworkParameters | None = None) -> None:
        self.radio_id = radio_id
        self.rng = rng
        self.pan_id = int(rng.integers(0x0001, 0xFFFF))
        self.channel = int(rng.integers(11, 27))
        self.network_key = rng.bytes(16)
        self._nwk_frame_counter = int(rng.integers(CHF_FRAME_COUNTER_SPAN))
        self._extended_pan_id: int | None = None  # None: the trust centre's EUI-64
        self._first_short: int | None = None
        if formed is not None and formed.network_key is not None:
            self.pan_id, self.channel = formed.pan_id, formed.channel
            self.network_key = formed.network_key
            self._nwk_frame_counter = formed.nwk_frame_counter
            self._extended_pan_id = int.from_bytes(bytes(formed.extended_pan_id), "little")
            self._first_short = formed.next_short
        self._trust_centre: TrustCentre | None = None
        self._meters: dict[str, Joiner] = {}

    @property
    def extended_pan_id(self) -> bytes:
        """The PAN's Extended PAN ID, most significant byte first: the formed network's,
        else the trust centre's own EUI-64 (as :class:`TrustCentre` takes it)."""
        chosen = self._extended_pan_id
        return (to_int(to_eui64(self.radio_id)) if chosen is None else chosen).to_bytes(8, "big")

    def __repr__(self) -> str:  # the network key stays out
        return f"HanNetwork({self.radio_id}, pan=0x{self.pan_id:04X}, channel={self.channel})"

    def trust_centre(self, device_log: JoinLog) -> TrustCentre:
        """The hub's trust centre, answering from ``device_log`` (the CHF's whitelist)."""
        if self._trust_centre is None:
            self._trust_centre = TrustCentre(to_eui64(self.radio_id), device_log, self.network_key,
                                             self.rng, pan_id=self.pan_id,
                                             nwk_frame_counter=self._nwk_frame_counter,
                                             extended_pan_id=self._extended_pan_id,
                                             first_short=self._first_short)
            self._trust_centre.channel = self.channel  # the hub's radio listens on its PAN's channel
        self._trust_centre.authority = device_log
        return self._trust_centre

    def meter(self, device_id: str, install_code: InstallCode, *, timing: JoinTiming,
              reading: MeterReading, sleepy: bool) -> Joiner:
        """The radio of the meter ``device_id``, ready for a new join with the code it holds
        now; the same radio as last time, frame counters and all."""
        link_key = bytes(install_code.link_key())
        radio = self._meters.get(device_id)
        if radio is None:
            radio = self._meters[device_id] = Joiner(to_eui64(device_id), link_key, self.rng,
                                                     timing=timing, reading=reading, sleepy=sleepy)
        radio.new_join(link_key, timing=timing, reading=reading)
        return radio


def run_join(env: simpy.Environment | None, device_log: JoinLog, chf_id: str, device_id: str,
             device_install_code: InstallCode, *, loss: float = 0.0, seed: int = 0,
             latency: float = 0.002, capture: bool = True, timing: JoinTiming = JoinTiming(),
             reading: MeterReading = MeterReading(0), network: HanNetwork | None = None,
             sleepy: bool = False) -> JoinReport:
    """Run the meter ``device_id`` (holding ``device_install_code``) joining the CHF ``chf_id`` now.

    ``env`` None makes a fresh environment starting at time 0; otherwise the join starts at
    ``env.now`` and the call runs ``env`` until the join is decided (and, if it failed,
    until the window closes so the log raises 0x8F48). ``network`` is the hub's HAN as it
    stands (None: a fresh one whose radio is ``chf_id``); ``seed`` fixes every loss, and for a
    fresh network its PAN ID, channel, network key, sequence numbers and addresses.
    ``sleepy``: the meter is a sleepy end device (a battery GSME) that polls its parent.
    ``capture``: keep the frames and what the CHF measured of the meter's link (RSSI, LQI,
    unicast outcomes; a population's join statistics need neither).
    """
    env = env if env is not None else simpy.Environment()
    rng = np.random.default_rng(seed)
    network = network if network is not None else HanNetwork(chf_id, rng)
    wake = [env.event()]

    def changed() -> None:
        if not wake[0].triggered:
            wake[0].succeed()

    link = LinkBudget(loss, np.random.default_rng([seed, LINK_STREAM])) if capture else None
    air = Air(env, rng, loss=loss, latency=latency, on_change=changed, link=link)
    chf = network.trust_centre(device_log)
    esme = network.meter(device_id, device_install_code, timing=timing, reading=reading, sleepy=sleepy)
    air.attach(CHF, chf)
    esme_radio = air.attach(ESME, esme)
    chf.readings.pop(device_id, None)
    drops_before = {CHF: Counter(chf.drops), ESME: Counter(esme.drops)}
    start = env.now
    alerts: list[Alert] = []
    seen = first_decision = len(chf.decisions)

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
                # The meter keeps steering, with a growing back-off, while the window is open;
                # at half-time of a window that starts with the historic key it tries at once
                # (the CHF then takes the install code's key instead).
                again = _second_half(device_log, device_id, env.now)
                closes = device_log.next_window_close()
                if again is None and closes is not None and env.now + esme.steering_backoff() < closes:
                    again = env.now + esme.steering_backoff()
                if again is None:
                    break
                yield env.timeout(again - env.now)
                esme_radio.send(esme.restart_steering(env.now))
                esme_radio.schedule_timer()
                continue
            if esme.state is JoinState.JOINED and meter_joined_at is None:
                meter_joined_at = env.now
            if device_id in chf.readings or (
                    meter_joined_at is not None and env.now >= meter_joined_at + ZCL_WAIT):
                break  # read done, or the CHF never heard the meter that thinks it joined
            wake[0] = env.event()
            yield wake[0] | env.timeout(ZCL_WAIT)
        decided = chf.outcome(device_id, env.now, since=first_decision)  # before expiry rewrites the window
        if joined_at is None:
            closes = device_log.next_window_close()
            if closes is not None:
                yield env.timeout(max(0.0, closes - env.now))
                alerts.extend(device_log.expire(env.now))
        return decided

    process = env.process(director())
    outcome = env.run(until=process)
    assert isinstance(outcome, JoinDecision)  # what director() returns
    return JoinReport(
        joined=outcome.joined,
        meter_joined=esme.network_key is not None,
        reason=outcome.reason,
        key_source=outcome.key_source.value if outcome.joined else None,
        start=start,
        duration=outcome.time - start,
        attempts=esme.attempts_made,
        frames=air.capture() if capture else [],
        alerts=alerts,
        attempt_failures=list(esme.failures),
        drops={name: dict(node.drops - drops_before[name]) for name, node in ((CHF, chf), (ESME, esme))},
        reading=chf.readings.get(device_id, {}),
        pan_id=network.pan_id,
        channel=network.channel,
        network_key=network.network_key,
        link=_link_statistics(air, device_id in chf.readings),
    )


def _link_statistics(air: Air, smart_energy: bool) -> LinkStatistics:
    """The CHF's view of the meter's link: the frames it heard from it, its unicasts."""
    stats = LinkStatistics(smart_energy=smart_energy)
    for heard in air.heard:
        if heard.receiver == CHF:
            stats.hear(heard.reception.rssi, heard.reception.lqi, heard.time)
    for sender, acked in air.unicasts:
        if sender == CHF:
            stats.sent(acked)
    return stats


def _second_half(device_log: JoinLog, device_id: str, now: float) -> float | None:
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
                    timing: JoinTiming = JoinTiming(), window: int = MAX_JOIN_TIME_PERIOD,
                    progress: Callable[[], None] | None = None) -> JoinStatistics:
    """Run ``runs`` joins (each with its own seed spawned from ``seed``) in a ``window``-second
    8.11 window (the meter steers again and again until it closes) and collect the outcomes;
    ``progress()`` is called after each."""
    durations, attempts = [], []
    for child in np.random.SeedSequence(seed).spawn(runs):
        run_seed = int(child.generate_state(1)[0])
        secret = InstallCode(np.random.default_rng(run_seed).bytes(16))
        log = DeviceLog(_STATS_CHF)
        log.add(_STATS_ESME, secret, window, 0.0)
        report = run_join(None, log, _STATS_CHF, _STATS_ESME, secret, loss=loss, seed=run_seed,
                          latency=latency, capture=False, timing=timing)
        if report.joined:
            durations.append(report.duration)
            attempts.append(report.attempts)
        if progress is not None:
            progress()
    return JoinStatistics(loss, runs, len(durations), np.array(durations), np.array(attempts))


@dataclass
class FrameLevelJoin:
    """``devices.han_join.HanJoin`` done frame by frame: a drop-in for ``KeyLevelJoin`` in the DCC model.

    Each hub runs one :class:`HanNetwork` for as long as this object lives (seeded ``seed``),
    so every join at a premises is on the same PAN, under the same network key, with frame
    counters carried on. Each join runs :func:`run_join` from ``now`` on its own SimPy clock
    (losses seeded ``seed`` + the number of joins so far) and keeps its :class:`JoinReport`
    in :attr:`reports`, so a replay can write one pcap per join and one per premises. As in
    ``KeyLevelJoin``, the alerts returned are the ones about the joining device, and a
    failure ends when the window closes (0x8F48). ``radio_of`` maps a CHF ID to its hub's
    radio address (the GPF ID); ``sleepy`` tells which devices join as sleepy end devices.
    """

    loss: float = 0.0
    latency: float = 0.002
    seed: int = 0
    timing: JoinTiming = JoinTiming()
    radio_of: dict[str, str] = field(default_factory=dict)
    sleepy: Callable[[str], bool] = lambda device_id: False
    reports: list[JoinReport] = field(default_factory=list)
    device_ids: list[str] = field(default_factory=list)  # the meter of each report (pcap names)
    networks: dict[str, HanNetwork] = field(default_factory=dict)  # by CHF ID

    def network(self, chf_id: str) -> HanNetwork:
        """The HAN of the hub whose CHF is ``chf_id``, made on first use."""
        if chf_id not in self.networks:
            rng = np.random.default_rng([self.seed, len(self.networks)])
            self.networks[chf_id] = HanNetwork(self.radio_of.get(chf_id, chf_id), rng)
        return self.networks[chf_id]

    def extended_pan_id(self, chf_id: str) -> bytes | None:
        """The Extended PAN ID of the CHF's HAN (:class:`devices.han_join.PanIdentity`)."""
        return self.network(chf_id).extended_pan_id

    def join(self, log: DeviceLog, device_id: str, device_install_code: InstallCode,
             now: float) -> JoinResult:
        entry = log.live.get(device_id)
        window_open = entry is not None and entry.window is not None and entry.window.is_open(now)
        refusal = None if window_open else log.refusal_reason(device_id, now)
        report = run_join(simpy.Environment(initial_time=now), log, log.chf_id, device_id,
                          device_install_code, loss=self.loss, latency=self.latency,
                          seed=self.seed + len(self.reports), timing=self.timing,
                          network=self.network(log.chf_id), sleepy=self.sleepy(device_id))
        self.reports.append(report)
        self.device_ids.append(device_id)
        if device_id in log.live:  # the CHF keeps what it measured in the device's entry
            log.live[device_id].link.add(report.link)
        if refusal is not None:  # no window at ``now``: the meter scans in vain (as KeyLevelJoin)
            return JoinResult(False, refusal, 0.0, [])
        alerts = [a for a in report.alerts if a.subject == device_id]
        end = max((a.time for a in alerts), default=now + report.duration)
        reason = f"joined with the {report.key_source} key" if report.joined else report.reason
        return JoinResult(report.joined, reason, end - now, alerts)
