"""The replay's HAN joins, on the simulated air or on a radio, each kept for the outputs.

A replay joins meters frame by frame on the simulated air by default
(:class:`sim.han_time.frame_join.FrameLevelJoin`, whose reports become pcaps), or through a HAN radio
named by a spec (a USB stick such as ``znp:/dev/ttyACM0``, the virtual stick on
``znp:socket://127.0.0.1:PORT``, or ``air``), in real time (:func:`sim.han_time.radio_join.open_radio`).
:class:`RecordedJoins` sits in front of either and remembers every join in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.device_log import DeviceLog
from devices.han_join import HanJoin, HanLeave, JoinResult, PanIdentity
from han.installcode import InstallCode
from han.joiner import BDB_SCAN, JoinTiming
from han.radio import RadioLost
from sim.han_time.frame_join import FrameLevelJoin, JoinReport


@dataclass(frozen=True)
class JoinRecord:
    device_id: str
    result: JoinResult
    report: JoinReport | None  # the frames on the simulated air; None for a radio's join

    @property
    def duration(self) -> float:
        """Seconds the join took on the CHF's clock."""
        return self.report.duration if self.report is not None else self.result.duration_s


class RecordedJoins:
    """A ``HanJoin`` (and ``HanLeave``) that passes each call on and records it."""

    def __init__(self, inner: HanJoin) -> None:
        self.inner = inner
        self.records: list[JoinRecord] = []

    def join(self, log: DeviceLog, device_id: str, device_install_code: InstallCode,
             now: float) -> JoinResult:
        reports = getattr(self.inner, "reports", [])
        before = len(reports)
        try:
            result = self.inner.join(log, device_id, device_install_code, now)
        except RadioLost as err:  # the replay stops here: say where, and that nothing was written
            raise RadioLost(f"{err}, during the HAN join of {device_id} (join {len(self.records) + 1}); "
                            "the replay stopped and wrote nothing") from None
        report = reports[-1] if len(reports) > before else None
        self.records.append(JoinRecord(device_id, result, report))
        return result

    def extended_pan_id(self, chf_id: str) -> bytes | None:
        return self.inner.extended_pan_id(chf_id) if isinstance(self.inner, PanIdentity) else None

    def removed(self, device_id: str, now: float) -> None:
        if isinstance(self.inner, HanLeave):
            self.inner.removed(device_id, now)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def replay_joins(radio: str | None, seed: int, chf_id: str, gpf_id: str,
                 meters: dict[str, InstallCode], sleepy: Callable[[str], bool]) -> RecordedJoins:
    """The simulated air (``radio`` None: the hub's one HAN, its radio the GPF, ``sleepy``
    devices polling) or the named radio, opened and recorded."""
    if radio is None:
        return RecordedJoins(FrameLevelJoin(seed=seed, radio_of={chf_id: gpf_id}, sleepy=sleepy,
                                            timing=JoinTiming(channel_sets=BDB_SCAN)))
    from sim.han_time.radio_join import open_radio  # asyncio bridge and radio libraries: only when asked

    return RecordedJoins(open_radio(radio, chf_id, meters))
