"""What the app says about the public website: is a story live and where, is a build on
its way (and how far), did the last one fail, when was the site last built. Read from the
core (storykit.publishing, storykit.jobs); shown on the story page, the publishing page and
the jobs page, and refreshed in place by app.js (the pages work without it: reload them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..jobs import FAILED, QUEUED, RUNNING, Job, job_kinds
from ..model import Story
from ..publishing import SITE_BUILD, WebsiteStatus, public_url, website_status
from .state import state

STATE_WORDS = {QUEUED: "Waiting", RUNNING: "Running", "done": "Done", FAILED: "Failed"}
STATE_COLOURS = {QUEUED: "grey", RUNNING: "blue", "done": "green", FAILED: "red"}


def status_for(story: Story | None = None) -> WebsiteStatus:
    return website_status(state().site, story)


def status_page(story: Story | None):
    """The website's state on a page of its own: app.js reads the live region from it to
    refresh the page that started an update (``X-Pending: 1`` while one is on its way)."""
    from flask import make_response, render_template, url_for

    found = status_for(story)
    refresh = (url_for("stories.website", story_id=story.id) if story is not None
               else url_for("publishing.website"))
    response = make_response(render_template("website/page.html", story=story,
                                             website=found, refresh=refresh))
    response.headers["X-Pending"] = "1" if found.pending else "0"
    return response


def builds_enabled() -> bool:
    return SITE_BUILD in job_kinds(state().site)


def job_label(job: Job) -> str:
    kind = job_kinds(state().site).get(job.kind)
    return kind.label if kind else job.kind


def when(value: str | None) -> str:
    """A time recorded in UTC, in words and in this server's time zone: "today at 10:32",
    "yesterday at 18:05", "4 December at 09:00", "4 December 2025 at 09:00"."""
    if not value:
        return ""
    try:  # packs are recorded to the microsecond ("...:05.123456Z")
        moment = dt.datetime.strptime(value.split(".")[0].removesuffix("Z") + "Z",
                                      "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return ""
    local = moment.astimezone()
    today = dt.datetime.now().astimezone().date()
    day = local.date()
    if day == today:
        words = "today"
    elif day == today - dt.timedelta(days=1):
        words = "yesterday"
    elif day.year == today.year:
        words = f"{day.day} {day:%B}"
    else:
        words = f"{day.day} {day:%B %Y}"
    return f"{words} at {local:%H:%M}"


def percent(job: Job) -> int:
    return int(round(job.progress * 100))


def website_decision(story: Story):
    """May the story be on the public website today (the consent decision, cached)?"""
    from ..publishing import USE

    return state().index.decision(story, USE)


def template_globals() -> dict[str, Any]:
    return {"job_label": job_label, "when": when, "percent": percent,
            "website_decision": website_decision,
            "job_state_words": STATE_WORDS, "job_state_colours": STATE_COLOURS,
            "public_url": public_url(state().site)}
