"""Consent changes the storyteller makes themselves, through a one-time link
(storykit.links, purpose ``consent``): give it, narrow it, widen it or withdraw it.

The rules, in words:

* narrowing (fewer uses, a less identifying name) applies at once: it is recorded as a new
  consent version with method ``e_signature`` (:func:`storykit.lifecycle.record_consent`);
* widening (more uses, a more identifying name), and giving consent that was pending, is
  recorded at once too, unless the site's ``[consent] confirm_link_changes`` (on by default)
  asks staff to confirm it first: then the narrowed part (if any) applies now and the rest
  waits on the link's row (codes only) until staff confirm it (:func:`confirm`);
* withdrawal goes through :meth:`storykit.site.Site.withdraw`, the same takedown as a
  withdrawal staff record.

Nothing here holds the storyteller's words: choices are codes (use names, naming codes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import StorykitError
from .lifecycle import IDENTIFYING, STORYTELLER, consent_change, record_consent

if TYPE_CHECKING:  # pragma: no cover
    from .audit import AuditLog
    from .model import ConsentVersion, Story
    from .site import Site

#: The purpose of a consent request's one-time link.
CONSENT = "consent"
#: Who the consent record says recorded a change made through a link.
BY_LINK = f"{STORYTELLER} (one-time link)"
WAITING, APPLIED, NO_CHANGE = "change_waiting", "changed", "kept"


@dataclass(frozen=True)
class Choice:
    """What the storyteller chose: the uses (names) and how to be named."""

    uses: tuple[str, ...]
    identification: str

    def codes(self) -> str:
        """For the link's row: ``uses=board,press;named=first_name`` (codes only)."""
        return f"uses={','.join(self.uses)};named={self.identification}"

    @classmethod
    def from_codes(cls, text: str) -> Choice:
        parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
        uses = tuple(u for u in parts.get("uses", "").split(",") if u)
        return cls(uses, parts.get("named", ""))


@dataclass(frozen=True)
class Outcome:
    story: Story
    answer: str                   # WAITING, APPLIED or NO_CHANGE
    waiting: Choice | None = None  # what waits for staff to confirm


def check_choice(site: Site, story: Story, choice: Choice) -> list[str]:
    """Problems with a choice, as sentences for the storyteller."""
    problems = []
    if any(u not in site.config.uses for u in choice.uses):
        problems.append("Choose places from the list.")
    no_pseudonym = choice.identification == "pseudonym" and not story.storyteller.pseudonym
    if choice.identification not in IDENTIFYING or no_pseudonym:
        problems.append("Choose how you want to be named.")
    return problems


def _version(current: ConsentVersion, choice: Choice, *, status: str) -> ConsentVersion:
    from .model import ConsentVersion

    data = current.to_dict()
    data.update({"uses": list(choice.uses), "identification": choice.identification,
                 "method": "e_signature", "status": status,
                 "recorded": dt.datetime.now(dt.UTC), "recorded_by": BY_LINK})
    data.pop("taken_by", None)
    return ConsentVersion.from_dict(data)


def narrowed_part(current: ConsentVersion, choice: Choice) -> Choice:
    """Only the narrowing in ``choice``: the uses in both, the less identifying name."""
    uses = tuple(u for u in current.uses if u in choice.uses)
    named = min(current.identification, choice.identification, key=IDENTIFYING.index)
    return Choice(uses, named)


def apply_choice(site: Site, story_id: str, choice: Choice, *, confirm_widening: bool,
                 ip: str | None = None, log: AuditLog | None = None) -> Outcome:
    """Record the storyteller's choice as the rules above say."""
    story = site.store.get(story_id)
    current = story.current_consent
    if current is None or current.status == "withdrawn":
        raise StorykitError("there is no consent to change")
    problems = check_choice(site, story, choice)
    if problems:
        raise StorykitError(" ".join(problems))
    pending = current.status == "pending"
    full = _version(current, choice, status="active")
    change = consent_change(current, full)
    if not choice.uses:
        raise StorykitError("choose at least one place, or choose to stop using the story")
    if not (change.widened or change.narrowed or pending):
        return Outcome(story, NO_CHANGE)
    if (change.widened or pending) and confirm_widening:
        narrow = narrowed_part(current, choice)
        if change.narrowed and narrow.uses:
            story = record_consent(site, story_id, _version(current, narrow,
                                                            status=current.status),
                                   by=BY_LINK, base_etag=story.consent_etag, ip=ip, log=log)
        return Outcome(story, WAITING, choice)
    saved = record_consent(site, story_id, full, by=BY_LINK, base_etag=story.consent_etag,
                           ip=ip, log=log)
    return Outcome(saved, APPLIED)


def confirm(site: Site, story_id: str, choice: Choice, *, by: str, ip: str | None = None,
            log: AuditLog | None = None) -> Story:
    """Staff confirm what a storyteller asked for through their link (recorded as given by
    them, method ``e_signature``; ``by`` confirmed it)."""
    story = site.store.get(story_id)
    current = story.current_consent
    if current is None or current.status == "withdrawn":
        raise StorykitError("the consent was withdrawn, so there is nothing to confirm")
    problems = check_choice(site, story, choice)
    if problems or not choice.uses:
        raise StorykitError("the storyteller's answer cannot be used: " + " ".join(problems))
    version = _version(current, choice, status="active")
    return record_consent(site, story_id, version, by=by, base_etag=story.consent_etag, ip=ip,
                          log=log, detail=f"version {len(story.consent) + 1}: the storyteller's "
                                          f"change through their link, confirmed; "
                                          f"{consent_change(current, version).summary()}")
