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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .consent import Decision, Reason, StoryView
from .dates import nice_date, today
from .errors import PluginError, StorykitError
from .media import MediaError, picture_path
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
    #: The uses this format may be made for (None: any). Checked before anything is made.
    uses: frozenset[str] | None = None
    #: The lengths it offers (the ``length`` option): ``full``, and ``summary`` for decks.
    lengths: tuple[str, ...] = ("full",)


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


class Services:
    """What a job may ask of the site it was made for, without holding the site: the one
    Markdown converter, the theme's Jinja environment with plugins' additions, the
    ``template_context`` hook, a place for warnings and the site's folder (for files its
    settings name). Made by :func:`make_job`; renderers use the :class:`Job` methods."""

    def __init__(self, site: Site):
        self._markdown = site.markdown
        self._warnings = site.plugins.warnings
        self._environment = partial(_environment, site)
        self._context = partial(_template_context, site)
        self.root: Path = site.root

    def markdown(self, text: str):
        return self._markdown(text)

    def warn(self, message: str) -> None:
        self._warnings.append(message)

    def environment(self, theme: Theme, extra_dirs: Sequence[Path]) -> jinja2.Environment:
        return self._environment(theme, extra_dirs)

    def template_context(self, template: str, context: dict[str, Any]) -> None:
        self._context(template, context)


def _environment(site: Site, theme: Theme, extra_dirs: Sequence[Path]) -> jinja2.Environment:
    return theme.environment(site, extra_dirs)


def _template_context(site: Site, template: str, context: dict[str, Any]) -> None:
    for extra in site.plugins.call("template_context", site=site, template=template,
                                   context=context):
        context.update(extra)


@dataclass
class Job:
    """One piece of work for a renderer: the reduced stories of one use, a theme, a folder
    to write into, and the capabilities a renderer needs (Markdown, templates, warnings).
    A job does not carry the site, so the API gives a renderer no way to stories it was not
    given (Python cannot stop a plugin that goes looking on purpose: the plugins' imports
    are checked by tests/test_layout.py)."""

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
    #: ``full``, or ``summary`` for a deck that fits a meeting (formats declare theirs).
    length: str = "full"
    #: A pack's consent notice, for formats that can show it first (a slide or a page).
    notice: Notice | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    warnings: list[str] = field(default_factory=list)
    services: Services | None = field(default=None, repr=False, compare=False)

    def warn(self, message: str) -> None:
        """Tell the person rendering that something was left out and why (ids and slugs
        only, never story text); ``storykit render`` prints it as a warning."""
        self.warnings.append(message)
        if self.services is not None:
            self.services.warn(message)

    def environment(self, *extra_dirs: Path) -> jinja2.Environment:
        """The theme's sandboxed, autoescaping Jinja environment plus a plugin's templates."""
        if self.services is None:
            return self.theme.environment(None, extra_dirs)
        return self.services.environment(self.theme, extra_dirs)

    def markdown(self, text: str):
        """Sanitised HTML for Markdown text, with the site's Markdown extensions."""
        if self.services is None:
            from .markup import render_markdown

            return render_markdown(text)
        return self.services.markdown(text)

    def context(self, template: str, **values: Any) -> dict[str, Any]:
        """Template variables: the job's, ``values``, and what plugins add (template_context)."""
        context = {"job": self, "site": self.site, "use": self.use, "use_label": self.use_label,
                   "stories": self.stories, "on": self.on, **values}
        if self.services is not None:
            self.services.template_context(template, context)
        return context

    @property
    def site_root(self) -> Path | None:
        """The site's folder, for files its settings name (e.g. an organisation's
        PowerPoint template); None for a job made without a site."""
        return self.services.root if self.services is not None else None

    @property
    def draft_mark(self) -> str | None:
        """The mark every page of this job's output shows when any story in it is a draft
        or a what-if preview (None for outputs that are recorded)."""
        return next((v.draft_mark for v in self.stories if v.draft), None)


@dataclass(frozen=True)
class Notice:
    """What a pack's copies say first: who may use them, until when, and not to pass them
    on (:mod:`storykit.packs` writes it; renderers show ``title`` and ``lines``)."""

    title: str
    lines: tuple[str, ...]
    #: The same in a few short lines, for a slide.
    short: tuple[str, ...] = ()
    #: What the pack ends with, if anything: a closing page or slide with its own title and
    #: lines (a board pack's "What happened after the last stories", storykit.outcomes).
    closing: Notice | None = None

    @property
    def text(self) -> str:
        return "\n\n".join((self.title, *self.lines)) + "\n"


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
    """What renderers and builders may know about ``site``."""
    c = site.config
    return SiteInfo(c.title, c.organisation, c.language, c.base_url, c.description,
                    c.contact_email, {u.name: u.label for u in c.uses.values()})


