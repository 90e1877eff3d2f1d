"""Sign-in throttling, kept in the site's database so it holds across threads, processes,
servers and restarts.

Failures are counted per account name (whether or not the account exists, so the answer does
not reveal which names are real) and per client address, over a sliding window. Once either
count reaches its limit, sign-in answers 429 until the oldest failure leaves the window, even
for the right password. A successful sign-in clears that account's failures.

Counting is atomic: :func:`reserve` counts and, when both counts are under their limits,
records the attempt as a failure straight away, in one serialised transaction, before the slow
password check. A right password takes the row back (:func:`release` or
:func:`clear_account`). So however many wrong passwords arrive at once, at most the limit of
them are ever checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..db import Connection
from ..slugs import normalise


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 15 * 60


@dataclass(frozen=True)
class Attempt:
    """The answer of :func:`reserve`: ``wait`` seconds before trying again (0: go ahead and
    check the password; ``id`` is the row counted for this attempt)."""

    wait: int
    id: int | None = None


def account_key(name: str) -> str:
    """The name as counted: normalised (so ``Jo`` and ``ｊｏ`` count together) and capped."""
    return normalise(name.strip())[:64]


def reserve(conn: Connection, limits: Limits, name: str, ip: str,
            now: float | None = None) -> Attempt:
    """Count this attempt as a failure now, unless the name or the address is already at its
    limit (then nothing is recorded and ``wait`` says for how long)."""
    now = time.time() if now is None else now
    with conn.transaction():
        wait = _wait(conn, limits, account_key(name), ip, now)
        if wait:
            return Attempt(wait)
        row_id = conn.value("INSERT INTO login_failures (at, account, ip) "
                            "VALUES (:at, :account, :ip) RETURNING id",
                            {"at": now, "account": account_key(name), "ip": ip})
        conn.execute("DELETE FROM login_failures WHERE at < :old",
                     {"old": now - limits.window_seconds})
    return Attempt(0, int(row_id))


def _wait(conn: Connection, limits: Limits, account: str, ip: str, now: float) -> int:
    since = now - limits.window_seconds
    waits = []
    for column, value, limit in (("account", account, limits.per_account),
                                 ("ip", ip, limits.per_address)):
        rows = conn.all(f"SELECT at FROM login_failures WHERE {column} = :value "  # noqa: S608
                        "AND at > :since ORDER BY at DESC LIMIT :limit",
                        {"value": value, "since": since, "limit": limit})
        if len(rows) >= limit:
            waits.append(rows[-1][0] + limits.window_seconds - now)
    return max(1, int(max(waits)) + 1) if waits else 0


def release(conn: Connection, attempt: Attempt) -> None:
    """The attempt succeeded: it no longer counts."""
    if attempt.id is not None:
        conn.execute("DELETE FROM login_failures WHERE id = :id", {"id": attempt.id})


def clear_account(conn: Connection, name: str) -> None:
    """A successful sign-in: forget the account's failures."""
    conn.execute("DELETE FROM login_failures WHERE account = :account",
                 {"account": account_key(name)})
