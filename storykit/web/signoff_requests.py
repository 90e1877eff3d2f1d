"""Asking the storyteller to sign off the final text, staff side: the steps the browser
(storykit.web.views.signoff) and the command line (``storykit signoff``) both take, so a
request, a letter, a revocation or an answer taken on paper is the same thing, audited the
same way, wherever staff act.

The rules are the core's (:func:`storykit.lifecycle.signoff_request_refusals`,
:func:`storykit.lifecycle.record_signoff_answer`); the links are :mod:`storykit.links`. This
module adds what belongs to the app: who acted (an account), the storyteller's comment kept
as a story note (never in the audit log), and the words people read about each request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import lifecycle, mail
from ..dates import nice_date
from ..errors import StorykitError
from ..links import Issued, Link, Links
from ..outcomes.telling import STORYTELLER_PAGES

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditLog
    from ..db import Connection
    from ..model import Story
    from ..site import Site

ANSWER_WORDS = {"agreed": "Yes, they agree", "changes": "They would like changes"}
VIA_WORDS = {"link": "through their link", "code": "with the code from their letter",
             "paper": "on paper", "spoken": "in person or by phone"}
STATE_WORDS = {"waiting": "Not opened yet", "opened": "Opened, no answer yet",
               "used": "Answered", "revoked": "Stopped", "expired": "Ran out"}
#: Where the storyteller's pages are (storykit.web.views.teller, at the address the core's
#: letters name): a link, and the page to type a letter's code at.
LINK_PATH, CODE_PATH = f"{STORYTELLER_PAGES}{{token}}", f"{STORYTELLER_PAGES}code"
TAKEN_BY_MAX = 200


class RequestRefused(StorykitError):
    """A request, or an answer, that cannot be made now; the message says why in words."""


@dataclass(frozen=True)
class Answer:
    """An answer staff took on paper or out loud: ``choice`` is ``agreed`` or ``changes``,
    ``via`` is ``paper`` or ``spoken``, ``how`` says more for the audit log (``phone``)."""

    choice: str
    via: str
    taken_by: str
    comment: str = ""
    how: str = ""

    def problems(self, story: Story, revision: int | None = None) -> dict[str, str]:
        """What is wrong with it, by field, in words (empty when it may be recorded)."""
        found = {}
        if self.choice not in ANSWER_WORDS:
            found["answer"] = "Choose what the storyteller said."
        if self.via not in ("paper", "spoken"):
            found["via"] = "Choose how they answered."
        if not self.taken_by:
            found["taken_by"] = "Write who took their answer."
        elif len(self.taken_by) > TAKEN_BY_MAX or "\n" in self.taken_by:
            found["taken_by"] = (f"Write the name on one line of {TAKEN_BY_MAX} characters "
                                 "or fewer.")
        if self.choice == "changes" and not self.comment:
            found["comment"] = "Write what they would like changed."
        if len(self.comment) > lifecycle.REASON_MAX:
            found["comment"] = f"Keep it to {lifecycle.REASON_MAX:,} characters or fewer."
        if revision is not None and revision != story.revision:
            found.setdefault("answer", "The words changed after you opened this page: they "
                                       "must check the new words.")
        refused = lifecycle.signoff_request_refusals(story)
        if refused:
            found.setdefault("answer", "You cannot record an answer now: "
                             + "; ".join(r.message for r in refused) + ".")
        return found


def refusals(story: Story) -> list[str]:
    """Why the storyteller cannot be asked now, in words (none: they can)."""
    return [r.message for r in lifecycle.signoff_request_refusals(story)]


def address(site: Site, path: str) -> str:
    """``path`` in the app as a whole address: the site's ``app_url``, or in a request the
    address the page was asked at."""
    base = site.config.app_url.rstrip("/")
    if not base:
        try:
            from flask import request

            base = request.url_root.rstrip("/")
        except RuntimeError:  # no request: the command line
            base = ""
    return base + path


def issue(site: Site, story: Story, *, by: str, code: bool, ip: str | None,
          log: AuditLog) -> Issued:
    """A new request for the story's current words (``code``: with a short code for a
    letter); open requests for older words stop. Refused (RequestRefused) when the core
    says the storyteller cannot be asked now."""
    found = refusals(story)
    if found:
        raise RequestRefused("you cannot ask yet: " + "; ".join(found))
    links = Links(site)
    for old in links.for_story(story.id, lifecycle.SIGNOFF):
        if old.live() and old.revision != story.revision:
            links.revoke(old.id, by=by)
    issued = links.issue(lifecycle.SIGNOFF, story.id, by=by, revision=story.revision,
                         etag=story.etag, code=code, replace=False)
    log.record(lifecycle.SIGNOFF_REQUESTED, actor=by, story_id=story.id, etag=story.etag,
               ip=ip, detail=f"revision {story.revision}: {'letter' if code else 'link'} "
                             f"(request {issued.link.id})")
    return issued


def email_refusal(site: Site, story: Story) -> str | None:
    """Why the storyteller's link cannot be emailed to them, in words (None: it can)."""
    contact = story.current_consent.contact if story.current_consent else None
    if mail.email_settings(site) is None:
        return "email is not set up for this site ([email] host in storykit.toml)"
    if not site.config.app_url:
        return "the site does not say where the app is ([site] app_url in storykit.toml)"
    if contact is None or not contact.email:
        return "their consent record has no email address"
    if not contact.agrees_to_contact:
        return "their consent record says not to contact them"
    return None


