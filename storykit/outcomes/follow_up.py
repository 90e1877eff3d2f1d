"""A board's follow-up: "What happened after the last stories". A pack for a board (any use)
can end with the outcomes of the stories that earlier packs for the same use carried, so the
people who heard the stories see what came of them. Only the team's words go in (each
outcome's title, how far it has got, and why not when it was not taken): no story's words,
so a story that may no longer be used for this is not repeated."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..dates import nice_date, today
from ..render import Notice
from .records import OutcomeLog

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

TITLE = "What happened after the last stories"
MOST = 12


def earlier_story_ids(site: Site, use: str, before: dt.date) -> list[str]:
    """Stories carried by packs for ``use`` whose meeting (or, without one, build day) was
    before ``before``, newest pack first."""
    from ..packs import PackLog

    found: list[str] = []
    for pack in PackLog(site.database).all(limit=1000):
        held = pack.meeting_date or pack.built_on
        if pack.use != use or held >= before:
            continue
        found += [s for s in pack.story_ids if s not in found]
    return found


def follow_up_lines(site: Site, use: str, before: dt.date) -> list[str]:
    """One sentence per outcome of those stories, open ones first, most recent first."""
    story_ids = set(earlier_story_ids(site, use, before))
    if not story_ids:
        return []
    log = OutcomeLog(site.database)
    outcomes = {o.id: o for s in sorted(story_ids) for o in log.for_story(s)}
    on = today()
    lines = []
    for o in sorted(outcomes.values(), key=lambda o: (o.status in ("done", "not_taken"),
                                                      o.updated_at), reverse=False):
        if o.status == "done":
            state = f"done on {nice_date(o.done_on)}" if o.done_on else "done"
        elif o.status == "not_taken":
            state = "not taken" + (f": {o.reason.strip().rstrip('.')}" if o.reason else "")
        else:
            state = o.status_words.lower()
            if o.due:
                state += (f", overdue since {nice_date(o.due)}" if o.overdue(on)
                          else f", due by {nice_date(o.due)}")
        lines.append(f"{o.title.rstrip('.')}: {state}.")
    return lines[:MOST] + ([f"And {len(lines) - MOST} more (see storykit outcome list)."]
                           if len(lines) > MOST else [])


def follow_up_notice(site: Site, use: str, *, before: dt.date) -> Notice:
    """The closing page or slide of a pack for ``use`` at a meeting on ``before``."""
    lines = follow_up_lines(site, use, before)
    if not lines:
        lines = ["No outcomes have been recorded yet for the stories heard at earlier "
                 "meetings."]
    return Notice(TITLE, tuple(lines), tuple(lines[:6]))
