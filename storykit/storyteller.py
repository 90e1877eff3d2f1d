"""Consent changes the storyteller makes themselves, through a one-time link
(storykit.links, purpose ``consent``): give it, narrow it, widen it or withdraw it.

The rules, in words:

* narrowing (fewer uses, fewer media, a less identifying name) applies at once: it is
  recorded as a new consent version with method ``e_signature``
  (:func:`storykit.lifecycle.record_consent`), and every output from then on leaves out what
  was taken away (the core's reduction: no photos without ``photo``...);
* widening (more uses or media, a more identifying name), and giving consent that was
  pending, is recorded at once too, unless the site's ``[consent] confirm_link_changes`` (on
  by default) asks staff to confirm it first: then the narrowed part (if any) applies now,
  even when it leaves nothing usable, and the rest waits on the link's row (codes only)
  until staff confirm it (:func:`confirm`);
* withdrawal goes through :meth:`storykit.site.Site.withdraw`, the same takedown as a
  withdrawal staff record;
* choosing no place, or no words at all (neither "My whole story" nor "Short quotes"), is not
  a change but a "no": they are asked to tick at least one, or to choose "Stop".

Nothing here holds the storyteller's words: choices are codes (use names, media, naming).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import StorykitError
from .lifecycle import IDENTIFYING, STORYTELLER, consent_change, record_consent
from .model import MEDIA

if TYPE_CHECKING:  # pragma: no cover
    from .audit import AuditLog
    from .model import ConsentVersion, Story
    from .site import Site

#: The purpose of a consent request's one-time link.
CONSENT = "consent"
#: Who the consent record says recorded a change made through a link.
BY_LINK = f"{STORYTELLER} (one-time link)"
WAITING, APPLIED, NO_CHANGE = "change_waiting", "changed", "kept"
#: The media a storyteller chooses from, in their words (storykit.model.MEDIA, same order).
MEDIA_CHOICES = {"text": "My whole story, in my words", "quotes": "Short quotes from my story",
                 "photo": "Photos", "audio": "Sound recordings", "video": "Videos"}
#: Media that carry words: a story is used only with one of them.
WORDS = ("text", "quotes")


@dataclass(frozen=True)
class Choice:
    """What the storyteller chose: the uses (names), how to be named, and the media (None:
    as they are now; a choice recorded before media could be chosen)."""

    uses: tuple[str, ...]
    identification: str
    media: tuple[str, ...] | None = None

    def codes(self) -> str:
        """For the link's row: ``uses=board,press;media=text,quotes;named=first_name``
        (codes only)."""
        media = "" if self.media is None else f"media={','.join(self.media)};"
        return f"uses={','.join(self.uses)};{media}named={self.identification}"

    @classmethod
    def from_codes(cls, text: str) -> Choice:
        parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
        uses = tuple(u for u in parts.get("uses", "").split(",") if u)
        media = tuple(m for m in parts["media"].split(",") if m) if "media" in parts else None
        return cls(uses, parts.get("named", ""), media)

    def media_of(self, current: ConsentVersion) -> tuple[str, ...]:
        """The media this choice gives, in the model's order."""
        chosen = set(current.media if self.media is None else self.media)
        return tuple(m for m in MEDIA if m in chosen)


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
    if choice.media is not None:
        problems += media_problems(choice.media)
    return problems


def media_problems(media: tuple[str, ...] | list[str]) -> list[str]:
    """What is wrong with the media a storyteller ticked, in their words: only the list's,
    and at least one that carries their words (photos or recordings alone tell nothing)."""
    if any(m not in MEDIA_CHOICES for m in media):
        return ["Choose what we may use from the list."]
    if not any(m in WORDS for m in media):
        return [f"Tick \u201c{MEDIA_CHOICES['text']}\u201d or \u201c{MEDIA_CHOICES['quotes']}"
                "\u201d. We cannot use pictures or recordings without any of your words. Or "
                "choose to stop."]
    return []


def _version(current: ConsentVersion, choice: Choice, *, status: str) -> ConsentVersion:
    from .model import ConsentVersion

    data = current.to_dict()
    data.update({"uses": list(choice.uses), "identification": choice.identification,
                 "media": list(choice.media_of(current)), "method": "e_signature", "status": status,
                 "recorded": dt.datetime.now(dt.UTC), "recorded_by": BY_LINK})
    data.pop("taken_by", None)
    return ConsentVersion.from_dict(data)


def narrowed_part(current: ConsentVersion, choice: Choice) -> Choice:
    """Only the narrowing in ``choice``: the uses and media in both, the less identifying
    name."""
    uses = tuple(u for u in current.uses if u in choice.uses)
    chosen = choice.media_of(current)
    media = tuple(m for m in current.media if m in chosen)
    named = min(current.identification, choice.identification, key=IDENTIFYING.index)
    return Choice(uses, named, media)


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
        if change.narrowed:  # what they took away goes now, even if nothing is left
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
