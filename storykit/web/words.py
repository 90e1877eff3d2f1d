"""Plain words for what the app stores as codes: people by their display names, consent
decisions' reasons with the uses' labels and dates in words, and times as "4 December".
Templates use these (``person``, ``reasons``, ``day``) instead of account names, reason codes
and ISO dates."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import g, has_request_context

from ..dates import nice_date
from ..lifecycle import STATUS_WORDS, consent_words

if TYPE_CHECKING:  # pragma: no cover
    from ..consent import Decision
    from ..copies import Copy
    from ..model import Story

#: What was done to make each kind of copy (storykit.copies kinds).
MADE = {"pack": "made", "publication": "published", "download": "downloaded",
        "render": "made"}


def person(name: str | None) -> str:
    """An account's display name (the name itself when there is no such account, e.g.
    "command line"); one database read per request."""
    if not name:
        return ""
    if not has_request_context():
        return name
    return people().get(name) or name


def people() -> dict[str, str]:
    """Account names -> display names, read once per request."""
    names = getattr(g, "storykit_people", None)
    if names is None:
        from .state import db

        names = {r[0]: r[1] for r in db().all("SELECT name, display_name FROM users")}
        g.storykit_people = names
    return names


def reasons(story: Story, decision: Decision, label) -> list[str]:
    """Why the consent decision refuses the story, in words: the use by its label, dates in
    words, never a code or the names of uses as the files write them."""
    use = label(decision.use)
    return [_reason(r, story, use) for r in decision.reasons]


def _reason(reason, story: Story, use: str) -> str:
    c = story.current_consent
    if reason.code == "withdrawn":
        when = c.withdrawal.requested if c and c.withdrawal else None
        return "the storyteller withdrew their consent" + \
            (f" on {nice_date(when)}" if isinstance(when, dt.date) else "")
    if reason.code == "withdrawn_story":
        return "the story was withdrawn"
    if reason.code == "not_approved":
        return f"the story is {STATUS_WORDS.get(story.status, 'not approved')}: it must be " \
               "approved first"
    return consent_words(reason, story, use)


def day(value: dt.date | str | None) -> str:
    """A date as people say it: "4 December" this year, "4 December 2025" otherwise
    (a recorded time such as ``2026-12-04T10:00:00Z`` gives its day)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return ""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if value.year == dt.date.today().year:
        return f"{value.day} {value:%B}"
    return nice_date(value)


def copy_words(copy: Copy) -> str:
    """One copy still out there, as what and who: "Trust Board pack (PowerPoint slides),
    4 December, made by Amy Patel for the Trust Board on 4 December 2026"."""
    what = copy.what[:1].upper() + copy.what[1:]
    text = f"{what}, {day(copy.made_on)}, {MADE.get(copy.kind, 'made')} by " \
           f"{person(copy.made_by)}"
    if copy.kind == "pack":
        text += f", for {copy.who}"
    elif copy.kind != "publication":
        text += f", for {copy.use_label.lower()}"
    return text
