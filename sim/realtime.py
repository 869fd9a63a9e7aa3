"""Real-time runs: a SimPy ``RealtimeEnvironment`` with zigpy's asyncio loop beside it.

This is the one place the two clocks meet. zigpy's radio libraries need a running
asyncio loop; SimPy needs its own thread to step. :class:`AsyncioBridge` runs the
asyncio loop in a background thread; coroutines are handed to it with :meth:`submit`
(thread-safe). SimPy events are never touched from the asyncio thread (SimPy is not
thread-safe): :meth:`event` gives a SimPy event that a small SimPy process triggers, in
SimPy's thread, once a ``concurrent.futures.Future`` is done, looking every ``tick``
real seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

import simpy
import simpy.rt

#: How often (real seconds) SimPy looks at the asyncio side's futures.
TICK = 0.02


def realtime_env(initial_time: float = 0.0) -> simpy.rt.RealtimeEnvironment:
    """Simulated seconds = wall-clock seconds; never fail when a step runs late."""
    return simpy.rt.RealtimeEnvironment(initial_time=initial_time, factor=1.0, strict=False)


class AsyncioBridge:
    """An asyncio loop in a daemon thread, and SimPy events from its futures."""

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hansim-asyncio",
                                        daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine) -> concurrent.futures.Future:
        """Run ``coro`` on the asyncio loop; its result as a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine, timeout: float | None = None) -> Any:
        """Run ``coro`` on the asyncio loop and wait for its result here."""
        return self.submit(coro).result(timeout)

    def event(self, env: simpy.Environment, future: concurrent.futures.Future) -> simpy.Event:
        """A SimPy event that succeeds with ``future``'s result (or fails with its error)."""
        done = env.event()

        def watch():
            while not future.done():
                yield env.timeout(self.tick)
            if future.cancelled():
                done.fail(concurrent.futures.CancelledError())
            elif future.exception() is not None:
                done.fail(future.exception())
            else:
                done.succeed(future.result())

        env.process(watch())
        return done

    def close(self) -> None:
        """Stop the loop (cancelling what still runs on it) and join its thread."""
        if self.loop.is_closed():
            return

        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.call(cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
