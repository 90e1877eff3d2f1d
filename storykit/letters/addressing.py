"""Who a letter about a story goes to and how it opens, from the consent record's private
``contact`` section (and the storyteller's name, when the contact names nobody else)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Contact
from .model import LetterError

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

#: How consent says a storyteller is named, as a letter tells them.
NAMED_AS = {"full_name": "your full name", "first_name": "your first name only",
            "pseudonym": "a made-up name", "anonymous": "no name at all"}
#: What the consent covers, as a letter tells them.
MEDIA_WORDS = {"text": "the words of your story", "quotes": "quotes from it",
               "photo": "photos", "audio": "sound recordings", "video": "video"}


@dataclass(frozen=True)
class Addressee:
    name: str
    address: tuple[str, ...]
    style: str
    contact: Contact


def addressee(story: Story, *, allow_no_contact: bool = False) -> Addressee:
    """Who the letter goes to, from the current consent version's contact section.
    LetterError when there is none, or they asked not to be contacted."""
    consent = story.current_consent
    contact = consent.contact if consent else None
    if contact is None:
        if not allow_no_contact:
            raise LetterError(f"story {story.id} has no contact details in its consent "
                              "record: add a 'contact:' section (see docs/formats.md)")
        contact = Contact(agrees_to_contact=True)
    elif not contact.agrees_to_contact:
        raise LetterError(f"the storyteller of {story.id} asked not to be contacted, so "
                          "storykit makes no letter to them")
    name = contact.name or story.storyteller.name
    return Addressee(name, tuple(contact.address), contact.preferred_format, contact)


def signature(site: Site) -> str:
    return f"The patient stories team, {site.config.organisation}" if site.config.organisation \
        else "The patient stories team"


def use_words(site: Site, uses) -> str:
    labels = [site.config.label(u) for u in uses]
    if not labels:
        return "nothing"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def media_words(media) -> str:
    words = [MEDIA_WORDS.get(m, m) for m in media]
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
