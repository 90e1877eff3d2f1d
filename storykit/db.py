"""The site's private SQLite database (``instance/storykit.db``): WAL, migrations at start-up.

Migrations are append-only: add new SQL at the end of :data:`MIGRATIONS`, never edit an old one.
``PRAGMA user_version`` records how many have run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DB_NAME = "storykit.db"

MIGRATIONS: list[str] = [
    # 1: the distribution log: every artefact that carried a story somewhere.
    """
    CREATE TABLE distributions (
        id INTEGER PRIMARY KEY,
        story_id TEXT NOT NULL,
        consent_version INTEGER NOT NULL,
        use TEXT NOT NULL,
        format TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        url TEXT,
        job TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        removable INTEGER NOT NULL DEFAULT 1,
        removed_at TEXT
    );
    CREATE INDEX distributions_story ON distributions(story_id);
    CREATE INDEX distributions_path ON distributions(path);
    """,
]


def connect(instance: Path) -> sqlite3.Connection:
    """Open (creating and migrating as needed) the database in ``instance``."""
    instance.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(instance / DB_NAME, timeout=15, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=15000")
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    done = conn.execute("PRAGMA user_version").fetchone()[0]
    if done >= len(MIGRATIONS):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have run
        for number, sql in enumerate(MIGRATIONS[done:], start=done + 1):
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]
