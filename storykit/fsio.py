"""Crash-safe file writing and locking.

A file is either the old version or the new one, never torn: write a temporary file in the same
folder, fsync it, rename it over the target, fsync the folder. Locks are ``flock`` on sidecar
files (never on the story file itself, whose inode the rename replaces).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import NotSavedError, StorykitError

TEMP_PREFIX = ".tmp-"
_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EIO: "the disk reported an input/output error",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission was denied",
    errno.EPERM: "permission was denied",
}


def why(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0, exc.strerror or "the operating system refused the write")


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically and durably, or raise :class:`NotSavedError`
    leaving the previous file as it was and no temporary file behind."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = path.parent
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        try:
            keep_mode = mode if mode is not None else _existing_mode(path)
            if keep_mode is not None:
                os.fchmod(fd, keep_mode)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        fsync_dir(folder)
    except OSError as exc:
        raise NotSavedError(f"{path.name} was not saved: {why(exc)}. "
                            "The previous version is unchanged.") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_atomic(out: Path, write: Callable[[Any], Any]) -> None:
    """Call ``write(file)`` on a temporary file next to ``out``, then move it into place, so
    ``out`` is never half-written. A full disk or a read-only folder is a clear error."""
    out = Path(out)
    tmp: str | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=out.suffix, dir=out.parent)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)
            write(f)
        os.replace(tmp, out)
        tmp = None
    except OSError as exc:
        raise NotSavedError(f"{out.name} was not written: {why(exc)}") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def replace_file(path: Path | str, data: bytes | list[bytes], mode: int = 0o644,
                 pool: FilePool | None = None) -> None:
    """Replace ``path`` with ``data`` (or these pieces one after another, which saves
    joining them first): readers see the old file or the new, never half of one. No fsync,
    unlike :func:`atomic_write`: for outputs that can be made again (pages, pictures),
    where thousands of syncs would cost more than a rebuild after a crash.

    The temporary file is named after this process and thread (one file at a time each),
    so no random name is drawn and no file object made: a build writes thousands. With a
    ``pool`` for this folder, one of its empty files is filled instead, when one is ready."""
    folder = os.path.dirname(path)
    ready = pool.take() if pool is not None and pool.folder == folder else None
    if ready is not None:
        fd, tmp = ready
    else:
        tmp = os.path.join(folder, f"{TEMP_PREFIX}w{os.getpid()}-{threading.get_ident()}")
        try:
            fd = os.open(tmp, _NEW_FILE, 0o600)
        except FileExistsError:  # left by a killed process that had this number
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    try:
        try:
            os.fchmod(fd, mode)
            for piece in data if isinstance(data, list) else [data]:
                _write_all(fd, piece)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


class FilePool:
    """Empty files made ahead in one folder by a forked process, for :func:`replace_file`
    to fill and rename.

    Making a file is most of the cost of writing thousands of small pages on some disks:
    ext4 without a journal passes over every inode freed in the last minutes, one by one,
    for each new file, while it holds the folder's lock (up to 0.8 ms a file), and only one
    process can make files in a folder at a time anyway. A build knows early about how many
    pages it will write, so a child process makes their files while the build is still
    starting and loading stories; the build then only fills and renames them. A file the
    child has not made yet is made as before; those no page needed are deleted by
    :meth:`close`. The files are temporary files (``TEMP_PREFIX``): a build that was
    killed leaves them to the next one to delete, like any other."""

    def __init__(self, folder: str, count: int) -> None:
        self.folder, self.count = folder, count
        self.prefix = os.path.join(folder, f"{TEMP_PREFIX}p{os.getpid()}-")
        self.taken = 0
        self.pid: int | None = None

    def start(self) -> bool:
        """Fork the process that makes the files; only from a process with one thread (a
        fork copies no other thread, nor a lock one holds). True when it was started."""
        if self.pid is not None or not hasattr(os, "fork") or threading.active_count() > 1:
            return False
        os.makedirs(self.folder, exist_ok=True)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            try:
                for n in range(self.count):
                    os.close(os.open(f"{self.prefix}{n}", _NEW_FILE, 0o600))
            finally:
                os._exit(0)  # a name it could not make is made by replace_file
        self.pid = pid
        return True

    def take(self) -> tuple[int, str] | None:
        """The next empty file, open for writing, and its name; None when it is not ready
        (or is not an empty file of this user's that nothing else links to)."""
        if self.pid is None or self.taken >= self.count:
            return None
        name = f"{self.prefix}{self.taken}"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size or st.st_nlink != 1 \
                or st.st_uid != os.geteuid():
            os.close(fd)
            return None
        self.taken += 1
        return fd, name

    def close(self) -> None:
        """Wait for the child, and delete the files no page needed."""
        if self.pid is None:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid = None
        for n in range(self.taken, self.count):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.prefix}{n}")
        self.taken = self.count


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _existing_mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(folder: Path) -> None:
    """Create ``folder`` (and parents) durably."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for created in reversed(missing):
            fsync_dir(created.parent)
    except OSError as exc:
        raise NotSavedError(f"could not create {folder.name}: {why(exc)}") from exc


class LockTimeout(StorykitError):
    """Someone else is saving the same thing; try again in a moment."""


@contextlib.contextmanager
def locked(lock_file: Path, timeout: float = 15.0, what: str = "this story") -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (across processes and threads)."""
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise NotSavedError(f"nothing was saved: could not lock {what} ({why(exc)})") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(f"{what} is being saved by someone else; "
                                      "try again in a moment") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def try_lock(lock_file: Path) -> int | None:
    """A held lock's fd if it was free now, else None (for sweeping)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


def temp_files(folder: Path | str) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder)
                if e.name.startswith(TEMP_PREFIX) and e.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


#: Nanoseconds within which a file may change again without its stat key changing (the same
#: clock tick): a key younger than this is not trusted to mean "unchanged" later.
RACY_NS = 2_000_000_000


def settled_before() -> int:
    """A modification time (ns): files last changed before it have trustworthy stat keys."""
    return time.time_ns() - RACY_NS


def stat_key(path: Path | str) -> tuple[int, int, int] | None:
    """``(inode, size, modification time in ns)`` of a file, or None if it is not there:
    equal keys mean unchanged contents, as git's index assumes (see storykit.cache for the
    same-clock-tick caveat)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_cache(path: Path) -> Any:
    """What :func:`write_cache` kept at ``path``, or None when it is missing or unreadable
    (a cache: the caller starts again). Only for storykit's own files in the private
    instance folder: unpickling runs code, so never point it at anything else."""
    import pickle

    try:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - our own private file, see above
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            TypeError, ValueError):
        return None


def write_cache(path: Path, value: Any) -> bool:
    """Keep ``value`` at ``path`` (atomically, readable by the owner only); False when it
    could not be written, which only makes the next run slower."""
    import pickle

    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    try:
        make_dirs(path.parent)
        atomic_write(path, data, mode=0o600)
    except StorykitError:
        return False
    return True
