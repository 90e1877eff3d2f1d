"""Story pages: the list of stories you may see, one story's page (read-only: title, status,
consent summary), and the status changes (send for review, ask for changes, approve, publish,
take down)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from ... import audit, lifecycle
from ...errors import ConflictError, GoneError, NotFoundError, ValidationError
from ...model import STORY_STATUSES, Story
from .. import access, accounts, workflow
from ..access import VIEW, actor_of, can
from ..auth import client_ip, current_user, deny
from ..errors import error_page
from ..forms import Form
from ..listing import page_number, paginate, visible
from ..state import audit_log, db, state
from ..steps import next_step
from ..templating import STATUS_LABELS
from ..website import builds_enabled, status_for, status_page
from ..workflow import TRANSITIONS, Refused

bp = Blueprint("stories", __name__, url_prefix="/stories")


@bp.route("")
def index():
    """Every story the user may see, newest first, optionally with one status."""
    user = current_user()
    assert user is not None
    status = request.args.get("status", "")
    statuses = (status,) if status in STORY_STATUSES else None
    stories = visible(user, state().index.snapshot(), statuses)
    page = paginate(stories, page_number(), current_app.config["STORYKIT_PAGE_SIZE"])
    options = [(s, STATUS_LABELS[s]) for s in STORY_STATUSES]
    return render_template("stories/list.html", page=page,
                           status=status if statuses else "", status_options=options)


def viewable(story_id: str, what: str) -> Story:
    """The story as its files hold it now, if the user may view it: otherwise 404 (and an
    audit entry when the story exists), so other people's ids reveal nothing."""
    user = current_user()
    try:
        story = state().index.story(story_id)
    except NotFoundError:
        abort(404)
    except ValidationError:
        if user is not None and (user.has("admin") or access.involved(user, story_id)):
            abort(make_response(error_page(
                422, heading="This story's files have a problem",
                message="storykit cannot read this story's files, so nothing can be done to it "
                        "here. Ask whoever runs the site to run: storykit check")))
        deny(404, what, story_id)
    if not can(user, VIEW, story):
        deny(404, what, story_id)
    return story


@bp.route("/<story_id>")
def show(story_id: str):
    return _page(viewable(story_id, "view"))


def _page(story: Story, form: Form | None = None, refused: list[str] | None = None,
          share_form: Form | None = None):
    st = state()
    user = current_user()
    assert user is not None
    uses = st.site.config.use_names
    actions = lifecycle.available(actor_of(user), story)
    admin = user.has("admin")
    people = access.people(db(), story.id) if admin else []
    users = accounts.choices(db()) if admin else []
    decisions = [(u, st.index.decision(story, u)) for u in uses]
    website_ok = st.index.decision(story, lifecycle.PUBLIC_USE)
    notes = workflow.notes(db(), story.id)
    return render_template(
        "stories/show.html", story=story, consent=story.current_consent,
        website=status_for(story) if builds_enabled() else None, website_ok=website_ok,
        step=next_step(user, story, website_allowed=website_ok.allowed, ended=ended(story),
                       storyteller_asked=_storyteller_asked(notes)),
        decisions=decisions, actions=actions,
        notes=notes, people=people, user_options=users,
        form=form, refused=refused, share_form=share_form,
        findings=findings_of(story), widened=widened_words(story))


def _storyteller_asked(notes: list) -> bool:
    """Whether the newest request for changes (notes come newest first) is the storyteller's
    sign-off answer rather than a reviewer's."""
    for note in notes:
        if note["kind"] in (lifecycle.REQUEST_CHANGES, "storyteller_changes"):
            return note["kind"] == "storyteller_changes"
    return False


def ended(story: Story) -> str | None:
    """When the story's consent ended (or a child's re-consent was due), in words; None
    while it has not."""
    from ...dates import today
    from ...expiry import story_endings

    gone = [e for e in story_endings(story, within=0, on=today()) if e.ended]
    return gone[0].when if gone else None


def findings_of(story: Story):
    """The story's findings (privacy and plugins'), with reviewers' dismissals; None when
    the app has no room for the work just now (a long text's checks are heavy work)."""
    from ...findings import story_findings
    from ..workload import Busy, heavy_work

    try:
        with heavy_work(wait=True):
            return story_findings(state().site, story)
    except Busy:
        return None


