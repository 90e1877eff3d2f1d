"""People who use the app: names, password hashes, roles and their session version.

No Flask here: ``storykit user ...`` commands use it as well as the app. Every function takes
an open connection to the site's database (``site.database.connection()``: SQLite or
PostgreSQL), so it works in any thread that has one.

A user's ``session_version`` is copied into their session cookie at sign-in and checked on every
request: signing out, changing the password, changing roles or deactivating the account bumps
it, so every cookie issued before stops working at once (ASVS 7.4.1).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..db import Connection
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


def count_users(conn: Connection) -> int:
    return int(conn.value("SELECT count(*) FROM users"))


def load(conn: Connection, user_id: int) -> User | None:
    """The user with ``user_id`` (with roles and story access), or None."""
    row = conn.one("SELECT * FROM users WHERE id = :id", {"id": user_id})
    return _user(conn, row) if row else None


def by_name(conn: Connection, name: str) -> User | None:
    row = conn.one("SELECT * FROM users WHERE name = :name", {"name": name})
    return _user(conn, row) if row else None


def _user(conn: Connection, row: Any) -> User:
    who = {"id": row["id"]}
    roles = frozenset(r[0] for r in conn.all(
        "SELECT role FROM user_roles WHERE user_id = :id", who))
    access = {r[0]: r[1] for r in conn.all(
        "SELECT story_id, access FROM story_access WHERE user_id = :id", who)}
    return User(row["id"], row["name"], row["display_name"], roles, bool(row["active"]),
                row["session_version"], access)


def choices(conn: Connection) -> list[tuple[str, str]]:
    """(name, "Full Name (name)") for every active user, for a drop-down list."""
    return [(r[0], f"{r[1]} ({r[0]})") for r in conn.all(
        "SELECT name, display_name FROM users WHERE active = 1 ORDER BY name")]


def all_users(conn: Connection) -> list[User]:
    rows = conn.all("SELECT * FROM users ORDER BY name")
    return [_user(conn, r) for r in rows]


def add_user(conn: Connection, hasher: Hasher, name: str, password: str,
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
    with conn.transaction():
        if conn.one("SELECT 1 FROM users WHERE name = :name", {"name": name}):
            raise AccountError(f"There is already a user called {name}.", "name")
        user_id = int(conn.value(
            "INSERT INTO users (name, display_name, password_hash, created_at, password_changed_at)"
            " VALUES (:name, :display, :digest, :now, :now) RETURNING id",
            {"name": name, "display": display, "digest": digest, "now": now}))
        _insert_roles(conn, user_id, roles)
    user = load(conn, user_id)
    assert user is not None
    return user


def authenticate(conn: Connection, hasher: Hasher, name: str,
                 password: str) -> User | None:
    """The active user with this name and password, or None. Unknown and inactive names cost
    one hash check too, so the answer takes the same time either way."""
    row = conn.one("SELECT * FROM users WHERE name = :name", {"name": name.strip()})
    ok = hasher.verify(row["password_hash"] if row else None, password[:MAX_PASSWORD])
    if not ok or row is None or not row["active"]:
        return None
    if hasher.needs_rehash(row["password_hash"]):
        conn.execute("UPDATE users SET password_hash = :digest WHERE id = :id",
                     {"digest": hasher.hash(password), "id": row["id"]})
    return _user(conn, row)


MAX_PASSWORD = 1024  # longer input is cut before hashing (it can never match anyway)


def set_password(conn: Connection, hasher: Hasher, user: User, password: str) -> User:
    """Change the password and end every session the user has."""
    problem = password_problem(password, user.name)
    if problem:
        raise AccountError(problem, "new_password")
    conn.execute("UPDATE users SET password_hash = :digest, password_changed_at = :now, "
                 "session_version = session_version + 1 WHERE id = :id",
                 {"digest": hasher.hash(password), "now": _now(), "id": user.id})
    return _reload(conn, user)


def check_password(conn: Connection, hasher: Hasher, user: User, password: str) -> bool:
    digest = conn.value("SELECT password_hash FROM users WHERE id = :id", {"id": user.id})
    return hasher.verify(digest, password[:MAX_PASSWORD])


def set_roles(conn: Connection, user: User, roles: list[str] | tuple[str, ...]) -> User:
    """Replace the user's roles (ending their sessions). The last admin keeps ``admin``."""
    problem = roles_problem(roles)
    if problem:
        raise AccountError(problem, "roles")
    with conn.transaction():
        if "admin" in user.roles and "admin" not in roles and _other_admins(conn, user) == 0:
            raise AccountError("You cannot take the admin role from the last active admin. "
                               "Give someone else the admin role first.", "roles")
        conn.execute("DELETE FROM user_roles WHERE user_id = :id", {"id": user.id})
        _insert_roles(conn, user.id, roles)
        conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = :id",
                     {"id": user.id})
    return _reload(conn, user)


def _insert_roles(conn: Connection, user_id: int, roles: list[str] | tuple[str, ...]) -> None:
    conn.executemany("INSERT INTO user_roles (user_id, role) VALUES (:id, :role)",
                     [{"id": user_id, "role": r} for r in sorted(set(roles))])


def set_active(conn: Connection, user: User, active: bool) -> User:
    """Deactivate (ending every session) or reactivate an account. Accounts are never deleted:
    the audit log keeps naming them."""
    with conn.transaction():
        if not active and "admin" in user.roles and _other_admins(conn, user) == 0:
            raise AccountError("You cannot deactivate the last active admin.", "active")
        conn.execute("UPDATE users SET active = :active, session_version = session_version + 1 "
                     "WHERE id = :id", {"active": int(active), "id": user.id})
    return _reload(conn, user)


def end_sessions(conn: Connection, user: User) -> None:
    """Make every session cookie the user holds stop working (sign-out)."""
    conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = :id",
                 {"id": user.id})


def _other_admins(conn: Connection, user: User) -> int:
    return int(conn.value(
        "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id "
        "WHERE r.role = 'admin' AND u.active = 1 AND u.id != :id", {"id": user.id}))


def _reload(conn: Connection, user: User) -> User:
    fresh = load(conn, user.id)
    assert fresh is not None
    return fresh
