"""Radio libraries speak only through hansim: their log lines and stray task errors are
debug detail, never a traceback on the user's terminal.

zigpy-znp, bellows and zigpy-deconz log every bad checksum of a port that speaks
garbage, and their background tasks (a bootloader ping, a reconnect) can fail after
hansim has already given its one-line verdict: asyncio then prints "Task exception was
never retrieved" with a traceback, and a coroutine dropped at shutdown warns "was never
awaited". Without any logging configured Python prints warnings and errors to stderr
through its last-resort handler; a ``NullHandler`` on each of these loggers means it is
not used, while a user who configures logging (e.g. ``logging.basicConfig(level=DEBUG)``)
still sees every line.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

RADIO_LOGGERS = ("zigpy", "zigpy_znp", "bellows", "zigpy_deconz", "serial_asyncio",
                 "serial_asyncio_fast", "asyncio", "concurrent.futures")
_log = logging.getLogger(__name__)


def quiet_radio_libraries() -> None:
    """Route the radio libraries' logs and stray task errors to debug logging (idempotent)."""
    for name in RADIO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)


def quiet_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Errors of tasks nobody awaits on ``loop`` (a library's background ping) go to debug."""
    loop.set_exception_handler(_debug)


def _debug(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    _log.debug("radio library: %s", context.get("message"), exc_info=context.get("exception"))
