"""The audit log: who did what to which story, and when. Append-only, never story text.

Rows live in the ``audit_log`` table of the site's database (storykit.db: SQLite or
PostgreSQL). Triggers refuse every UPDATE and DELETE on both engines, and each row carries a
SHA-256 hash chained to the previous row, so a row changed or removed behind the app's back
shows up in :meth:`AuditLog.verify`. Appends are serialised (one storykit transaction at a
time, across threads and processes), so the chain stays whole under concurrent writers.

What goes in: the actor's user name, the time (UTC), an action name such as ``story.status``,
the story id, the revision etag, the client address, and a short ``detail`` made by storykit
(e.g. ``approved -> published``). Never the story's words, titles, names or reasons: those are
health data. Every free-text value is passed through :func:`encode` first, so control
characters (newlines, ANSI escapes, bidi overrides) cannot forge lines in a log viewer, and
long values are capped.

Other code calls the helpers at the bottom (:func:`story_saved`, :func:`status_changed`,
:func:`consent_changed`, :func:`consent_withdrawn`, :func:`access_denied`) for every story,
consent and status change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .db import Connection, Database
    from .model import Story

#: Longest text kept in any one field (the rest is replaced by a count).
FIELD_LIMIT = 200
GENESIS = "0" * 64

# Action names. Code may add its own ("area.verb"); these are the ones storykit writes.
LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGIN_THROTTLED = "auth.login_throttled"
LOGOUT = "auth.logout"
PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name
SETUP = "auth.first_admin"
DENIED = "access.denied"
USER_ADDED = "user.added"
USER_ROLES = "user.roles"
USER_ACTIVE = "user.active"
USER_PASSWORD_SET = "user.password_set"  # noqa: S105 - an action name
ACCESS_GRANTED = "story.access_granted"
ACCESS_REMOVED = "story.access_removed"
STORY_CREATED = "story.created"
STORY_SAVED = "story.saved"
STATUS_CHANGED = "story.status"
CONSENT_CHANGED = "consent.recorded"
CONSENT_WITHDRAWN = "consent.withdrawn"


def encode(value: object, limit: int = FIELD_LIMIT) -> str:
    """``value`` as one safe line: control and format characters written as ``\\xNN`` or
    ``\\uNNNN`` escapes (a backslash itself as ``\\\\``), cut to ``limit`` characters."""
    text = str(value)
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    safe = "".join(out)
    if len(safe) > limit:
        safe = safe[:limit] + f"...(+{len(safe) - limit} chars)"
    return safe


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    story_id: str | None
    etag: str | None
    ip: str | None
    detail: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """What to show: every field optional; ``since``/``until`` are dates (UTC, inclusive)."""

    actor: str | None = None
    action: str | None = None
    story_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> tuple[str, dict[str, str]]:
        """The SQL ``WHERE`` clause (or "") and its named parameters."""
        clauses, args = [], {}
        for column, value in (("actor", self.actor), ("action", self.action),
                              ("story_id", self.story_id)):
            if value:
                clauses.append(f"{column} = :{column}")
                args[column] = value
        if self.since:
            clauses.append("at >= :since")
            args["since"] = self.since.isoformat()
        if self.until:
            clauses.append("at < :until")
            args["until"] = (self.until + dt.timedelta(days=1)).isoformat()
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _row_hash(prev: str, fields: tuple) -> str:
    payload = json.dumps([prev, *fields], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    """The audit table of one database (each thread uses its own connection)."""

    def __init__(self, database: Database):
        self.database = database

    @property
    def conn(self) -> Connection:
        """This thread's connection."""
        return self.database.connection()

    def record(self, action: str, *, actor: str | None, story_id: str | None = None,
               etag: str | None = None, ip: str | None = None,
               detail: str | None = None) -> int:
        """Append one entry; every text is encoded and capped. Returns the new row id."""
        fields = (_now(), encode(actor or "-", 64), encode(action, 64),
                  None if story_id is None else encode(story_id, 64),
                  None if etag is None else encode(etag, 64),
                  None if ip is None else encode(ip, 64),
                  None if detail is None else encode(detail))
        with self.conn.transaction() as conn:  # one append at a time: the chain stays whole
            prev = conn.value("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
                              default=GENESIS)
            values = dict(zip(("at", "actor", "action", "story_id", "etag", "ip", "detail"),
                              fields, strict=True))
            return int(conn.value(
                "INSERT INTO audit_log (at, actor, action, story_id, etag, ip, detail, "
                "prev_hash, hash) VALUES (:at, :actor, :action, :story_id, :etag, :ip, "
                ":detail, :prev_hash, :hash) RETURNING id",
                {**values, "prev_hash": prev, "hash": _row_hash(prev, fields)}))

    def query(self, flt: AuditFilter | None = None, *, limit: int = 100,
              offset: int = 0) -> list[AuditEntry]:
        """Entries matching ``flt``, newest first."""
        where, args = (flt or AuditFilter()).where()
        rows = self.conn.all(f"SELECT * FROM audit_log{where} ORDER BY id DESC "  # noqa: S608
                             "LIMIT :limit OFFSET :offset",
                             {**args, "limit": limit, "offset": offset})
        return [AuditEntry(**dict(r)) for r in rows]

    def count(self, flt: AuditFilter | None = None) -> int:
        where, args = (flt or AuditFilter()).where()
        return int(self.conn.value(f"SELECT count(*) FROM audit_log{where}", args))  # noqa: S608

    def actions(self) -> list[str]:
        return [r[0] for r in self.conn.all(
            "SELECT DISTINCT action FROM audit_log ORDER BY action")]

    def verify(self) -> int | None:
        """The id of the first entry whose hash chain is broken, or None if all is intact."""
        prev = GENESIS
        for row in self.conn.execute("SELECT * FROM audit_log ORDER BY id"):
            fields = _fields(row)
            if row["prev_hash"] != prev or row["hash"] != _row_hash(prev, fields):
                return int(row["id"])
            prev = row["hash"]
        return None


