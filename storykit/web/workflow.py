"""Story status changes: who may make each one (via :func:`access.can`), what it leads to, and
the save itself, always through the store with the etag the person's page was showing.

    draft / changes_requested --submit--> in_review --approve--> approved --publish--> published
                                          in_review --request_changes--> changes_requested
                                                                published --unpublish--> approved

A stale etag means someone changed the story after the page was loaded: nothing is saved
(:class:`ConflictError`, shown as a 409 page). A withdrawn story can never change status again
(:class:`GoneError`, a 410 page), even if the withdrawal happened after the page was loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .. import audit
from ..db import Connection
from ..errors import ConflictError
from ..model import Story
from . import access
from .accounts import User
from .state import AppState

REASON_MAX = 2000


@dataclass(frozen=True)
class Transition:
    action: str        # the access action that allows it
    to: str            # the new status
    button: str        # the button's words
    done: str          # the message after it worked
    needs_reason: bool = False
    use_check: str | None = None   # a use the consent must allow (publishing)


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition(access.SUBMIT, "in_review", "Send for review",
               "The story was sent for review."),
    Transition(access.REQUEST_CHANGES, "changes_requested", "Ask for changes",
               "You asked for changes. The writer can see your note.", needs_reason=True),
    Transition(access.APPROVE, "approved", "Approve",
               "The story was approved."),
    Transition(access.PUBLISH, "published", "Publish",
               "The story was published.", use_check="public_website"),
    Transition(access.UNPUBLISH, "approved", "Take down",
               "The story was taken down. It is approved again."),
)}


class ConsentRefused(Exception):
    """Consent does not allow the change (e.g. publishing); ``reasons`` say why."""

    def __init__(self, reasons: list[str]):
        super().__init__("consent does not allow this")
        self.reasons = reasons


def change_status(st: AppState, user: User, story: Story, transition: Transition, etag: str,
                  *, ip: str | None = None, reason: str = "") -> Story:
    """Save ``story`` with the new status if it is still at ``etag``; audit it. The caller has
    checked :func:`access.can` on the story as read now."""
    if etag != story.etag:
        raise ConflictError(f"story {story.id} changed since the page was loaded")
    if transition.use_check:
        decision = st.index.decision(story, transition.use_check)
        if not decision.allowed:
            raise ConsentRefused(decision.messages)
    old = story.status
    saved = st.site.store.save(story.copy(status=transition.to, etag=etag), by=user.name)
    st.index.put(saved)
    audit.status_changed(st.audit(), user.name, saved, old, ip=ip)
    if reason:
        add_note(st.db(), story.id, user.name, transition.action, reason)
    st.site.plugins.call("after_status_change", site=st.site, story=saved, old=old,
                         new=saved.status, by=user.name)
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
