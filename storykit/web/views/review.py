"""Reviewing: the queue of stories waiting for the reviewer, and the review page, where the
reviewer reads the story as it will read (in the site's theme), its findings beside it, the
consent in words, and approves, asks for changes or dismisses a finding, all on one page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ...errors import ConflictError, StorykitError
from ...findings import dismissed_words, in_its_sentence, story_findings
from ...lifecycle import APPROVE, REQUEST_CHANGES, TRANSITIONS
from ...model import Story
from .. import consent_words, preview
from ..access import DISMISS, can
from ..auth import client_ip, current_user, deny, roles_required
from ..errors import error_page
from ..forms import Form
from ..listing import page_number, paginate, visible
from ..state import audit_log, state
from ..workload import Busy, heavy_work
from .editor import theme_choice, theme_options
from .stories import viewable, widened_words

bp = Blueprint("review", __name__, url_prefix="/review")
REASON_MAX = 2000


@bp.route("")
@roles_required("reviewer")
def queue():
    user = current_user()
    snap = state().index.snapshot()
    waiting = [s for s in visible(user, snap, ("in_review",)) if can(user, APPROVE, s)]
    page = paginate(waiting, page_number(), current_app.config["STORYKIT_PAGE_SIZE"])
    return render_template("review/queue.html", page=page)


@bp.route("/<story_id>")
def story(story_id: str):
    """The review page of one story."""
    return review_page(viewable(story_id, "review"))


def review_page(story: Story, *, decision_form: Form | None = None,
                refused: list[str] | None = None, dismiss_form: Form | None = None,
                dismissing: str | None = None):
    """The page's HTML (also shown again, with the errors, after a form on it went wrong:
    the caller answers 422 then)."""
    st = state()
    user = current_user()
    theme = theme_choice(request.values.get("theme"))
    try:
        with heavy_work(wait=True):
            shown = preview.render_preview(st.site, story, theme)
            found = story_findings(st.site, story)
    except Busy as exc:
        shown, found = preview.Preview(None, (), exc.message), None
    items = [] if found is None else [
        {"issue": issue, "sentence": in_its_sentence(story, issue),
         "dismissed": dismissed_words(issue.dismissal) if issue.dismissal else None}
        for issue in found.issues]
    return render_template(
        "review/story.html", story=story, shown=shown, theme=theme,
        theme_options=theme_options(), items=items, findings=found,
        summary=consent_words.summary(story, st.site.config.label, st.index.decision),
        widened=widened_words(story),
        can_decide=can(user, APPROVE, story) or can(user, REQUEST_CHANGES, story),
        approve=TRANSITIONS[APPROVE], may_dismiss=can(user, DISMISS, story),
        form=decision_form, refused=refused, dismiss_form=dismiss_form,
        dismissing=dismissing)


@bp.route("/<story_id>/dismiss", methods=["POST"])
def dismiss(story_id: str):
    """Dismiss one blocking finding with a reason (kept with the story, audited)."""
    from ...findings import dismiss as dismiss_finding

    story = viewable(story_id, "dismiss")
    user = current_user()
    assert user is not None
    if not can(user, DISMISS, story):
        deny(403, "dismiss", story.id)
    form = Form(request.form)
    ref = form.get("finding")
    field = f"reason-{ref}"
    reason = form.get(field).strip()
    if not reason:
        form.error(field, "Say why this may stay, so others know it was checked.")
    elif len(reason) > REASON_MAX:
        form.error(field, f"Keep the reason to {REASON_MAX:,} characters or fewer.")
    if not form.ok:
        return review_page(story, dismiss_form=form, dismissing=ref), 422
    try:
        done = dismiss_finding(state().site, story, ref, reason, by=user.name,
                               etag=form.get("etag"), ip=client_ip(), log=audit_log())
    except ConflictError:
        return error_page(
            409, heading="The story changed",
            message="The story changed after you opened the page, so nothing was dismissed. "
                    "Open the review page again to see its findings now.",
            back=(url_for("review.story", story_id=story.id), "Open the review page again"))
    except StorykitError as exc:
        form.error(field, str(exc)[:1].upper() + str(exc)[1:] + ".")
        return review_page(story, dismiss_form=form, dismissing=ref), 422
    flash(f"The finding was {dismissed_words(done)}. Your reason is kept with the story.")
    return redirect(url_for("review.story", story_id=story.id), 303)
