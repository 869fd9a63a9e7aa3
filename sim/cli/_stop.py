"""How a long-running command (``dcc serve``, ``dongle virtual``) is stopped: Ctrl-C or a
service manager's SIGTERM ends it cleanly (its cleanup runs, exit 0, no traceback)."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event SIGINT or SIGTERM sets from now on: call it before saying the service is up,
    so that a signal sent as soon as it says so is already caught."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform/thread
            loop.add_signal_handler(sig, stop.set)
    return stop


async def until(stop: asyncio.Event, duration: float | None = None) -> None:
    """Wait for ``stop``, or ``duration`` seconds when given."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(duration):
            await stop.wait()