def make_job(site: Site, fmt: Format, use: str, views: list[StoryView], out_dir: Path, *,
             on: dt.date, theme: Theme | None = None, with_notes: bool = False,
             options: dict[str, Any] | None = None, length: str = "full",
             notice: Notice | None = None) -> Job:
    """A job for ``views`` (already decided, reduced and media-checked by the caller)."""
    from .themes import load_theme  # Jinja2: only when something is rendered

    return Job(format=fmt.name, use=use, use_label=site.config.label(use), stories=views,
               theme=theme or load_theme(site), out_dir=out_dir, site=site_info(site), on=on,
               with_notes=with_notes, options=dict(options or {}),
               config=site.config.plugin_config(fmt.plugin), services=Services(site),
               length=length if length in fmt.lengths else "full", notice=notice)


def render(site: Site, stories: Sequence[Story], use: str, fmt_name: str, out_dir: Path, *,
           what_if: dt.date | None = None, with_notes: bool = False, preview: bool = False,
           theme: str | None = None, options: dict[str, Any] | None = None,
           by: str | None = None, workers: int | None = None,
           length: str | None = None) -> RenderResult:
    """Render ``stories`` for ``use`` as ``fmt_name`` into ``out_dir``; record what was made.

    Consent is decided for today (:func:`storykit.dates.today`). Refused stories are not
    rendered; their decisions say why. A picture that breaks the media rule
    (:mod:`storykit.media`) stops the render before anything is written. Draft previews
    (``preview``) and what-if previews (``what_if``: a story must be allowed both today and
    on that date) are marked on every page and never recorded as distributions. ``length``
    ("summary") asks a deck format for at most six slides a story."""
    fmt = format_for(site, fmt_name, use, length)
    on = today()
    decisions = decide_all(site, stories, use, what_if=what_if, preview=preview)
    mark = preview_mark(what_if) if what_if is not None else None
    views = [checked_view(d, with_notes=with_notes, mark=mark) for d in decisions if d.allowed]
    refused = [d for d in decisions if not d.allowed]
    if not views:
        return RenderResult([], refused, decisions)
    out_dir.mkdir(parents=True, exist_ok=True)
    from .themes import load_theme

    jobs = plan_jobs(site, fmt, use, views, out_dir, on=what_if or on,
                     theme=load_theme(site, theme), with_notes=with_notes, options=options,
                     length=length or "full")
    artefacts = run_jobs(fmt, jobs, workers)
    with site.distributions.transaction():  # all of them or none, with one commit
        record(site, artefacts, jobs, by=by or current_user())
    after_render(site, jobs, artefacts)
    return RenderResult(artefacts, refused, decisions)


def format_for(site: Site, fmt_name: str, use: str, length: str | None = None) -> Format:
    """The format called ``fmt_name``, once it is known that it can be made for ``use``
    (and at ``length``, if given): a :class:`StorykitError` in words otherwise, before
    anything runs."""
    formats = site.formats()
    fmt = formats.get(fmt_name)
    if fmt is None:
        raise StorykitError(f"unknown format {fmt_name!r}; available: "
                            f"{', '.join(sorted(formats)) or 'none'}")
    if use not in site.config.uses:
        raise StorykitError(f"unknown use {use!r}; this site's uses are: "
                            f"{', '.join(site.config.use_names)}")
    if fmt.uses is not None and use not in fmt.uses:
        labels = ", ".join(site.config.label(u).lower() for u in sorted(fmt.uses))
        hint = " or ".join(f"--use {u}" for u in sorted(fmt.uses))
        raise StorykitError(f"the {fmt.name} format is made only for {labels}: use {hint} "
                            f"(the use asked for is {use!r})")
    if length is not None and length not in fmt.lengths:
        offer = sorted(name for name, f in formats.items() if length in f.lengths)
        raise StorykitError(f"the {fmt.name} format has no {length!r} length (it has: "
                            f"{', '.join(fmt.lengths)}); {length} works with: "
                            f"{', '.join(offer) or 'no format'}")
    return fmt


