"""The story editor: a new story, the editing page, its live checks and preview, autosave,
one-click privacy fixes, and the "someone else changed this" page with a three-way merge.

Every save goes through ``site.store.save`` with the etag the form was loaded with (the hidden
``base_etag`` field), so nothing is ever saved over someone else's change:

* stale: a 409 page with both versions, the two edits combined where they do not overlap
  (:mod:`storykit.web.merge`), and the person's own text kept in the form either way;
* withdrawn meanwhile: a 410 page, and the story stays withdrawn;
* the disk refused the write: a 503 page with the person's text still in the form.

The page works without JavaScript (plain form posts; "Preview" posts the form and shows the
preview below it). ``static/editor.js`` adds the live preview, word count, reading age and
privacy checks (``/check``), autosave (``/autosave``) and a warning before leaving with
unsaved changes.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from ... import audit
from ...checks import BLOCKING, Finding
from ...errors import ConflictError, GoneError, NotSavedError, StorykitError, ValidationError
from ...findings import (
    Issue,
    dismissed_words,
    in_its_sentence,
    plugin_findings_of,
    story_findings,
    with_dismissals,
)
from ...fsio import LockTimeout
from ...model import Story, Storyteller
from ...privacy import apply_to_story, field_label, find_privacy_issues
from ...slugs import slugify
from .. import access, preview
from ..access import EDIT, can
from ..auth import client_ip, current_user, deny, roles_required
from ..diffs import LABELS, compare
from ..errors import error_page
from ..forms import Form
from ..merge import EDITED, MergeResult, merge_stories
from ..readability import measure, measure_markdown
from ..state import audit_log, db, state
from ..storyform import ROLE_LABELS, StoryForm, clean, people_row_count, read_story, values_of
from ..uploads import token
from ..workload import Busy, heavy_work
from . import history
from .stories import viewable

bp = Blueprint("editor", __name__, url_prefix="/stories")
#: Findings listed at most (a text of 250 KB can hold 12,000 phone numbers: listing every
#: one took megabytes); the page says how many more there are.
MAX_SHOWN = 100
#: Fields a finding can be fixed in by the editor's script, and the box that holds them.
SIMPLE_FIELDS = {"body": "body", "title": "title", "summary": "summary",
                 "content_warning": "content_warning", "speaker_notes": "speaker_notes"}


def editable(story_id: str, what: str, action: str = EDIT) -> Story:
    """The story if the user may do ``action`` to it now (edit it, record its consent...):
    404 if they may not see it, 410 once it is withdrawn, 403 otherwise (each audited)."""
    story = viewable(story_id, what)
    if access.is_withdrawn(story):
        abort(gone(story, what))
    if not can(current_user(), action, story):
        deny(403, what, story.id)
    return story


def gone(story: Story, what: str) -> Response:
    """The 410 page (audited): a withdrawn story is never changed again."""
    user = current_user()
    audit.access_denied(audit_log(), user.name if user else None, f"{what} (withdrawn)",
                        story_id=story.id, ip=client_ip())
    body, status = error_page(
        410, heading="This story was withdrawn",
        message="The storyteller withdrew their consent, so the story cannot be changed. "
                "Nothing was saved.",
        back=(url_for("stories.show", story_id=story.id), "Back to the story"))
    return make_response(body, status)


# --- a new story -------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required("advocate")
def new():
    """Start a story: its title and who is telling it. The writer becomes its owner."""
    if request.method == "GET":
        return render_template("editor/new.html", form=Form(), roles=ROLE_LABELS)
    form = Form(MultiDict([(k, clean(v)) for k, v in request.form.items(multi=True)]))
    title, teller, role = _new_story_fields(form)
    if not form.ok:
        return render_template("editor/new.html", form=form, roles=ROLE_LABELS), 422
    try:
        story = _create(title, teller, role)
    except NotSavedError as exc:
        form.error("title", f"The story was not saved: {_reason(exc)}")
        return render_template("editor/new.html", form=form, roles=ROLE_LABELS), 503
    except ValidationError:
        form.error("title", "That title cannot be used. Try different words.")
        return render_template("editor/new.html", form=form, roles=ROLE_LABELS), 422
    flash("The story was started. Write it below; it is saved as a draft.")
    return redirect(url_for("editor.edit", story_id=story.id), 303)


def _new_story_fields(form: Form) -> tuple[str, str, str]:
    title = form.require("title", "Enter a title for the story.")
    teller = form.require("teller_name", "Enter the storyteller's name.")
    for name, label in (("title", "The title"), ("teller_name", "The name")):
        if len(form.get(name)) > 200 or "\n" in form.get(name):
            form.error(name, f"{label} must be one line of 200 characters or fewer.")
    role = form.get("teller_role")
    if role not in ROLE_LABELS:
        form.error("teller_role", "Choose who is telling the story.")
    return title, teller, role


def _create(title: str, teller: str, role: str) -> Story:
    """Create the story under a free slug made from the title; grant and audit it."""
    user = current_user()
    assert user is not None
    site = state().site
    base = (slugify(title)[:55].strip("-") or "story")
    for n in range(1, 12):
        slug = base if n == 1 else f"{base}-{n}"
        try:
            story = site.store.create(title, slug=slug, storyteller=teller, role=role,
                                      by=user.name)
            break
        except ConflictError:  # the slug is taken; try the next
            continue
    else:
        story = site.store.create(title, slug=f"{base}-{token()[:6]}", storyteller=teller,
                                  role=role, by=user.name)
    access.grant(db(), story.id, user, "owner", user.name)
    state().index.put(story)
    audit.story_created(audit_log(), user.name, story, ip=client_ip())
    return story


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text[text.find(":") + 1:].strip() if ":" in text else text


# --- the editing page --------------------------------------------------------------------------

def theme_choice(value: str | None) -> str:
    names = preview.theme_names(state().site)
    return value if value in names else state().site.config.theme


def theme_options() -> list[tuple[str, str]]:
    """Themes for the preview's style list: (name, label)."""
    return [(n, n.upper() if len(n) <= 3 else n.replace("-", " ").replace("_", " ").capitalize())
            for n in preview.theme_names(state().site)]


