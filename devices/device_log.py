"""The CHF device log: the Comms Hub's HAN whitelist that SRV 8.11 changes (GBCS CCS01/CCS02).

A live log of devices allowed on the HAN (16 entries) and a historic log of removed
devices' link keys (15 entries, oldest overwritten). CCS01 Add opens a join window of
JoinTimePeriod seconds: a device found in the historic log may use its stored key for
the first half of the window and the install code's key for the second; a device
already in the live log keeps its key and the request still succeeds. CCS02 Remove
moves the device's key to the historic log. The trust centre asks :meth:`DeviceLog.
acceptable_keys` which link keys a joining device may use *now*.

No clock inside: every call takes the time (seconds) from the caller.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from devices.alerts import Alert, AlertCode
from han.installcode import InstallCode

LIVE_LOG_CAPACITY = 16
HISTORIC_LOG_CAPACITY = 15
MAX_JOIN_TIME_PERIOD = 3600


class DeviceLogError(ValueError):
    """An 8.11 request the CHF refuses, with the reason."""


class KeySource(Enum):
    """Where an acceptable link key came from: for the join log and failure reasons."""

    INSTALL_CODE = "install code"
    HISTORIC_LOG = "historic log"
    LIVE_LOG = "live log"


@dataclass
class JoinWindow:
    opens: float
    closes: float
    historic_key: bytes | None = None

    def is_open(self, now: float) -> bool:
        return self.opens <= now < self.closes

    @property
    def half(self) -> float:
        return self.opens + (self.closes - self.opens) / 2


@dataclass
class LinkStatistics:
    """What the CHF measured of one device's HAN link: every frame it heard from the device
    (RSSI, LQI, when) and every unicast it sent it (acknowledged or not after the MAC's
    retries). These are the figures of its active devices list that CCS06 reads (DLMS
    class 104 ``active_devices``); none are known until a frame-level join feeds them."""

    heard: int = 0
    rssi_max: int = 0
    rssi_min: int = 0
    rssi_sum: int = 0
    lqi_max: int = 0
    lqi_min: int = 0
    lqi_sum: int = 0
    last_heard: float | None = None
    transmission_successes: int = 0
    transmission_failures: int = 0
    smart_energy: bool = False  # the device answered a Smart Energy (ZCL) request
    hops: int = 1  # the simulated HAN is one hop: every device is the hub's child

    def hear(self, rssi: int, lqi: int, now: float) -> None:
        first = self.heard == 0
        self.heard += 1
        self.rssi_max = rssi if first else max(self.rssi_max, rssi)
        self.rssi_min = rssi if first else min(self.rssi_min, rssi)
        self.lqi_max = lqi if first else max(self.lqi_max, lqi)
        self.lqi_min = lqi if first else min(self.lqi_min, lqi)
        self.rssi_sum += rssi
        self.lqi_sum += lqi
        self.last_heard = now if self.last_heard is None else max(self.last_heard, now)

    def sent(self, acked: bool) -> None:
        if acked:
            self.transmission_successes += 1
        else:
            self.transmission_failures += 1

    def add(self, other: LinkStatistics) -> None:
        """Take in what a later exchange (another join attempt) measured."""
        if other.heard:
            if not self.heard:
                self.rssi_max, self.rssi_min = other.rssi_max, other.rssi_min
                self.lqi_max, self.lqi_min = other.lqi_max, other.lqi_min
            self.rssi_max, self.rssi_min = max(self.rssi_max, other.rssi_max), min(self.rssi_min, other.rssi_min)
            self.lqi_max, self.lqi_min = max(self.lqi_max, other.lqi_max), min(self.lqi_min, other.lqi_min)
            self.heard += other.heard
            self.rssi_sum += other.rssi_sum
            self.lqi_sum += other.lqi_sum
            assert other.last_heard is not None  # set with the first frame heard
            self.last_heard = max(self.last_heard or other.last_heard, other.last_heard)
        self.transmission_successes += other.transmission_successes
        self.transmission_failures += other.transmission_failures
        self.smart_energy = self.smart_energy or other.smart_energy

    @property
    def rssi(self) -> tuple[int, int, int]:
        """Max, average, min RSSI (dBm); zeros while nothing was heard."""
        return self.rssi_max, round(self.rssi_sum / self.heard) if self.heard else 0, self.rssi_min

    @property
    def lqi(self) -> tuple[int, int, int]:
        return self.lqi_max, round(self.lqi_sum / self.heard) if self.heard else 0, self.lqi_min


@dataclass
class LiveEntry:
    """A whitelisted device: its current link key, its join window, if any, and what the
    CHF measured of its link."""

    device_id: str
    link_key: bytes
    joined: bool = False
    window: JoinWindow | None = None
    link: LinkStatistics = field(default_factory=LinkStatistics)


class DeviceLog:
    """The CHF's live and historic device logs and the alerts their changes raise."""

    def __init__(self, chf_id: str) -> None:
        self.chf_id = chf_id
        #: The CHF whose PAN the logged devices are on: this one, or after CCS03 (Restore
        #: PAN carries the Extended PAN ID) the replaced one's.
        self.pan_of = chf_id
        self.live: OrderedDict[str, LiveEntry] = OrderedDict()
        self.historic: OrderedDict[str, bytes] = OrderedDict()

    # -- SRV 8.11 -------------------------------------------------------------------------
    def add(
        self, device_id: str, install_code: InstallCode, join_time_period: int, now: float
    ) -> list[Alert]:
        """CCS01: whitelist ``device_id`` and open its join window."""
        if not 1 <= join_time_period <= MAX_JOIN_TIME_PERIOD:
            raise DeviceLogError(
                f"JoinTimePeriod {join_time_period} is outside 1..{MAX_JOIN_TIME_PERIOD} seconds"
            )
        if device_id == self.chf_id:
            raise DeviceLogError("the CHF cannot be added to its own device log")
        window = JoinWindow(now, now + join_time_period)
        entry = self.live.get(device_id)
        if entry is not None:  # already whitelisted: keep its key, still succeed
            entry.window = window
            return []
        if len(self.live) >= LIVE_LOG_CAPACITY:
            raise DeviceLogError(f"device log full ({LIVE_LOG_CAPACITY} entries)")
        window.historic_key = self.historic.pop(device_id, None)
        link_key = bytes(install_code.link_key())
        self.live[device_id] = LiveEntry(device_id, link_key, window=window)
        return [self._changed(now, device_id, "added")]

    def remove(self, device_id: str, now: float) -> list[Alert]:
        """CCS02: drop ``device_id`` from the live log, keeping its key in the historic log."""
        entry = self.live.pop(device_id, None)
        if entry is None:
            raise DeviceLogError(f"device {device_id} is not in the device log")
        self.historic.pop(device_id, None)
        self.historic[device_id] = entry.link_key
        while len(self.historic) > HISTORIC_LOG_CAPACITY:
            self.historic.popitem(last=False)
        return [self._changed(now, device_id, "removed")]

    # -- SRV 8.12.1 (CCS03): a replacement CHF ------------------------------------------
    def restore(self, backup: DeviceLog, now: float) -> list[Alert]:
        """Take the replaced CHF's logs: each device with its link key, none joined yet,
        no window open (a device rejoins with the key it holds, :meth:`rejoin`)."""
        self.live = OrderedDict((d, LiveEntry(d, e.link_key)) for d, e in backup.live.items())
        self.historic = OrderedDict(backup.historic)
        self.pan_of = backup.pan_of
        if not self.live:
            return []
        return [self._changed(now, next(iter(self.live)), "restored")]

    def rejoin(self, device_id: str, held_key: bytes) -> bool:
        """A device that lost its Comms Hub rejoins with the link key it holds: accepted iff
        it is the key this log holds for it."""
        entry = self.live.get(device_id)
        if entry is None or entry.link_key != held_key:
            return False
        entry.joined = True
        return True

    # -- the join -------------------------------------------------------------------------
    def acceptable_keys(self, device_id: str, now: float) -> list[tuple[KeySource, bytes]]:
        """The link keys ``device_id`` may join with at ``now``: none outside its window."""
        entry = self.live.get(device_id)
        if entry is None or entry.window is None or not entry.window.is_open(now):
            return []
        window = entry.window
        if window.historic_key is not None and now < window.half:
            return [(KeySource.HISTORIC_LOG, window.historic_key)]
        source = KeySource.LIVE_LOG if entry.joined else KeySource.INSTALL_CODE
        return [(source, entry.link_key)]

    def refusal_reason(self, device_id: str, now: float) -> str:
        """Why ``device_id`` may not join at ``now`` (for the trust centre's records)."""
        entry = self.live.get(device_id)
        if entry is None:
            return "not in the device log"
        if entry.window is None or now < entry.window.opens:
            return "no join window open"
        if now >= entry.window.closes:
            return "join window closed"
        return "join allowed"

    def joined(self, device_id: str, link_key: bytes, now: float) -> list[Alert]:
        """The device joined with ``link_key``: it becomes its key; the window closes."""
        entry = self.live[device_id]
        entry.link_key = link_key
        entry.joined = True
        entry.window = None
        return [Alert(AlertCode.JOINING_SUCCEEDED, self.chf_id, now, device_id)]

    def expire(self, now: float) -> list[Alert]:
        """Close every window that has ended without a join by ``now``: a 0x8F48 each,
        raised when the window closed (the caller may learn of it later)."""
        alerts = []
        for entry in self.live.values():
            if entry.window is not None and now >= entry.window.closes:
                alerts.append(Alert(AlertCode.JOINING_FAILED, self.chf_id, entry.window.closes, entry.device_id))
                entry.window = None
        return alerts

    def next_window_close(self) -> float | None:
        """When the next open window closes: the caller's cue to call :meth:`expire`."""
        closes = [e.window.closes for e in self.live.values() if e.window is not None]
        return min(closes, default=None)

    def _changed(self, now: float, device_id: str, what: str) -> Alert:
        return Alert(AlertCode.DEVICE_LOG_CHANGED, self.chf_id, now, device_id, {"change": what})
