"""Outcomes as records: what a team decided or did because of stories, why, who owns it, when
it is due and how far it has got, with the stories behind it and the meeting or pack where
they were heard. The core owns the tables (``outcomes``, ``outcome_stories``,
``outcome_responses``, ``outcome_messages``; migration ``storykit_0006_outcomes``); other parts
use :class:`OutcomeLog` and :mod:`storykit.outcomes`, never the tables.

An outcome's words are the team's (what they decided), not the story's. Storytellers'
responses are theirs: they are kept here for the team and never written to the audit log,
to logs or into URLs."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..dates import DateError, nice_date, parse_date
from ..errors import StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from ..db import Connection, Database

#: How far an outcome has got, in order, with the words people see.
STATUSES = ("proposed", "agreed", "in_progress", "done", "not_taken")
STATUS_WORDS = {"proposed": "Proposed", "agreed": "Agreed", "in_progress": "In progress",
                "done": "Done", "not_taken": "Not taken"}
#: Outcomes still being worked on (the ones that can be overdue).
OPEN = frozenset({"proposed", "agreed", "in_progress"})
#: How a storyteller's response came in.
RESPONSE_WAYS = ("letter", "phone", "email", "in_person", "link", "other")
RESPONSE_WORDS = {"letter": "By letter", "phone": "By phone", "email": "By email",
                  "in_person": "In person", "link": "Through their link", "other": "Another way"}
#: How a storyteller was told (letters now; email and links join through the same log).
CHANNELS = ("letter", "email", "link")

LIMITS = {"title": 200, "why": 2000, "owner": 100, "reason": 1000, "service": 100,
          "meeting": 200, "response": 2000}
MAX_STORIES = 50
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_ONE_LINE = ("title", "owner", "service", "meeting")


class OutcomeError(StorykitError):
    """An outcome that cannot be saved as asked. ``problems`` maps each field to what is
    wrong with it, in words (forms show each beside its field)."""

    def __init__(self, problems: Mapping[str, str] | str):
        self.problems = dict(problems) if isinstance(problems, Mapping) else {"": problems}
        super().__init__("; ".join(self.problems.values()))


@dataclass(frozen=True)
class Outcome:
    """One outcome as recorded."""

    id: str
    title: str
    status: str
    story_ids: tuple[str, ...]
    why: str = ""
    owner: str = ""
    due: dt.date | None = None
    reason: str = ""
    service: str | None = None
    meeting: str | None = None
    meeting_date: dt.date | None = None
    pack_id: str | None = None
    done_on: dt.date | None = None
    source: str | None = None
    created_at: str = ""
    created_by: str = ""
    updated_at: str = ""
    updated_by: str = ""

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]

    @property
    def created_on(self) -> dt.date:
        return dt.date.fromisoformat(self.created_at[:10])

    def overdue(self, on: dt.date) -> bool:
        """Still open and its due date has passed."""
        return self.status in OPEN and self.due is not None and self.due < on

    def due_words(self, on: dt.date) -> str:
        """When it is due, in words that say so when it is late (not only a colour)."""
        if self.due is None:
            return "No date set"
        if self.overdue(on):
            days = (on - self.due).days
            return f"Overdue: was due {nice_date(self.due)} ({days} day{'s' if days != 1 else ''} ago)"
        return nice_date(self.due)

    @property
    def heard_words(self) -> str:
        """Where the stories were heard, in words ("" when nobody said)."""
        parts = [self.meeting or ""]
        if self.meeting_date:
            parts.append(f"on {nice_date(self.meeting_date)}")
        return " ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "why": self.why, "owner": self.owner,
                "due": self.due.isoformat() if self.due else None, "status": self.status,
                "reason": self.reason, "service": self.service, "meeting": self.meeting,
                "meeting_date": self.meeting_date.isoformat() if self.meeting_date else None,
                "pack": self.pack_id, "done_on": self.done_on.isoformat() if self.done_on
                else None, "stories": list(self.story_ids), "created_at": self.created_at,
                "created_by": self.created_by, "updated_at": self.updated_at,
                "updated_by": self.updated_by}


@dataclass(frozen=True)
class Response:
    """What a storyteller said back about an outcome (their words: for the team only)."""

    id: int
    outcome_id: str
    story_id: str
    received_on: dt.date
    how: str
    text: str
    recorded_at: str
    recorded_by: str

    @property
    def how_words(self) -> str:
        return RESPONSE_WORDS.get(self.how, self.how)


@dataclass(frozen=True)
class Message:
    """A letter (or, later, an email or link) that told a storyteller about an outcome."""

    id: int
    outcome_id: str
    story_id: str
    channel: str
    style: str
    sha256: str
    sent_at: str
    sent_by: str

    @property
    def sent_on(self) -> dt.date:
        return dt.date.fromisoformat(self.sent_at[:10])


@dataclass
class Filter:
    """Which outcomes to list: each set field narrows the list."""

    status: str | None = None
    story_id: str | None = None
    service: str | None = None
    overdue_on: dt.date | None = None
    limit: int = 1000
    offset: int = 0


def new_id() -> str:
    """A random id such as ``oc-7k2m9qxa``."""
    return "oc-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- checking what people typed ----------------------------------------------------------------

def clean_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The outcome fields in ``values`` checked and tidied, and the problems by field.

    Only the fields present are checked (an update sends only what changes). Dates may be
    given as dates or as text (year-month-day, or day/month/year as people type them)."""
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in ("title", "why", "owner", "reason", "service", "meeting"):
        if name not in values:
            continue
        text = values[name]
        text = "" if text is None else str(text)
        problem = _text_problem(name, text)
        if problem:
            problems[name] = problem
            continue
        text = " ".join(text.split()) if name in _ONE_LINE else text.strip()
        out[name] = text
    if "title" in out and not out["title"]:
        problems["title"] = "Say what was decided or done."
    for name in ("due", "meeting_date"):
        if name in values:
            try:
                out[name] = _date(values[name])
            except DateError as exc:
                problems[name] = f"{_LABELS[name]}: {exc}."
    if "status" in values:
        status = str(values["status"] or "")
        if status not in STATUSES:
            problems["status"] = ("Choose how far it has got: " +
                                  ", ".join(STATUS_WORDS[s].lower() for s in STATUSES) + ".")
        else:
            out["status"] = status
    if "pack_id" in values:
        out["pack_id"] = str(values["pack_id"] or "").strip() or None
    for name in ("service", "meeting"):
        if name in out and not out[name]:
            out[name] = None
    return out, problems


