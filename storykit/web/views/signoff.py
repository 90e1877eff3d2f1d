"""Asking the storyteller to sign off the final text (staff side): send a request as a
one-time link (shown once, and emailed to them when their consent record allows it), print
it as a letter with a short code, see how each request went, revoke one, and record an
answer given on paper or out loud, with who took it.

A request can be sent only when the core allows it (:func:`storykit.lifecycle.
signoff_request_refusals`: active consent asking for sign-off, the story approved, not
signed off at this revision). The steps themselves are storykit.web.signoff_requests, which
``storykit signoff`` uses too. The storyteller's pages are storykit.web.views.teller.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for

from ... import lifecycle, mail
from ...dates import nice_date
from ...errors import ConflictError, StorykitError
from ...letters import STYLE_WORDS, STYLES, LetterError, write_letter
from ...letters.signoff import signoff_letter
from ...links import Links, format_code
from ...model import Story
from .. import signoff_requests as requests_
from ..access import RECORD_CONSENT
from ..auth import client_ip, current_user
from ..forms import Form
from ..signoff_requests import ANSWER_WORDS, STATE_WORDS, VIA_WORDS, Answer
from ..state import audit_log, db, state
from ..storyform import clean
from ..workflow import notes
from .editor import editable

bp = Blueprint("signoff", __name__, url_prefix="/stories")


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
    return requests_.issue(state().site, story, by=current_user().name, code=code,
                           ip=client_ip(), log=audit_log())


def public_address(path: str) -> str:
    return requests_.address(state().site, path)


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
    until = nice_date(issued.link.expires)
    emailed = requests_.email_link(state().site, story, address, until=until, event=event,
                                   by=current_user().name)
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
    if requests_.revoke(state().site, story, link_id, purpose, by=current_user().name,
                        ip=client_ip(), log=audit_log()):
        flash("The request was stopped: its link and code no longer work.")
    else:
        flash("That request had already been answered or stopped.", "warning")
    return redirect(url_for(back, story_id=story.id), 303)


@bp.route("/<story_id>/sign-off/answer", methods=["POST"])
def answer(story_id: str):
    """An answer given on paper or out loud, recorded by staff with who took it."""
    story = editable(story_id, "sign_off_answer", RECORD_CONSENT)
    form = Form(request.form)
    taken = Answer(form.get("answer"), form.get("via"), form.get("taken_by"),
                   clean(form.get("comment")))
    revision = form.get("revision")
    for field, message in taken.problems(
            story, int(revision) if revision.isdigit() else -1).items():
        form.error(field, message)
    if not form.ok:
        return _page(story, form=form, status=422)
    site = state().site
    user = current_user()
    try:
        saved = requests_.record_answer(site, db(), story, taken, by=user.name, ip=client_ip(),
                                        log=audit_log())
    except (lifecycle.Refused, ConflictError, StorykitError) as exc:
        form.error("answer", f"The answer was not recorded: {exc}.")
        return _page(story, form=form, status=409)
    state().index.put(saved)
    flash(f"Their answer was recorded: {ANSWER_WORDS[taken.choice].lower()}, taken by "
          f"{taken.taken_by}.")
    return redirect(url_for("signoff.page", story_id=story.id), 303)
