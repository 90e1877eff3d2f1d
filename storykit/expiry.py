"""Consent that is ending: stories whose consent expires (or, for children, must be asked
again) within some days, and those where it already has, so the team can write to the
storyteller in time. The decision itself stays in :mod:`storykit.consent`: once the day has
passed, every render, pack and build refuses the story."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .dates import nice_date, today

if TYPE_CHECKING:  # pragma: no cover
    from .model import Contact, Story
    from .site import Site

#: Stories no one will render again: nothing to ask about.
_DONE = ("withdrawn", "archived")


@dataclass(frozen=True)
class Ending:
    """A story whose consent ends (``kind`` "expires") or whose child storyteller must be
    asked again (``kind`` "reconsent_due") on ``day``; ``days`` from today (negative: past)."""

    story_id: str
    title: str
    status: str
    consent_version: int
    kind: str
    day: dt.date
    days: int
    contact: Contact | None

    @property
    def ended(self) -> bool:
        """Consent no longer allows the story (the day is past)."""
        return self.days < 0

    @property
    def letter(self) -> str:
        """Whether a re-consent letter can be sent, in words (never the details)."""
        c = self.contact
        if c is None:
            return "no contact details on record"
        if not c.agrees_to_contact:
            return "asked not to be contacted"
        fmt = c.preferred_format.replace("_", " ")
        if c.address:
            return f"letter in {fmt} by post"
        if c.email:
            return f"letter in {fmt} (email only on record)"
        return f"letter in {fmt} (no address on record: hand it over)"

    @property
    def can_write(self) -> bool:
        return self.contact is not None and self.contact.agrees_to_contact

    @property
    def when(self) -> str:
        """``ended on 30 June 2026 (157 days ago)`` or ``ends on ... (in 41 days)``."""
        what = "re-consent was due" if self.kind == "reconsent_due" else "consent ended"
        if self.ended:
            ago = -self.days
            return f"{what} on {nice_date(self.day)} ({ago} {'day' if ago == 1 else 'days'} ago)"
        what = "re-consent is due" if self.kind == "reconsent_due" else "consent ends"
        soon = "today is the last day" if self.days == 0 else \
            f"in {self.days} {'day' if self.days == 1 else 'days'}"
        return f"{what} on {nice_date(self.day)} ({soon})"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.story_id, "title": self.title, "status": self.status,
                "consent_version": self.consent_version, "kind": self.kind,
                "date": self.day.isoformat(), "days": self.days, "ended": self.ended,
                "when": self.when, "letter": self.letter, "can_write": self.can_write}


def ending(site: Site, *, within: int, on: dt.date | None = None) -> list[Ending]:
    """Active consent that ends (or a child's re-consent date) within ``within`` days of
    ``on`` (default today), and any that already has; ended ones first, then soonest."""
    on = on or today()
    found: list[Ending] = []
    for story in site.store.load_all().stories:
        found += story_endings(story, within=within, on=on)
    return sorted(found, key=lambda e: (not e.ended, e.day, e.story_id))


def story_endings(story: Story, *, within: int, on: dt.date) -> list[Ending]:
    consent = story.current_consent
    if consent is None or consent.status != "active" or story.status in _DONE:
        return []
    days = [("expires", consent.expires)]
    if consent.age_band != "adult" and consent.reconsent_due:
        days.append(("reconsent_due", consent.reconsent_due))
    out = []
    for kind, day in days:
        # consent allows the story up to and including the day: it has ended once past it
        left = (day - on).days
        if left <= within:
            out.append(Ending(story.id, story.title, story.status, consent.version, kind, day,
                              left, consent.contact))
    return out
