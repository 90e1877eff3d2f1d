"""The storyteller's pages: no account, reached by a one-time link (``/s/<token>``) or a code
from a letter (``/s/code``), in large clear print with an Easy Read summary.

Opening a link shows a page with one button; pressing it claims the link for this browser
session and sends the browser on to ``/s/answer``
(the token leaves the address bar; like every app page, these send a Referer only to this
site, never to another: ``Referrer-Policy: same-origin``). Any link that
does not work (unknown, expired, used, revoked, another browser's, a tampered token) gets
the same kind page, with the same status, so nobody learns whether a story exists.

These pages set a stricter Content-Security-Policy than the app (no scripts at all, nothing
from anywhere but this site) and ``X-Robots-Tag: noindex``;
they load nothing but one stylesheet: no tracking, no analytics, no fonts from elsewhere.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from markupsafe import Markup, escape

from ... import audit, lifecycle
from ...errors import ConflictError, NotFoundError, StorykitError
from ...letters.signoff import signoff_easy_read, signoff_text
from ...links import LinkRefused, Links
from ...markup import render_markdown
from ...outcomes.telling import STORYTELLER_PAGES
from ...storyteller import CONSENT
from ..auth import client_ip, public
from ..forms import Form
from ..state import audit_log, db, state
from ..storyform import clean
from ..throttle import Limits, release, reserve
from ..workflow import add_note

bp = Blueprint("teller", __name__, url_prefix=STORYTELLER_PAGES.rstrip("/"))

STRICT_CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
              "object-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
COMMENT_MAX = 2000
#: Wrong codes allowed per address, and in all, within the sign-in throttle's window (the
#: same table and window: storykit.web.throttle), before "wait a while".
CODE_PER_ADDRESS, CODE_IN_ALL = 10, 50
_SESSION_KEY, _SESSION_LINK = "teller_key", "teller_link"
#: Who the audit log says acted (never the storyteller's name).
BY_LINK = f"{lifecycle.STORYTELLER} (one-time link)"


@bp.before_request
def _strict() -> None:
    g.csp = STRICT_CSP
    g.robots = "noindex, nofollow, noarchive"


def session_key() -> str:
    """This browser session's secret, which a link is bound to when first opened."""
    key = session.get(_SESSION_KEY)
    if not isinstance(key, str) or len(key) < 32:
        key = session[_SESSION_KEY] = secrets.token_urlsafe(32)
    return key


def refused(code: str, story_id: str | None = None):
    """The one kind page for every link that does not work (audited with why)."""
    audit.access_denied(audit_log(), None, f"one-time link refused: {code}", story_id=story_id,
                        ip=client_ip())
    return render_template("teller/refused.html",
                           contact=state().site.config.contact_email), 404


def easy_read(points) -> list[Markup]:
    """Easy Read points as HTML: escaped, with the key words (``**bold**``) in bold."""
    return [Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>",  # noqa: S704 - escaped
                          str(escape(p.text)))) for p in points]


@bp.route("/<token>", methods=["GET", "POST"])
@public
def open_link(token: str):
    """A link from an email or a screen. Opening it (GET) changes nothing, so a mail
    system that checks links before delivering them cannot use it up: the storyteller's
    press of "Show me" (POST) claims it for their browser, then shows the request."""
    if not 20 <= len(token) <= 100:
        return refused("unknown")
    links = Links(state().site)
    try:
        if request.method == "GET":
            link = links.peek(token=token, session=session.get(_SESSION_KEY, ""))
            if link is None:
                return render_template("teller/start.html", token=token)
        else:
            link = links.open(token=token, session=session_key())
    except LinkRefused as exc:
        return refused(exc.code)
    session[_SESSION_LINK] = link.id
    return redirect(url_for("teller.answer"), 303)


@bp.route("/code", methods=["GET", "POST"])
@public
def code():
    """Type the code from a letter."""
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("teller/code.html", form=form)
    typed = form.get("code")
    if not typed:
        form.error("code", "Type the code from your letter.")
        return render_template("teller/code.html", form=form), 422
    window = state().limits.window_seconds
    attempt = reserve(db(), Limits(CODE_IN_ALL, CODE_PER_ADDRESS, window), "one-time code",
                      client_ip())
    if attempt.wait:
        form.error("code", f"You have tried too many codes. Wait {window // 60} minutes, then "
                           "try again.")
        return render_template("teller/code.html", form=form), 429
    try:
        link = Links(state().site).open(code=typed, session=session_key())
    except LinkRefused as exc:
        if exc.code == "unknown":
            audit.access_denied(audit_log(), None, "one-time code refused: unknown",
                                ip=client_ip())
            form.error("code", "That code does not work. Check it and type it again. It "
                               "has 8 letters and numbers, like ABCD-2345.")
            return render_template("teller/code.html", form=form), 422
        return refused(exc.code)
    release(db(), attempt)
    session[_SESSION_LINK] = link.id
    return redirect(url_for("teller.answer"), 303)


