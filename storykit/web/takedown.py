"""The takedown checklist after a withdrawal: every copy of the story on record
(storykit.copies), and the tick and note staff put against each one as they deal with it,
kept in the app's ``takedown_ticks`` table. Ticks are audited (``takedown.ticked``: the
story id, which copy and whether it is done; never the note, which may name people)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..copies import Copy
    from ..db import Connection
    from ..model import Story
    from ..site import Site

MAX_NOTE = 1000
TICKED = "takedown.ticked"


@dataclass(frozen=True)
class Tick:
    done: bool
    note: str
    by: str
    at: str


@dataclass(frozen=True)
class Item:
    """One line of the checklist: a copy, what to do about it, and where it stands."""

    copy: Copy
    advice: str
    within_window: bool
    automatic: bool  # a web page: the website update takes it down, nobody ticks it
    tick: Tick | None

    @property
    def done(self) -> bool:
        if self.automatic:
            return not self.copy.live
        return bool(self.tick and self.tick.done)


def ticks(conn: Connection, story_id: str) -> dict[str, Tick]:
    rows = conn.all("SELECT * FROM takedown_ticks WHERE story_id = :story_id",
                    {"story_id": story_id})
    return {r["item"]: Tick(bool(r["done"]), r["note"], r["by"], r["at"]) for r in rows}


def set_tick(conn: Connection, story_id: str, item: str, *, done: bool, note: str,
             by: str) -> None:
    """Keep ``done`` and ``note`` against one copy (replacing what was there)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute(
        "INSERT INTO takedown_ticks (story_id, item, done, note, by, at) VALUES (:story_id, "
        ":item, :done, :note, :by, :at) ON CONFLICT (story_id, item) DO UPDATE SET "
        "done = excluded.done, note = excluded.note, by = excluded.by, at = excluded.at",
        {"story_id": story_id, "item": item, "done": int(done), "note": note, "by": by,
         "at": now})


def withdrawn_on(story: Story) -> dt.date | None:
    """The day consent was withdrawn (or ran out), or None when it is still in force."""
    from ..dates import today

    consent = story.current_consent
    if consent is None:
        return None
    if consent.withdrawal is not None:
        return consent.withdrawal.requested or consent.recorded.date()
    if consent.expires < today():
        return consent.expires
    return None


def with_names(copies: list[Copy], people: dict[str, str]) -> list[Copy]:
    """The copies with who made each one as people know them (display names, not account
    names), for the app's pages."""
    from dataclasses import replace

    return [replace(c, made_by=people.get(c.made_by, c.made_by)) for c in copies]


def checklist(site: Site, conn: Connection, story: Story, on: dt.date,
              people: dict[str, str] | None = None) -> list[Item]:
    """Every copy of ``story`` on record, with what to do about it after ``on``."""
    from ..copies import story_copies

    found = ticks(conn, story.id)
    items = []
    for copy in with_names(story_copies(site, story.id), people or {}):
        items.append(Item(copy, copy.recall(on), copy.within_window(on),
                          copy.kind == "publication", found.get(copy.key)))
    return items