def _fields(row: Any) -> tuple:
    return (row["at"], row["actor"], row["action"], row["story_id"], row["etag"], row["ip"],
            row["detail"])


# --- helpers for every story, consent and status change ---------------------------------------

def story_created(log: AuditLog, actor: str, story: Story, *, ip: str | None = None) -> int:
    return log.record(STORY_CREATED, actor=actor, story_id=story.id, etag=story.etag, ip=ip,
                      detail=f"revision {story.revision}")


def story_saved(log: AuditLog, actor: str, story: Story, *, ip: str | None = None) -> int:
    """After a save: the new revision and its etag (never the text)."""
    return log.record(STORY_SAVED, actor=actor, story_id=story.id, etag=story.etag, ip=ip,
                      detail=f"revision {story.revision}")


def status_changed(log: AuditLog, actor: str, story: Story, old: str, *,
                   ip: str | None = None) -> int:
    """After a status change: ``old -> new`` for the saved ``story``."""
    return log.record(STATUS_CHANGED, actor=actor, story_id=story.id, etag=story.etag, ip=ip,
                      detail=f"{old} -> {story.status}")


def consent_changed(log: AuditLog, actor: str, story: Story, *, ip: str | None = None) -> int:
    """After a consent version was recorded: its number and status."""
    consent = story.current_consent
    detail = f"version {consent.version}: {consent.status}" if consent else "no consent"
    return log.record(CONSENT_CHANGED, actor=actor, story_id=story.id,
                      etag=story.consent_etag, ip=ip, detail=detail)


def consent_withdrawn(log: AuditLog, actor: str, story: Story, scope: str, *,
                      ip: str | None = None) -> int:
    """After a withdrawal: the scope (the reason is the storyteller's words: not logged)."""
    consent = story.current_consent
    version = f"version {consent.version}, " if consent else ""
    return log.record(CONSENT_WITHDRAWN, actor=actor, story_id=story.id,
                      etag=story.consent_etag, ip=ip, detail=f"{version}scope {scope}")


def access_denied(log: AuditLog, actor: str | None, what: str, *, story_id: str | None = None,
                  ip: str | None = None) -> int:
    """A refused request: ``what`` names the action or page, e.g. ``approve``."""
    return log.record(DENIED, actor=actor, story_id=story_id, ip=ip, detail=what)
