"""SRV 8.11 through a HAN radio (a USB stick, real or virtual), in real time.

:class:`RadioJoin` is a ``devices.han_join.HanJoin`` (and ``HanLeave``) for the DCC
model: after 8.11 Add has put the device in the CHF's device log, it gives the radio the
link key the log accepts and the rest of the join window (``permit``, run on the radio's
asyncio loop while SimPy waits in real time), then turns what happens into the log's
alerts: the radio reports the device joined -> ``DeviceLog.joined`` -> 0x8F49; the window
closes first -> ``DeviceLog.expire`` -> 0x8F48. CCS02 makes the device leave. A radio
that disappears raises :class:`han.radio.RadioLost` (one line) out of the run.

:func:`open_radio` is what a scenario replay calls with a file's ``radio:`` spec.
"""

from __future__ import annotations

import concurrent.futures
import math

from devices.device_log import DeviceLog, KeySource
from devices.han_join import JoinResult
from han.installcode import InstallCode
from han.radio import HanRadio, RadioError, RadioLost, RadioSpec
from sim.realtime import AsyncioBridge, realtime_env

STOP_TIMEOUT = 15.0


class RadioJoin:
    """HAN joins through ``radio``; :meth:`start` before the first, :meth:`close` after."""

    def __init__(self, radio: HanRadio, bridge: AsyncioBridge | None = None) -> None:
        self.radio = radio
        self.bridge = bridge if bridge is not None else AsyncioBridge()
        self._waiting: dict[str, concurrent.futures.Future] = {}
        self._lost: concurrent.futures.Future = concurrent.futures.Future()
        self._started = False

    # the radio's listener (called on the asyncio thread) -----------------------------------
    def radio_joined(self, device_id: str) -> None:
        waiting = self._waiting.get(device_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(device_id)

    def radio_lost(self, reason: str) -> None:
        if not self._lost.done():
            self._lost.set_result(reason)

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> RadioJoin:
        """Open the radio (once; later calls do nothing)."""
        if not self._started:
            self.bridge.call(self.radio.start(self))
            self._started = True
        return self

    def close(self) -> None:
        try:
            self.bridge.call(self.radio.stop(), timeout=STOP_TIMEOUT)
        finally:
            self.bridge.close()

    def __enter__(self) -> RadioJoin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _check(self) -> None:
        if self._lost.done():
            raise RadioLost(self._lost.result())

    # HanJoin / HanLeave ---------------------------------------------------------------------
    def join(self, log: DeviceLog, device_id: str, device_install_code: InstallCode,
             now: float) -> JoinResult:
        """The real device holds its own code: ``device_install_code`` is not used."""
        self.start()
        self._check()
        keys = dict(log.acceptable_keys(device_id, now))
        if not keys:
            return JoinResult(False, log.refusal_reason(device_id, now), 0.0)
        source, key = next(iter(keys.items()))
        if KeySource.INSTALL_CODE in keys:  # a stick holds one key: the install code's
            source, key = KeySource.INSTALL_CODE, keys[KeySource.INSTALL_CODE]
        window = log.live[device_id].window
        assert window is not None  # keys are acceptable only while its window is open
        closes = window.closes
        env = realtime_env(now)
        joined = self._waiting[device_id] = concurrent.futures.Future()
        permit = self.bridge.submit(self.radio.permit(device_id, key, math.ceil(closes - now)))

        def wait():
            # The permit call returns when the radio closes the window, or fails.
            got = yield (self.bridge.event(env, joined) | self.bridge.event(env, self._lost)
                         | self.bridge.event(env, permit) | env.timeout(closes - now))
            return [event.value for event in got.keys()]

        try:
            values = env.run(until=env.process(wait()))
        except Exception as err:  # noqa: BLE001 - the radio library's failure, in one line
            self._check()
            raise RadioError(f"radio: permitting {device_id} failed: "
                             f"{str(err) or type(err).__name__}") from None
        finally:
            permit.cancel()
            del self._waiting[device_id]
        assert isinstance(values, list)  # what wait() returns
        if device_id in values:
            alerts = log.joined(device_id, key, env.now)
            return JoinResult(True, f"joined through radio with the {source.value} key",
                              env.now - now, alerts)
        self._check()
        alerts = [a for a in log.expire(closes) if a.subject == device_id]
        return JoinResult(False, "join window closed with no join reported by the radio "
                                 "(wrong install code sent in 8.11, or the device is not there)",
                          closes - now, alerts)

    def removed(self, device_id: str, now: float) -> None:
        self.start()
        self._check()
        self.bridge.call(self.radio.remove(device_id), timeout=STOP_TIMEOUT)


def check_radio_spec(spec: str) -> RadioSpec | None:
    """The stick ``spec`` names, or None for ``air``; :class:`RadioError` if it names neither."""
    from sim.air_radio import AIR_SPEC

    return None if spec.strip().lower() == AIR_SPEC else RadioSpec.parse(spec)


def open_radio(spec: str, chf_id: str, meters: dict[str, InstallCode],
               extra: dict | None = None) -> RadioJoin:
    """A started :class:`RadioJoin` on the radio named by ``spec``: a stick
    (``znp:/dev/ttyACM0``; ``extra`` is merged into zigpy's config) or ``air``, the
    simulated air with ``meters`` (device ID -> the code it holds) joining the CHF
    ``chf_id``. Raises ``han.radio.RadioError`` in one line."""
    from han.zigpy_radio import ZigpyRadio
    from sim.air_radio import AirRadio

    stick = check_radio_spec(spec)
    radio: HanRadio = AirRadio(chf_id, meters) if stick is None else ZigpyRadio(stick, extra)
    join = RadioJoin(radio)
    try:
        return join.start()
    except BaseException:
        join.bridge.close()
        raise

