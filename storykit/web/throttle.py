"""Sign-in throttling, kept in SQLite so it holds across threads, processes and restarts.

Failures are counted per account name (whether or not the account exists, so the answer does
not reveal which names are real) and per client address, over a sliding window. Once either
count reaches its limit, sign-in answers 429 until the oldest failure leaves the window, even
for the right password. A successful sign-in clears that account's failures.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from ..slugs import normalise


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 15 * 60


def account_key(name: str) -> str:
    """The name as counted: normalised (so ``Jo`` and ``ｊｏ`` count together) and capped."""
    return normalise(name.strip())[:64]


def blocked(conn: sqlite3.Connection, limits: Limits, name: str, ip: str,
            now: float | None = None) -> int:
    """Seconds until sign-in may be tried again for this name or address; 0 if allowed."""
    now = time.time() if now is None else now
    since = now - limits.window_seconds
    waits = []
    for column, value, limit in (("account", account_key(name), limits.per_account),
                                 ("ip", ip, limits.per_address)):
        rows = conn.execute(f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? "  # noqa: S608
                            "ORDER BY at DESC LIMIT ?", (value, since, limit)).fetchall()
        if len(rows) >= limit:
            waits.append(rows[-1][0] + limits.window_seconds - now)
    return max(1, int(max(waits)) + 1) if waits else 0


def record_failure(conn: sqlite3.Connection, limits: Limits, name: str, ip: str,
                   now: float | None = None) -> None:
    now = time.time() if now is None else now
    conn.execute("INSERT INTO login_failures (at, account, ip) VALUES (?, ?, ?)",
                 (now, account_key(name), ip))
    conn.execute("DELETE FROM login_failures WHERE at < ?", (now - limits.window_seconds,))


def clear_account(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE account = ?", (account_key(name),))
