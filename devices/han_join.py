"""The HAN join behind one interface, so the DCC model does not care how it is emulated.

:class:`HanJoin` is what a Comms Hub asks when SRV 8.11 Add has opened a join window
and the meter is present. :class:`KeyLevelJoin` is the fast model the population runs
use: no frames, only keys — the meter joins iff the link key derived from the install
code it *holds* is one the CHF's device log accepts during the window. The frame-level
emulation (802.15.4/NWK/APS with CCM*) is a second implementation of the same Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from devices.alerts import Alert
from devices.device_log import DeviceLog
from han.installcode import InstallCode

#: Seconds from window opening to a successful key-level join (L: a parameter).
DEFAULT_JOIN_SECONDS = 10.0


@dataclass(frozen=True)
class JoinResult:
    """How one join attempt ended; ``alerts`` are the CHF's (0x8F49 or 0x8F48)."""

    joined: bool
    reason: str
    duration_s: float
    alerts: list[Alert] = field(default_factory=list)


class HanJoin(Protocol):
    def join(
        self, log: DeviceLog, device_id: str, device_install_code: InstallCode, now: float
    ) -> JoinResult:
        """Let ``device_id``, holding ``device_install_code``, try to join from ``now``."""
        ...


@runtime_checkable
class HanLeave(Protocol):
    """A HAN join model that must also hear of CCS02 (a real radio makes the device leave);
    the simulated ones keep the join state in the device log and need not."""

    def removed(self, device_id: str, now: float) -> None:
        """``device_id`` was removed from the CHF's device log at ``now``."""
        ...


@runtime_checkable
class PanIdentity(Protocol):
    """A HAN join model that runs a PAN per hub, and so knows its Extended PAN ID (the CHF
    writes it into its device log backup, CS14)."""

    def extended_pan_id(self, chf_id: str) -> bytes | None:
        """The Extended PAN ID of the HAN of the CHF ``chf_id``, as GBCS writes an EUI-64
        (None: not known to this model)."""
        ...


@dataclass(frozen=True)
class KeyLevelJoin:
    """The fast model: compare link keys, take ``join_seconds``, no frames."""

    join_seconds: float = DEFAULT_JOIN_SECONDS

    def join(
        self, log: DeviceLog, device_id: str, device_install_code: InstallCode, now: float
    ) -> JoinResult:
        held = bytes(device_install_code.link_key())
        entry = log.live.get(device_id)
        window = entry.window if entry is not None else None
        if window is None or not window.is_open(now):
            return JoinResult(False, log.refusal_reason(device_id, now), 0.0)
        # The device keeps trying through the window; the accepted key may change at
        # half-time (historic-log key first, then the install code's).
        for attempt in (now, max(now, window.half)):
            done = attempt + self.join_seconds
            if done >= window.closes:
                break
            for source, key in log.acceptable_keys(device_id, attempt):
                if key == held:
                    alerts = log.joined(device_id, key, done)
                    return JoinResult(True, f"joined with the {source.value} key", done - now, alerts)
        closes = window.closes
        alerts = log.expire(closes)
        return JoinResult(
            False,
            "join window closed: the link key from the meter's install code is not one the "
            "CHF accepts (wrong install code sent in 8.11?)",
            closes - now,
            [a for a in alerts if a.subject == device_id],
        )
