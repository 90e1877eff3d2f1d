"""Story status changes in the app: the core decides (:mod:`storykit.lifecycle`: who may, what
it leads to, consent, findings, the save with the etag the page showed, the audit entry and
the ``after_status_change`` hook); this module adds what only the app keeps, the note a
reviewer leaves when asking for changes (``story_notes``).

The browser app and the ``storykit submit|approve|...`` commands (``commands.py``) both call
:func:`change_status`, so both refuse the same things and write the same audit entries.

A stale etag means someone changed the story after the page was loaded: nothing is saved
(``ConflictError``, shown as a 409 page). A withdrawn story can never change status again
(``GoneError``, a 410 page), even if the withdrawal happened after the page was loaded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import lifecycle
from ..audit import AuditLog
from ..db import Connection
from ..lifecycle import TRANSITIONS, Refused  # noqa: F401 - Refused: the views catch it
from ..model import Story
from ..site import Site
from .access import actor_of
from .accounts import User

REASON_MAX = lifecycle.REASON_MAX


def change_status(site: Site, conn: Connection, log: AuditLog, user: User,
                  story: Story, action: str, etag: str | None, *, ip: str | None = None,
                  reason: str = "") -> Story:
    """Make the status change ``action`` to ``story`` (as read now) as ``user``, if the core
    allows it and the file is still at ``etag``; keep the reviewer's note. Raises
    :class:`~storykit.lifecycle.Refused`, ``ConflictError`` or ``GoneError``."""
    saved = lifecycle.change(site, actor_of(user), story, action, etag, reason=reason, ip=ip,
                             log=log)
    if reason.strip() and TRANSITIONS[action].needs_reason:
        add_note(conn, story.id, user.name, action, reason.strip())
    return saved


def add_note(conn: Connection, story_id: str, author: str, kind: str, text: str) -> None:
    """Keep a reviewer's note for the story's page (not in the audit log: it may hold health
    details)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("INSERT INTO story_notes (story_id, author, kind, text, created_at) "
                 "VALUES (:story_id, :author, :kind, :text, :now)",
                 {"story_id": story_id, "author": author, "kind": kind,
                  "text": text[:REASON_MAX], "now": now})


def notes(conn: Connection, story_id: str) -> list[Any]:
    return conn.all("SELECT * FROM story_notes WHERE story_id = :story_id ORDER BY id DESC",
                    {"story_id": story_id})


def forget_notes(conn: Connection, story_id: str) -> None:
    """Erase every note on a story whose storyteller asked for everything to be deleted,
    leaving no copy in the database's files (:meth:`storykit.db.Connection.erase`)."""
    conn.erase("DELETE FROM story_notes WHERE story_id = :story_id", {"story_id": story_id})
