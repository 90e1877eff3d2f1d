"""What is waiting for each person: the queues their home page shows, and the counts in the
main menu. Every queue holds only stories the person may see (:mod:`storykit.web.listing`),
read from the index snapshot, so a home page stays fast with thousands of stories.

The queues, and who sees them:

* ``drafts``: my stories that are not live yet, and their state (advocates);
* ``review``: waiting for my review, never my own (reviewers);
* ``publish``: approved and waiting to publish (publishers);
* ``live``: live stories (advocates: their own; publishers and admins: all they see);
* ``expiring``: consent ending within the site's warning days (``[consent]
  expiry_warning_days``, 60 by default; :mod:`storykit.expiry` decides);
* ``takedown``: stories whose consent ended, and withdrawn ones with copies still out there
  (:mod:`storykit.copies`), each copy described as what and who;
* ``failed``: background jobs that failed and nobody has tried again (publishers, admins);
* ``answers``: what storytellers answered through their links about the stories I work on
  (:mod:`storykit.web.inbox`; anyone who works on a story);
* ``answered``: outcomes a storyteller answered about through their link in the last
  :data:`ANSWERED_DAYS` days, for stories the person may see (everyone; shown when any).
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from flask import g, has_request_context

from ..copies import Copy, group_copies
from ..dates import today
from ..expiry import Ending, story_endings
from ..jobs import Job, Jobs
from ..lifecycle import APPROVE, is_withdrawn, permitted
from ..model import Story
from ..outcomes import Outcome, OutcomeLog
from .access import VIEW, actor_of, can
from .accounts import User
from .inbox import TellerAnswer, teller_answers
from .index import Snapshot
from .listing import mine, visible

if TYPE_CHECKING:  # pragma: no cover
    from ..distribution import Distribution
    from ..site import Site

#: My stories still on their way to the website.
IN_PROGRESS = ("draft", "changes_requested", "in_review", "approved")
STAFF = ("publisher", "admin")
#: Failed jobs counted and listed at most (the jobs page has them all).
MAX_FAILED = 50
#: How long "A storyteller answered" stays on the home page (a link's life).
ANSWERED_DAYS = 28
#: Which roles see each queue.
ROLES: dict[str, tuple[str, ...]] = {
    "drafts": ("advocate",), "review": ("reviewer",), "publish": ("publisher",),
    "live": ("advocate", *STAFF), "expiring": ("advocate", *STAFF),
    "takedown": ("advocate", *STAFF), "failed": STAFF,
    "answered": ("advocate", "reviewer", *STAFF),
}


@dataclass(frozen=True)
class Takedown:
    """A story that must come back from where it went: ``why`` in words, and its copies
    still out there (grouped only when a page shows them)."""

    story: Story
    why: str
    entries: tuple[Distribution, ...]
    site: Site = field(repr=False, compare=False)

    @cached_property
    def copies(self) -> list[Copy]:
        from ..packs import PackLog

        packs = {p.id: p for p in PackLog(self.site.database).with_story(self.story.id)} \
            if any(d.pack_id for d in self.entries) else {}
        return group_copies(self.site, self.entries, packs)


@dataclass(frozen=True)
class Answered:
    """A storyteller answered about ``outcome`` (on the story ``story_id``) on ``on``."""

    outcome: Outcome
    story_id: str
    on: dt.date


@dataclass
class Queues:
    """A person's queues; a queue they do not see is None."""

    drafts: list[Story] | None = None
    review: list[Story] | None = None
    publish: list[Story] | None = None
    live: list[Story] | None = None
    expiring: list[Ending] | None = None
    takedown: list[Takedown] | None = None
    failed: list[Job] | None = None
    answers: list[TellerAnswer] | None = None
    answered: list[Answered] | None = None


def sees(user: User, queue: str) -> bool:
    return user.has(*ROLES[queue])


def own_or_seen(user: User, snap: Snapshot, statuses: tuple[str, ...]) -> list[Story]:
    """Stories with one of ``statuses``: staff see every one they may; advocates their own."""
    if user.has(*STAFF):
        return visible(user, snap, statuses)
    return [s for s in mine(user, snap) if s.status in statuses]


def review_queue(user: User, snap: Snapshot) -> list[Story]:
    """Waiting for review, that this reviewer may review (not their own): the rule book's
    answer, asked with one Actor for the whole list."""
    if not user.active:
        return []
    actor = actor_of(user)
    return [s for s in visible(user, snap, ("in_review",)) if permitted(actor, s, APPROVE)]


def publish_queue(user: User, snap: Snapshot) -> list[Story]:
    return visible(user, snap, ("approved",))


