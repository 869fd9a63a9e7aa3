"""Writing results: whole or not at all, one clear line when the disk says no.

Every hansim command that writes files writes them here, so every one answers the same
faults the same way: a read-only folder, a missing parent folder, a file in the way, an
invalid path or a full disk is an :class:`OutputError` whose message is one line naming
the path and the reason; the CLI prints it and exits 1 (``sim/cli/__init__.py``).

- A file is written under a temporary name beside its target, flushed to disk and
  renamed into place (``os.replace`` is atomic on POSIX): a crash, a kill or a full disk
  leaves the earlier file untouched and no temporary file behind.
- A run's folder (:class:`OutputDir`) is filled in a hidden staging folder beside it and
  renamed into place when the run succeeds: never half a run, never two runs mixed. A
  folder that already holds results is refused (:func:`check_folder`) unless the user
  asked to overwrite it, and then it is replaced whole.
- A run killed outright (``kill -9``, a power cut) cannot clean up after itself: its
  staging names carry its process ID and host, and the next run writing the same target
  removes those of processes that are gone (:func:`clear_stale`), or puts back an earlier
  result the killed run had moved aside.
- Files are readable as the user's umask allows (``mkstemp`` alone would make them
  0600); secrets (private keys, key rows) stay owner-only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

OVERWRITE_HINT = "--overwrite"  # the option every command uses to replace a result folder

_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a file is in the way (a folder was expected)",
    errno.EISDIR: "is a folder",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system",
    errno.ENAMETOOLONG: "path too long",
    errno.EINVAL: "invalid path",
    errno.EIO: "input/output error",
}


_WRITE_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG, errno.EIO}


class OutputError(Exception):
    """A result that could not be written; ``str()`` is one line for the user."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: cannot write: {reason} (nothing written)")

    def __reduce__(self) -> tuple[type[OutputError], tuple[Path, str]]:
        """Rebuilt from its path and reason: a worker process's write fault reaches the
        parent as the same one line (the default would call ``__init__`` with the message)."""
        return OutputError, (self.path, self.reason)


def describe(path: str | Path, err: OSError | ValueError) -> OutputError:
    """The OutputError for a failed write: which path and why."""
    if isinstance(err, ValueError):  # e.g. an embedded NUL byte in the path
        return OutputError(path, "invalid path")
    return OutputError(path, _REASONS.get(err.errno or 0) or err.strerror or str(err))


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _mode(secret: bool) -> int:
    return 0o600 if secret else 0o666 & ~_umask()


