"""Outcome pages: what the team decided or did because of stories. A list to filter and track
(overdue ones say so in words), a page for each outcome with its stories, the storytellers
told and their responses, forms to add and change outcomes, record a response, and tell the
storytellers: by email with a one-time link when their consent allows it, otherwise by letter
(in the format each prefers) with the link's short code.

Who may do what follows the story rules (:mod:`storykit.web.access`): you see an outcome when
you may view at least one of its stories, and only the stories you may view are named to you;
you may change it (and record responses) when you may view every one of its stories; letters
carry a storyteller's name and address, so only admins and the people who work on a story
write them or open them. The work is done by :mod:`storykit.outcomes`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ...dates import nice_date, today
from ...errors import StorykitError
from ...letters import STYLE_WORDS
from ...model import Story
from ...outcomes import (
    FIELDS,
    RESPONSE_WAYS,
    RESPONSE_WORDS,
    STATUS_WORDS,
    STATUSES,
    Filter,
    Outcome,
    OutcomeError,
    outcome_log,
    record_outcome,
    record_response,
    update_outcome,
)
from .. import access
from ..access import VIEW, can
from ..auth import current_user, deny
from ..forms import Form
from ..state import state

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")
#: Form fields, in the order the form shows them (``stories`` is the list of story refs).
FORM_FIELDS = ("title", "why", "stories", "owner", "due", "status", "reason", "service",
               "meeting", "meeting_date", "pack_id")
STATUS_OPTIONS = [(s, STATUS_WORDS[s]) for s in STATUSES]
#: Ways staff record a response (a link's answers arrive on their own).
STAFF_WAYS = [(w, RESPONSE_WORDS[w]) for w in RESPONSE_WAYS if w != "link"]


# --- who may do what ---------------------------------------------------------------------------

def _stories(outcome: Outcome) -> dict[str, Story | None]:
    """The outcome's stories as the files hold them (None for one that cannot be read)."""
    found: dict[str, Story | None] = {}
    for story_id in outcome.story_ids:
        try:
            found[story_id] = state().index.story(story_id)
        except StorykitError:
            found[story_id] = None
    return found


def seen(outcome: Outcome, stories: dict[str, Story | None] | None = None) -> list[Story]:
    """The outcome's stories the current user may view."""
    user = current_user()
    stories = _stories(outcome) if stories is None else stories
    return [s for s in stories.values() if s is not None and can(user, VIEW, s)]


def may_see(outcome: Outcome, stories: dict[str, Story | None] | None = None) -> bool:
    user = current_user()
    return user is not None and (user.has("admin") or bool(seen(outcome, stories)))


def may_change(outcome: Outcome, stories: dict[str, Story | None] | None = None) -> bool:
    user = current_user()
    if user is None:
        return False
    stories = _stories(outcome) if stories is None else stories
    return user.has("admin") or len(seen(outcome, stories)) == len(outcome.story_ids)


def may_write_to(story: Story) -> bool:
    """Letters hold the storyteller's name and address: admins and the story's people."""
    user = current_user()
    return user is not None and (user.has("admin") or access.involved(user, story.id))


def _outcome(outcome_id: str, action: str) -> tuple[Outcome, dict[str, Story | None]]:
    found = outcome_log(state().site).find(outcome_id) if len(outcome_id) <= 20 else None
    if found is None:
        deny(404, f"outcome {action}")
    stories = _stories(found)
    if not may_see(found, stories):
        deny(404, f"outcome {action}")
    return found, stories


def _viewable(story: Story) -> bool:
    return can(current_user(), VIEW, story)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()][:60]


# --- the list ----------------------------------------------------------------------------------

@bp.route("")
def index():
    """Outcomes the user may see, filtered by status, service, story and overdue."""
    args = request.args
    status = args.get("status", "") if args.get("status", "") in STATUSES else ""
    log = outcome_log(state().site)
    services = log.services()
    service = args.get("service", "") if args.get("service", "") in services else ""
    overdue = args.get("overdue", "") == "1"
    on = today()
    found = [o for o in log.list(Filter(status=status or None, service=service or None,
                                        overdue_on=on if overdue else None, limit=500))
             if may_see(o)]
    late = sum(o.overdue(on) for o in found)
    return render_template(
        "outcomes/list.html", outcomes=found, on=on, status=status, service=service,
        overdue=overdue, late=late, status_options=[("", "Any stage")] + STATUS_OPTIONS,
        service_options=[("", "Every service")] + [(s, s) for s in services])


# --- measures ----------------------------------------------------------------------------------

