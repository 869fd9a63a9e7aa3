"""A simulated 2.4 GHz channel in SimPy: frames take their airtime, arrive or are lost, and
unicasts are acknowledged and retried as the IEEE 802.15.4 MAC does.

Values (2.4 GHz O-QPSK PHY): 32 us per byte plus a 6-byte PHY header (preamble, SFD,
length); the receiver acks after aTurnaroundTime (12 symbols); the sender waits
macAckWaitDuration (54 symbols) and retries up to macMaxFrameRetries (3) times.
A radio waits until the channel is idle (standing in for CSMA-CA, without its random
backoff), so frames never overlap; loss is one probability per frame per receiver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from han.node import HanNode
from sim.han_time.link import LinkBudget, Reception

SYMBOL = 16e-6
BYTE_TIME = 2 * SYMBOL
PHY_HEADER_BYTES = 6
TURNAROUND = 12 * SYMBOL
ACK_WAIT = 54 * SYMBOL
MAX_FRAME_RETRIES = 3


def airtime(raw: bytes) -> float:
    return (PHY_HEADER_BYTES + len(raw)) * BYTE_TIME


@dataclass(frozen=True)
class OnAir:
    """One transmission as a sniffer beside the sender saw it; ``lost`` means the receiver did not."""

    time: float
    sender: str
    raw: bytes = field(repr=False)
    label: str
    retry: int = 0
    lost: bool = False
    channel: int | None = None  # the channel it went out on (None: the air's one channel)


@dataclass(frozen=True)
class Heard:
    """One frame a radio received, with what it measured of it."""

    time: float
    sender: str
    receiver: str
    reception: Reception


class Radio:
    """A node attached to the air, with its transmit queue."""

    def __init__(self, air: Air, name: str, node: HanNode) -> None:
        self.air, self.name, self.node = air, name, node
        self.outbox: simpy.Store = simpy.Store(air.env)
        self._timer_token = 0
        air.env.process(self._transmitter())

    def send(self, raws: list[bytes]) -> None:
        """Queue frames on the channel the radio is tuned to now (a scan moves on meanwhile)."""
        for raw in raws:
            self.outbox.put((raw, self.node.channel))

    def schedule_timer(self) -> None:
        """Wake the node at its deadline (if it has one); a newer deadline cancels an older one."""
        self._timer_token += 1
        deadline = self.node.deadline
        if deadline is not None:
            self.air.env.process(self._timer(deadline, self._timer_token))

    def _timer(self, deadline: float, token: int):
        yield self.air.env.timeout(max(0.0, deadline - self.air.env.now))
        if token == self._timer_token:
            self.send(self.node.on_timer(self.air.env.now))
            self.schedule_timer()
            self.air.changed()

    def _transmitter(self):
        while True:
            raw, channel = yield self.outbox.get()
            yield from self.air.transmit(self, raw, channel)


class Air:
    """One channel shared by the attached radios; ``rng`` decides every loss. With a
    ``link``, each frame received (MAC acks too) is measured (:attr:`heard`), and each
    unicast's outcome after its retries is kept (:attr:`unicasts`: sender, acked)."""

    def __init__(self, env: simpy.Environment, rng: np.random.Generator, *, loss: float = 0.0,
                 latency: float = 0.002, on_change: Callable[[], None] | None = None,
                 link: LinkBudget | None = None) -> None:
        if not 0.0 <= loss < 1.0:
            raise ValueError(f"loss probability {loss} is outside 0 <= p < 1")
        if latency < 0:
            raise ValueError(f"latency {latency} s is negative")
        self.env, self.rng, self.loss, self.latency = env, rng, loss, latency
        self.radios: list[Radio] = []
        self.channel = simpy.Resource(env, capacity=1)  # stands in for CSMA-CA: wait until idle
        self.on_air: list[OnAir] = []
        self.link = link
        self.heard: list[Heard] = []
        self.unicasts: list[tuple[str, bool]] = []
        self._on_change = on_change

    def attach(self, name: str, node: HanNode) -> Radio:
        radio = Radio(self, name, node)
        self.radios.append(radio)
        return radio

    def changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def transmit(self, sender: Radio, raw: bytes, channel: int | None = None):
        """Send ``raw`` on ``channel`` (with MAC retries if it asks for an ack): a SimPy process body."""
        label = sender.node.labels.pop(raw, "frame")
        wants_ack = bool(raw[0] & 0x20)  # FCF ack-request bit
        acked = False
        for retry in range(MAX_FRAME_RETRIES + 1 if wants_ack else 1):
            acked = yield from self._attempt(sender, raw, label, retry, wants_ack, channel)
            if acked or not wants_ack:
                break
        if wants_ack and self.link is not None:
            self.unicasts.append((sender.name, acked))

    def _attempt(self, sender: Radio, raw: bytes, label: str, retry: int, wants_ack: bool,
                 channel: int | None = None):
        """One transmission; the channel is held through the ack wait, so radios take turns."""
        with self.channel.request() as turn:
            yield turn
            start = self.env.now
            yield self.env.timeout(airtime(raw))
            acked = False
            lost_everywhere = True
            for receiver in self.radios:
                if receiver is sender or not _hears(receiver.node.channel, channel):
                    continue
                if self.rng.random() < self.loss:
                    continue
                lost_everywhere = False
                self._measure(sender.name, receiver.name)
                out = receiver.node.receive(raw, self.env.now)
                if out.ack is not None:
                    ack_time = self.env.now + TURNAROUND
                    ack_lost = bool(self.rng.random() < self.loss)
                    self.on_air.append(OnAir(ack_time, receiver.name, out.ack, "MAC ack", lost=ack_lost,
                                             channel=channel))
                    if not ack_lost:
                        self._measure(receiver.name, sender.name, ack_time)
                    acked = acked or not ack_lost
                if out.frames:
                    self.env.process(self._after_latency(receiver, out.frames))
                receiver.schedule_timer()
            self.on_air.append(OnAir(start, sender.name, raw, label, retry, lost_everywhere, channel))
            self.changed()
            if wants_ack:
                yield self.env.timeout(ACK_WAIT)
            return acked

    def _measure(self, sender: str, receiver: str, at: float | None = None) -> None:
        if self.link is not None:
            self.heard.append(Heard(self.env.now if at is None else at, sender, receiver,
                                    self.link.receive()))

    def _after_latency(self, radio: Radio, raws: list[bytes]):
        yield self.env.timeout(self.latency)
        radio.send(raws)

    def capture(self) -> list[OnAir]:
        """Every transmission in time order (acks are recorded when their frame ends)."""
        return sorted(self.on_air, key=lambda f: f.time)


def _hears(tuned: int | None, sent_on: int | None) -> bool:
    """A radio hears a frame sent on its channel; None on either side is the air's one channel."""
    return tuned is None or sent_on is None or tuned == sent_on