def _check_parent(path: Path) -> None:
    parent = path.parent
    if not parent.exists():
        raise OutputError(path, f"folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(path, f"{parent} is a file, not a folder")


def _stage_file(path: Path, data: bytes, secret: bool) -> Path:
    """``data`` in a flushed temporary file beside ``path``; its name."""
    fd, tmp = _temp_file(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, data)
            os.fchmod(handle.fileno(), _mode(secret))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


_CAPTURE = ".capture"  # a live capture's staging file: frames a killed run caught, kept


def _owner() -> str:
    """Who stages: this process on this host (a sweep's workers are processes of their own)."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]
    return f"{os.getpid()}@{host}"


def _prefix(target: Path, kind: str = "") -> str:
    return f".{target.name}.{kind}{_owner()}."


# The three places this module touches the disk; fault tests replace them.
def _temp_file(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    return tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=suffix)


def _temp_folder(target: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=_prefix(target)))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


@contextlib.contextmanager
def folders_for(files: Collection[Path]) -> Iterator[None]:
    """The folders ``files`` will be written into, made now (parents included) for writers
    in other processes: several workers making one folder race, and one's clean-up could
    remove the folder another is writing into. If the block fails, the folders made here
    that are still empty are removed again, after what writers that died mid-write staged
    there (:func:`clear_stale`)."""
    made: list[Path] = []
    try:
        for folder in dict.fromkeys(Path(f).parent for f in files):
            made += reversed([p for p in (folder, *folder.parents) if not p.exists()])
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except (OSError, ValueError) as err:
                raise describe(folder, err) from None
        yield
    except BaseException:
        for file in files:
            clear_stale(Path(file))
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: anything written stays
        raise


def clear_stale(target: Path) -> None:
    """Remove what a killed run staged for ``target`` (this host's, its process gone);
    an earlier result it had moved aside goes back in place. Best effort: a folder we may
    not change is left as it is, and the write that follows says why."""
    host = _owner().partition("@")[2]
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(old\.)?(\d+)@{re.escape(host)}\.[^/]*(?<!{_CAPTURE})$")
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            found = pattern.fullmatch(entry.name)
            if not found or not _gone(int(found[2])):
                continue
            with contextlib.suppress(OSError):
                if found[1] and (entry / "previous").is_dir() and not target.exists():
                    os.replace(entry / "previous", target)
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()



def _write_all(handle, data: bytes) -> None:
    handle.write(data)


def _encode(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def atomic_write(path: str | Path, data: bytes | str, *, secret: bool = False,
                 parents: bool = False) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; OutputError if it cannot be.

    The folder must exist unless ``parents`` (for a command's own sub-folders): a typo in a
    user's path should not silently create folders.
    """
    return write_files({path: data}, secrets=[path] if secret else [], parents=parents)[0]


def write_files(files: Mapping[str | Path, bytes | str], *,
                secrets: Collection[str | Path] = (), parents: bool = False) -> list[Path]:
    """Several files that belong together (a key pair, a pcap and its keys): all are
    staged before any is renamed into place, so a fault leaves none of them new. Those
    in ``secrets`` are owner-only."""
    secret_paths = {Path(p) for p in secrets}
    staged: list[tuple[Path, Path]] = []
    made: list[Path] = []  # folders made for ``parents``, removed again if the write fails
    current: Path | None = None
    try:
        for name, data in files.items():
            current = Path(name)
            if parents:
                made += [p for p in reversed(current.parents) if not p.exists()]
                current.parent.mkdir(parents=True, exist_ok=True)
            _check_parent(current)
            if current.is_dir():
                raise OutputError(current, "is a folder")
            clear_stale(current)
            staged.append((_stage_file(current, _encode(data), current in secret_paths), current))
        for tmp, final in staged:
            current = final
            os.replace(tmp, final)
    except (OSError, ValueError, OutputError) as err:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(err, OutputError):
            raise
        raise describe(current or "", err) from None
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]


def append(path: str | Path, data: bytes) -> None:
    """Add ``data`` to the end of a journal that a killed run resumes from (a study's
    evaluations), flushed to disk: a kill or a full disk cuts at most its last line, which
    the reader drops. Faults are OutputErrors, as above."""
    try:
        with open(path, "ab") as handle:
            _write_all(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
    except (OSError, ValueError) as err:
        raise describe(path, err) from None


def check_file(path: str | Path) -> Path:
    """Refuse, before a run starts, a file target it could not write."""
    path = Path(path)
    try:
        _check_parent(path)
        if path.is_dir():
            raise OutputError(path, "is a folder")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise describe(path, OSError(errno.EACCES, "permission denied"))
    except (OSError, ValueError) as err:
        raise describe(path, err) from None
    return path


@contextlib.contextmanager
def growing_file(path: str | Path) -> Iterator[BinaryIO]:
    """A file written as it grows (a live capture), under a temporary name beside ``path``
    and renamed into place when the block ends, *however* it ends: a sniffer pulled out
    or a Ctrl-C keeps everything written so far. Faults are OutputErrors, as above."""
    path = check_file(path)
    try:
        fd, tmp = _temp_file(path, _CAPTURE)
    except (OSError, ValueError) as err:
        raise describe(path, err) from None
    handle = os.fdopen(fd, "wb")
    try:
        yield handle
    except OSError as err:
        raise describe(path, err) from None
    finally:
        try:
            with contextlib.suppress(OSError):  # a full disk: keep what reached it
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(OSError):
                handle.close()
            os.chmod(tmp, _mode(False))
            os.replace(tmp, path)
        except OSError as err:
            Path(tmp).unlink(missing_ok=True)
            raise describe(path, err) from None


def holds_results(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def check_folder(target: str | Path, overwrite: bool = False) -> Path:
    """Refuse, before a run starts, an output folder it could not write or would mix into."""
    target = Path(target)
    try:
        if target.exists() and not target.is_dir():
            raise OutputError(target, "a file is in the way (a folder was expected)")
        _check_parent(target)
        clear_stale(target)
        if holds_results(target) and not overwrite:
            raise OutputError(target, "it already holds results; choose another folder or "
                              f"pass {OVERWRITE_HINT} to replace them")
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise describe(target, OSError(errno.EACCES, "permission denied"))
    except (OSError, ValueError) as err:
        raise describe(target, err) from None
    return target


class OutputDir:
    """A run's output folder, filled all at once when the run succeeds.

    Files go to a hidden staging folder beside ``target``; on a clean exit the staging
    folder replaces ``target`` whole (with ``overwrite``; otherwise a ``target`` holding
    results is refused); on an exception the staging folder is removed and ``target`` is
    left exactly as it was.

    A run that fills its folder as it goes, so that a killed run resumes from it (a
    sweep's replications, a study's evaluations), names the file or folder that marks its
    store as ``resume``: a new or empty ``target``, or one holding that mark, is then
    written in place and kept however the run ends; one holding other results is refused.
    With ``overwrite``, a ``target`` holding results is not emptied first but staged as
    above, so the earlier result, its resumable state included, stays whole until the new
    one is complete.
    """

    def __init__(self, target: str | Path, overwrite: bool = False, resume: str | None = None) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        self.resume = resume

    def __enter__(self) -> OutputDir:
        check_folder(self.target, overwrite=self.overwrite or self.resume is not None)
        try:
            if self.resume is not None and not (holds_results(self.target) and self.overwrite):
                if holds_results(self.target) and not (self.target / self.resume).exists():
                    raise OutputError(self.target, f"it holds results but no {self.resume} to resume from; "
                                      f"choose another folder or pass {OVERWRITE_HINT} to replace them")
                self.target.mkdir(exist_ok=True)
                self.staging = self.target  # in place: what a killed run finished is kept
            else:
                self.staging = _temp_folder(self.target)
        except (OSError, ValueError) as err:
            raise describe(self.target, err) from None
        return self

    @property
    def folder(self) -> Path:
        """Where the run writes: the staging folder, or ``target`` itself when resumed in place."""
        return self.staging

    def path(self, name: str) -> Path:
        """Where to write ``name`` (relative) during the run."""
        out = self.staging / name
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise describe(self.target / name, err) from None
        return out

    def write(self, name: str, data: bytes | str, *, secret: bool = False) -> Path:
        return atomic_write(self.path(name), data, secret=secret)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.staging == self.target:
            return
        try:
            if exc_type is None:
                self._commit()
            elif isinstance(exc, OutputError) and exc.path.is_relative_to(self.staging):
                # name the user's folder, not the staging one
                raise OutputError(self.target / exc.path.relative_to(self.staging), exc.reason) from None
            elif isinstance(exc, OSError) and exc.errno in _WRITE_FAULTS:
                # a file a library wrote straight into the staging folder (a plot)
                raise describe(self.target, exc) from None
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _commit(self) -> None:
        try:
            for folder in [self.staging, *(p for p in self.staging.rglob("*") if p.is_dir())]:
                os.chmod(folder, 0o777 & ~_umask())
            old = None
            if self.target.exists():  # empty, or --overwrite: moved aside, removed once replaced
                old = Path(tempfile.mkdtemp(dir=self.target.parent, prefix=_prefix(self.target, "old.")))
                os.replace(self.target, old / "previous")
            try:
                os.replace(self.staging, self.target)
            except BaseException:
                if old is not None:
                    os.replace(old / "previous", self.target)
                raise
            finally:
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
        except (OSError, ValueError) as err:
            raise describe(self.target, err) from None
