"""The render pipeline: stories -> consent decisions -> reduced views -> renderer -> artefacts
-> distribution log.

Renderers (formats) come from plugins through ``register_formats``. A renderer receives a
:class:`Job` holding only :class:`~storykit.consent.StoryView` objects that consent allows for
the job's use, and returns :class:`Artefact` objects; the core hashes and records them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .consent import Decision, Reason, StoryView
from .errors import StorykitError
from .plugins import PluginError
from .store import current_user

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

    from .model import Story
    from .site import Site
    from .themes import Theme


@dataclass(frozen=True)
class Format:
    """An output format a plugin renders. ``multi`` formats put every story of a job into
    one artefact (a booklet); others are called once per story. ``parallel`` formats are
    CPU-bound and may run one story per core."""

    name: str
    render: Callable[[Job], list[Artefact]]
    description: str = ""
    extension: str = ""
    multi: bool = False
    parallel: bool = False
    plugin: str = ""


@dataclass(frozen=True)
class SiteInfo:
    """What a renderer may know about the site (not its store, users or consent records)."""

    title: str
    organisation: str
    language: str
    base_url: str
    description: str
    contact_email: str
    use_labels: dict[str, str]


@dataclass
class Job:
    format: str
    use: str
    use_label: str
    stories: list[StoryView]
    theme: Theme
    out_dir: Path
    site: SiteInfo
    on: dt.date
    with_notes: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    warnings: list[str] = field(default_factory=list)
    _site: Site | None = field(default=None, repr=False)

    def warn(self, message: str) -> None:
        """Tell the person rendering that something was left out and why (ids and slugs
        only, never story text); ``storykit render`` prints it as a warning."""
        self.warnings.append(message)
        if self._site is not None:
            self._site.plugins.warnings.append(message)

    def environment(self, *extra_dirs: Path) -> jinja2.Environment:
        """The theme's sandboxed, autoescaping Jinja environment plus a plugin's templates."""
        return self.theme.environment(self._site, extra_dirs)

    def markdown(self, text: str):
        """Sanitised HTML for Markdown text, with the site's Markdown extensions."""
        if self._site is None:
            from .markup import render_markdown

            return render_markdown(text)
        return self._site.markdown(text)

    def context(self, template: str, **values: Any) -> dict[str, Any]:
        """Template variables: the job's, ``values``, and what plugins add (template_context)."""
        context = {"job": self, "site": self.site, "use": self.use, "use_label": self.use_label,
                   "stories": self.stories, "on": self.on, **values}
        if self._site is not None:
            for extra in self._site.plugins.call("template_context", site=self._site,
                                                 template=template, context=context):
                context.update(extra)
        return context


@dataclass(frozen=True)
class Artefact:
    """A file a renderer wrote. ``story_ids`` lists the stories whose content it carries;
    those are recorded in the distribution log (supporting files carry none)."""

    path: Path
    format: str
    story_ids: tuple[str, ...] = ()
    media_type: str = "application/octet-stream"
    url: str | None = None


@dataclass
class RenderResult:
    artefacts: list[Artefact]
    refused: list[Decision]
    decisions: list[Decision]

    @property
    def ok(self) -> bool:
        return not self.refused


def site_info(site: Site) -> SiteInfo:
    c = site.config
    return SiteInfo(c.title, c.organisation, c.language, c.base_url, c.description,
                    c.contact_email, {u.name: u.label for u in c.uses.values()})


def make_job(site: Site, fmt: Format, use: str, views: list[StoryView], out_dir: Path, *,
             on: dt.date, theme: Theme | None = None, with_notes: bool = False,
             options: dict[str, Any] | None = None) -> Job:
    from .themes import load_theme  # Jinja2: only when something is rendered

    return Job(format=fmt.name, use=use, use_label=site.config.label(use), stories=views,
               theme=theme or load_theme(site), out_dir=out_dir, site=site_info(site), on=on,
               with_notes=with_notes, options=dict(options or {}),
               config=site.config.plugin_config(fmt.plugin), _site=site)


