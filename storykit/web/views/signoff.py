"""Asking the storyteller to sign off the final text (staff side): send a request as a
one-time link (shown once, and emailed to them when their consent record allows it), print
it as a letter with a short code, see how each request went, revoke one, and record an
answer given on paper or out loud, with who took it.

A request can be sent only when the core allows it (:func:`storykit.lifecycle.
signoff_request_refusals`: active consent asking for sign-off, the story approved, not
signed off at this revision). The storyteller's pages are storykit.web.views.teller.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for

from ... import lifecycle, mail
from ...errors import ConflictError, StorykitError
from ...letters import STYLE_WORDS, STYLES, LetterError, write_letter
from ...letters.signoff import signoff_letter
from ...links import Links, format_code
from ...model import Story
from ..access import RECORD_CONSENT
from ..auth import client_ip, current_user, record
from ..forms import Form
from ..state import audit_log, db, state
from ..storyform import clean
from ..workflow import add_note, notes
from .editor import editable

bp = Blueprint("signoff", __name__, url_prefix="/stories")
ANSWER_WORDS = {"agreed": "Yes, they agree", "changes": "They would like changes"}
VIA_WORDS = {"link": "through their link", "code": "with the code from their letter",
             "paper": "on paper", "spoken": "in person or by phone"}
STATE_WORDS = {"waiting": "Not opened yet", "opened": "Opened, no answer yet",
               "used": "Answered", "revoked": "Stopped", "expired": "Ran out"}


def _page(story: Story, *, sent: dict | None = None, form: Form | None = None,
          status: int = 200):
    site = state().site
    links = Links(site).for_story(story.id, lifecycle.SIGNOFF)
    consent = story.current_consent
    contact = consent.contact if consent else None
    return render_template(
        "signoff/page.html", story=story, links=links, sent=sent, form=form or Form(),
        refusals=lifecycle.signoff_request_refusals(story),
        signed_off=lifecycle.signed_off_now(story), consent=consent, contact=contact,
        email_on=mail.email_settings(site) is not None, state_words=STATE_WORDS,
        answer_words=ANSWER_WORDS, via_words=VIA_WORDS,
        styles=[(s, STYLE_WORDS[s].capitalize()) for s in STYLES],
        preferred=contact.preferred_format if contact else "standard",
        notes=[n for n in notes(db(), story.id) if n["kind"].startswith("storyteller")],
        now=dt.datetime.now(dt.UTC).timestamp()), status


@bp.route("/<story_id>/sign-off")
def page(story_id: str):
    return _page(editable(story_id, "sign_off", RECORD_CONSENT))


def _can_send(story: Story, form: Form) -> bool:
    found = lifecycle.signoff_request_refusals(story)
    if found:
        form.error("send", "You cannot ask yet: " + "; ".join(r.message for r in found) + ".")
    if form.get("etag") != story.etag:
        form.error("send", "The story changed after you opened this page. Check it, then "
                           "send the request again.")
    return form.ok


def _issue(story: Story, *, code: bool):
    """A new request for the story's current words; older ones for other words stop."""
    links = Links(state().site)
    user = current_user()
    assert user is not None
    for old in links.for_story(story.id, lifecycle.SIGNOFF):
        if old.live() and old.revision != story.revision:
            links.revoke(old.id, by=user.name)
    issued = links.issue(lifecycle.SIGNOFF, story.id, by=user.name, revision=story.revision,
                         etag=story.etag, code=code, replace=False)
    record(lifecycle.SIGNOFF_REQUESTED, story_id=story.id, etag=story.etag,
           detail=f"revision {story.revision}: {'letter' if code else 'link'} "
                  f"(request {issued.link.id})")
    return issued


def public_address(path: str) -> str:
    base = state().site.config.app_url.rstrip("/") or request.url_root.rstrip("/")
    return base + path


@bp.route("/<story_id>/sign-off/send", methods=["POST"])
def send(story_id: str):
    """A one-time link: shown once on the page, and emailed when their record allows."""
    story = editable(story_id, "sign_off_send", RECORD_CONSENT)
    form = Form(request.form)
    if not _can_send(story, form):
        return _page(story, form=form, status=422)
    return _page(story, sent=send_link(story, _issue(story, code=False), "signoff_request"))


def send_link(story: Story, issued, event: str) -> dict:
    """The new link's address to show once, emailed to the storyteller (``event``) when
    their contact details allow it and email is on."""
    address = public_address(url_for("teller.open_link", token=issued.token))
    until = _nice(issued.link.expires)
    contact = story.current_consent.contact if story.current_consent else None
    emailed = bool(contact and contact.agrees_to_contact and contact.email and mail.notify(
        state().site, event, [contact.email], link=address, story_id=story.id,
        audience="storyteller", until=until, by=current_user().name))
    return {"address": address, "until": until, "emailed": emailed}