_LABELS = {"title": "What was decided or done", "why": "Why", "owner": "Who owns it",
           "reason": "Why it was not taken", "service": "Service", "meeting": "Meeting",
           "due": "Due date", "meeting_date": "Meeting date", "response": "Their response"}


def _text_problem(name: str, text: str) -> str | None:
    limit = LIMITS[name]
    if "\x00" in text or any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        return f"{_LABELS[name]} has a character that cannot be kept. Type it again."
    if name in _ONE_LINE and ("\n" in text.strip() or "\r" in text.strip()):
        return f"{_LABELS[name]} must be one line."
    if len(text.strip()) > limit:
        return f"{_LABELS[name]} must be {limit} characters or fewer."
    return None


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    return parse_date(text, day_first=True) if text else None


def check_status(status: str, reason: str) -> dict[str, str]:
    """An outcome not taken says why."""
    if status == "not_taken" and not reason.strip():
        return {"reason": "Say why it was not taken: the storytellers will be told."}
    return {}


# --- the tables --------------------------------------------------------------------------------

class OutcomeLog:
    """The outcome tables of the site's database (each thread uses its own connection)."""

    def __init__(self, database: Database):
        self.database = database

    @property
    def conn(self) -> Connection:
        return self.database.connection()

    def add(self, outcome: Outcome) -> Outcome:
        """Record a new outcome with its stories (checked by the caller); the saved one."""
        now = _now()
        saved = replace(outcome, created_at=outcome.created_at or now,
                        updated_at=outcome.updated_at or now,
                        updated_by=outcome.updated_by or outcome.created_by)
        with self.conn.transaction() as conn:
            conn.execute(
                "INSERT INTO outcomes (id, title, why, owner, due, status, reason, service, "
                "meeting, meeting_date, pack_id, done_on, source, created_at, created_by, "
                "updated_at, updated_by) VALUES (:id, :title, :why, :owner, :due, :status, "
                ":reason, :service, :meeting, :meeting_date, :pack_id, :done_on, :source, "
                ":created_at, :created_by, :updated_at, :updated_by)", _params(saved))
            self._set_stories(conn, saved.id, saved.story_ids)
        return saved

    def save(self, outcome: Outcome) -> Outcome:
        """Write the changed ``outcome`` (same id) and its stories."""
        saved = replace(outcome, updated_at=_now())
        with self.conn.transaction() as conn:
            conn.execute(
                "UPDATE outcomes SET title = :title, why = :why, owner = :owner, due = :due, "
                "status = :status, reason = :reason, service = :service, meeting = :meeting, "
                "meeting_date = :meeting_date, pack_id = :pack_id, done_on = :done_on, "
                "updated_at = :updated_at, updated_by = :updated_by WHERE id = :id",
                _params(saved))
            conn.execute("DELETE FROM outcome_stories WHERE outcome_id = :id", {"id": saved.id})
            self._set_stories(conn, saved.id, saved.story_ids)
        return saved

    @staticmethod
    def _set_stories(conn: Connection, outcome_id: str, story_ids: Sequence[str]) -> None:
        conn.executemany(
            "INSERT INTO outcome_stories (outcome_id, story_id, position) VALUES (:outcome_id, "
            ":story_id, :position)",
            [{"outcome_id": outcome_id, "story_id": s, "position": i}
             for i, s in enumerate(story_ids)])

    def get(self, outcome_id: str) -> Outcome:
        """The outcome ``outcome_id`` (OutcomeError in words when there is none)."""
        found = self.find(outcome_id)
        if found is None:
            raise OutcomeError(f"no outcome {outcome_id!r} is on record (see storykit outcome "
                               "list)")
        return found

    def find(self, outcome_id: str) -> Outcome | None:
        row = self.conn.one("SELECT * FROM outcomes WHERE id = :id", {"id": outcome_id})
        return self._records([row])[0] if row is not None else None

    def by_source(self, source: str) -> Outcome | None:
        """The outcome made from ``source`` (a story's ``changes`` line), if any."""
        row = self.conn.one("SELECT * FROM outcomes WHERE source = :source", {"source": source})
        return self._records([row])[0] if row is not None else None

    def list(self, which: Filter | None = None) -> list[Outcome]:
        """Outcomes, those due soonest first (no due date last), then newest."""
        which = which or Filter()
        where, params = [], {"limit": which.limit, "offset": which.offset}
        if which.status:
            where.append("status = :status")
            params["status"] = which.status
        if which.service:
            where.append("service = :service")
            params["service"] = which.service
        if which.story_id:
            where.append("id IN (SELECT outcome_id FROM outcome_stories WHERE "
                         "story_id = :story_id)")
            params["story_id"] = which.story_id
        if which.overdue_on:
            where.append("status IN ('proposed', 'agreed', 'in_progress') AND due IS NOT NULL "
                         "AND due < :on")
            params["on"] = which.overdue_on.isoformat()
        sql = "SELECT * FROM outcomes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += (" ORDER BY CASE WHEN due IS NULL THEN 1 ELSE 0 END, due, created_at DESC, id "
                "LIMIT :limit OFFSET :offset")
        return self._records(self.conn.all(sql, params))

    def for_story(self, story_id: str) -> list[Outcome]:
        return self.list(Filter(story_id=story_id))

    def services(self) -> list[str]:
        """Every service an outcome is recorded against, in order."""
        return [r[0] for r in self.conn.all(
            "SELECT DISTINCT service FROM outcomes WHERE service IS NOT NULL ORDER BY service")]

    def _records(self, rows: Iterable[Any]) -> list[Outcome]:
        rows = list(rows)
        if not rows:
            return []
        stories: dict[str, list[str]] = {}
        ids = {f"i{n}": r["id"] for n, r in enumerate(rows)}
        marks = ", ".join(":" + k for k in ids)
        for r in self.conn.all(f"SELECT outcome_id, story_id FROM outcome_stories WHERE "  # noqa: S608 - only parameter names
                               f"outcome_id IN ({marks}) ORDER BY outcome_id, position", ids):
            stories.setdefault(r["outcome_id"], []).append(r["story_id"])
        return [_outcome(r, tuple(stories.get(r["id"], ()))) for r in rows]

    # --- responses and messages ----------------------------------------------------------------

    def add_response(self, outcome_id: str, story_id: str, *, received_on: dt.date, how: str,
                     text: str, by: str) -> Response:
        row_id = int(self.conn.value(
            "INSERT INTO outcome_responses (outcome_id, story_id, received_on, how, text, "
            "recorded_at, recorded_by) VALUES (:outcome_id, :story_id, :received_on, :how, "
            ":text, :now, :by) RETURNING id",
            {"outcome_id": outcome_id, "story_id": story_id,
             "received_on": received_on.isoformat(), "how": how, "text": text, "now": _now(),
             "by": by}))
        return self.responses(outcome_id, row_id=row_id)[0]

    def responses(self, outcome_id: str, *, row_id: int | None = None) -> list[Response]:
        sql = "SELECT * FROM outcome_responses WHERE outcome_id = :id"
        params: dict[str, Any] = {"id": outcome_id}
        if row_id is not None:
            sql += " AND id = :row"
            params["row"] = row_id
        return [_response(r) for r in self.conn.all(sql + " ORDER BY received_on, id", params)]

    def responses_since(self, since: dt.date, *, how: str, limit: int = 50) -> list[Response]:
        """Responses that came in ``how`` (e.g. ``link``) on or after ``since``, newest
        first (the app's home page: "A storyteller answered")."""
        return [_response(r) for r in self.conn.all(
            "SELECT * FROM outcome_responses WHERE how = :how AND received_on >= :since "
            "ORDER BY received_on DESC, id DESC LIMIT :limit",
            {"how": how, "since": since.isoformat(), "limit": limit})]

    def log_message(self, outcome_id: str, story_id: str, *, channel: str, style: str,
                    sha256: str, by: str) -> Message:
        """Record that a storyteller was told about an outcome (a letter made, an email
        sent): like a distribution, but of the team's news to them, not of their story."""
        if channel not in CHANNELS:
            raise OutcomeError(f"unknown way of telling a storyteller {channel!r}")
        row_id = int(self.conn.value(
            "INSERT INTO outcome_messages (outcome_id, story_id, channel, style, sha256, "
            "sent_at, sent_by) VALUES (:outcome_id, :story_id, :channel, :style, :sha256, "
            ":now, :by) RETURNING id",
            {"outcome_id": outcome_id, "story_id": story_id, "channel": channel,
             "style": style, "sha256": sha256, "now": _now(), "by": by}))
        return next(m for m in self.messages(outcome_id) if m.id == row_id)

    def messages(self, outcome_id: str | None = None) -> list[Message]:
        """Messages about ``outcome_id`` (every outcome's when None), oldest first."""
        sql = "SELECT * FROM outcome_messages"
        params = {}
        if outcome_id is not None:
            sql += " WHERE outcome_id = :id"
            params["id"] = outcome_id
        return [Message(r["id"], r["outcome_id"], r["story_id"], r["channel"], r["style"],
                        r["sha256"], r["sent_at"], r["sent_by"])
                for r in self.conn.all(sql + " ORDER BY sent_at, id", params)]

    def forget_story(self, story_id: str) -> None:
        """An erased story leaves its outcomes (the team's decisions stand) but takes its
        storyteller's responses with it."""
        self.conn.erase("DELETE FROM outcome_responses WHERE story_id = :story_id",
                        {"story_id": story_id})


