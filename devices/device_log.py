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
from dataclasses import dataclass
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
class LiveEntry:
    """A whitelisted device: its current link key and its join window, if any."""

    device_id: str
    link_key: bytes
    joined: bool = False
    window: JoinWindow | None = None


class DeviceLog:
    """The CHF's live and historic device logs and the alerts their changes raise."""

    def __init__(self, chf_id: str) -> None:
        self.chf_id = chf_id
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
