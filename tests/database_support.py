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
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class Cluster:
    """A private PostgreSQL server: ``url(name)`` connects to database ``name`` over its
    socket as the ``postgres`` superuser (trust authentication: nothing listens on TCP)."""

    folder: Path
    port: int = 5432
    counter: itertools.count = field(default_factory=itertools.count)
    template_ready: bool = False

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
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=1000 "
                   "-c shared_buffers=32MB")
        cluster._run(bindir / "pg_ctl", "-D", str(folder / "data"), "-o", options, "-w",
                     "-l", str(folder / "server.log"), "start")
        return cluster

    def stop(self) -> None:
        try:
            self._run(server_bin() / "pg_ctl", "-D", str(self.folder / "data"), "-m",
                      "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.folder}&port={self.port}"

    def admin(self, sql: str) -> None:
        """Run one statement in the ``postgres`` database (outside a transaction)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def empty_database(self) -> str:
        """A new, empty database: its URL."""
        name = f"t{os.getpid()}_{next(self.counter)}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def fresh_database(self) -> str:
        """A new database already at head for the core and the app: its URL."""
        if not self.template_ready:
            from storykit.migrate import upgrade

            self.admin(f"CREATE DATABASE {TEMPLATE}")
            database = Database(parse_url(self.url(TEMPLATE), Path.cwd()),
                                (CORE_MIGRATIONS, APP_MIGRATIONS))
            upgrade(database)
            database.close()
            self.template_ready = True
        name = f"t{os.getpid()}_{next(self.counter)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

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