def decide_all(site: Site, stories: Sequence[Story], use: str, *,
               what_if: dt.date | None = None, preview: bool = False) -> list[Decision]:
    """The decision for each story that a render acts on (today; see :func:`decide_for`),
    refused too when its text is too long or complex to render."""
    return [_renderable(decide_for(site, s, use, what_if=what_if, preview=preview), s)
            for s in stories]


def plan_jobs(site: Site, fmt: Format, use: str, views: list[StoryView], out_dir: Path, *,
              on: dt.date, theme: Theme, with_notes: bool = False,
              options: dict[str, Any] | None = None, length: str = "full",
              notice: Notice | None = None) -> list[Job]:
    """The jobs that make ``fmt`` of ``views``: one for a multi-story format, else one per
    story."""
    groups = [views] if fmt.multi else [[v] for v in views]
    return [make_job(site, fmt, use, g, out_dir, on=on, theme=theme, with_notes=with_notes,
                     options=options, length=length, notice=notice) for g in groups]


def after_render(site: Site, jobs: list[Job], artefacts: list[Artefact]) -> None:
    """Tell plugins (``after_render``) what each job made, once it is recorded."""
    for job in jobs:
        site.plugins.call("after_render", site=site, job=job,
                          artefacts=[a for a in artefacts if set(a.story_ids) <= _ids(job)])


def decide_for(site: Site, story: Story, use: str, *, what_if: dt.date | None = None,
               preview: bool = False) -> Decision:
    """The decision a render acts on: for today, and with ``what_if`` also for that date
    (a story must be allowed on both; it is then a draft, so it is never recorded). A
    recorded render is refused while the story has a blocking finding nobody has dealt
    with (:mod:`storykit.findings`: the reason names its kind, never the detail)."""
    now = site.decide(story, use, today(), preview=preview)
    if what_if is None or not now.allowed:
        return blocked(site, story, now)
    then = site.decide(story, use, what_if, preview=preview)
    if not then.allowed:
        day = nice_date(what_if)
        reasons = tuple(Reason(r.code, f"on {day}: {r.message}") for r in then.reasons)
        return replace(now, allowed=False, reasons=reasons)
    return replace(now, draft=True)


def blocked(site: Site, story: Story, decision: Decision) -> Decision:
    """``decision``, refused when it would be recorded (allowed, not a draft) and the story
    has an unresolved blocking finding."""
    if not decision.allowed or decision.draft:
        return decision
    from .findings import story_findings

    reason = story_findings(site, story).reason()
    return decision if reason is None else replace(decision, allowed=False, reasons=(reason,))


def preview_mark(day: dt.date) -> str:
    """The mark on every page of a what-if preview."""
    return f"PREVIEW as if on {nice_date(day)} - not for distribution"


def checked_view(decision: Decision, *, with_notes: bool = False,
                 mark: str | None = None) -> StoryView:
    """The allowed decision's view as a renderer gets it: speaker notes only when asked for,
    a draft's ``mark`` (e.g. a what-if preview's), and each picture's path checked by the
    media rule (a :class:`MediaError` naming the story and the file otherwise)."""
    view = decision.view
    if view is None:  # pragma: no cover - callers pass allowed decisions
        raise StorykitError(f"story {decision.story_id} may not be rendered")
    if not with_notes:
        view = view.without_notes()
    if mark is not None and view.draft:
        view = replace(view, mark=mark)
    return checked_pictures(view)


def checked_pictures(view: StoryView) -> StoryView:
    """``view`` with every picture's path checked by the media rule."""
    if not view.images:
        return view
    images = []
    for image in view.images:
        try:
            images.append(replace(image, path=picture_path(image)))
        except MediaError as exc:
            raise MediaError(exc.file, f"{exc.problem} (story {view.id})", exc.code) from None
    return replace(view, images=tuple(images))


def render_draft(site: Site, story: Story, fmt_name: str, out_dir: Path, *, use: str,
                 theme: str | None = None, options: dict[str, Any] | None = None
                 ) -> list[Artefact]:
    """A draft preview of ``story`` (saved or not) for the people working on it, as
    ``fmt_name`` in ``out_dir``: reduced as its current consent says (or, without usable
    consent, naming nobody: :func:`~storykit.consent.draft_view`), marked as a draft on every
    page, its pictures checked by the media rule, never recorded and never passed to
    ``after_render``. Nothing is written when the consent lets nothing be shown or has
    ended (withdrawn, expired)."""
    from .consent import draft_view
    from .themes import load_theme

    fmt = site.formats().get(fmt_name)
    if fmt is None:
        raise StorykitError(f"unknown format {fmt_name!r}")
    view = draft_view(story, use, today())
    if view is None:
        return []
    job = make_job(site, fmt, use, [checked_pictures(view.without_notes())], out_dir,
                   on=today(), theme=load_theme(site, theme), options=options)
    return run_jobs(fmt, [job])
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

