"""People who use the app: names, password hashes, roles and their session version.

No Flask here: ``storykit user ...`` commands use it as well as the app. Every function takes
an open SQLite connection (``storykit.db.connect``), so it works in any thread that has one.

A user's ``session_version`` is copied into their session cookie at sign-in and checked on every
request: signing out, changing the password, changing roles or deactivating the account bumps
it, so every cookie issued before stops working at once (ASVS 7.4.1).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field

from ..errors import StorykitError
from .passwords import Hasher, password_problem

#: Roles, and what each may do, in plain words (shown on the admin pages).
ROLES: dict[str, str] = {
    "advocate": "Writes stories and sees their own and ones shared with them",
    "reviewer": "Reviews other people's stories: asks for changes or approves",
    "publisher": "Publishes approved stories and takes them down",
    "admin": "Manages users and story access, and reads the audit log",
}
NAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
DISPLAY_MAX = 80


class AccountError(StorykitError):
    """A request about an account that cannot be done; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class User:
    id: int
    name: str
    display_name: str
    roles: frozenset[str]
    active: bool
    session_version: int
    #: story id -> "owner" or "shared", for the stories this user may work on.
    access: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def has(self, *roles: str) -> bool:
        """True if the user holds any of ``roles``."""
        if len(roles) == 1:
            return roles[0] in self.roles
        return not self.roles.isdisjoint(roles)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_problem(name: str) -> str | None:
    if not NAME_RE.match(name):
        return ("A user name is 2 to 40 characters: lower-case letters a to z, digits, dots, "
                "hyphens or underscores, starting with a letter (for example jo.smith).")
    return None


def display_name_problem(text: str) -> str | None:
    if not text.strip():
        return "Enter the person's full name."
    if len(text) > DISPLAY_MAX:
        return f"The full name must be {DISPLAY_MAX} characters or fewer."
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        return "The full name must not contain control characters."
    return None


def roles_problem(roles: list[str] | tuple[str, ...] | set[str]) -> str | None:
    if not roles:
        return "Choose at least one role."
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        return f"Unknown role: {', '.join(unknown)}. Roles are: {', '.join(ROLES)}."
    return None


def count_users(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def load(conn: sqlite3.Connection, user_id: int) -> User | None:
    """The user with ``user_id`` (with roles and story access), or None."""
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(conn, row) if row else None


def by_name(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(conn, row) if row else None


def _user(conn: sqlite3.Connection, row: sqlite3.Row) -> User:
    roles = frozenset(r[0] for r in conn.execute(
        "SELECT role FROM user_roles WHERE user_id = ?", (row["id"],)))
    access = {r[0]: r[1] for r in conn.execute(
        "SELECT story_id, access FROM story_access WHERE user_id = ?", (row["id"],))}
    return User(row["id"], row["name"], row["display_name"], roles, bool(row["active"]),
                row["session_version"], access)


def choices(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(name, "Full Name (name)") for every active user, for a drop-down list."""
    return [(r[0], f"{r[1]} ({r[0]})") for r in conn.execute(
        "SELECT name, display_name FROM users WHERE active = 1 ORDER BY name")]


def all_users(conn: sqlite3.Connection) -> list[User]:
    rows = conn.execute("SELECT * FROM users ORDER BY name").fetchall()
    return [_user(conn, r) for r in rows]


def add_user(conn: sqlite3.Connection, hasher: Hasher, name: str, password: str,
             roles: list[str] | tuple[str, ...], display_name: str | None = None) -> User:
    """Create an account; raises :class:`AccountError` naming the field that is wrong."""
    name = name.strip()
    display = (display_name if display_name is not None else name).strip()
    for problem, fld in ((name_problem(name), "name"), (display_name_problem(display), "display_name"),
                         (roles_problem(roles), "roles"), (password_problem(password, name), "password")):
        if problem:
            raise AccountError(problem, fld)
    digest = hasher.hash(password)
    now = _now()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise AccountError(f"There is already a user called {name}.", "name")
        cur = conn.execute(
            "INSERT INTO users (name, display_name, password_hash, created_at, password_changed_at)"
            " VALUES (?,?,?,?,?)", (name, display, digest, now, now))
        conn.executemany("INSERT INTO user_roles (user_id, role) VALUES (?, ?)",
                         [(cur.lastrowid, r) for r in sorted(set(roles))])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    user = load(conn, int(cur.lastrowid or 0))
    assert user is not None
    return user


def authenticate(conn: sqlite3.Connection, hasher: Hasher, name: str,
                 password: str) -> User | None:
    """The active user with this name and password, or None. Unknown and inactive names cost
    one hash check too, so the answer takes the same time either way."""
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
    ok = hasher.verify(row["password_hash"] if row else None, password[:MAX_PASSWORD])
    if not ok or row is None or not row["active"]:
        return None
    if hasher.needs_rehash(row["password_hash"]):
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                     (hasher.hash(password), row["id"]))
    return _user(conn, row)


MAX_PASSWORD = 1024  # longer input is cut before hashing (it can never match anyway)


def set_password(conn: sqlite3.Connection, hasher: Hasher, user: User, password: str) -> User:
    """Change the password and end every session the user has."""
    problem = password_problem(password, user.name)
    if problem:
        raise AccountError(problem, "new_password")
    conn.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, "
                 "session_version = session_version + 1 WHERE id = ?",
                 (hasher.hash(password), _now(), user.id))
    return _reload(conn, user)


def check_password(conn: sqlite3.Connection, hasher: Hasher, user: User, password: str) -> bool:
    row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,)).fetchone()
    return hasher.verify(row[0] if row else None, password[:MAX_PASSWORD])


def set_roles(conn: sqlite3.Connection, user: User, roles: list[str] | tuple[str, ...]) -> User:
    """Replace the user's roles (ending their sessions). The last admin keeps ``admin``."""
    problem = roles_problem(roles)
    if problem:
        raise AccountError(problem, "roles")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if "admin" in user.roles and "admin" not in roles and _other_admins(conn, user) == 0:
            raise AccountError("You cannot take the admin role from the last active admin. "
                               "Give someone else the admin role first.", "roles")
        conn.execute("DELETE FROM user_roles WHERE user_id = ?", (user.id,))
        conn.executemany("INSERT INTO user_roles (user_id, role) VALUES (?, ?)",
                         [(user.id, r) for r in sorted(set(roles))])
        conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?",
                     (user.id,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return _reload(conn, user)


def set_active(conn: sqlite3.Connection, user: User, active: bool) -> User:
    """Deactivate (ending every session) or reactivate an account. Accounts are never deleted:
    the audit log keeps naming them."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not active and "admin" in user.roles and _other_admins(conn, user) == 0:
            raise AccountError("You cannot deactivate the last active admin.", "active")
        conn.execute("UPDATE users SET active = ?, session_version = session_version + 1 "
                     "WHERE id = ?", (int(active), user.id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return _reload(conn, user)


def end_sessions(conn: sqlite3.Connection, user: User) -> None:
    """Make every session cookie the user holds stop working (sign-out)."""
    conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?",
                 (user.id,))


def _other_admins(conn: sqlite3.Connection, user: User) -> int:
    return int(conn.execute(
        "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id "
        "WHERE r.role = 'admin' AND u.active = 1 AND u.id != ?", (user.id,)).fetchone()[0])


def _reload(conn: sqlite3.Connection, user: User) -> User:
    fresh = load(conn, user.id)
    assert fresh is not None
    return fresh