def _params(o: Outcome) -> dict[str, Any]:
    return {"id": o.id, "title": o.title, "why": o.why, "owner": o.owner,
            "due": o.due.isoformat() if o.due else None, "status": o.status,
            "reason": o.reason, "service": o.service, "meeting": o.meeting,
            "meeting_date": o.meeting_date.isoformat() if o.meeting_date else None,
            "pack_id": o.pack_id, "done_on": o.done_on.isoformat() if o.done_on else None,
            "source": o.source, "created_at": o.created_at, "created_by": o.created_by,
            "updated_at": o.updated_at, "updated_by": o.updated_by}


def _response(r: Any) -> Response:
    return Response(r["id"], r["outcome_id"], r["story_id"], dt.date.fromisoformat(
        r["received_on"]), r["how"], r["text"], r["recorded_at"], r["recorded_by"])


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _outcome(row: Any, story_ids: tuple[str, ...]) -> Outcome:
    return Outcome(
        id=row["id"], title=row["title"], status=row["status"], story_ids=story_ids,
        why=row["why"], owner=row["owner"], due=_day(row["due"]), reason=row["reason"],
        service=row["service"], meeting=row["meeting"], meeting_date=_day(row["meeting_date"]),
        pack_id=row["pack_id"], done_on=_day(row["done_on"]), source=row["source"],
        created_at=row["created_at"], created_by=row["created_by"],
        updated_at=row["updated_at"], updated_by=row["updated_by"])
