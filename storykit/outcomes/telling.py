"""Telling the storytellers of an outcome's stories what was decided, the one way both the
browser app's "Write the letters to the storytellers" and ``storykit outcome letters`` do it:

* an **email** with a one-time link (purpose ``outcome``) when their consent's ``contact``
  agrees to contact and gives an email address, and email is set up (``[email]``): fixed words
  and the link only (``storykit.mail.EVENTS["outcome"]``), queued in the outbox for the
  ``send-email`` job;
* otherwise a **letter** in the format they prefer, carrying the link's short code to type at
  the app's code page (only for those who agreed to be contacted);
* nothing, with the reason, when they asked not to be contacted, have no contact details, or
  withdrew (or the story is gone).

A link needs the app's public address (:class:`Answering`): without one (the command line
on a site with no ``[site] app_url``) letters are written without a code and nobody is
emailed. Every message is logged (:func:`storykit.outcomes.letters.record_told`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import mail
from ..dates import nice_date
from ..errors import NotFoundError
from ..links import Issued, Links, format_code
from .letters import Told, record_told, tell_storyteller
from .recording import outcome_log
from .records import Outcome, OutcomeError

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

#: The one-time link's purpose (the app's storyteller outcome page answers it), and its life.
OUTCOME_LINK = "outcome"
LINK_DAYS = 28
#: Where the browser app serves the storyteller's pages (docs/storyteller.md; the app takes it
#: from here):
#: ``/s/<token>`` opens a link, ``/s/code`` takes a letter's code.
STORYTELLER_PAGES = "/s/"


@dataclass(frozen=True)
class Answering:
    """Where storytellers answer online: the browser app at ``base`` (its public address,
    ``[site] app_url``, with no ``/`` at the end)."""

    base: str

    @classmethod
    def for_site(cls, site: Site) -> Answering | None:
        """The app's address from ``[site] app_url``; None when it is not set."""
        base = site.config.app_url.rstrip("/")
        return cls(base) if base else None

    def link(self, token: str) -> str:
        return f"{self.base}{STORYTELLER_PAGES}{token}"

    @property
    def code_page(self) -> str:
        return f"{self.base}{STORYTELLER_PAGES}code"


def letter_name(outcome: Outcome, story_id: str) -> str:
    """The letter's file name in a folder of letters: ``<outcome>-<story>.pdf``."""
    return f"{outcome.id}-{story_id}.pdf"


def tell_storytellers(site: Site, outcome_id: str, folder: Path, *, by: str,
                      answering: Answering | None = None,
                      stories: Sequence[Story] | None = None,
                      force: bool = False) -> list[Told]:
    """Tell the storyteller of each of the outcome's stories (or of ``stories``, those the
    caller may write to), letters in ``folder``; one :class:`Told` per story. OutcomeError
    before anything is sent when the outcome has no stories or ``folder`` cannot be written."""
    outcome = outcome_log(site).get(outcome_id)
    if not outcome.story_ids:
        raise OutcomeError(f"outcome {outcome.id} has no stories, so there is nobody to tell")
    check_folder(Path(folder))
    told: list[Told] = []
    if stories is None:
        found: list[Story] = []
        for story_id in outcome.story_ids:
            try:
                found.append(site.store.get(story_id))
            except NotFoundError:
                told.append(Told(story_id, why_not="the story is no longer on record"))
        stories = found
    for story in stories:
        told.append(tell(site, outcome, story, Path(folder) / letter_name(outcome, story.id),
                         by=by, answering=answering, force=force))
    order = {s: n for n, s in enumerate(outcome.story_ids)}
    return sorted(told, key=lambda t: order.get(t.story_id, len(order)))


def check_folder(folder: Path) -> None:
    """OutcomeError in words unless letters can really be written in ``folder`` (a file is
    made and removed there: the only test that is true for every user and file system)."""
    if not folder.is_dir():
        raise OutcomeError(f"the folder {str(folder)!r} does not exist: make it first")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".storykit-", suffix=".tmp")
    except OSError:
        raise OutcomeError(f"storykit cannot write in the folder {str(folder)!r}: choose "
                           "another place or ask for permission") from None
    os.close(handle)
    os.unlink(probe)


def tell(site: Site, outcome: Outcome, story: Story, letter: Path, *, by: str,
         answering: Answering | None, force: bool = False) -> Told:
    """Tell one storyteller: by email when allowed, otherwise by a letter at ``letter``
    (with a code to answer online when ``answering`` and their consent allow it); ``force``:
    replace a letter already there."""
    consent = story.current_consent
    contact = consent.contact if consent and consent.status != "withdrawn" else None
    may_contact = bool(contact and contact.agrees_to_contact)
    if answering and may_contact and mail.is_address(contact.email) \
            and mail.email_settings(site) is not None:
        emailed = _email(site, outcome, story, contact.email, answering, by)
        if emailed is not None:
            return emailed
    issued = issue_link(site, outcome, story, code=True, by=by) \
        if answering and may_contact else None
    told = tell_storyteller(
        site, outcome, story, letter, by=by, force=force,
        code=format_code(issued.code or "") if issued else None,
        code_help=_code_help(issued, answering) if issued and answering else None)
    if told.path is None and issued:
        Links(site).revoke(issued.link.id, by=by)
    return replace(told, coded=bool(issued and told.path))


def issue_link(site: Site, outcome: Outcome, story: Story, *, code: bool, by: str) -> Issued:
    """A one-time link (purpose ``outcome``) for this outcome and story; the link keeps the
    outcome's id where sign-off links keep the story's etag. Earlier open links about the
    same outcome stop; links about the story's other outcomes keep working."""
    links = Links(site)
    for old in links.for_story(story.id, OUTCOME_LINK):
        if old.live() and old.etag == outcome.id:
            links.revoke(old.id, by=by)
    return links.issue(OUTCOME_LINK, story.id, by=by, etag=outcome.id, code=code,
                       days=LINK_DAYS, replace=False)


def _email(site: Site, outcome: Outcome, story: Story, address: str, answering: Answering,
           by: str) -> Told | None:
    """Email the storyteller a new link (fixed words and the link: nothing of the story);
    None (the link revoked) when nothing could be queued."""
    issued = issue_link(site, outcome, story, code=False, by=by)
    link = answering.link(issued.token)
    until = nice_date(issued.link.expires.date())
    if not mail.notify(site, OUTCOME_LINK, [address], link=link, story_id=story.id,
                       audience="storyteller", until=until, by=by):
        Links(site).revoke(issued.link.id, by=by)
        return None
    message = record_told(site, outcome.id, story.id, channel="email", style="",
                          content=mail.EVENTS[OUTCOME_LINK][1].format(link=link,
                                                                      until=until).encode(),
                          by=by)
    return Told(story.id, message=message, channel="email")


def _code_help(issued: Issued, answering: Answering) -> str:
    return (f"To tell us online, go to **{answering.code_page}** and type this code. It "
            f"works once, until **{nice_date(issued.link.expires.date())}**.")