@bp.route("/<story_id>/edit", methods=["GET", "POST"])
def edit(story_id: str):
    """GET: the editor. POST: save (``action=save``) or show a preview (``action=preview``)."""
    story = editable(story_id, "edit")
    theme = theme_choice(request.values.get("theme"))
    if request.method == "GET":
        return editor_page(story, Form(values_of(story)), base_etag=story.etag, theme=theme,
                           subject=story, fixable=True)
    posted = read_story(request.form, story)
    base_etag = request.form.get("base_etag", "")
    if not base_etag:
        posted.form.error("title", "This page was out of date. Open the story again.")
        posted.story = None
    if request.form.get("action") == "preview" or posted.story is None:
        return editor_page(story, posted.form, base_etag=base_etag, theme=theme,
                           subject=posted.story, rows=posted.people_rows), \
            (200 if posted.story else 422)
    return _save(story, posted, base_etag, theme)


def _save(story: Story, posted: StoryForm, base_etag: str, theme: str):
    assert posted.story is not None
    if base_etag == story.etag and _same_words(story, posted.story):
        flash("There were no changes to save.")
        return redirect(url_for("editor.edit", story_id=story.id, theme=theme), 303)
    outcome = save_story(story, posted.story, base_etag, "saved")
    if isinstance(outcome, Story):
        flash("Your changes were saved.")
        return redirect(url_for("editor.edit", story_id=story.id, theme=theme), 303)
    kind, detail = outcome
    if kind == "conflict":
        return conflict_page(story.id, posted, base_etag, theme)
    if kind == "gone":
        return gone(story, "edit")
    heading = "Your changes were not saved"
    return editor_page(story, posted.form, base_etag=base_etag, theme=theme,
                       subject=posted.story, rows=posted.people_rows,
                       not_saved=(heading, detail)), 503


