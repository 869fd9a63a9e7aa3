"""Progress bars for jobs that take more than a moment (``han stats``, ``replay``,
``reflash``, ``backlog``, ``sweep``).

One place decides how they look and when they show: on stderr, so stdout and the files
stay exactly what they were; only on a terminal (a pipe, a log file or a test's captured
stream gets nothing); never with ``--quiet``; and only once a job has run ``DELAY``
seconds, so quick runs print nothing at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

#: Seconds before a bar appears.
DELAY = 2.0


def on_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal someone watches."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def bar(total: int | None, desc: str, *, unit: str = "step", quiet: bool = False) -> tqdm:
    """A bar of ``total`` ``unit``s on stderr, cleared when the job ends."""
    stream = sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, delay=DELAY, leave=False,
                disable=quiet or not on_terminal(stream))


def named_steps(progress: tqdm) -> Callable[[str], None]:
    """A callback that moves ``progress`` on by one step and shows the step's name."""
    def done(step: str) -> None:
        progress.set_postfix_str(step)
        progress.update()
    return done