@bp.route("/<story_id>/sign-off/letter", methods=["POST"])
def letter(story_id: str):
    """The request as a letter (a PDF download) with a short code to type at /s/code."""
    story = editable(story_id, "sign_off_letter", RECORD_CONSENT)
    form = Form(request.form)
    style = form.get("style")
    if style not in STYLES:
        form.error("style", "Choose how to print the letter.")
    if not _can_send(story, form) or not form.ok:
        return _page(story, form=form, status=422)
    site = state().site
    issued = _issue(story, code=True)
    made = letter_pdf(story, issued, style, form, lambda: signoff_letter(
        site, story, code=format_code(issued.code), where=public_address(url_for("teller.code")),
        expires=issued.link.expires.date()))
    if made is None:
        return _page(story, form=form, status=422)
    return send_file(BytesIO(made), mimetype="application/pdf", as_attachment=True,
                     download_name=f"sign-off-letter-{story.id}.pdf", etag=False,
                     conditional=False)


def letter_pdf(story: Story, issued, style: str, form: Form, make) -> bytes | None:
    """The letter ``make()`` returns, drawn in ``style``, as PDF bytes (nothing kept on
    disk); None with the form's error when it cannot be made (the link is stopped then)."""
    site = state().site
    user = current_user()
    out = site.instance / "tmp" / f"letter-{issued.link.id}.pdf"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_letter(site, make(), out, style=style, force=True, by=user.name)
        return out.read_bytes()
    except LetterError as exc:
        Links(site).revoke(issued.link.id, by=user.name)
        form.error("style", f"The letter could not be made: {exc}.")
        return None
    finally:
        out.unlink(missing_ok=True)


@bp.route("/<story_id>/sign-off/<int:link_id>/revoke", methods=["POST"])
def revoke(story_id: str, link_id: int):
    story = editable(story_id, "sign_off_revoke", RECORD_CONSENT)
    return revoke_request(story, link_id, lifecycle.SIGNOFF, "signoff.page")


def revoke_request(story: Story, link_id: int, purpose: str, back: str):
    """Stop one of the story's requests of ``purpose``; back to the ``back`` page."""
    links = Links(state().site)
    mine = any(link.id == link_id for link in links.for_story(story.id, purpose))
    if mine and links.revoke(link_id, by=current_user().name):
        record(f"{purpose}.revoked", story_id=story.id, detail=f"request {link_id}")
        flash("The request was stopped: its link and code no longer work.")
    else:
        flash("That request had already been answered or stopped.", "warning")
    return redirect(url_for(back, story_id=story.id), 303)


@bp.route("/<story_id>/sign-off/answer", methods=["POST"])
def answer(story_id: str):
    """An answer given on paper or out loud, recorded by staff with who took it."""
    story = editable(story_id, "sign_off_answer", RECORD_CONSENT)
    form = Form(request.form)
    choice, via = form.get("answer"), form.get("via")
    taken_by, comment = form.get("taken_by"), clean(form.get("comment"))
    if choice not in ANSWER_WORDS:
        form.error("answer", "Choose what the storyteller said.")
    if via not in ("paper", "spoken"):
        form.error("via", "Choose how they answered.")
    if not taken_by:
        form.error("taken_by", "Write who took their answer.")
    elif len(taken_by) > 200 or "\n" in taken_by:
        form.error("taken_by", "Write the name on one line of 200 characters or fewer.")
    if choice == "changes" and not comment:
        form.error("comment", "Write what they would like changed.")
    if len(comment) > lifecycle.REASON_MAX:
        form.error("comment", f"Keep it to {lifecycle.REASON_MAX:,} characters or fewer.")
    if form.get("revision") != str(story.revision):
        form.error("answer", "The words changed after you opened this page: they must check "
                             "the new words.")
    found = lifecycle.signoff_request_refusals(story)
    if found:
        form.error("answer", "You cannot record an answer now: "
                   + "; ".join(r.message for r in found) + ".")
    if not form.ok:
        return _page(story, form=form, status=422)
    site = state().site
    user = current_user()
    links = Links(site)
    open_ = [link for link in links.for_story(story.id, lifecycle.SIGNOFF)
             if link.live() and link.revision == story.revision]
    try:
        saved = lifecycle.record_signoff_answer(
            site, story.id, story.revision, agreed=choice == "agreed",
            by=user.name, via=f"{via}; taken by {taken_by[:100]}", ip=client_ip(), log=audit_log())
    except (lifecycle.Refused, ConflictError, StorykitError) as exc:
        form.error("answer", f"The answer was not recorded: {exc}.")
        return _page(story, form=form, status=409)
    for link in open_:
        try:
            links.answer(link.id, choice, via=via, taken_by=taken_by)
        except StorykitError:
            pass
    if comment:
        add_note(db(), story.id, user.name, "storyteller_changes" if choice == "changes"
                 else "storyteller_comment", comment)
    state().index.put(saved)
    flash(f"Their answer was recorded: {ANSWER_WORDS[choice].lower()}, taken by {taken_by}.")
    return redirect(url_for("signoff.page", story_id=story.id), 303)


def _nice(when: dt.datetime) -> str:
    return f"{when.day} {when:%B %Y}"
