"""The simulated air behind the HAN radio interface (``han.radio.HanRadio``).

So the same :class:`sim.han_time.radio_join.RadioJoin` (and a scenario replay in real time) can
run with no stick at all: each permit lets the listed meter, holding its own install
code, join frame by frame on the simulated air (``sim.han_time.stick_join.FrameLevelJoiner``,
i.e. ``sim.han_time.frame_join.run_join``, the join the virtual stick's meters run too). A join is
reported after the simulated join's own duration, in real seconds. The air picks its
own seeded PAN and channel for each attempt.
"""

from __future__ import annotations

import asyncio

from han.eui import to_eui64
from han.installcode import InstallCode
from han.radio import RadioListener
from han.znp.meters import EmulatedMeter, NetworkParameters
from sim.han_time.stick_join import FrameLevelJoiner

AIR_SPEC = "air"


class AirRadio:
    """``meters``: device ID -> the install code that device really holds."""

    def __init__(self, chf_id: str, meters: dict[str, InstallCode],
                 joiner: FrameLevelJoiner | None = None) -> None:
        ieee = to_eui64(chf_id)
        self.network = NetworkParameters(channel=0, pan_id=0, extended_pan_id=ieee,
                                         coordinator_ieee=ieee)
        self.meters = {device_id: EmulatedMeter(to_eui64(device_id), code)
                       for device_id, code in meters.items()}
        self.joiner = joiner if joiner is not None else FrameLevelJoiner()
        self.joined: set[str] = set()
        self._listener: RadioListener | None = None

    async def start(self, listener: RadioListener) -> None:
        self._listener = listener

    async def permit(self, device_id: str, link_key: bytes, seconds: int) -> None:
        loop = asyncio.get_running_loop()
        closes = loop.time() + seconds
        meter = self.meters.get(device_id)
        if meter is not None and device_id not in self.joined:
            self.joiner.window = float(seconds)
            verdict = self.joiner(self.network, meter, link_key)
            if verdict.joined:
                _, report = self.joiner.reports[-1]
                await asyncio.sleep(report.duration)
                self.joined.add(device_id)
                if self._listener is not None:
                    self._listener.radio_joined(device_id)
        await asyncio.sleep(max(0.0, closes - loop.time()))

    async def remove(self, device_id: str) -> None:
        self.joined.discard(device_id)

    async def stop(self) -> None:
        self._listener = None
