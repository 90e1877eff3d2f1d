"""Per-story locks: ``flock`` on one machine, PostgreSQL advisory locks across several.

The store takes a lock around every save, consent change, withdrawal and new story, and a
sweep skips a story whose lock is held (a writer's temporary file is not a stray). On one
machine (SQLite) the locks are ``flock`` on sidecar files in ``instance/locks``, as always.
When the site's database is PostgreSQL, app servers and workers on several machines may share
the stories folder, where ``flock`` cannot be trusted (network file systems), so the locks are
PostgreSQL *session* advisory locks instead: each thread holds them on a connection of its own
(never the one its transactions use), keyed by a stable 64-bit hash of the lock's name. A
process that dies lets go at once, as with ``flock``: its session ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from .errors import NotSavedError, StorykitError
from .fsio import LockTimeout, locked, try_lock

# storykit.db is imported where it is used: it refers to the site, which holds the store.

TIMEOUT = 15.0


class Locks(Protocol):
    """What the store needs from a lock: hold one, or see whether one is free."""

    def hold(self, name: str, what: str = "this story", timeout: float = TIMEOUT
             ) -> contextlib.AbstractContextManager[None]: ...
    def if_free(self, name: str) -> contextlib.AbstractContextManager[bool]: ...


class FileLocks:
    """``flock`` on ``folder/<name>.lock``: across processes and threads of one machine."""

    def __init__(self, folder: Path):
        self.folder = folder

    def hold(self, name: str, what: str = "this story", timeout: float = TIMEOUT
             ) -> contextlib.AbstractContextManager[None]:
        return locked(self.folder / f"{name}.lock", timeout=timeout, what=what)

    @contextlib.contextmanager
    def if_free(self, name: str) -> Iterator[bool]:
        fd = try_lock(self.folder / f"{name}.lock")
        try:
            yield fd is not None
        finally:
            if fd is not None:
                os.close(fd)


def lock_key(name: str) -> int:
    """A lock name as a signed 64-bit advisory lock key, the same on every machine and
    release (Python's ``hash`` is not: it changes per process)."""
    return int.from_bytes(hashlib.sha256(b"storykit lock:" + name.encode()).digest()[:8],
                          "big", signed=True)


class DatabaseLocks:
    """PostgreSQL session advisory locks, on one dedicated connection per thread.

    Waiting uses the server's own queue (``pg_advisory_lock`` under ``lock_timeout``), so
    waiters are served in turn without polling; the wait ends with the same words as a
    ``flock`` wait."""

    def __init__(self, database: Callable[[], Any]):
        """``database()``: the site's storykit.db.Database (asked for on first use)."""
        self._database = database
        self._local = threading.local()
        self._pid = os.getpid()

    def _conn(self) -> Any:
        if self._pid != os.getpid():  # a forked child never uses its parent's sessions
            self._local, self._pid = threading.local(), os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._database().connect()
            self._local.conn = conn
            self._local.timeout = None
        return conn

    def _drop(self) -> None:
        """Forget this thread's connection (it broke: any lock on it is gone with it)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    @contextlib.contextmanager
    def hold(self, name: str, what: str = "this story", timeout: float = TIMEOUT
             ) -> Iterator[None]:
        from .db import DatabaseError

        key = lock_key(name)
        try:
            conn = self._conn()
            if self._local.timeout != timeout:
                conn.execute("SELECT set_config('lock_timeout', :ms, false)",
                             {"ms": str(max(1, int(timeout * 1000)))})
                self._local.timeout = timeout
            conn.execute("SELECT pg_advisory_lock(:key)", {"key": key})
        except DatabaseError as exc:
            if _timed_out(exc):
                raise LockTimeout(f"{what} is being saved by someone else; "
                                  "try again in a moment") from None
            self._drop()
            raise NotSavedError(f"nothing was saved: could not lock {what} (the database "
                                "could not be reached)") from exc
        try:
            yield
        finally:
            try:
                conn.execute("SELECT pg_advisory_unlock(:key)", {"key": key})
            except StorykitError:
                self._drop()  # closing the session lets go of the lock too

    @contextlib.contextmanager
    def if_free(self, name: str) -> Iterator[bool]:
        key = lock_key(name)
        conn = self._conn()
        got = bool(conn.value("SELECT pg_try_advisory_lock(:key)", {"key": key}))
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute("SELECT pg_advisory_unlock(:key)", {"key": key})
                except StorykitError:
                    self._drop()


def _timed_out(exc: BaseException) -> bool:
    """True when the wait for a lock ran out (SQLSTATE 55P03, lock_not_available)."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "55P03"
