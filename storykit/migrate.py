"""Running every owner's migrations with Alembic: ``storykit db upgrade``.

This module imports SQLAlchemy and Alembic (about 150 ms), so only the ``storykit db`` commands
and the making of a brand-new SQLite database whose migrations the schema snapshot does not
cover (storykit.schema_snapshot) import it; everything else reads the schema's
state with storykit.db. Each owner of tables (the core, the browser app, a plugin) has its own
folder of migrations, an Alembic version location whose first migration carries the owner's
branch label; ``upgrade`` takes every branch to its head in one transaction.

A database made before Alembic (the ``PRAGMA user_version`` scheme, versions 1 and 2) is
adopted: the migrations that made the same tables are recorded as done, then the rest run. No
row is touched.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError

from .db import _LOCK_KEY, UPGRADE_WAIT, Database, DatabaseError, connect, upgrade_lock

SCRIPT_LOCATION = Path(__file__).parent / "migrations"
#: What the old ``PRAGMA user_version`` numbers had made, as the migrations that make it now.
LEGACY = {1: ("storykit_0001",), 2: ("storykit_0002", "storykit_web_0001")}


def alembic_config(database: Database) -> Config:
    """An Alembic configuration in code (no alembic.ini): our env.py, every owner's folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations",
                        os.pathsep.join(str(folder) for folder in database.migrations))
    cfg.attributes["storykit_database"] = database
    return cfg


def engine_for(database: Database) -> sa.Engine:
    """A SQLAlchemy engine over storykit.db's own connections (same file mode, pragmas and
    settings), in which a transaction is ``BEGIN IMMEDIATE`` on SQLite."""
    def creator():
        raw = connect(database.url).raw
        if database.url.is_sqlite:
            raw.row_factory = None
            # another upgrade holds the file for its whole run: wait for it, however slow
            raw.execute(f"PRAGMA busy_timeout = {UPGRADE_WAIT * 1000}")
        else:
            from psycopg.rows import tuple_row

            raw.autocommit = False
            raw.row_factory = tuple_row
        return raw

    name = "sqlite" if database.url.is_sqlite else "postgresql+psycopg"
    engine = sa.create_engine(f"{name}://", creator=creator, poolclass=sa.pool.NullPool)
    if database.url.is_sqlite:
        @sa.event.listens_for(engine, "begin")
        def begin_immediate(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def lock_for_migration(connection: sa.Connection) -> None:
    """On PostgreSQL, wait for other upgrades and storykit transactions (SQLite's
    ``BEGIN IMMEDIATE`` already did)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def upgrade(database: Database, targets: tuple[str, ...] = ()) -> None:
    """Bring every owner's tables to the newest migration (adopting an old database first),
    or only to the revisions ``targets`` (a restore loads rows into the tables as they were
    when the backup was made)."""
    with upgrade_lock(database):
        _upgrade(database, targets)


def _upgrade(database: Database, targets: tuple[str, ...]) -> None:
    cfg = alembic_config(database)
    status = database.status()
    if status.unknown:  # Alembic cannot plan around changes it has no file for
        raise DatabaseError(f"the database cannot be upgraded: {status.words()}")
    try:
        adopt = _legacy_revisions(database)
        if adopt:
            command.stamp(cfg, list(adopt))
        for target in targets or ("heads",):
            command.upgrade(cfg, target)
    except CommandError as exc:
        raise DatabaseError(f"the database could not be upgraded: {exc}") from None


def _legacy_revisions(database: Database) -> tuple[str, ...]:
    """For a SQLite database made by ``PRAGMA user_version``, the migrations it already has."""
    status = database.status()
    if not status.legacy or status.current:
        return ()
    if status.legacy not in LEGACY:
        raise DatabaseError(f"the database has an unknown old version ({status.legacy}); "
                            "this storykit cannot adopt it")
    return tuple(r for r in LEGACY[status.legacy] if r in status.known)
