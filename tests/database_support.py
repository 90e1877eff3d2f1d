"""The database engines the tests run on: SQLite, and a throwaway PostgreSQL server.

One PostgreSQL cluster per test session (with pytest-xdist, per worker), started with Debian's
``initdb`` and ``pg_ctl`` on a private socket folder (no TCP port), thrown away at the end. As
root the server runs as the ``postgres`` user (``initdb`` refuses root). Each test that asks
gets a fresh database, copied from a template already migrated to head (the migrations
themselves are tested from an empty database in test_db.py).

Missing server binaries are an error, never a skip: ``./dev test`` installs Debian's
``postgresql``.
"""

from __future__ import annotations

import glob
import itertools
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storykit.db import CORE_MIGRATIONS, Database, parse_url
from storykit.web.commands import MIGRATIONS as APP_MIGRATIONS

ENGINES = ("sqlite", "postgresql")
MISSING = ("PostgreSQL's server programs (initdb, pg_ctl) are missing: run ./dev test, which "
           "installs Debian's postgresql package, or: apt-get install postgresql")
TEMPLATE = "storykit_head"
#: The one role that must sign in with a password.
PASSWORD_ROLE = "storykit_pw"


def server_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise AssertionError(MISSING)


#: What makes a database "as fresh": its tables, columns, indexes, triggers (and whether they
#: are enabled), functions, grants and recorded migrations. A handed-back database with the
#: same fingerprint as the template is emptied and used again; any other is dropped.
FINGERPRINT = """
SELECT string_agg(x, '|' ORDER BY x) FROM (
  SELECT 'c:' || table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
         || ':' || coalesce(column_default, '') AS x
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'i:' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 't:' || tgname || ':' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'f:' || p.proname FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'a:' || c.relname || ':' || coalesce(c.relacl::text, '') FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'v:' || version_num FROM alembic_version
) s
"""


@dataclass
class Cluster:
    """A private PostgreSQL server: ``url(name)`` connects to database ``name`` over its
    socket as the ``postgres`` superuser (trust authentication: nothing listens on TCP).

    Making and dropping databases is slow on a busy disk (each is ~300 files), so a test's
    databases are handed back when it ends (``give_back``) and a background thread empties
    each one whose schema is untouched (same fingerprint as the template) for the next test:
    every test still starts from an empty database at head."""

    folder: Path
    port: int = 5432
    counter: itertools.count = field(default_factory=itertools.count)
    #: databases handed out and not yet given back
    made: list[str] = field(default_factory=list)
    spare: queue.Queue | None = None       # ready: empty, at head
    used: queue.Queue = field(default_factory=queue.Queue)
    fingerprint: str = ""
    stopped: bool = False
    problem: str = ""       # the background thread's last failure

    @classmethod
    def start(cls) -> Cluster:
        bindir = server_bin()
        folder = Path(tempfile.mkdtemp(prefix="skpg-"))
        cluster = cls(folder)
        cluster._chown(folder)
        cluster._run(bindir / "initdb", "-D", str(folder / "data"), "-A", "trust",
                     "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        # one role must give a password (test_db.py); everyone else is trusted on the socket
        hba = folder / "data" / "pg_hba.conf"
        hba.write_text(f"local all {PASSWORD_ROLE} scram-sha-256\nlocal all all trust\n")
        options = (f"-p {cluster.port} -k {folder} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=500 "
                   "-c shared_buffers=32MB")
        cluster._run(bindir / "pg_ctl", "-D", str(folder / "data"), "-o", options, "-w",
                     "-l", str(folder / "server.log"), "start")
        return cluster

    def stop(self) -> None:
        self.stopped = True
        try:
            self._run(server_bin() / "pg_ctl", "-D", str(self.folder / "data"), "-m",
                      "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.folder}&port={self.port}"

    def admin(self, sql: str, database: str = "postgres") -> Any:
        """Run one statement (outside a transaction); the first column of its first row."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None

    def empty_database(self) -> str:
        """A new database with no tables: its URL."""
        name = self._new_name()
        self.admin(f"CREATE DATABASE {name}")
        self.made.append(name)
        return self.url(name)

    def fresh_database(self) -> str:
        """An empty database already at head for the core and the app: its URL."""
        if self.spare is None:
            from storykit.migrate import upgrade

            self.admin(f"CREATE DATABASE {TEMPLATE}")
            database = Database(parse_url(self.url(TEMPLATE), Path.cwd()),
                                (CORE_MIGRATIONS, APP_MIGRATIONS))
            upgrade(database)
            database.close()
            self.fingerprint = self.admin(FINGERPRINT, TEMPLATE)
            self.spare = queue.Queue()
            threading.Thread(target=self._background, daemon=True).start()
        try:
            name = self.spare.get(timeout=120)
        except queue.Empty:
            raise AssertionError("no PostgreSQL database was ready after 2 minutes: "
                                 f"{self.problem or 'the server is too busy'}") from None
        self.made.append(name)
        return self.url(name)

    def mark(self) -> int:
        return len(self.made)

    def give_back(self, since: int = 0) -> None:
        """The databases handed out since ``mark()`` are no longer used."""
        back, self.made[since:] = self.made[since:], []
        for name in back:
            self.used.put(name)

    def _new_name(self) -> str:
        return f"t{os.getpid()}_{next(self.counter)}"

    def _background(self) -> None:
        """Empty handed-back databases for reuse; make a new one when none is ready. Runs
        until the server stops; any other failure is kept for fresh_database to report."""
        assert self.spare is not None
        while not self.stopped:
            try:
                self._background_step()
            except Exception as exc:  # noqa: BLE001 - reported by fresh_database
                self.problem = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)

    def _background_step(self) -> None:
        assert self.spare is not None
        try:
            name = self.used.get(timeout=0.05)
        except queue.Empty:
            if self.spare.qsize() < 2:
                name = self._new_name()
                self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
                self.spare.put(name)
            return
        if self._emptied(name):
            self.spare.put(name)
        else:
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _emptied(self, name: str) -> bool:
        """End the connections to ``name``; if its schema is as made, delete every row (the
        audit log's triggers off for this session) and restart its id sequences."""
        import psycopg

        self.admin("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            try:
                if conn.execute(FINGERPRINT).fetchone()[0] != self.fingerprint:
                    return False
            except psycopg.Error:  # e.g. no alembic_version: an empty database
                return False
            conn.execute("SET session_replication_role = replica")
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'")]
            with conn.transaction():
                for table in tables:
                    conn.execute(f'DELETE FROM "{table}"')
                conn.execute("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE "
                             "c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace")
        return True

    def _chown(self, folder: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")

    def _run(self, *args: object) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True,
                                cwd=self.folder, timeout=120)
        if result.returncode != 0:
            log = self.folder / "server.log"
            raise AssertionError(f"{Path(str(args[0])).name} failed: {result.stderr.strip()}"
                                 + (f"\n{log.read_text()[-2000:]}" if log.exists() else ""))


@dataclass
class Engine:
    """The engine a test module runs on. ``fresh_url()`` is a new database's URL at head (None
    for SQLite: each site makes its own file in instance/)."""

    name: str
    cluster: Cluster | None = None

    def fresh_url(self) -> str | None:
        return self.cluster.fresh_database() if self.cluster else None

    def toml(self) -> str:
        """A ``[database]`` section for storykit.toml (empty for SQLite)."""
        url = self.fresh_url()
        return f'\n[database]\nurl = "{url}"\n' if url else ""

    def __str__(self) -> str:
        return self.name