def queues(site: Site, user: User, snap: Snapshot, *, warning_days: int | None = None) -> Queues:
    """Every queue ``user`` sees, worked out from the snapshot (and, for takedowns and failed
    jobs, the site's database)."""
    days = site.config.expiry_warning_days if warning_days is None else warning_days
    watch = _watch(snap, days, today())
    staff = user.has(*STAFF)

    def shown(story_id: str) -> bool:  # staff: any they may view; advocates: their own
        return can(user, VIEW, snap.stories[story_id]) if staff else story_id in user.access

    found = Queues()
    if sees(user, "drafts"):
        found.drafts = [s for s in mine(user, snap) if s.status in IN_PROGRESS]
    if sees(user, "review"):
        found.review = review_queue(user, snap)
    if sees(user, "publish"):
        found.publish = publish_queue(user, snap)
    endings = {i: es for i, es in watch.endings.items() if shown(i)}
    ended = sorted((i for i, es in endings.items() if any(e.ended for e in es)),
                   key=snap.position.__getitem__)
    if sees(user, "live"):
        gone = set(ended)
        found.live = [s for s in own_or_seen(user, snap, ("published",)) if s.id not in gone]
    if sees(user, "expiring"):
        found.expiring = sorted((e for es in endings.values() for e in es if not e.ended),
                                key=lambda e: (e.day, e.title.lower()))
    if sees(user, "takedown"):
        stories = [snap.stories[i] for i in ended + [i for i in watch.withdrawn if shown(i)]]
        found.takedown = takedowns(site, stories, endings)
    if sees(user, "failed"):
        found.failed = Jobs(site).open_failures(MAX_FAILED)
    if user.access or user.has("advocate"):
        found.answers = teller_answers(site, user, snap)
    if sees(user, "answered"):
        found.answered = answered(site, user, snap, today())
    if has_request_context():
        g.storykit_queues = found
    return found


@dataclass(frozen=True)
class _Watch:
    """For one snapshot, day and warning window: the consent endings of every story that
    has any (ended ones too), and the ids of withdrawn stories, newest first."""

    endings: dict[str, list[Ending]]
    withdrawn: tuple[str, ...]


#: The last snapshot's watch (snapshot, day, days, watch): one pass over every story per
#: snapshot and day, not per page.
_last: tuple[Snapshot, dt.date, int, _Watch] | None = None


def _watch(snap: Snapshot, days: int, on: dt.date) -> _Watch:
    global _last
    last = _last
    if last is not None and last[0] is snap and last[1] == on and last[2] == days:
        return last[3]
    endings: dict[str, list[Ending]] = {}
    withdrawn = []
    for story_id in snap.order:
        story = snap.stories[story_id]
        if is_withdrawn(story):
            withdrawn.append(story_id)
        elif found := story_endings(story, within=days, on=on):
            endings[story_id] = found
    watch = _Watch(endings, tuple(withdrawn))
    _last = (snap, on, days, watch)
    return watch


def answered(site: Site, user: User, snap: Snapshot, on: dt.date) -> list[Answered]:
    """Outcomes storytellers answered about through their link lately, newest first, for
    stories ``user`` may view (the outcome's page shows them their words)."""
    log = OutcomeLog(site.database)
    found: list[Answered] = []
    outcomes: dict[str, Outcome | None] = {}
    for response in log.responses_since(on - dt.timedelta(days=ANSWERED_DAYS), how="link"):
        story = snap.stories.get(response.story_id)
        if story is None or not can(user, VIEW, story):
            continue
        if response.outcome_id not in outcomes:
            outcomes[response.outcome_id] = log.find(response.outcome_id)
        outcome = outcomes[response.outcome_id]
        if outcome is not None:
            found.append(Answered(outcome, story.id, response.received_on))
    return found


def takedowns(site: Site, stories: list[Story], endings: dict[str, list[Ending]]
              ) -> list[Takedown]:
    """Of ``stories`` (withdrawn or past their consent), those with copies still out there,
    and every one whose consent ended (someone must ask again, or leave it off for good)."""
    live = site.distributions.live_for(s.id for s in stories) if stories else {}
    out = []
    for story in stories:
        entries = tuple(live.get(story.id, ()))
        if not entries and is_withdrawn(story):
            continue
        ended = [e for e in endings.get(story.id, []) if e.ended]
        why = "The storyteller withdrew their consent" if is_withdrawn(story) else \
            _capital(ended[0].when) if ended else "Consent ended"
        out.append(Takedown(story, why, entries, site))
    return out


#: The menu's story counts for each person, for the snapshot they were worked out from: a
#: page for the same snapshot counts nothing again (old snapshots are not kept alive).
_counted: dict[tuple, tuple[weakref.ReferenceType, dict[str, int]]] = {}


def counts(site: Site, user: User, snap: Snapshot) -> dict[str, int]:
    """The counts the main menu shows (cheap: no database reads except failed jobs; the
    home page's queues, when this request worked them out)."""
    done = g.get("storykit_queues") if has_request_context() else None
    if done is not None:
        return {k: len(v) for k, v in (("review", done.review), ("publish", done.publish),
                                       ("failed", done.failed)) if v is not None}
    key = (user.id, user.roles, user.active, frozenset(user.access))
    known = _counted.get(key)
    if known is not None and known[0]() is snap:
        found = dict(known[1])
    else:
        found = {}
        if sees(user, "review"):
            found["review"] = len(review_queue(user, snap))
        if sees(user, "publish"):
            found["publish"] = len(publish_queue(user, snap))
        if len(_counted) > 1000:
            _counted.clear()
        _counted[key] = (weakref.ref(snap), dict(found))
    if sees(user, "failed"):
        found["failed"] = len(Jobs(site).open_failures(MAX_FAILED))
    return found


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