@bp.route("/measures")
def measures_page():
    """Stories heard, outcomes by status, days from story to outcome and storytellers told,
    per quarter (one service, or all): charts, each with its table and a summary."""
    from ...outcomes.measures import measures, totals_by_quarter

    everything = measures(state().site, stories=state().index.snapshot().stories.values())
    services = sorted({r.service for r in everything})
    service = request.args.get("service", "")
    service = service if service in services else ""
    rows = [r for r in everything if not service or r.service == service]
    return render_template("outcomes/measures.html", charts=_charts(totals_by_quarter(rows),
                                                                     service),
                           service=service,
                           service_options=[("", "Every service")] + [(s, s) for s in services])


def _charts(quarters, service: str) -> list[dict]:
    """Each chart's title, one-sentence summary and (label, number) rows."""
    def plural(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    heard = sum(q.heard for q in quarters)
    told = sum(q.told for q in quarters)
    by_status = [(STATUS_WORDS[s], sum(q.outcomes[s] for q in quarters)) for s in STATUSES]
    total = sum(n for _label, n in by_status)
    where = f" in {service}" if service else ""
    done_days = [d for q in quarters for d in q.done_days]
    middle = sorted(done_days)[len(done_days) // 2] if done_days else None
    return [
        {"id": "heard", "title": "Stories heard", "column": "Quarter", "unit": "",
         "summary": f"{plural(heard, 'story was', 'stories were')} heard{where}.",
         "rows": [(q.quarter.words, q.heard) for q in quarters]},
        {"id": "status", "title": "Outcomes by how far they have got",
         "column": "How far it has got", "unit": "",
         "summary": f"{plural(total, 'outcome', 'outcomes')} recorded{where}, "
                    f"{dict(by_status)['Done']} done.", "rows": by_status},
        {"id": "days", "title": "Days from a story being heard to its outcome being done",
         "column": "Quarter done", "unit": " days",
         "summary": ("No outcome is done yet." if middle is None else
                     f"Half of the outcomes were done within about {middle} days of the "
                     "story being heard. The chart shows the middle value for each quarter."),
         "rows": [(q.quarter.words, q.median_days) for q in quarters]},
        {"id": "told", "title": "Storytellers told", "column": "Quarter", "unit": "",
         "summary": f"We told storytellers what came of their story "
                    f"{plural(told, 'time', 'times')}{where}.",
         "rows": [(q.quarter.words, q.told) for q in quarters]},
    ]


@bp.route("/measures.csv")
def measures_csv():
    from ...outcomes.measures import measures
    from ...outcomes.measures import measures_csv as as_csv

    rows = measures(state().site, stories=state().index.snapshot().stories.values())
    return Response(as_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=outcome-measures.csv"})


# --- one outcome -------------------------------------------------------------------------------

@bp.route("/<outcome_id>")
def show(outcome_id: str):
    outcome, stories = _outcome(outcome_id, "view")
    return _show(outcome, stories)


def _show(outcome: Outcome, stories, response_form: Form | None = None, status: int = 200):
    log = outcome_log(state().site)
    visible = seen(outcome, stories)
    ids = {s.id for s in visible}
    writable = [s for s in visible if may_write_to(s)]
    return render_template(
        "outcomes/show.html", outcome=outcome, stories=visible,
        hidden=len(outcome.story_ids) - len(visible), on=today(),
        messages=[m for m in log.messages(outcome.id) if m.story_id in ids],
        responses=[r for r in log.responses(outcome.id) if r.story_id in ids],
        changeable=may_change(outcome, stories), writable=writable,
        letters={s.id: _letter_file(outcome, s.id).is_file() for s in writable},
        response_form=response_form, ways=STAFF_WAYS, style_words=STYLE_WORDS,
        titles={s.id: s.title for s in visible},
        story_options=[("", "Choose a story")] + [(s.id, s.title) for s in visible]), status


# --- adding and changing -----------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        story = request.args.get("story", "")[:70]
        return _form(None, Form({"stories": story, "status": "proposed"} if story else
                                {"status": "proposed"}))
    form = Form(request.form)
    values = {name: form.get(name) for name in FIELDS}
    refs = _split(form.get("stories"))
    try:
        made = record_outcome(state().site, values, refs, by=current_user().name,
                              may_use=_viewable)
    except OutcomeError as exc:
        return _form(None, _errors(form, exc)), 422
    flash("The outcome was recorded.")
    return redirect(url_for("outcomes.show", outcome_id=made.id), 303)


@bp.route("/<outcome_id>/edit", methods=["GET", "POST"])
def edit(outcome_id: str):
    outcome, stories = _outcome(outcome_id, "edit")
    if not may_change(outcome, stories):
        deny(403, "outcome edit")
    if request.method == "GET":
        return _form(outcome, Form(_values(outcome)))
    form = Form(request.form)
    values = {name: form.get(name) for name in FIELDS}
    refs = _split(form.get("stories"))
    try:
        update_outcome(state().site, outcome.id, values, by=current_user().name, stories=refs,
                       may_use=_viewable)
    except OutcomeError as exc:
        return _form(outcome, _errors(form, exc)), 422
    flash("The outcome was saved.")
    return redirect(url_for("outcomes.show", outcome_id=outcome.id), 303)


def _values(o: Outcome) -> dict[str, str]:
    return {"title": o.title, "why": o.why, "owner": o.owner, "status": o.status,
            "reason": o.reason, "service": o.service or "", "meeting": o.meeting or "",
            "due": o.due.isoformat() if o.due else "",
            "meeting_date": o.meeting_date.isoformat() if o.meeting_date else "",
            "pack_id": o.pack_id or "", "stories": ", ".join(o.story_ids)}


def _errors(form: Form, exc: OutcomeError) -> Form:
    for name, message in exc.problems.items():
        form.error(name if name in FORM_FIELDS else "title", message)
    return form


def _form(outcome: Outcome | None, form: Form):
    from ...packs import PackLog

    packs = PackLog(state().site.database).all(limit=50)
    pack_options = [("", "No pack")] + [
        (p.id, p.title + (f", {nice_date(p.meeting_date)}" if p.meeting_date else ""))
        for p in packs]
    return render_template("outcomes/form.html", outcome=outcome, form=form,
                           status_options=STATUS_OPTIONS, pack_options=pack_options)


# --- responses and letters ---------------------------------------------------------------------

@bp.route("/<outcome_id>/responses", methods=["POST"])
def respond(outcome_id: str):
    outcome, stories = _outcome(outcome_id, "respond")
    if not may_change(outcome, stories):
        deny(403, "outcome respond")
    form = Form(request.form)
    try:
        record_response(state().site, outcome.id, form.get("story"),
                        text=form.get("text"), how=form.get("how"),
                        received_on=form.get("received_on"), by=current_user().name)
    except OutcomeError as exc:
        for name, message in exc.problems.items():
            form.error(name if name in ("story", "text", "how", "received_on") else "text",
                       message)
        return _show(outcome, stories, response_form=form, status=422)
    flash("Their response was recorded.")
    return redirect(url_for("outcomes.show", outcome_id=outcome.id) + "#responses", 303)


def _letters_folder() -> Path:
    return state().site.instance / "letters" / "outcomes"


def _letter_file(outcome: Outcome, story_id: str) -> Path:
    from ...outcomes.telling import letter_name

    return _letters_folder() / letter_name(outcome, story_id)


@bp.route("/<outcome_id>/letters", methods=["POST"])
def letters(outcome_id: str):
    """Tell the storytellers this person may write to (storykit.outcomes.telling: by email
    with a one-time link when their consent allows contact and gives an email address and
    email is on, otherwise by letter, written again, with the link's short code)."""
    from ...fsio import make_dirs
    from ...outcomes.telling import Answering, tell_storytellers
    from .signoff import public_address

    outcome, stories = _outcome(outcome_id, "letters")
    writable = [s for s in seen(outcome, stories) if may_write_to(s)]
    if not writable:
        deny(403, "outcome letters")
    folder = _letters_folder()
    make_dirs(folder)
    titles = {s.id: s.title for s in writable}
    for told in tell_storytellers(state().site, outcome.id, folder, by=current_user().name,
                                  answering=Answering(public_address("")), stories=writable,
                                  force=True):
        flash(told.words(titles[told.story_id]))
    return redirect(url_for("outcomes.show", outcome_id=outcome.id) + "#told", 303)


@bp.route("/<outcome_id>/letters/<story_id>.pdf")
def letter(outcome_id: str, story_id: str):
    outcome, stories = _outcome(outcome_id, "letter")
    story = stories.get(story_id[:70])
    if story is None or not can(current_user(), VIEW, story) or not may_write_to(story):
        deny(404, "outcome letter")
    path = _letter_file(outcome, story.id)
    if not path.is_file():
        deny(404, "outcome letter", story.id)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"letter-{outcome.id}-{story.id}.pdf",
                     last_modified=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))


# --- on a story's page -------------------------------------------------------------------------

@bp.app_context_processor
def _template_globals() -> dict:
    """For ``outcomes/_for_story.html`` (included on a story's page) and the outcome pages."""
    return {"outcomes_of": for_story, "outcomes_today": today,
            "is_withdrawn": access.is_withdrawn}


def for_story(story: Story) -> list[Outcome]:
    """Outcomes of ``story`` (shown on its page, which only those who may view the story
    see)."""
    return outcome_log(state().site).for_story(story.id)
