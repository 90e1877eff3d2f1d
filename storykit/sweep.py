"""The daily consent sweep: stories whose consent ran out come off the public website, and
staff get the list ("Expired": :func:`expired_stories`).

Consent ends on its own day (``expires``), and a child's consent must be asked again by
``reconsent_due``. Nobody edits anything on that day, so no build would notice: the sweep, a
job the workers add once a day (``[jobs] sweep_at``, and when a worker starts), queues a site
build, which leaves off every story consent no longer allows (storykit_web), and records which
stories it found. Its result holds story ids and reason codes only, never story text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .dates import nice_date, today

if TYPE_CHECKING:  # pragma: no cover
    from .distribution import Distribution
    from .jobs import JobContext
    from .model import Story
    from .site import Site

SWEEP = "consent-sweep"
#: Reasons a story stops being usable with the passing of time.
TIME_REASONS = ("expired", "reconsent_due")


@dataclass(frozen=True)
class ExpiredStory:
    """A story whose consent ran out: why (``reason``: ``expired`` or ``reconsent_due``)
    and since when, in words too, and the copies still on record (open takedown items)."""

    story: Story
    reason: str
    since: dt.date
    live: list[Distribution]

    @property
    def words(self) -> str:
        if self.reason == "expired":
            return f"Consent ended on {nice_date(self.since)}"
        return f"The storyteller had to be asked again by {nice_date(self.since)}"


def expired_stories(site: Site, on: dt.date | None = None) -> list[ExpiredStory]:
    """Stories (not withdrawn: those have their own list) whose current consent has ended
    or whose storyteller, a child, was due to be asked again, oldest first."""
    day = on or today()
    found = []
    for story in site.store.load_all().stories:
        consent = story.current_consent
        if consent is None or consent.status == "withdrawn" or story.status == "withdrawn":
            continue
        due = consent.reconsent_due if consent.age_band != "adult" else None
        if day > consent.expires:
            reason, since = "expired", consent.expires
        elif due is not None and day > due:
            reason, since = "reconsent_due", due
        else:
            continue
        live = site.distributions.for_story(story.id, live_only=True)
        found.append(ExpiredStory(story, reason, since, live))
    return sorted(found, key=lambda e: (e.since, e.story.id))


def run_sweep(context: JobContext) -> dict[str, Any]:
    """The job: list what expired, and queue a site build when any of it is published or
    still has copies on record (the build takes those pages down)."""
    from .publishing import queue_site_build

    site = context.site
    context.progress(0.1, "Checking every story's consent.", force=True)
    found = expired_stories(site)
    on_site = [e.story.id for e in found if e.story.status == "published" or e.live]
    build = queue_site_build(site, by=context.by, stories=on_site) if on_site else None
    stories = [{"story": e.story.id, "reason": e.reason, "since": e.since.isoformat(),
                "open_takedowns": len(e.live)} for e in found]
    words = ("No story's consent ran out" if not found else
             "1 story has consent that ran out" if len(found) == 1 else
             f"{len(found):,} stories have consent that ran out")
    if build is not None:
        words += f"; the website is being updated (job {build.id})"
    site.plugins.call("after_consent_sweep", site=site, day=today())
    return {"message": words + ".", "expired": stories,
            "build": build.id if build is not None else None}
