"""Writing results so that a failed run leaves nothing half written and loses nothing.

Every file is written to a temporary name beside its target and renamed into place
(``os.replace`` is atomic on POSIX). An :class:`OutputDir` collects a run's files in a
staging folder and moves them into the user's folder only when the run succeeds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically; text is written as UTF-8."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class OutputDir:
    """A run's output folder, filled all at once when the run succeeds.

    Files go to a hidden staging folder beside ``target``; on a clean exit each is moved
    into ``target`` (replacing a file of the same name); on an exception the staging
    folder is removed and ``target`` is left exactly as it was.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> OutputDir:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(
            tempfile.mkdtemp(dir=self.target.parent, prefix=f".{self.target.name}.")
        )
        return self

    def path(self, name: str) -> Path:
        """Where to write ``name`` (relative) during the run."""
        out = self.staging / name
        out.parent.mkdir(parents=True, exist_ok=True)
        return out

    def write(self, name: str, data: bytes | str) -> Path:
        return atomic_write(self.path(name), data)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                for source in sorted(p for p in self.staging.rglob("*") if p.is_file()):
                    final = self.target / source.relative_to(self.staging)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(source, final)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
