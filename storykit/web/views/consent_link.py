"""Asking the storyteller about their consent by one-time link or letter (staff side): send a
link (shown once; emailed when their contact details allow), print the re-consent letter with
a code, see the answers, and confirm a change that waits for staff (the site's ``[consent]
confirm_link_changes``). The storyteller's page is storykit.web.views.teller_consent; the
rules are storykit.storyteller."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for

from ... import mail, storyteller
from ...dates import nice_date
from ...errors import StorykitError
from ...letters import STYLE_WORDS, STYLES, reconsent_letter
from ...lifecycle import MEDIA_WORDS
from ...links import Links, format_code
from ...model import Story
from ..access import RECORD_CONSENT
from ..auth import client_ip, current_user, record
from ..forms import Form
from ..state import audit_log, state
from .editor import editable
from .signoff import STATE_WORDS, letter_pdf, public_address, revoke_request, send_link

bp = Blueprint("consent_link", __name__, url_prefix="/stories")
ANSWER_WORDS = {"kept": "Kept their consent as it was", "changed": "Changed their consent",
                "change_waiting": "Asked for a change that waits for you to confirm",
                "confirmed": "Asked for a change, confirmed", "withdrawn": "Withdrew consent",
                "keep": "Kept their consent", "change": "Changed their consent",
                "stop": "Withdrew consent"}


def _refusals(story: Story) -> list[str]:
    consent = story.current_consent
    if consent is None:
        return ["record their consent first"]
    if consent.status == "withdrawn":
        return ["they withdrew their consent"]
    return []


def _page(story: Story, *, sent: dict | None = None, form: Form | None = None,
          status: int = 200):
    site = state().site
    links = Links(site).for_story(story.id, storyteller.CONSENT)
    consent = story.current_consent
    contact = consent.contact if consent else None
    waiting = []
    for link in links:
        if link.answer == storyteller.WAITING:
            choice = storyteller.Choice.from_codes(link.answer_detail or "")
            media = [MEDIA_WORDS.get(m, m) for m in choice.media_of(consent)] \
                if consent is not None else []
            waiting.append((link, choice, [site.config.label(u) for u in choice.uses], media))
    return render_template(
        "consent_link/page.html", story=story, links=links, sent=sent, form=form or Form(),
        refusals=_refusals(story), contact=contact, waiting=waiting,
        email_on=mail.email_settings(site) is not None, state_words=STATE_WORDS,
        answer_words=ANSWER_WORDS, styles=[(s, STYLE_WORDS[s].capitalize()) for s in STYLES],
        preferred=contact.preferred_format if contact else "standard",
        now=dt.datetime.now(dt.UTC).timestamp()), status


@bp.route("/<story_id>/consent/link")
def page(story_id: str):
    return _page(editable(story_id, "consent_link", RECORD_CONSENT))


def _issue(story: Story, *, code: bool):
    user = current_user()
    issued = Links(state().site).issue(storyteller.CONSENT, story.id, by=user.name,
                                       code=code)
    record("consent.link_sent", story_id=story.id,
           detail=f"{'letter' if code else 'link'} (request {issued.link.id})")
    return issued


@bp.route("/<story_id>/consent/link/send", methods=["POST"])
def send(story_id: str):
    story = editable(story_id, "consent_link_send", RECORD_CONSENT)
    form = Form(request.form)
    if _refusals(story):
        form.error("send", "You cannot ask now: " + "; ".join(_refusals(story)) + ".")
        return _page(story, form=form, status=422)
    return _page(story, sent=send_link(story, _issue(story, code=False), "consent_request"))


@bp.route("/<story_id>/consent/link/letter", methods=["POST"])
def letter(story_id: str):
    """The re-consent letter, with a code to answer on the web instead of the slip."""
    story = editable(story_id, "consent_link_letter", RECORD_CONSENT)
    form = Form(request.form)
    style = form.get("style")
    if style not in STYLES:
        form.error("style", "Choose how to print the letter.")
    if _refusals(story):
        form.error("style", "You cannot ask now: " + "; ".join(_refusals(story)) + ".")
    if not form.ok:
        return _page(story, form=form, status=422)
    site = state().site
    issued = _issue(story, code=True)
    where = public_address(url_for("teller.code"))

    def make():
        return replace(reconsent_letter(site, story), code=format_code(issued.code),
                       code_help=f"You can also answer on our web page. Go to **{where}** and "
                                 f"type this code. It works until "
                                 f"**{nice_date(issued.link.expires)}**.").checked()

    made = letter_pdf(story, issued, style, form, make)
    if made is None:
        return _page(story, form=form, status=422)
    return send_file(BytesIO(made), mimetype="application/pdf", as_attachment=True,
                     download_name=f"consent-letter-{story.id}.pdf", etag=False,
                     conditional=False)


@bp.route("/<story_id>/consent/link/<int:link_id>/revoke", methods=["POST"])
def revoke(story_id: str, link_id: int):
    story = editable(story_id, "consent_link_revoke", RECORD_CONSENT)
    return revoke_request(story, link_id, storyteller.CONSENT, "consent_link.page")


@bp.route("/<story_id>/consent/link/<int:link_id>/confirm", methods=["POST"])
def confirm(story_id: str, link_id: int):
    """Confirm a change the storyteller asked for that waits for staff."""
    story = editable(story_id, "consent_link_confirm", RECORD_CONSENT)
    site = state().site
    links = Links(site)
    found = [link for link in links.for_story(story.id, storyteller.CONSENT)
             if link.id == link_id and link.answer == storyteller.WAITING]
    if not found:
        flash("There is no change waiting for you there.", "warning")
        return redirect(url_for("consent_link.page", story_id=story.id), 303)
    user = current_user()
    try:
        saved = storyteller.confirm(site, story.id, storyteller.Choice.from_codes(
            found[0].answer_detail or ""), by=user.name, ip=client_ip(), log=audit_log())
    except StorykitError as exc:
        form = Form()
        form.error("confirm", f"It was not recorded: {exc}.")
        return _page(story, form=form, status=409)
    links.settle(link_id, "confirmed", by=user.name)
    state().index.put(saved)
    flash("The storyteller's change was recorded as a new consent version.")
    return redirect(url_for("consent_link.page", story_id=story.id), 303)
