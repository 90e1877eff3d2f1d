"""Publishing the public website: where it goes (the *publish target*), where it can be seen
(``public_url``), and what is live now.

A site build (the job kind ``site-build``, run by a worker: storykit_web.publish) writes the
website into the publish folder (``[publish] folder``, by default ``[paths] build``) and then
tells the publish target which files it wrote and which it removed. The default target,
``folder``, is that folder itself: point a web server at it. Plugins add targets (rsync,
object storage...) with the ``register_publish_targets`` hook; a target is told about the
takedowns of a build first, as soon as they are done, and then about the rest.

What is live comes from the distribution log (each page the build put up is recorded
there), so the app says "live at ..." only once a build has really put the page there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, PluginError, StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .jobs import Job
    from .model import Story
    from .site import Site

#: The job kind that builds the public website and sends it to the publish target.
SITE_BUILD = "site-build"
#: The use and format of the pages a site build publishes.
USE, FORMAT = "public_website", "web"
DEFAULT_TARGET = "folder"


@dataclass(frozen=True)
class Delivery:
    """What a target is told after (part of) a build: the built site's ``folder`` on this
    machine, the files (paths relative to it, with ``/``) ``written`` and ``removed``, the
    ``[publish]`` settings, and the public address. ``takedown`` is True for the first
    delivery of a build that took pages down: apply it at once."""

    folder: Path
    written: tuple[str, ...]
    removed: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    public_url: str = ""
    takedown: bool = False


@dataclass(frozen=True)
class PublishTarget:
    """A place the website is published to. ``send(delivery)`` makes the place match the
    folder: remove ``delivery.removed`` first, then copy ``delivery.written``; it raises a
    :class:`~storykit.errors.StorykitError` in words when it cannot. ``check(site)`` lists
    problems with its settings (``[publish]``), as sentences."""

    name: str
    send: Callable[[Delivery], None]
    description: str = ""
    check: Callable[[Site], list[str]] | None = None


def _folder_send(delivery: Delivery) -> None:
    """The build wrote straight into the folder a web server serves: nothing to copy."""


#: The ``[publish]`` settings storykit itself reads; a plugin's target may read others.
KNOWN_SETTINGS = ("target", "folder", "public_url")


def _folder_check(site: Site) -> list[str]:
    unknown = sorted(set(site.config.publish) - set(KNOWN_SETTINGS))
    return [f"has an unknown setting {name[:40]!r}; known: {', '.join(KNOWN_SETTINGS)}"
            for name in unknown]


FOLDER_TARGET = PublishTarget(
    DEFAULT_TARGET, _folder_send,
    description="The publish folder itself ([publish] folder): point a web server at it.",
    check=_folder_check)


def settings(site: Site) -> dict[str, Any]:
    return dict(site.config.publish)


def publish_folder(site: Site) -> Path:
    """Where site builds write the website (``[publish] folder``, relative to the site, or
    ``[paths] build``)."""
    folder = site.config.publish.get("folder")
    if not folder:
        return site.config.path("build")
    path = Path(folder).expanduser()
    return path if path.is_absolute() else site.root / path


def public_url(site: Site) -> str:
    """The address people reach the website at (``[publish] public_url``, else ``[site]
    base_url``), ending in ``/``; "" when neither is set."""
    url = site.config.publish.get("public_url") or site.config.base_url or ""
    return url if not url or url.endswith("/") else url + "/"


def targets(site: Site) -> dict[str, PublishTarget]:
    """Every publish target: the built-in folder and those plugins register."""
    found = {DEFAULT_TARGET: FOLDER_TARGET}
    for target in site.plugins.flat("register_publish_targets", site=site):
        if not isinstance(target, PublishTarget):
            raise ConfigError(f"register_publish_targets returned {type(target).__name__}, "
                              "not a storykit.publishing.PublishTarget")
        found.setdefault(target.name, target)
    return found


def target(site: Site) -> PublishTarget:
    """The target ``[publish] target`` names (default ``folder``), its settings checked."""
    name = site.config.publish.get("target", DEFAULT_TARGET)
    known = targets(site)
    if name not in known:
        raise ConfigError(f"storykit.toml: [publish] target {name[:40]!r} is not known; known "
                          f"targets: {', '.join(sorted(known))}")
    chosen = known[name]
    if chosen.check is not None:
        problems = chosen.check(site)
        if problems:
            raise ConfigError("storykit.toml: " + "; ".join(
                f"[publish] {p}" for p in problems))
    return chosen


def deliver(site: Site, folder: Path, written: Iterable[str], removed: Iterable[str], *,
            takedown: bool = False) -> None:
    """Tell the publish target what a build wrote and removed (its settings are checked
    even when there is nothing to send)."""
    written, removed = tuple(sorted(set(written))), tuple(sorted(set(removed)))
    chosen = target(site)
    if not written and not removed:
        return
    delivery = Delivery(folder, written, removed, settings(site), public_url(site), takedown)
    try:
        chosen.send(delivery)
    except StorykitError:
        raise
    except Exception as exc:  # noqa: BLE001 - a target's failure names the target
        raise PluginError(f"publish target {chosen.name}", "send", exc) from exc


# --- what is live ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LivePage:
    """A page of a story on the public website now: its address (when ``public_url`` is
    set), its path inside the publish folder, and when it was put there (UTC, ISO)."""

    url: str | None
    path: str
    since: str


def live_pages(site: Site, story_id: str) -> list[LivePage]:
    """The story's pages a site build put in the publish folder and has not taken down."""
    folder = str(publish_folder(site).resolve()) + os.sep
    base = public_url(site)
    found = []
    for d in site.distributions.for_story(story_id, live_only=True):
        if d.format != FORMAT or d.use != USE or not d.path.startswith(folder):
            continue
        rel = d.path[len(folder):].replace(os.sep, "/")
        found.append(LivePage(base + rel if base else None, rel, d.created_at))
    return found


def queue_site_build(site: Site, *, by: str, stories: Iterable[str] = ()) -> Job | None:
    """Queue a site build (joining one already waiting); None when no plugin builds sites."""
    from .jobs import job_kinds

    if SITE_BUILD not in job_kinds(site):
        return None
    from .taskqueue import enqueue

    return enqueue(site, SITE_BUILD, {"stories": sorted(set(stories))}, by=by)


@dataclass(frozen=True)
class WebsiteStatus:
    """What the app says about a story and the website: its live pages, the last finished
    build, and the build that is waiting or running for it (or the failed one)."""

    live: list[LivePage]
    last_build: Job | None
    pending: Job | None
    failed: Job | None

    @property
    def url(self) -> str | None:
        return next((p.url for p in self.live if p.url and p.path.startswith("stories/")),
                    next((p.url for p in self.live if p.url), None))


def website_status(site: Site, story: Story | None = None) -> WebsiteStatus:
    """The website's state for ``story`` (or for the site as a whole when None)."""
    from .jobs import DONE, FAILED, QUEUED, RUNNING, Jobs

    jobs = Jobs(site)
    recent = jobs.recent(20, kind=SITE_BUILD)
    pending = next((j for j in recent if j.state in (QUEUED, RUNNING)
                    and (story is None or story.id in j.stories() or j.state == RUNNING)), None)
    last = next((j for j in recent if j.state == DONE), None) or jobs.last_finished(SITE_BUILD)
    failed = next((j for j in recent if j.finished), None)
    if failed is not None and (failed.state != FAILED or failed.retried_as is not None):
        failed = None
    live: list[LivePage] = []
    if story is not None:
        with contextlib.suppress(StorykitError):
            live = live_pages(site, story.id)
    return WebsiteStatus(live, last, pending, failed)
