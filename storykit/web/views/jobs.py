"""The jobs page: background jobs (site builds, the consent sweep...), who started each and
when, how far it is, its result or what went wrong, and "Try again" for failed ones. Each
job has its own page, and a small JSON answer app.js polls to show progress in place."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from ...jobs import FAILED, JobError, Jobs
from ...taskqueue import retry as retry_job
from ..auth import current_user, record, roles_required
from ..state import state
from ..website import builds_enabled, job_label, percent, status_for

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
STAFF = ("publisher", "admin")
PAGE_SIZE = 50


def _job(job_id: int):
    job = Jobs(state().site).find(job_id)
    if job is None:
        abort(404)
    return job


@bp.route("")
@roles_required(*STAFF)
def index():
    jobs = Jobs(state().site)
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1
    total = jobs.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    found = jobs.recent(PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("jobs/index.html", jobs=found, page=page, pages=pages, total=total,
                           failures=jobs.open_failures(10), website=status_for(),
                           builds=builds_enabled(), people=_people())


@bp.route("/<int:job_id>")
@roles_required(*STAFF)
def show(job_id: int):
    job = _job(job_id)
    return render_template("jobs/show.html", job=job, people=_people(),
                           titles=_titles(job.stories()))


def _titles(story_ids: list[str]) -> dict[str, str]:
    """Titles of the stories a job was about that this person may see."""
    from ...errors import StorykitError
    from ..access import VIEW, can

    user, index, found = current_user(), state().index, {}
    for story_id in story_ids[:50]:
        try:
            story = index.story(story_id)
        except StorykitError:
            continue
        if can(user, VIEW, story):
            found[story_id] = story.title
    return found


@bp.route("/<int:job_id>/status")
@roles_required(*STAFF)
def status(job_id: int):
    """How far a job is, for app.js (no story text: counts and sentences)."""
    job = _job(job_id)
    return jsonify({"id": job.id, "state": job.state, "finished": job.finished,
                    "percent": percent(job), "message": job.error if job.state == FAILED
                    and job.error else job.message, "label": job_label(job)})


@bp.route("/<int:job_id>/retry", methods=["POST"])
@roles_required(*STAFF)
def retry(job_id: int):
    user = current_user()
    assert user is not None
    _job(job_id)
    try:
        job = retry_job(state().site, job_id, user.name)
    except JobError as exc:
        flash(f"Nothing was done: {exc}.")
        return redirect(url_for("jobs.show", job_id=job_id), 303)
    record("job.retried", detail=f"job {job_id} as job {job.id} ({job.kind})")
    flash(f"Job {job_id} will be tried again as job {job.id}.")
    back = request.form.get("back", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back, 303)
    return redirect(url_for("jobs.show", job_id=job.id), 303)


def _people() -> dict[str, str]:
    """Account names -> display names, for "started by"."""
    from ..words import people

    names = dict(people())
    names.setdefault("storykit", "storykit (automatic)")
    return names
