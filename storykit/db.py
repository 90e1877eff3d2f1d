"""The site's private SQLite database (``instance/storykit.db``): WAL, migrations at start-up.

Migrations are append-only: add new SQL at the end of :data:`MIGRATIONS`, never edit an old one.
``PRAGMA user_version`` records how many have run.
"""

from __future__ import annotations

import sqlite3
import time
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
    # 2: the browser app: accounts, roles, story access, login throttling, review notes, and
    # the append-only audit log (storykit/audit.py; triggers refuse UPDATE and DELETE).
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        session_version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
    );
    CREATE TABLE user_roles (
        user_id INTEGER NOT NULL REFERENCES users(id),
        role TEXT NOT NULL CHECK (role IN ('advocate', 'reviewer', 'publisher', 'admin')),
        PRIMARY KEY (user_id, role)
    );
    CREATE TABLE story_access (
        story_id TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        access TEXT NOT NULL CHECK (access IN ('owner', 'shared')),
        granted_by TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        PRIMARY KEY (story_id, user_id)
    );
    CREATE INDEX story_access_user ON story_access(user_id);
    CREATE UNIQUE INDEX story_access_one_owner ON story_access(story_id) WHERE access = 'owner';
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        account TEXT NOT NULL,
        ip TEXT NOT NULL
    );
    CREATE INDEX login_failures_account ON login_failures(account, at);
    CREATE INDEX login_failures_ip ON login_failures(ip, at);
    CREATE TABLE story_notes (
        id INTEGER PRIMARY KEY,
        story_id TEXT NOT NULL,
        author TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX story_notes_story ON story_notes(story_id);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        story_id TEXT,
        etag TEXT,
        ip TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE INDEX audit_log_actor ON audit_log(actor, at);
    CREATE INDEX audit_log_action ON audit_log(action, at);
    CREATE INDEX audit_log_story ON audit_log(story_id, at);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
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


def erase(conn: sqlite3.Connection, sql: str, args: tuple = (), tries: int = 20) -> None:
    """Run a DELETE or UPDATE whose old values must leave no copy in the database's files
    (a storyteller asked for everything to be deleted): ``secure_delete`` overwrites them
    where they lay, then a checkpoint empties the write-ahead log, which still holds them
    (waiting a little for a reader to finish)."""
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute(sql, args)
    for _ in range(tries):
        if conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0:
            return
        time.sleep(0.05)


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
    """Split a migration into statements; a trigger's ``BEGIN ...; END`` stays whole."""
    out: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\n;"):
                out.append(pending.strip().rstrip(";").strip())
            pending = ""
    if pending.strip(" \t\n;"):
        out.append(pending.strip().rstrip(";").strip())
    return out