def widened_words(story: Story) -> list[str]:
    """Why a story is back in review because its consent widened, in words (empty when it
    is not)."""
    change = lifecycle.last_change(story)
    if story.status != "in_review" or change is None or not change.widened:
        return []
    if not _sent_back_by_consent(story):  # e.g. a draft given wider consent, then submitted
        return []
    return change.sentences(state().site.config.label)


def _sent_back_by_consent(story: Story) -> bool:
    """Whether the story's last status change was the widened consent sending it back to
    review (the audit log says so), and nothing changed it since."""
    from ...audit import STATUS_CHANGED, AuditFilter

    [last] = audit_log().query(AuditFilter(action=STATUS_CHANGED, story_id=story.id),
                               limit=1) or [None]
    return (last is not None and last.etag == story.etag
            and "(consent widened" in (last.detail or ""))


@bp.route("/<story_id>/website")
def website(story_id: str):
    """The story's website status on a page of its own (app.js refreshes the story page
    from it)."""
    return status_page(viewable(story_id, "view"))


#: What the page says after publishing or taking down, while the website is updated.
ON_THE_WAY = {"publish": "The story was published. It is being put on the website now: "
                         "this page says when it is live.",
              "unpublish": "The story was taken down. It is being taken off the website now."}


def _transition(story_id: str, action: str):
    """Make the status change ``action`` to the story, if allowed and not stale. The review
    page's forms say ``from=review``: what goes wrong is shown there again."""
    user = current_user()
    assert user is not None
    transition = TRANSITIONS[action]
    story = viewable(story_id, action)
    if access.is_withdrawn(story):
        _audit_denial(action, story.id)
        return _gone(story)
    if not can(user, action, story):
        deny(403, action, story.id)
    form = Form(request.form)
    etag = form.get("etag")
    if not etag:
        abort(400)
    reason = _reason(form) if transition.needs_reason else ""
    again = _review_page if form.get("from") == "review" else _page
    if not form.ok:
        return again(story, form=form), 422
    st = state()
    try:
        saved = workflow.change_status(st.site, db(), audit_log(), user, story, action, etag,
                                       ip=client_ip(), reason=reason)
    except ConflictError:
        if access.is_withdrawn(st.index.story(story.id)):
            _audit_denial(action, story.id)
            return _gone(story)
        return _stale(story)
    except GoneError:
        _audit_denial(action, story.id)
        return _gone(story)
    except Refused as exc:
        return again(story, refused=exc.messages), 422
    st.index.put(saved)
    flash(ON_THE_WAY.get(action, transition.done) if builds_enabled() else transition.done)
    return redirect(url_for("stories.show", story_id=story.id) +
                    ("#website" if action in ON_THE_WAY else ""), 303)


def _review_page(story: Story, form: Form | None = None, refused: list[str] | None = None):
    from .review import review_page

    return review_page(story, decision_form=form, refused=refused)


def _reason(form: Form) -> str:
    reason = form.get("reason")
    if not reason:
        form.error("reason", "Say what needs to change, so the writer knows what to do.")
    elif len(reason) > workflow.REASON_MAX:
        form.error("reason", f"Your note must be {workflow.REASON_MAX} characters or fewer.")
    return reason


def _audit_denial(action: str, story_id: str) -> None:
    user = current_user()
    audit.access_denied(audit_log(), user.name if user else None, f"{action} (withdrawn)",
                        story_id=story_id, ip=client_ip())


def _stale(story: Story):
    return error_page(
        409, heading="Someone else changed this story",
        message="The story changed after you opened the page, so nothing was saved. Open the "
                "story again to see the latest version, then try again.",
        back=(url_for("stories.show", story_id=story.id), "Open the story again"))


def _gone(story: Story):
    return error_page(
        410, heading="This story was withdrawn",
        message="The storyteller withdrew their consent, so the story cannot be published or "
                "changed.",
        back=(url_for("stories.show", story_id=story.id), "Back to the story"))


def _register_transitions() -> None:
    for action in TRANSITIONS:
        path = action.replace("_", "-")

        def view(story_id: str, _action: str = action):
            return _transition(story_id, _action)

        view.__name__ = action
        view.__doc__ = f"Status change: {TRANSITIONS[action].label}."
        bp.add_url_rule(f"/<story_id>/{path}", endpoint=action, view_func=view, methods=["POST"])


_register_transitions()