def save_story(story: Story, changed: Story, base_etag: str, what: str
               ) -> Story | tuple[str, str]:
    """Save ``changed`` if the file is still at ``base_etag``; audit it. Returns the saved
    story, or ``("conflict" | "gone" | "not_saved" | "invalid", reason)``."""
    user = current_user()
    assert user is not None
    st = state()
    try:
        saved = st.site.store.save(changed.copy(etag=base_etag), by=user.name)
    except ConflictError:
        now = _fresh(story.id)
        return ("gone", "") if now is None or access.is_withdrawn(now) else ("conflict", "")
    except GoneError:
        return "gone", ""
    except NotSavedError as exc:
        return "not_saved", f"{_reason(exc)} Your text is still in the form below: copy it " \
                            "somewhere safe, or try again in a moment."
    except LockTimeout:
        return "not_saved", "Someone else was saving this story at the same moment. Your " \
                            "text is still in the form below: try again."
    except ValidationError:
        return "not_saved", "The story could not be written in a form storykit can read " \
                            "back. Your text is still in the form below."
    st.index.put(saved)
    if saved.etag != story.etag:
        audit_log().record(audit.STORY_SAVED, actor=user.name, story_id=saved.id,
                           etag=saved.etag, ip=client_ip(),
                           detail=f"revision {saved.revision}: {what}")
    return saved


def _fresh(story_id: str) -> Story | None:
    try:
        return state().index.story(story_id)
    except StorykitError:
        return None


def editor_page(story: Story, form: Form, *, base_etag: str, theme: str,
                subject: Story | None, fixable: bool = False, rows: int | None = None,
                not_saved: tuple[str, str] | None = None, conflict: dict | None = None):
    """The editor (also the conflict and "not saved" pages). ``subject`` is the text the
    preview and checks are about (None when the form has errors); ``fixable`` when that is
    the saved story, so its privacy findings get buttons that fix it."""
    site = state().site
    body = subject.body if subject else clean(form.raw("body"))
    busy = None
    try:
        with heavy_work(wait=True):
            shown = preview.render_preview(site, subject, theme) if subject else None
            found, others = checks_of(subject) if subject else ([], [])
            findings = [describe(subject, i) for i in found[:MAX_SHOWN]] if subject else []
            readability = measure_markdown(body)
    except Busy as exc:  # the page still shows (and keeps) everything typed
        busy, found, findings, others = exc.message, [], [], []
        readability = measure(body)
        shown = preview.Preview(None, (), exc.message)
    return render_template(
        "editor/edit.html", story=story, form=form, base_etag=base_etag, theme=theme,
        theme_options=theme_options(),
        roles=ROLE_LABELS, rows=rows if rows is not None else people_row_count(form),
        shown=shown, readability=readability, findings=findings, others=others,
        more_findings=len(found) - len(findings),
        checks_busy=busy, fixable=fixable, not_saved=not_saved, conflict=conflict,
        autosave_seconds=float(current_app.config["STORYKIT_AUTOSAVE_SECONDS"]))


def checks_of(story: Story) -> tuple[list[Issue], list[Finding]]:
    """The story's findings (privacy, and plugins' blocking ones), blocking first, with
    reviewers' dismissals; and what the other checks say (e.g. consent still pending, a
    picture file missing), plugins' included."""
    site = state().site
    plugin = plugin_findings_of(site, story, dt.date.today())
    found = story_findings(site, story, plugin_findings=plugin)
    return list(found.issues), with_dismissals(story, [f for f in plugin
                                                       if f.severity != BLOCKING])


def describe(story: Story, issue: Issue, offsets: dict | None = None) -> dict:
    """What the page shows of a finding: its kind and place in words, the sentence it is in
    (staff who may edit the story see the text), and where a fix goes in the form."""
    finding = issue.privacy
    item = {"issue": issue, "finding": finding, "where": issue.where, "box": None,
            "sentence": in_its_sentence(story, issue),
            "dismissed": dismissed_words(issue.dismissal) if issue.dismissal else None,
            "state": "blocking" if issue.blocking else
                     ("dismissed" if issue.dismissal else "advisory")}
    if finding is None:
        return item
    box, start = SIMPLE_FIELDS.get(finding.field), finding.start
    if box is None and offsets and finding.field in offsets:
        box, at = offsets[finding.field]
        start = at + finding.start
    item.update(box=box, start=start, end=start + (finding.end - finding.start))
    return item