def email_link(site: Site, story: Story, link_address: str, *, until: str, event: str,
               by: str) -> bool:
    """Email the new link to the storyteller when their contact details allow it and email
    is on; True when it was queued."""
    contact = story.current_consent.contact if story.current_consent else None
    return bool(contact and contact.agrees_to_contact and contact.email and mail.notify(
        site, event, [contact.email], link=link_address, story_id=story.id,
        audience="storyteller", until=until, by=by))


def revoke(site: Site, story: Story, link_id: int, purpose: str, *, by: str, ip: str | None,
           log: AuditLog) -> bool:
    """Stop one of the story's requests of ``purpose``; False when it was not one of them,
    or was already answered or stopped."""
    links = Links(site)
    mine = any(link.id == link_id for link in links.for_story(story.id, purpose))
    if not (mine and links.revoke(link_id, by=by)):
        return False
    log.record(f"{purpose}.revoked", actor=by, story_id=story.id, ip=ip,
               detail=f"request {link_id}")
    return True


def record_answer(site: Site, conn: Connection, story: Story, answer: Answer, *, by: str,
                  ip: str | None, log: AuditLog) -> Story:
    """Record an answer staff took (check :meth:`Answer.problems` first): the core records
    the sign-off or sends the story back, the open requests for these words are answered,
    and their comment is kept as a story note. Returns the story as saved."""
    from .workflow import add_note

    links = Links(site)
    open_ = [link for link in links.for_story(story.id, lifecycle.SIGNOFF)
             if link.live() and link.revision == story.revision]
    how = f"{answer.via} ({answer.how})" if answer.how else answer.via
    saved = lifecycle.record_signoff_answer(
        site, story.id, story.revision, agreed=answer.choice == "agreed", by=by,
        via=f"{how}; taken by {answer.taken_by[:100]}", ip=ip, log=log)
    for link in open_:
        try:
            links.answer(link.id, answer.choice, via=answer.via, taken_by=answer.taken_by)
        except StorykitError:
            pass
    if answer.comment:
        add_note(conn, story.id, by, "storyteller_changes" if answer.choice == "changes"
                 else "storyteller_comment", answer.comment)
    return saved


def _when(text: str | None) -> str | None:
    if not text:
        return None
    return nice_date(dt.datetime.strptime(text[:10], "%Y-%m-%d"))


def in_words(link: Link, now: float | None = None) -> str:
    """One request, as a sentence for staff (no token, no code, no comment)."""
    state = link.state(now)
    how = "a letter with a code" if link.has_code else "a link"
    said = f"{STATE_WORDS[state]}"
    if state == "used" and link.answer in ANSWER_WORDS:
        said += (f": {ANSWER_WORDS[link.answer].lower()}, "
                 f"{VIA_WORDS.get(link.answered_via or '', 'somehow')}")
        if link.taken_by:
            said += f", taken by {link.taken_by}"
        said += f" ({_when(link.used_at)})"
    elif state == "revoked":
        said += f" by {link.revoked_by} ({_when(link.revoked_at)})"
    elif state in ("waiting", "opened"):
        said += f"; it works until {nice_date(link.expires)}"
    else:
        said += f" on {nice_date(link.expires)}"
    return (f"{said}. Sent as {how} by {link.created_by} on {_when(link.created_at)}, for "
            f"version {link.revision} of the words.")


def as_json(link: Link, now: float | None = None) -> dict[str, Any]:
    """One request for ``--json`` (no token, no code, no comment)."""
    return {"id": link.id, "story": link.story_id, "revision": link.revision,
            "state": link.state(now), "letter": link.has_code, "asked_by": link.created_by,
            "asked_at": link.created_at, "expires": link.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "answer": link.answer, "answered_via": link.answered_via,
            "taken_by": link.taken_by, "answered_at": link.used_at,
            "stopped_by": link.revoked_by, "stopped_at": link.revoked_at}
