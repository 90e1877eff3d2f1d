"""Alembic's environment for every owner's migrations (run by storykit.migrate, never by hand).

The connection comes from storykit.db, so a migration sees exactly what storykit sees: the same
SQLite file (0600, WAL) or PostgreSQL database. The whole upgrade is one transaction, serialised
against other upgrades and every storykit transaction (SQLite ``BEGIN IMMEDIATE``; on PostgreSQL
the same advisory lock that storykit.db takes).
"""

from __future__ import annotations

from alembic import context

from storykit.migrate import engine_for, lock_for_migration

database = context.config.attributes["storykit_database"]
engine = engine_for(database)
try:
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=False)
        with context.begin_transaction():
            lock_for_migration(connection)
            context.run_migrations()
finally:
    engine.dispose()