# --- the live checks and autosave (JSON, for editor.js) ------------------------------------------

@bp.route("/<story_id>/check", methods=["POST"])
def check(story_id: str):
    """The preview, word count, reading age and privacy findings for the text in the form.
    429 with words and ``Retry-After`` when the app has no room for the work just now."""
    story = editable(story_id, "check")
    try:
        with heavy_work():  # workload.turn_away_early already answered when it looked full
            posted = read_story(request.form, story)
            theme = theme_choice(request.form.get("theme"))
            subject = posted.story or story.copy(body=clean(request.form.get("body", "")))
            shown = (preview.render_preview(state().site, subject, theme) if posted.story
                     else _not_shown(posted.form))
            issues, others = checks_of(subject)
            found = [i for i in issues if posted.story or (  # other boxes may not match
                i.privacy is not None and i.privacy.field == "body")]
            details = render_template("editor/_checks.html", fixable=False,
                                      findings=[describe(subject, i, posted.offsets)
                                                for i in found[:MAX_SHOWN]],
                                      more_findings=len(found) - MAX_SHOWN, others=others)
            summary = measure_markdown(subject.body).sentence
    except Busy as exc:
        return jsonify(busy=True, message=exc.message), 429, {
            "Retry-After": str(exc.retry_after)}
    return jsonify(ok=posted.form.ok, summary=summary,
                   details=details, preview=shown.srcdoc if shown and shown.html else None,
                   notes=render_template("editor/_preview_notes.html", shown=shown))


def _not_shown(form: Form) -> preview.Preview | None:
    """Why there is no preview, when the story text itself is the reason (e.g. too long)."""
    problem = form.errors.get("body")
    return preview.Preview(None, (), problem) if problem else None


@bp.route("/<story_id>/autosave", methods=["POST"])
def autosave(story_id: str):
    """Save the draft in the background. A conflict is reported, never overwritten."""
    story = editable(story_id, "autosave")
    posted = read_story(request.form, story)
    base_etag = request.form.get("base_etag", "")
    if not base_etag or not posted.form.ok or posted.story is None:
        first = next(iter(posted.form.errors.values()), "This page was out of date.")
        return jsonify(saved=False, message=f"Not saved automatically: {first}"), 422
    if base_etag == story.etag and _same_words(story, posted.story):
        return jsonify(saved=True, etag=story.etag, message="No changes to save.")
    outcome = save_story(story, posted.story, base_etag, "autosaved")
    if isinstance(outcome, Story):
        return jsonify(saved=True, etag=outcome.etag, revision=outcome.revision,
                       message=f"Draft saved at {_time()}.")
    kind, detail = outcome
    if kind == "conflict":
        return jsonify(saved=False, conflict=True, message=(
            "Someone else changed this story after you opened it, so your changes were not "
            "saved automatically. Your text is still here. Press \u201cSave\u201d to see "
            "both versions and combine them.")), 409
    if kind == "gone":
        return jsonify(saved=False, message="The story was withdrawn. Nothing was saved."), 410
    return jsonify(saved=False, message=f"Not saved automatically: {detail}"), 503


def _same_words(a: Story, b: Story) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in EDITED)


def _time() -> str:
    return dt.datetime.now().strftime("%H:%M")


# --- one-click privacy fixes -------------------------------------------------------------------