#: The jobs of several formats (a pack) or of one.
Batch = tuple[Format, list[Job]]
_PENDING: list[Batch] | None = None


def run_jobs(fmt: Format, jobs: list[Job], workers: int | None = None, *,
             on_done: Callable[[Job], None] | None = None) -> list[Artefact]:
    """Run each job; CPU-bound formats use one process per core (fork) when there are
    several. ``on_done(job)`` is called as each job finishes (for progress)."""
    return run_batches([(fmt, jobs)], workers, on_done=on_done)[0]


def run_batches(batches: list[Batch], workers: int | None = None, *,
                on_done: Callable[[Job], None] | None = None) -> list[list[Artefact]]:
    """Run the jobs of several formats (a pack) and return each format's artefacts, in job
    order. The jobs of ``parallel`` formats share one set of worker processes (fork), one
    job a core, the formats that put every story in one file first (they take longest), so
    both cores stay busy to the end; other formats' jobs run here. ``on_done(job)`` is
    called as each job finishes."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    done = on_done or (lambda job: None)
    results: dict[tuple[int, int], list[Artefact]] = {}
    pooled = [(b, j) for b, (fmt, jobs) in enumerate(batches) if fmt.parallel
              for j in range(len(jobs))]
    if len(pooled) >= 2 and workers >= 2 and _can_fork():
        pooled.sort(key=lambda key: not batches[key[0]][0].multi)  # stable: else in order
        _run_pooled(batches, pooled, min(workers, len(pooled)), results, done)
    for b, (fmt, jobs) in enumerate(batches):
        for j, job in enumerate(jobs):
            if (b, j) not in results:
                results[(b, j)] = _render(fmt, job)
                done(job)
    return [[a for j in range(len(jobs)) for a in results[(b, j)]]
            for b, (_fmt, jobs) in enumerate(batches)]


def _run_pooled(batches: list[Batch], keys: list[tuple[int, int]], workers: int,
                results: dict[tuple[int, int], list[Artefact]],
                done: Callable[[Job], None]) -> None:
    import concurrent.futures
    import multiprocessing

    global _PENDING
    _PENDING = batches
    ctx = multiprocessing.get_context("fork")
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx)
    told: dict[tuple[int, int], list[str]] = {}
    try:
        futures = {pool.submit(_run_one, b, j): (b, j) for b, j in keys}
        for future in concurrent.futures.as_completed(futures):
            b, j = futures[future]
            results[(b, j)], told[(b, j)] = future.result()
            done(batches[b][1][j])
        for b, j in sorted(told):  # said in the workers: told here, where they count, in order
            for warning in told[(b, j)]:
                batches[b][1][j].warn(warning)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        _PENDING = None


def _run_one(batch: int, index: int) -> tuple[list[Artefact], list[str]]:
    """In a worker: one job's artefacts, and the warnings its renderer gave."""
    assert _PENDING is not None
    fmt, jobs = _PENDING[batch]
    job = jobs[index]
    return _render(fmt, job), list(job.warnings)


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


def record(site: Site, artefacts: list[Artefact], jobs: list[Job], *, by: str,
           pack_id: str | None = None, places: dict[Path, str] | None = None) -> None:
    """Log each artefact once per story it carries. Drafts are never recorded. A pack's
    artefacts carry its id, and ``places`` says where each one went (inside the zip)."""
    views = {v.id: v for job in jobs for v in job.stories}
    job_of = {v.id: job.id for job in jobs for v in job.stories}
    log = site.distributions
    for artefact in artefacts:
        carried = [views[i] for i in artefact.story_ids if i in views]
        if not carried or any(v.draft for v in carried):
            continue
        digest = sha256_file(artefact.path)
        place = (places or {}).get(artefact.path, str(artefact.path))
        for view in carried:
            log.record(story_id=view.id, consent_version=view.consent_version, use=view.use,
                       format=artefact.format, sha256=digest, path=place,
                       url=artefact.url, job=job_of.get(view.id), created_by=by,
                       pack_id=pack_id)
