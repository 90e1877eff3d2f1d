"""Publish means live: the ``site-build`` job kind and the events that queue it.

A worker runs the job: an incremental build of the public website into the publish folder
(``[publish] folder``), stories no longer allowed taken down first and the publish target
told at once, then the rest built and the target told what was written and removed. The
job's progress and result (counts, and which stories could not be built and why: never
their text) are in the jobs table for the app and ``storykit jobs list``.

Publishing or unpublishing a story, a new consent version of a published story (narrowed,
widened, expired...) and a withdrawal each queue one (joining a build already waiting). The
daily consent sweep (storykit.sweep) queues one when consent ran out.

Registered as its own plugin (``storykit_publish``) so ``storykit plugins`` shows it apart
from the builder; it imports the builder only when a job runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storykit import hookimpl
from storykit.kit import (
    SITE_BUILD,
    JobKind,
    deliver,
    publish_folder,
    queue_site_build,
)

if TYPE_CHECKING:  # pragma: no cover
    from storykit import ConsentVersion, Site, Story
    from storykit.kit import JobContext

__version__ = "0.1.0"
PUBLISHED = "published"
#: How long a site build waits for another build of the same site (a command-line one).
BUILD_WAIT = 600


def run_site_build(context: JobContext) -> dict[str, Any]:
    """The job: build the website into the publish folder and tell the publish target."""
    from .build import build_site

    site = context.site
    folder = publish_folder(site)
    sent: set[str] = set()

    def taken_down(removed: list[str], written: list[str]) -> None:
        context.progress(0.12, "Telling the website about the stories taken down.",
                         force=True)
        deliver(site, folder, written, removed, takedown=True)
        sent.update(removed)

    context.progress(0.02, "Starting the website build.", force=True)
    report = build_site(site, folder, by=context.by, progress=context.progress,
                        taken_down=taken_down, wait=BUILD_WAIT)
    context.progress(0.95, "Sending the website to its publish target.", force=True)
    removed = [r for r in report.removed if r not in sent]
    deliver(site, folder, set(report.written) - set(report.removed), removed)
    words = (f"The website was updated: {_count(report.stories, 'story', 'stories')} on it, "
             f"{_count(report.rendered, 'page')} made, "
             f"{_count(len(report.removed), 'file')} removed.")
    if report.unchanged:
        words = ("The website was already up to date: "
                 f"{_count(report.stories, 'story', 'stories')} on it.")
    result: dict[str, Any] = {
        "message": words, "stories": report.stories, "rendered": report.rendered,
        "removed": len(report.removed), "taken_down": report.taken_down,
        "problems": list(report.problems)}
    if report.problems:
        result["failed"] = (f"The website was updated, but "
                            f"{_count(len(report.problems), 'story', 'stories')} could not be "
                            "put on it: " + "; ".join(report.problems[:5]) +
                            ("; ..." if len(report.problems) > 5 else "") +
                            ". Fix them, then try again.")
    return result


@hookimpl
def register_job_kinds() -> list[JobKind]:
    return [JobKind(SITE_BUILD, "Update the public website", run_site_build,
                    params=("stories",), coalesce=True)]


@hookimpl
def after_status_change(site: Site, story: Story, old: str, new: str, by: str) -> None:
    """Publishing or unpublishing a story changes the website."""
    if PUBLISHED in (old, new):
        queue_site_build(site, by=by, stories=[story.id])


@hookimpl
def after_consent_change(site: Site, story: Story, old: ConsentVersion | None,
                         new: ConsentVersion, by: str) -> None:
    """A published story's page must show what its consent allows now (or go)."""
    if story.status == PUBLISHED or _on_website(site, story.id):
        queue_site_build(site, by=by, stories=[story.id])


@hookimpl
def after_withdraw(site: Site, story: Story, distributions: list[Any]) -> None:
    """A withdrawn story's pages come down at once (a worker builds the site)."""
    if any(d.format == "web" for d in distributions):
        queue_site_build(site, by=_who(story), stories=[story.id])


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _on_website(site: Site, story_id: str) -> bool:
    return any(d.format == "web" for d in site.distributions.for_story(story_id, live_only=True))


def _who(story: Story) -> str:
    consent = story.current_consent
    return (consent.recorded_by if consent is not None and consent.recorded_by else "storykit")