@bp.route("/<story_id>/fix", methods=["POST"])
def fix(story_id: str):
    """Apply one finding's replacement to the saved story (an etag-checked save)."""
    story = editable(story_id, "fix")
    base_etag = request.form.get("base_etag", "")
    wanted = (request.form.get("field", ""), request.form.get("start", ""),
              request.form.get("end", ""), request.form.get("kind", ""))
    if base_etag != story.etag:
        return _stale_fix(story)
    try:
        with heavy_work(wait=True):
            found = find_privacy_issues(story)
    except Busy as exc:
        body, status = error_page(429, heading="Please try again in a moment",
                                  message=f"{exc.message} Nothing was changed.",
                                  back=(url_for("editor.edit", story_id=story.id),
                                        "Back to the story"))
        return body, status, {"Retry-After": str(exc.retry_after)}
    match = [f for f in found if (f.field, str(f.start), str(f.end), f.kind) == wanted]
    if not match:
        return _stale_fix(story)
    try:
        fixed = apply_to_story(story, match[:1])
    except ValueError:
        return _stale_fix(story)
    outcome = save_story(story, fixed, base_etag, f"privacy fix ({match[0].kind})")
    if isinstance(outcome, Story):
        flash(f"Replaced it in {field_label(match[0].field)}.")
        return redirect(url_for("editor.edit", story_id=story.id), 303)
    kind, detail = outcome
    if kind == "gone":
        return gone(story, "fix")
    if kind == "conflict":
        return _stale_fix(story)
    return error_page(503, heading="The change was not saved", message=detail,
                      back=(url_for("editor.edit", story_id=story.id), "Back to the story"))


def _stale_fix(story: Story):
    return error_page(
        409, heading="The story changed",
        message="The story changed after you opened the page, so nothing was replaced. Open "
                "the editor again: the checks will show what is still there.",
        back=(url_for("editor.edit", story_id=story.id), "Open the editor again"))


# --- the preview page and the theme's style sheet -----------------------------------------------

@bp.route("/<story_id>/preview")
def preview_page(story_id: str):
    """The story as saved, as its web page would show it, in a chosen theme."""
    story = viewable(story_id, "preview")
    theme = theme_choice(request.args.get("theme"))
    try:
        with heavy_work(wait=True):
            shown = preview.render_preview(state().site, story, theme)
    except Busy as exc:
        shown = preview.Preview(None, (), exc.message)
    return render_template("editor/preview.html", story=story, shown=shown, theme=theme,
                           theme_options=theme_options(), takedown_text=_takedown_text(story))


def _takedown_text(story: Story) -> str | None:
    """Where the people who take a story's copies down read its text, once its consent was
    withdrawn or ended (the preview then shows none of it)."""
    from .copies import may_act

    if preview.ended_words(state().site, story) is None or \
            not may_act(current_user(), story):
        return None
    return url_for("copies.text", story_id=story.id)


@bp.route("/themes/<name>/preview.css")
def theme_css(name: str):
    """A theme's web-page style sheet, for previews (the app's policy forbids inline CSS)."""
    css = preview.theme_css(state().site, name)
    if css is None:
        abort(404)
    return Response(css, mimetype="text/css")


# --- the conflict page -------------------------------------------------------------------------

def conflict_page(story_id: str, posted: StoryForm, base_etag: str, theme: str):
    """409: both versions, and the combined one when the edits do not overlap."""
    theirs = _fresh(story_id)
    if theirs is None or access.is_withdrawn(theirs):
        return gone(theirs or _placeholder(story_id), "edit")
    mine = posted.story
    assert mine is not None
    base = history.story_at(story_id, base_etag)
    merged = merge_stories(base, mine, theirs) if base else MergeResult(
        None, [n for n in EDITED if getattr(mine, n) != getattr(theirs, n)])
    form = Form(values_of(merged.story)) if merged.story is not None else posted.form
    info = {"merged": merged, "theirs": theirs, "changes": compare(theirs, mine),
            "their_changes": compare(base, theirs) if base else [], "labels": LABELS}
    return editor_page(theirs, form, base_etag=theirs.etag, theme=theme, conflict=info,
                       rows=people_row_count(form), subject=merged.story or mine), 409


def _placeholder(story_id: str) -> Story:
    return Story(id=story_id, title="", slug="x", status="withdrawn",
                 storyteller=Storyteller(name="-", role="other"))
