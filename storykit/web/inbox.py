"""What storytellers told the team through their one-time links (sign-off of the words, their
consent), for the home page of the people who work on each story: the app's inbox, with or
without email. An answer shows for :data:`DAYS` days; a consent change that waits for staff
to confirm shows until someone confirms it.

Only the storyteller's own answers (by link or letter code) show: answers staff took on paper
or by phone were recorded by staff, who know. Nothing here holds the storyteller's words:
their comment stays on the story's sign-off page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..lifecycle import SIGNOFF, is_withdrawn
from ..links import Link, Links
from ..model import Story
from ..storyteller import CONSENT, WAITING

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site
    from .accounts import User
    from .index import Snapshot

#: How long an answer stays on the home page.
DAYS = 30
WORDS = {
    (SIGNOFF, "agreed"): "agreed to the words",
    (SIGNOFF, "changes"): "asked for changes to the words: read what they said",
    (CONSENT, "kept"): "kept their consent as it was",
    (CONSENT, "changed"): "changed their consent",
    (CONSENT, WAITING): "asked for a change to their consent that waits for you to confirm",
    (CONSENT, "confirmed"): "asked for a change to their consent, and it was confirmed",
    (CONSENT, "withdrawn"): "withdrew their consent",
}


@dataclass(frozen=True)
class TellerAnswer:
    """One answer: the story, the link it came through, what they did in words, and which
    page of the story shows more (``signoff``, ``consent`` or ``story``)."""

    story: Story
    link: Link
    words: str
    page: str

    @property
    def waiting(self) -> bool:
        return self.link.answer == WAITING

    @property
    def when(self) -> dt.date:
        return dt.date.fromisoformat((self.link.used_at or "")[:10])


def teller_answers(site: Site, user: User, snap: Snapshot, *,
                   days: int = DAYS) -> list[TellerAnswer]:
    """The storytellers' answers about the stories ``user`` works on: waiting ones first,
    then the newest."""
    mine = set(user.access)
    if not mine:
        return []
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = []
    for link in Links(site).answered((SIGNOFF, CONSENT), since=since, waiting=WAITING):
        story = snap.stories.get(link.story_id)
        if story is None or link.story_id not in mine or link.answered_via not in ("link",
                                                                                   "code"):
            continue
        words = WORDS.get((link.purpose, link.answer or ""))
        if words is None:
            continue
        page = "story" if is_withdrawn(story) else \
            "signoff" if link.purpose == SIGNOFF else "consent"
        found.append(TellerAnswer(story, link, words, page))
    return sorted(found, key=lambda a: not a.waiting)