def _held():
    """The link this browser opened, and its story; raises LinkRefused."""
    link_id = session.get(_SESSION_LINK)
    if not isinstance(link_id, int):
        raise LinkRefused("unknown")
    link = Links(state().site).held(link_id, session.get(_SESSION_KEY, ""))
    try:
        story = state().site.store.get(link.story_id)
    except (NotFoundError, StorykitError):
        raise LinkRefused("unknown") from None
    if lifecycle.is_withdrawn(story):
        raise LinkRefused("withdrawn")
    if link.purpose == lifecycle.SIGNOFF and link.revision != story.revision:
        raise LinkRefused("stale")
    return link, story


@bp.route("/answer", methods=["GET", "POST"])
@public
def answer():
    """The request: the words as they will be used, and the two answers."""
    try:
        link, story = _held()
    except LinkRefused as exc:
        session.pop(_SESSION_LINK, None)
        return refused(exc.code)
    form = Form(request.form if request.method == "POST" else None)
    if link.purpose == CONSENT:
        from .teller_consent import answer_consent, consent_page

        if request.method == "POST":
            return answer_consent(link, story, form)
        return consent_page(story, form)
    if link.purpose == "outcome":
        from .teller_outcome import answer_outcome, outcome_page

        if request.method == "POST":
            return answer_outcome(link, story, form)
        return outcome_page(link, story, form)
    if link.purpose != lifecycle.SIGNOFF:
        return refused("wrong_purpose", link.story_id)
    if request.method == "POST":
        return _answer_signoff(link, story, form)
    return _signoff_page(story, form)


def _signoff_page(story, form: Form, status: int = 200):
    try:
        text = signoff_text(state().site, story)
    except StorykitError:
        return refused("nothing_to_show", story.id)
    return render_template("teller/signoff.html", form=form, text=text,
                           body=render_markdown(text.body, state().site.markdown_extensions,
                                                top_level=4),
                           easy=easy_read(signoff_easy_read(text)),
                           organisation=state().site.config.organisation), status


def _answer_signoff(link, story, form: Form):
    choice = form.get("answer")
    comment = clean(form.get("comment"))
    if choice not in ("agreed", "changes"):
        form.error("answer", "Choose \u201cYes, I agree\u201d or \u201cI would like changes\u201d.")
    elif choice == "changes" and not comment:
        form.error("comment", "Tell us what you would like changed.")
    if len(comment) > COMMENT_MAX:
        form.error("comment", f"Keep it to {COMMENT_MAX:,} characters or fewer.")
    if not form.ok:
        return _signoff_page(story, form, 422)
    site = state().site
    try:
        Links(site).answer(link.id, choice, via="link", session=session.get(_SESSION_KEY, ""))
    except LinkRefused as exc:
        return refused(exc.code, link.story_id)
    try:
        lifecycle.record_signoff_answer(site, story.id, link.revision, agreed=choice == "agreed",
                                        by=BY_LINK, via="link", ip=client_ip(), log=audit_log())
    except (lifecycle.Refused, ConflictError):
        return refused("stale", story.id)
    if comment:
        add_note(db(), story.id, lifecycle.STORYTELLER, "storyteller_changes"
                 if choice == "changes" else "storyteller_comment", comment)
    state().index.put(site.store.get(story.id))
    _tell_staff(story.id, choice)
    return finished(choice)


def finished(done: str):
    """The answer is in: the link is spent, and the browser goes to the thank-you page."""
    session.pop(_SESSION_LINK, None)
    session["teller_done"] = done
    return redirect(url_for("teller.thanks"), 303)


def _tell_staff(story_id: str, choice: str) -> None:
    from ..alerts import signoff_answered

    signoff_answered(state().site, story_id, choice)


@bp.route("/thanks")
@public
def thanks():
    done = session.get("teller_done")
    return render_template("teller/thanks.html", done=done,
                           organisation=state().site.config.organisation)