def render(site: Site, stories: Sequence[Story], use: str, fmt_name: str, out_dir: Path, *,
           on: dt.date | None = None, with_notes: bool = False, preview: bool = False,
           theme: str | None = None, options: dict[str, Any] | None = None,
           by: str | None = None, workers: int | None = None) -> RenderResult:
    """Render ``stories`` for ``use`` as ``fmt_name`` into ``out_dir``; record what was made.

    Refused stories are not rendered; their decisions say why. Draft previews are marked
    as drafts by the renderer and never recorded as distributions."""
    fmt = site.formats().get(fmt_name)
    if fmt is None:
        raise StorykitError(f"unknown format {fmt_name!r}; available: "
                            f"{', '.join(sorted(site.formats())) or 'none'}")
    if use not in site.config.uses:
        raise StorykitError(f"unknown use {use!r}; this site's uses are: "
                            f"{', '.join(site.config.use_names)}")
    on = on or dt.date.today()
    decisions = [_renderable(site.decide(s, use, on, preview=preview), s) for s in stories]
    views = [d.view if with_notes else d.view.without_notes()
             for d in decisions if d.allowed and d.view is not None]
    refused = [d for d in decisions if not d.allowed]
    if not views:
        return RenderResult([], refused, decisions)
    out_dir.mkdir(parents=True, exist_ok=True)
    from .themes import load_theme

    loaded = load_theme(site, theme)
    groups = [views] if fmt.multi else [[v] for v in views]
    jobs = [make_job(site, fmt, use, g, out_dir, on=on, theme=loaded, with_notes=with_notes,
                     options=options) for g in groups]
    artefacts = run_jobs(fmt, jobs, workers)
    record(site, artefacts, jobs, decisions, by=by or current_user())
    for job in jobs:
        site.plugins.call("after_render", site=site, job=job,
                          artefacts=[a for a in artefacts if set(a.story_ids) <= _ids(job)])
    return RenderResult(artefacts, refused, decisions)


def _renderable(decision: Decision, story: Story) -> Decision:
    """The decision, refused when the story's text is too long or complex to render (so one
    story fails clearly, in words, and the others are still made)."""
    from .markup import story_text_problem

    problem = story_text_problem(story) if decision.allowed else None
    if problem is None:
        return decision
    return replace(decision, allowed=False, reasons=(Reason("text_too_complex", problem),))


def _ids(job: Job) -> set[str]:
    return {v.id for v in job.stories}


# --- running jobs, on several cores when the format allows --------------------------------

_PENDING: tuple[Format, list[Job]] | None = None


def run_jobs(fmt: Format, jobs: list[Job], workers: int | None = None) -> list[Artefact]:
    """Run each job; CPU-bound formats use one process per core (fork) when there are several."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not fmt.parallel or len(jobs) < 2 or workers < 2 or not _can_fork():
        return [a for job in jobs for a in _render(fmt, job)]
    import concurrent.futures
    import multiprocessing

    global _PENDING
    _PENDING = (fmt, jobs)
    try:
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx) as pool:
            results = list(pool.map(_run_one, range(len(jobs))))
    finally:
        _PENDING = None
    return [a for result in results for a in result]


def _run_one(index: int) -> list[Artefact]:
    assert _PENDING is not None
    fmt, jobs = _PENDING
    return _render(fmt, jobs[index])


def _render(fmt: Format, job: Job) -> list[Artefact]:
    """Call a renderer; its failures name the plugin that provides the format."""
    try:
        return list(fmt.render(job))
    except (PluginError, StorykitError):
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not look like ours
        raise PluginError(fmt.plugin or fmt.name, f"rendering {fmt.name}", exc) from exc


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


# --- recording -----------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record(site: Site, artefacts: list[Artefact], jobs: list[Job], decisions: list[Decision],
           *, by: str) -> None:
    """Log each artefact once per story it carries. Drafts are never recorded."""
    views = {v.id: v for job in jobs for v in job.stories}
    job_of = {v.id: job.id for job in jobs for v in job.stories}
    log = site.distributions
    for artefact in artefacts:
        carried = [views[i] for i in artefact.story_ids if i in views]
        if not carried or any(v.draft for v in carried):
            continue
        digest = sha256_file(artefact.path)
        for view in carried:
            log.record(story_id=view.id, consent_version=view.consent_version, use=view.use,
                       format=artefact.format, sha256=digest, path=str(artefact.path),
                       url=artefact.url, job=job_of.get(view.id), created_by=by)
