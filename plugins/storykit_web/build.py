"""The incremental static-site builder behind ``storykit build``.

The builder never loads or judges stories itself: it asks the core for the publication set
of ``public_website`` today (:func:`storykit.kit.publication_set`: published stories the
consent decision allows, pictures checked by the media rule) and builds pages from their
reduced views (speaker notes removed). Each build compares a hash of every input (the
story's files, its pictures' files, the theme, the templates, the site's settings) with
the manifest the last build left in the instance folder (``instance/cache/web-build/``),
and renders only what changed. Files the last build wrote that nothing produces any more
are deleted; files storykit did not write are never touched. Story pages are recorded in
the distribution log through the set (:meth:`~storykit.kit.PublicationSet.record`), and
pages that disappear are marked removed there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storykit import Site, StorykitError, StoryView, Theme, load_theme
from storykit.kit import (
    TEMP_PREFIX,
    FilePool,
    LockTimeout,
    MarkdownTooLong,
    MediaError,
    PublicationSet,
    Publishable,
    PublishedPage,
    ViewImage,
    WebPage,
    code_fingerprint,
    markdown_inline,
    nice_date,
    parse_date,
    prepare_markdown,
    publication_set,
    read_cache,
    replace_file,
    site_info,
    stat_key,
    stories_fingerprint,
    today,
    write_cache,
)

from . import assets, pages
from .memo import MarkdownMemo
from .pictures import PictureCache, picture_format
from .precompiled import use_precompiled, uses_precompiled
from .stamp import Stamp, StampInputs

if TYPE_CHECKING:  # pragma: no cover - imported when workers start (start-up time)
    import concurrent.futures

BUILDER_VERSION = "1"
#: Listings that also carry plugins' pages (the home page links to their index pages).
EXTRA_LISTINGS = frozenset({"feed.xml", "search-index.js", "index.html"})
USE = "public_website"
JOB = "site-build"  # the distribution log's job for pages this builder publishes
MAX_IMAGE_WIDTH = 800  # half of the app's big copies: a JPEG decodes at half size at once
PARALLEL_MIN = 24  # stories to render before it pays to start worker processes
MANIFEST_DIR = ("cache", "web-build")
_PROTECTED = ("stories", "instance", "themes", "plugins")


class BuildError(StorykitError):
    """The site could not be built; nothing was removed and the last build's pages remain."""


@dataclass
class BuildReport:
    """What a build did. ``rendered`` counts story pages rendered this time."""

    out_dir: Path
    stories: int = 0
    rendered: int = 0
    listings: int = 0
    static: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    recorded: int = 0
    taken_down: int = 0
    problems: list[str] = field(default_factory=list)  # stories left off, and why (no text)
    unchanged: bool = False  # every input as the last build left it: nothing was even loaded
    takedown_first: list[str] = field(default_factory=list)  # removed before anything else

    @property
    def ok(self) -> bool:
        """Every story that may be on the website is on it."""
        return not self.problems


#: ``progress(fraction, words)``: how far a build is, for a job's progress.
Progress = Callable[[float, str], None]
#: ``pages(done, total, step)``: story pages made so far, for a progress bar.
#: One build at a time per site, and none while a withdrawal edits the manifests: on one
#: machine a lock file (instance/locks/web-build.lock), on PostgreSQL a database lock.
BUILD_LOCK = "web-build"
PageProgress = Callable[[int, int, str], None]
#: ``taken_down(removed, written)``: called as soon as the pages of stories no longer allowed
#: are gone (paths relative to the output folder), before any page is rendered.
TakenDown = Callable[[list[str], list[str]], None]


def build_site(site: Site, out_dir: Path | None = None, *, theme: str | None = None,
               workers: int | None = None, by: str | None = None,
               progress: Progress | None = None, taken_down: TakenDown | None = None,
               wait: float = 30, pages: PageProgress | None = None) -> BuildReport:
    """Build (or update) the public website of ``site`` in ``out_dir``, with the stories
    consent allows on it today. Stories no longer allowed are taken down first; a story
    that cannot be built is left off (``report.problems`` names it) and the rest is built.
    ``progress(fraction, words)`` is for a job's progress; ``pages(done, total, step)``
    hears of each story page made (for a progress bar on a terminal)."""
    out = check_out_dir(site, Path(out_dir) if out_dir else site.config.path("build"))
    try:
        with site.store.locks.hold(BUILD_LOCK, timeout=wait):  # all machines (storylocks)
            builder = Builder(site, out, load_theme(site, theme), workers, by)
            builder.progress = progress or _no_progress
            builder.taken_down = taken_down
            builder.pages = pages
            return builder.run()
    except LockTimeout:
        raise BuildError("another 'storykit build' is running for this site; try again "
                         "when it has finished") from None


def _no_progress(fraction: float, words: str) -> None:
    return None


def check_out_dir(site: Site, out: Path) -> Path:
    """Refuse output folders that would mix the site with its own sources."""
    out = out.resolve()
    root = site.root.resolve()
    if root.is_relative_to(out):
        raise BuildError(f"cannot build into {out}: it holds the site itself; choose an empty "
                         "folder such as build/site")
    for name in _PROTECTED:
        folder = site.config.path(name).resolve()
        if out.is_relative_to(folder):
            raise BuildError(f"cannot build into {out}: it is inside the site's {name} folder")
    return out


def forget_story(site: Site, story_id: str) -> int:
    """After a withdrawal, drop what build manifests keep of a story (its title, summary and
    search words) at once, not at the next build. Its files stay listed, so the next build
    still deletes them. Returns how many manifests mentioned the story."""
    folder = site.instance.joinpath(*MANIFEST_DIR)
    if not folder.is_dir():
        return 0
    changed = 0
    with site.store.locks.hold(BUILD_LOCK, timeout=30):
        drop_legacy_files(folder)
        for path in sorted(folder.glob("*.pickle")):
            if path.name.count(".") != 1:  # the search and Markdown side files
                continue
            data = _load_manifest(path, None)
            record = data.get("stories", {}).pop(story_id, None)
            if record is None:
                continue
            data["pending"] = sorted(set(data.get("pending", [])) | set(record["files"]))
            data["key"], data["listings"] = "", {}  # every list page is written again
            data["stamp"] = None
            _keep(path, data)
            changed += 1
        for path in sorted(folder.glob("*.search.pickle")):
            entries = _load_dict(path)
            if entries.pop(story_id, None) is not None:
                _keep(path, entries)
        for path in sorted(folder.glob("*.markdown.pickle")):
            MarkdownMemo.forget(path, story_id)
        PictureCache(picture_cache_dir(site)).forget(story_id)
    return changed


def drop_legacy_files(folder: Path) -> None:
    """Remove the JSON manifests and search files earlier versions kept here: they hold
    stories' titles and words, and nothing reads or scrubs them any more."""
    for path in folder.glob("*.json"):
        path.unlink(missing_ok=True)


def picture_cache_dir(site: Site) -> Path:
    return site.instance.joinpath(*MANIFEST_DIR, "pictures")


def manifest_path(site: Site, out: Path) -> Path:
    key = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:16]
    return site.instance.joinpath(*MANIFEST_DIR, f"{key}.pickle")


# --- the builder ---------------------------------------------------------------------------

_ACTIVE: Builder | None = None  # the builder forked workers render for


class Builder:
    """One build. Create it, then call :meth:`run` once."""

    def __init__(self, site: Site, out: Path, theme: Theme, workers: int | None,
                 by: str | None):
        self.site, self.out, self.theme, self.by = site, out, theme, by
        self.on = today()
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.info = site_info(site)
        self.base_url = _checked_base_url(self.info.base_url)
        self.config = _plugin_config(site)
        self.static = assets.static_files(theme)
        self.css = assets.bundle_css(theme, self.static)
        self.css_version = hashlib.sha256(self.css.encode()).hexdigest()[:10]
        self.key = self._global_key()
        self.manifest_file = manifest_path(site, out)
        self.old = _load_manifest(self.manifest_file, out)
        self.report = BuildReport(out)
        self._out = str(out)
        self.search_file = self.manifest_file.with_suffix(".search.pickle")
        self.new_search: dict[str, dict[str, Any]] = {}
        self.publications: PublicationSet | None = None
        self.pictures: dict[str, int] = {}  # story id -> how many pictures (work to share out)
        self.stamp: dict[str, Any] | None = None  # what this build saw, for a quick next time
        self.only: set[str] | None = None  # the stories a build of a few changes loaded
        self._dirs: set[str] = set()  # output folders known to exist
        self.listing_state: dict[str, str] = {}
        self.static_state: dict[str, Any] = {}
        self.todo: list[tuple[Publishable, str]] = []
        self.deferred: list[tuple[str, bytes]] | None = None  # a worker's pages, for the parent
        self.unwritten: list[tuple[str, bytes]] = []  # pages from workers, still to write
        self.planned: list[Publishable] | None = None  # stories whose files are to be noted
        self.compiler: int | None = None  # the process compiling the templates meanwhile
        self.page_files: FilePool | None = None  # story pages' files, made ahead
        self.later: Callable[..., Any] = _now  # how cache files are saved (see _Background)
        self.markdown_memo = MarkdownMemo(self.manifest_file.with_suffix(".markdown.pickle"),
                                          self.key)
        self.progress: Progress = _no_progress
        self.taken_down: TakenDown | None = None
        self.pages: PageProgress | None = None
        self.extras: list[WebPage] = []  # plugins' pages (the web_pages hook)
        self.extras_digest = ""

    @cached_property
    def fingerprint(self) -> dict[str, Any]:
        """The stories folder's fingerprint, taken once per build before any story is
        loaded ({} for a store that has none: then no stamp is kept)."""
        return stories_fingerprint(self.site)

    @cached_property
    def stamp_inputs(self) -> StampInputs:
        """What the stamps of this build are checked against."""
        old_cards = [r["card"] for r in self.old.get("stories", {}).values()]
        settings = self._settings(self.extra_pages(old_cards)[1])  # the cards stay as they were
        return StampInputs(key=self.key, theme=self.theme.name, settings=settings, on=self.on,
                           old=self.old, out=self._out, fingerprint=lambda: self.fingerprint)

    @cached_property
    def env(self):
        """The theme's Jinja environment: made only when a page has to be rendered."""
        env = self.theme.environment(self.site, [assets.TEMPLATES])
        use_precompiled(env, self.theme.template_dirs)
        env.auto_reload = False  # no template changes during a build (the global key has them)
        env.globals.update(entry_id=pages.entry_id, atom_date=pages.atom_date,
                           feed_id=pages.feed_id, nice_date=nice_date,
                           service_page=pages.service_page, tag_page=pages.tag_page,
                           card_once=pages.card_once(env))
        return env

    # --- inputs ----------------------------------------------------------------------------

    def _settings(self, extras_digest: str) -> str:
        """The site's settings and the plugins' pages, as the stamp checks them."""
        return pages.quick_digest(repr(self.site.config), extras_digest)

    def _global_key(self) -> str:
        """Everything besides a story that shapes its page: templates, theme, site settings."""
        template_files = []
        for folder in [*self.theme.template_dirs, assets.TEMPLATES]:
            web = folder / "web"
            if web.is_dir():
                template_files += [(p.relative_to(folder).as_posix(), _file_hash(p))
                                   for p in sorted(web.rglob("*")) if p.is_file()]
        plugins = [(p.name, p.version) for p in self.site.plugins.info()]
        return pages.digest(BUILDER_VERSION, code_fingerprint(), template_files, self.css, sorted(
            (rel, stat_key(p)) for rel, p in self.static.items()), self.theme.settings,
            self.info, self.config, plugins, [_name_of(e) for e in self.site.markdown_extensions])

    def allowed(self) -> list[tuple[Publishable, str]]:
        """The stories the core lets this build publish today, each with its input key.
        Views are not made yet: unchanged stories never need theirs."""
        stamp = Stamp.start(self.stamp_inputs)  # before loading: an edit meanwhile shows next time
        self.publications = publication_set(self.site, USE)
        self.report.problems += self.publications.problems
        stamp.narrow(self.publications)
        found = [self._take(p, stamp) for p in self.publications.stories]
        self.stamp = stamp.finish(self.report.problems)
        return found

    def allowed_among_changed(self) -> tuple[list[tuple[Publishable, str]],
                                              dict[str, dict[str, Any]]] | None:
        """Like :meth:`allowed` for only the stories whose files changed since the last
        build (its stamp says which), with the last build's records of all the others; None
        when that is not safe or not worth it (then every story is loaded)."""
        found = Stamp.changes(self.stamp_inputs)
        if found is None:
            return None
        stamp, changed, gone = found
        self.only = changed | gone
        kept = {i: r for i, r in self.old["stories"].items() if i not in self.only}
        try:
            publications = publication_set(self.site, USE, ids=self.only)
        except StorykitError:
            return None  # a broken file: the full build reports it
        if publications.problems:
            return None  # e.g. a picture that may not be read: the full build says which
        slugs = {r["card"]["slug"] for r in kept.values()}
        for publishable in publications.stories:
            if publishable.slug in slugs:
                return None  # a clash of addresses: the full build says which story loses
            slugs.add(publishable.slug)
        self.publications = publications
        stamp.narrow(publications)
        allowed = [self._take(p, stamp) for p in publications.stories]
        self.stamp = stamp.finish([])
        return allowed, kept

    def _take(self, publishable: Publishable, stamp: Stamp) -> tuple[Publishable, str]:
        self.pictures[publishable.id] = len(publishable.pictures)
        stamp.add_pictures(publishable)
        return publishable, pages.quick_digest(self.key, publishable.source_key)

    # --- the build -------------------------------------------------------------------------

    def run(self) -> BuildReport:
        try:
            return self._run()
        finally:
            self._reap_compiler()
            if self.page_files is not None:
                self.page_files.close()

    def _run(self) -> BuildReport:
        if Stamp.unchanged(self.stamp_inputs):
            return self._as_last_time()
        self.progress(0.05, "Finding the stories consent allows on the website today.")
        self._started()
        # A new site's database is made meanwhile: the build needs it only to record pages.
        self.site.database.create_in_background()
        few = self.allowed_among_changed()  # when only a few stories changed
        if few is None:
            self._make_page_files()
            self._compile_beside()
        allowed, kept = few if few is not None else (self.allowed(), {})
        self._take_down_first(allowed, kept)
        records, todo = self._reuse(allowed)
        records.update(kept)
        self._prepare(allowed, todo)
        with self._workers(len(todo)) as pool, _Background() as beside:
            for record in self._render_all(todo, pool):
                self.new_search[record["id"]] = record.pop("search")
                records[record["id"]] = record
            self.report.stories = len(records)
            self.report.rendered = len(records) - len(kept) - (len(allowed) - len(todo))
            self.later = beside.run  # the workers have forked: threads are safe now
            self.progress(0.85, "Writing the lists, the feed and the search index.")
            # The workers make the list pages while this process writes the rest and
            # deletes stale files, and threads save the Markdown memo and record the pages
            # in the distribution log (in a transaction of its own; the manifest is saved
            # once it is done).
            listings = self._start_listings(records, pool)
            produced = self._write_static() | listings.paths
            produced |= {f for r in records.values() for f in r["files"]}
            self._put_all()
            self._remove_stale(produced)
            self.later(self.markdown_memo.save, set(records))
            self.later(self._sync_distributions, records)
            self._finish_listings(listings)
            if pool is not None:  # the workers leave while the threads finish
                self.later(pool.shutdown)
        if self.stamp is not None and self.report.problems != self.stamp["problems"]:
            self.stamp = {**self.stamp, "problems": list(self.report.problems)}
        if self.stamp is not None:  # the plugins' pages as this build made them
            self.stamp = {**self.stamp, "settings": self._settings(self.extras_digest)}
        self._save_manifest(records, produced)
        self.running_file.unlink(missing_ok=True)
        self.picture_cache.prune(set(records), among=self.only)  # stories no longer on the site
        return self.report

    def _compile_beside(self) -> None:
        """Before a full load: fork a short-lived process that compiles the website's
        templates into the instance folder's template cache, on a core the load leaves
        mostly idle; this process and the workers then load them compiled instead of each
        compiling them (a template compiled by neither is compiled where it is needed, as
        before). Only from a process with one thread, like the database's creation."""
        if self.compiler is not None or threading.active_count() > 1 or \
                not hasattr(os, "fork") or not self._compiles_from_source():
            return
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            code = 1
            try:
                _compile_templates(self.theme.environment(self.site, [assets.TEMPLATES]))
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        self.compiler = pid

    def _make_page_files(self) -> None:
        """Before a full load of many stories: have a forked process make the files of
        about as many story pages in the output folder (see ``storykit.kit.FilePool``),
        while this process loads the stories; only from a process with one thread."""
        count = len(self.fingerprint.get("files", ()))  # taken before any story is read
        if not self._forks(count):
            return
        pool = FilePool(self._path(pages.STORY_DIR), count)
        if pool.start():
            self.page_files = pool

    def _compiles_from_source(self) -> bool:
        """Whether any web template is to be compiled from source: the theme has templates
        of its own, or this build's environment cannot use the plugin's precompiled ones."""
        return any((d / "web").is_dir() for d in self.theme.template_dirs) or \
            not uses_precompiled(self.env)

    def _reap_compiler(self) -> None:
        pid, self.compiler = self.compiler, None
        if pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    @property
    def running_file(self) -> Path:
        """There while a build into this folder runs: left behind by one that was killed."""
        return self.manifest_file.with_suffix(".running")

    def _started(self) -> None:
        """Note that a build runs; after one that was killed (a worker stopped with
        SIGKILL), first delete the half-written files it left in the output folder (pages
        themselves are only ever replaced whole)."""
        if self.running_file.exists():
            for folder, _dirs, files in os.walk(self.out):
                for name in files:
                    path = os.path.join(folder, name)
                    if name.startswith(TEMP_PREFIX) and not os.path.islink(path):
                        os.unlink(path)
        self.running_file.parent.mkdir(parents=True, exist_ok=True)
        self.running_file.touch()

    def _take_down_first(self, allowed: list[tuple[Publishable, str]],
                         kept: dict[str, dict[str, Any]]) -> None:
        """Before rendering anything: delete the pages and pictures of stories no longer
        allowed on the website (and of those whose consent changed: they are rendered again
        as it now allows), write the lists, feed and search index without them, mark them
        removed in the distribution log and remember it all in the manifest. So a takedown
        holds even if rendering then fails, and the target is told at once."""
        old = self.old.get("stories", {})
        now = {p.id: p for p, _ in allowed}
        down = {i: r for i, r in old.items() if i not in kept and (
                i not in now or now[i].consent_version != r.get("consent_version"))}
        ours = set(self.old.get("files", [])) | set(self.old.get("pending", []))
        owned = {f for i, r in old.items() if i not in down for f in r["files"]}
        owned |= set(self.old.get("static", {}))
        stray = set(self.old.get("pending", [])) - owned  # e.g. of a story forgotten at once
        if not down and not any(os.path.lexists(self._path(f)) for f in stray):
            return
        self.progress(0.1, "Taking down the stories no longer allowed, first.")
        written_before = len(self.report.written)
        remaining = {i: r for i, r in old.items() if i not in down}
        removed = self._remove_files(stray)
        listings = self._write_listings(remaining)
        removed += self._remove_files(ours - owned - listings)
        self.report.takedown_first = removed
        self._sync_distributions(remaining)
        files = (set(self.old.get("files", [])) | set(self.old.get("pending", []))) - set(removed)
        self.old = {**self.old, "stories": remaining, "listings": dict(self.listing_state),
                    "files": sorted(files), "pending": [], "stamp": None}
        self._write_manifest(self.old)
        if self.taken_down is not None:
            self.taken_down(removed, self.report.written[written_before:])

    def _remove_files(self, rels) -> list[str]:
        """Delete these files of earlier builds (inside the output folder, never a link)."""
        gone = []
        for rel in sorted(set(rels)):
            target = self.out / rel
            if _inside(target, self.out) and target.is_file() and not target.is_symlink():
                target.unlink()
                gone.append(rel)
                self.report.removed.append(rel)
                _prune_empty(target.parent, self.out)
                self._dirs.clear()  # a folder may have gone with it
        return gone

    def _prepare(self, allowed: list[tuple[Publishable, str]],
                 todo: list[tuple[Publishable, str]]) -> None:
        """Note the files about to be written; make what every page needs once, here,
        before any worker forks, not once in each."""
        pending = {p.id for p, _ in todo}
        planned = [p for p, _ in allowed if p.id in pending]
        if self._forks(len(todo)) and not any(self.pictures[p.id] for p, _ in todo):
            self.planned = planned  # noted once the workers started: only this process writes
        else:
            self._note_pending(planned)  # workers write pictures themselves
        if not todo:
            return
        self.env.get_template("web/story.html")
        prepare_markdown(self.site.markdown_extensions)
        if any(self.pictures[p.id] for p, _ in todo):
            from storykit.kit import prepare_image  # noqa: F401 - and Pillow, before forking
        if len(todo) >= PARALLEL_MIN:  # a few stories convert quicker than megabytes load
            self.markdown_memo.load()

    def _as_last_time(self) -> BuildReport:
        """The report of a build that found every input as the last build left it."""
        self.report.stories = len(self.old.get("stories", {}))
        self.report.problems = list(self.old["stamp"]["problems"])
        self.report.unchanged = True
        return self.report

    def _reuse(self, allowed: list[tuple[Publishable, str]]):
        """Records of unchanged stories, and (story, key) of the stories to render. Views
        are made later, where the page is rendered (in a worker when there are many)."""
        records: dict[str, dict[str, Any]] = {}
        todo: list[tuple[Publishable, str]] = []
        old = self.old.get("stories", {})
        for publishable, key in allowed:
            record = old.get(publishable.id)
            if record and record["key"] == key and os.path.isfile(self._path(record["page"])):
                records[publishable.id] = record
                continue
            todo.append((publishable, key))
        return records, todo

    def _note_pending(self, todo: list[Publishable]) -> None:
        """Before writing new paths, note them in the manifest, so that a build which fails
        half-way still knows these files are storykit's to remove later."""
        known = set(self.old.get("files", [])) | set(self.old.get("pending", []))
        planned = {pages.story_page(v.slug) for v in todo}
        planned |= {f"{pages.IMAGE_DIR}/{v.slug}-{n}{ext}" for v in todo
                    for n in range(1, len(v.pictures) + 1) for ext in (".jpg", ".png")}
        new = planned - known
        if new:
            self.old["pending"] = sorted(set(self.old.get("pending", [])) | new)
            self._write_manifest(self.old)

    @contextlib.contextmanager
    def _workers(self, stories: int) -> Iterator[concurrent.futures.Executor | None]:
        """Worker processes (forked from this builder) when there are many stories to
        render, for their pages and then the list pages; None for a small build."""
        global _ACTIVE
        if not self._forks(stories):
            yield None
            return
        import concurrent.futures
        import multiprocessing

        _ACTIVE = self  # workers use their forked copy: nothing big is pickled
        try:
            ctx = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=ctx) as pool:
                yield pool
        finally:
            _ACTIVE = None

    def _forks(self, stories: int) -> bool:
        """Whether this many stories to render are rendered by worker processes."""
        return stories >= PARALLEL_MIN and self.workers >= 2 and _can_fork()

    def _render_all(self, todo: list[tuple[Publishable, str]],
                    pool: concurrent.futures.Executor | None) -> list[dict[str, Any]]:
        """Render the changed stories, in the worker processes when there are any. A story
        that cannot be built is left off, named in ``report.problems``."""
        if pool is None:
            records = []
            for n, (publishable, key) in enumerate(todo):
                self._rendering(n, len(todo))
                record, failure = self.render_or_skip(publishable, key)
                if failure:
                    self.report.problems.append(failure)
                else:
                    records.append(record)
        else:
            records = self._render_forked(todo, pool)
        self.markdown_memo.update(records)
        return records

    def _rendering(self, done: int, total: int) -> None:
        self.progress(0.15 + 0.7 * done / max(1, total),
                      f"Making the story pages: {done:,} of {total:,} done.")
        if self.pages is not None:
            self.pages(done, total, "story pages")

    def render_or_skip(self, publishable: Publishable,
                       key: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the record, None), or (None, why the story is left off) when this story alone
        cannot be built (a picture that cannot be read, text too complex): the others
        still are. Errors of the whole build (a theme's template) still stop it."""
        try:
            return self.render_story(publishable, key), None
        except BuildError as exc:
            text = str(exc)
            return None, text if text.startswith(f"story {publishable.id}") else \
                f"story {publishable.id}: {text}"

    def _render_forked(self, todo: list[tuple[Publishable, str]],
                       pool: concurrent.futures.Executor) -> list[dict[str, Any]]:
        import concurrent.futures

        chunks = _balanced_chunks([self.pictures[p.id] for p, _ in todo], self.workers)
        self.todo = todo  # set before the workers fork (on the first chunk)
        futures = {pool.submit(_render_chunk, chunk): n for n, chunk in enumerate(chunks)}
        if self.planned is not None:  # while the workers render the first pages
            self._note_pending(self.planned)
            self.planned = None
        results: list[Any] = [None] * len(chunks)
        finished = 0
        try:
            for future in concurrent.futures.as_completed(futures):
                done, pages_made, failures = future.result()
                results[futures[future]] = done, failures  # not the pages: they go now
                self.unwritten += pages_made
                finished += len(done) + len(failures)
                if finished < len(todo):  # the last wait until the lists are under way
                    self._put_all()
                self._rendering(finished, len(todo))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        records: list[dict[str, Any]] = []
        for done, failures in results:  # in the order of the stories
            records += done
            self.report.problems += failures
        self.report.written += [f for r in records for f in r["files"][1:]]  # pictures
        return records

    def _put_all(self) -> None:
        """Write the pages a worker rendered that are not written yet."""
        for rel, data in self.unwritten:
            self._put(rel, data)
        self.unwritten = []

    # --- story pages -----------------------------------------------------------------------

    def render_story(self, publishable: Publishable, key: str) -> dict[str, Any]:
        """Write one story's page and pictures; return what the manifest keeps about it."""
        try:
            view = publishable.view
        except MediaError as exc:  # a picture changed since the set was made
            raise BuildError(str(exc)) from None
        if view.speaker_notes is not None:  # private to presenters: never on the web
            view = view.without_notes()
        try:
            return self._render_story(view, key)
        except MarkdownTooLong as exc:
            raise BuildError(f"story {view.id}: {exc}") from None

    def _render_story(self, view: StoryView, key: str) -> dict[str, Any]:
        page = pages.story_page(view.slug)
        images = [self._image(view, n, img) for n, img in enumerate(view.images, 1)]
        self.picture_cache.keep_only(view.id, {i.pop("kept") for i in images})
        md = self.markdown_memo.for_story(view.id, self.site.markdown)
        summary = md(view.summary) if view.summary else ""
        body = md(view.body) if view.body else ""
        quotes = [md(q) for q in view.quotes]
        changes = [markdown_inline(c) for c in view.changes]
        card = pages.card_for(view, images[0] if images else None, summary)
        html = self.render(page, "web/story.html", story=view, card=card, images=images,
                           summary_html=summary, body_html=body, quotes_html=quotes,
                           changes_html=changes, page_title=view.title,
                           description=pages.description_of(card, self.info.description),
                           og_type="article", og_image=images[0] if images else None)
        sha = self.write(page, html.encode("utf-8"))
        entry = pages.search_entry(card, [body, *quotes, *changes])
        return {"id": view.id, "key": key, "page": page, "sha": sha, "card": card,
                "markdown": md.made,
                "card_hash": pages.digest(card), "search": entry,
                "search_hash": pages.digest(entry), "consent_version": view.consent_version,
                "files": [page, *(i["src"] for i in images)]}

    def _image(self, view: StoryView, n: int, img: ViewImage) -> dict[str, Any]:
        from storykit.kit import ImageError  # Pillow: only now

        src = img.path  # checked by the media rule when the view was made
        try:
            fmt = picture_format(src)
            rel = f"{pages.IMAGE_DIR}/{view.slug}-{n}{'.png' if fmt == 'PNG' else '.jpg'}"
            (width, height), kept = self.picture_cache.prepare(
                view.id, src, self.out / rel, max_width=MAX_IMAGE_WIDTH, fmt=fmt)
        except ImageError as exc:
            raise BuildError(f"story {view.id}: picture {img.file}: {exc}") from None
        self.report.written.append(rel)
        return {"src": rel, "alt": img.alt, "width": width, "height": height, "kind": img.kind,
                "kept": kept}

    @cached_property
    def picture_cache(self) -> PictureCache:
        """Resized pictures kept between builds (see storykit_web.pictures)."""
        return PictureCache(picture_cache_dir(self.site))

    # --- writing ---------------------------------------------------------------------------

    def render(self, path: str, template: str, **values: Any) -> str:
        """Render ``template`` as the page at ``path`` (links are relative to it)."""
        root = pages.relative_root(path)
        context: dict[str, Any] = {
            "site": self.info, "path": path, "root": root, "csp": pages.SITE_CSP,
            "css_href": f"{root}static/{assets.BUNDLE}?v={self.css_version}",
            "canonical": pages.absolute(self.base_url, path), "base_url": self.base_url,
            "theme_name": self.theme.name, "standalone": False, **values}
        for extra in self.site.plugins.call("template_context", site=self.site,
                                            template=template, context=context):
            context.update(extra)
        return self.env.get_template(template).render(context)

    def _path(self, rel: str) -> str:
        """The output file ``rel`` as a string (cheaper than Path for thousands of pages)."""
        return f"{self._out}/{rel}"

    def write(self, rel: str, data: bytes) -> str:
        """Write ``data`` to ``rel`` under the output folder (old or new, never half);
        return its SHA-256. In a worker, the page is handed to the parent instead."""
        if self.deferred is None:
            self._put(rel, data)
        else:
            self.deferred.append((rel, data))
        return hashlib.sha256(data).hexdigest()

    def _put(self, rel: str, data: bytes) -> None:
        """Write one file of the output folder (strings, not Paths: thousands of pages)."""
        target = self._path(rel)
        folder = os.path.dirname(target)
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)
        replace_file(target, data, pool=self.page_files)
        self.report.written.append(rel)

    def _write_static(self) -> set[str]:
        """Copy the theme's static files (and the CSS bundle) when they changed."""
        produced: set[str] = set()
        old = self.old.get("static", {})
        wanted = {f"{pages.STATIC_DIR}/{rel}": path for rel, path in self.static.items()
                  if not rel.endswith(".css")}
        for rel, path in sorted(wanted.items()):
            state = stat_key(path)
            self._write_if_changed(rel, old.get(rel), state, path.read_bytes)
            produced.add(rel)
        bundle = f"{pages.STATIC_DIR}/{assets.BUNDLE}"
        self._write_if_changed(bundle, old.get(bundle), self.css_version,
                               lambda: self.css.encode("utf-8"))
        produced.add(bundle)
        return produced

    def _write_if_changed(self, rel: str, before: Any, now: Any, data) -> None:
        state = json.loads(json.dumps(now))
        self.static_state[rel] = state
        if before != state or not (self.out / rel).is_file():
            self.write(rel, data())
            self.report.static += 1

    def _write_listings(self, records: dict[str, dict[str, Any]]) -> set[str]:
        """Write each listing page whose cards (or template, or settings) changed; return
        the paths of every listing and plugin page the site has."""
        work = self._start_listings(records)
        self._finish_listings(work)
        return work.paths

    def _forget_cards(self) -> None:
        if "env" in self.__dict__:
            self.env.globals["card_once"].forget()

    def _start_listings(self, records: dict[str, dict[str, Any]],
                        pool: concurrent.futures.Executor | None = None) -> _Listings:
        """Find the listing pages whose cards (or template, or settings) changed, and hand
        the HTML and XML ones to the workers when there are workers (the search index is
        made here, by :meth:`_finish_listings`)."""
        self._forget_cards()  # workers fork later: they start with none
        old = self.old.get("listings", {})
        cards = pages.sort_cards(r["card"] for r in records.values())
        self.extras, self.extras_digest = self.extra_pages(cards)
        extras = {p.path for p in self.extras}
        extras_same = self.old.get("extras") == self.extras_digest
        if old and extras_same and self._nothing_changed(records) and \
                all((self.out / p).is_file() for p in old):
            self.listing_state = dict(old)
            return _Listings(set(old) | extras, records)
        found = pages.listings(cards, base_url=self.base_url,
                               statement_date=self.config.get("statement_date", ""))
        by_id = {r["id"]: r for r in records.values()}
        self.listing_state = {}
        changed = []
        for listing in found:
            field_name = "search_hash" if listing.kind == "js" else "card_hash"
            state = pages.digest(self.key, listing.path, listing.template, listing.params,
                                 [by_id[i][field_name] for i in listing.card_ids],
                                 self.extras_digest if listing.path in EXTRA_LISTINGS else "")
            self.listing_state[listing.path] = state
            if old.get(listing.path) != state or not (self.out / listing.path).is_file():
                changed.append(listing)
        work = _Listings({listing.path for listing in found} | extras, by_id, changed)
        if pool is not None:
            work.here = [listing for listing in changed if listing.kind == "js"]
            for batch in _listing_batches([x for x in changed if x.kind != "js"],
                                          self.workers):
                cards_of = {i: by_id[i]["card"] for x in batch for i in x.card_ids}
                work.sent.append((batch, pool.submit(_render_listings, batch, cards_of,
                                                     self.extras)))
        return work

    def _finish_listings(self, work: _Listings) -> None:
        """Make the listing pages :meth:`_start_listings` left here, write them and the
        workers' ones as they come, and the plugins' pages."""
        try:
            for listing in work.here:
                self._put_listing(listing, self._listing_bytes(listing, work.by_id))
            self._write_extras()
            for batch, future in work.sent:
                future.result()  # written by the worker
                self.report.written += [listing.path for listing in batch]
                self.report.listings += len(batch)
        finally:
            self._forget_cards()

    def _put_listing(self, listing: pages.Listing, data: bytes) -> None:
        self.write(listing.path, data)
        self.report.listings += 1

    def extra_pages(self, cards: list[dict[str, Any]]) -> tuple[list[WebPage], str]:
        """Plugins' pages (the ``web_pages`` hook) for the stories of ``cards``, checked,
        and a digest of them (the feed, the search index and the stamp depend on it)."""
        found = [p.checked() for p in self.site.plugins.flat("web_pages", site=self.site,
                                                              stories=cards)]
        paths = [p.path for p in found]
        if len(set(paths)) != len(paths):
            raise BuildError("two website pages from plugins have the same path")
        return found, pages.digest(repr(found))

    def _write_extras(self) -> set[str]:
        """Write each plugin page whose content changed (with ``web/section.html``)."""
        for page in self.extras:
            self._write_if_changed(page.path, self.old.get("static", {}).get(page.path),
                                   pages.digest(self.key, repr(page)),
                                   lambda page=page: self.render(
                                       page.path, "web/section.html", page=page).encode())
        return {p.path for p in self.extras}

    def _nothing_changed(self, records: dict[str, dict[str, Any]]) -> bool:
        """The same stories as last time, none re-rendered, same theme and settings."""
        before = self.old.get("stories", {})
        return (self.old.get("key") == self.key and self.report.rendered == 0
                and records.keys() == before.keys()
                and all(records[i] is before[i] for i in records))

    def _listing_bytes(self, listing: pages.Listing, by_id: dict[str, dict[str, Any]]) -> bytes:
        if listing.kind == "js":
            entries = self._search_entries(listing.card_ids, by_id)
            return search_index_js([entries[i] for i in listing.card_ids] +
                                   [pages.page_search_entry(p) for p in self.extras]
                                   ).encode("utf-8")
        return self.listing_html(listing, [by_id[i]["card"] for i in listing.card_ids])

    def listing_html(self, listing: pages.Listing, cards: list[dict[str, Any]]) -> bytes:
        extra = {}
        if listing.path == "feed.xml":
            extra = {"extra_entries": [p for p in self.extras if p.updated]}
        elif listing.path == "index.html":
            extra = {"extra_pages": [p for p in self.extras if p.path.endswith("/index.html")]}
        html = self.render(listing.path, listing.template, cards=cards, **listing.params,
                           **extra)
        return html.encode("utf-8")

    def _search_entries(self, ids: list[str],
                        by_id: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Every story's search entry: new ones from this build, the others from the side
        file the last build kept (read only now: a build with nothing new never needs it).
        The side file is rewritten with exactly the stories on the site."""
        kept = _load_dict(self.search_file)  # id -> [its search hash, the entry]
        entries, saved = {}, {}
        for story_id in ids:
            wanted = by_id[story_id]["search_hash"]
            entry = self.new_search.get(story_id)
            if entry is None:
                stored = kept.get(story_id)
                if isinstance(stored, list) and len(stored) == 2 and stored[0] == wanted:
                    entry = stored[1]
                else:
                    entry = self._search_entry_again(story_id, by_id[story_id])
                    wanted = pages.digest(entry)
            entries[story_id], saved[story_id] = entry, [wanted, entry]
        self.later(_keep, self.search_file, saved)
        return entries

    def _search_entry_again(self, story_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """A lost search entry, made again from the story as consent allows it today."""
        publishable = self.publications.get(story_id) if self.publications else None
        if publishable is None:  # not loaded by a build of a few changes
            publishable = publication_set(self.site, USE, ids={story_id}).get(story_id)
        if publishable is None:
            raise BuildError(f"story {story_id} changed while the site was being built; "
                             "build again")
        view = publishable.view
        md = self.site.markdown
        parts = [md(view.body) if view.body else "", *(md(q) for q in view.quotes),
                 *(markdown_inline(c) for c in view.changes)]
        return pages.search_entry(record["card"], parts)

    # --- removing, recording, remembering ---------------------------------------------------

    def _remove_stale(self, produced: set[str]) -> None:
        """Delete files earlier builds wrote that no longer belong to the site, and nothing else."""
        ours = set(self.old.get("files", [])) | set(self.old.get("pending", []))
        self._remove_files(ours - produced)

    def _sync_distributions(self, records: dict[str, dict[str, Any]]) -> None:
        """Each live story page is in the log once per distinct content; gone pages are
        marked removed (by the publication set, which records only its own stories). A
        build of a few changes looks only at the stories it loaded."""
        assert self.publications is not None
        live = [PublishedPage(r["id"], self._path(r["page"]), r["sha"],
                              pages.absolute(self.base_url, r["page"]) or None)
                for r in records.values() if self.only is None or r["id"] in self.only]
        recorded, taken_down = self.publications.record(live, format="web", job=JOB,
                                                        folder=self.out, by=self.by)
        if recorded or taken_down:
            self.report.recorded, self.report.taken_down = recorded, taken_down

    def _save_manifest(self, records: dict[str, dict[str, Any]], produced: set[str]) -> None:
        manifest = {"version": BUILDER_VERSION, "out": str(self.out), "key": self.key,
                    "stories": records, "listings": self.listing_state,
                    "extras": self.extras_digest,
                    "static": self.static_state, "files": sorted(produced),
                    "stamp": self.stamp}
        if manifest != {k: v for k, v in self.old.items() if k != "pending"} or self.old.get("pending"):
            self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        _keep(self.manifest_file, manifest)
        drop_legacy_files(self.manifest_file.parent)


def _balanced_chunks(pictures: list[int], workers: int) -> list[list[int]]:
    """Indices of the stories to render, in small chunks that idle workers take one by one,
    stories with pictures (ten times the work) first: no worker is left with the slow end."""
    order = sorted(range(len(pictures)), key=lambda i: -pictures[i])
    size = max(4, len(order) // (workers * 12))
    # The last stories in chunks a quarter as big: the workers finish nearly together, and
    # the list pages, which wait for every story, start sooner.
    tail = max(0, len(order) - size * workers) // size * size
    small = max(4, size // 4)
    return [order[i:i + size] for i in range(0, tail, size)] + \
        [order[i:i + small] for i in range(tail, len(order), small)]


def _render_chunk(indices: list[int]) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]],
                                               list[str]]:
    """In a worker: render some stories; their pages go back to the parent to be written
    (one writer: creating files in one folder from several processes makes each wait),
    with why each story that could not be built was left off."""
    assert _ACTIVE is not None
    _ACTIVE.deferred = []
    records, failures = [], []
    for i in indices:
        record, failure = _ACTIVE.render_or_skip(*_ACTIVE.todo[i])
        if failure:
            failures.append(failure)
        else:
            records.append(record)
    return records, _ACTIVE.deferred, failures


def _compile_templates(env: Any) -> None:
    """Compile the website's templates into ``env``'s template cache (one that does not
    compile fails the build where it is used, as before)."""
    if env.bytecode_cache is None:
        return
    import jinja2

    for name in env.list_templates(filter_func=lambda n: n.startswith("web/")):
        with contextlib.suppress(jinja2.TemplateError):
            env.get_template(name)


def _render_listings(batch: list[pages.Listing], cards: dict[str, dict[str, Any]],
                     extras: list[WebPage]) -> None:
    """In a worker: make and write some listing pages (the cards they show, and the
    plugins' pages the home page and the feed link to, are sent along: the workers forked
    before either). Unlike story pages, the worker writes them itself, so they are not left
    for the end of the build: a batch is about one place (folder), where hardly any other
    process creates files meanwhile (see _listing_batches)."""
    assert _ACTIVE is not None
    _ACTIVE.extras = extras
    for listing in batch:
        _ACTIVE._put(listing.path,
                     _ACTIVE.listing_html(listing, [cards[i] for i in listing.card_ids]))


@dataclass
class _Listings:
    """List pages on their way: ``paths`` are every listing and plugin page of the site;
    ``here`` are made by this process, ``sent`` by the workers (each batch a future)."""

    paths: set[str]
    by_id: dict[str, dict[str, Any]]
    here: list[pages.Listing] = field(default_factory=list)
    sent: list[tuple[list[pages.Listing], concurrent.futures.Future]] = \
        field(default_factory=list)


#: Rough cost of a listing page, in cards shown again (measured on 1,000 stories): the page
#: itself, each card an HTML page shows (made for the first time in a place, or reused: list
#: templates reuse a card made for the same place), each story in a feed or site map.
PAGE_COST, NEW_CARD_COST, XML_CARD_COST = 150, 10, 5


def _listing_batches(listings: list[pages.Listing], workers: int) -> list[list[pages.Listing]]:
    """The listings in one batch per worker, of about the same work. Pages in the same
    place (folder) go together, so each card is made once per place in one worker, not
    in each, and each worker compiles only the templates of its own pages."""
    order = sorted(listings, key=lambda x: (pages.relative_root(x.path), x.template))
    seen: set[tuple[str, str]] = set()
    costs = []
    for listing in order:
        root = pages.relative_root(listing.path)
        cards = len(listing.card_ids)
        if listing.kind == "html":
            new = {(root, i) for i in listing.card_ids} - seen
            seen.update(new)
            costs.append(PAGE_COST + cards + NEW_CARD_COST * len(new))
        else:
            costs.append(PAGE_COST + XML_CARD_COST * cards)
    share, batches, done = sum(costs) / max(1, workers), [[]], 0
    for listing, cost in zip(order, costs, strict=True):
        if done >= share * len(batches) and len(batches) < workers:
            batches.append([])
        batches[-1].append(listing)
        done += cost
    return [batch for batch in batches if batch]


class _Background:
    """Cache files saved beside the build, in a thread (writing and syncing them waits on
    the disk, not on this process); any error is raised when the build leaves."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def run(self, task: Callable[..., Any], *args: Any) -> None:
        thread = threading.Thread(target=self._do, args=(task, args))
        thread.start()
        self.threads.append(thread)

    def _do(self, task: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            task(*args)
        except BaseException as exc:  # noqa: BLE001 - raised again by __exit__
            self.errors.append(exc)

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self.threads:
            thread.join()
        if self.errors and exc[0] is None:
            raise self.errors[0]


def search_index_js(entries: list[dict[str, Any]]) -> str:
    """The offline search index: a script that sets a global, so it loads even from file://.
    ``<``, ``>`` and ``&`` are escaped so the text can never close a script element."""
    data = json.dumps({"version": 1, "stories": entries}, ensure_ascii=False,
                      separators=(",", ":"))
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        data = data.replace(char, code)
    return f"window.STORYKIT_SEARCH = {data};\n"


# --- small helpers -------------------------------------------------------------------------

def _load_manifest(path: Path, out: Path | None) -> dict[str, Any]:
    """The manifest of the last build into ``out`` (any output folder if None), or {}."""
    data = _load_dict(path)
    if data.get("version") != BUILDER_VERSION:
        return {}
    return data if out is None or data.get("out") == str(out) else {}


def _load_dict(path: Path) -> dict[str, Any]:
    """A manifest or side file (pickled: a tenth of a second quicker than JSON at 10,000
    stories, each way), or {} when it is missing or damaged."""
    data = read_cache(path)
    return data if isinstance(data, dict) else {}


def _now(task: Callable[..., Any], *args: Any) -> None:
    task(*args)


def _keep(path: Path, data: dict[str, Any]) -> None:
    if not write_cache(path, data):
        raise BuildError(f"cannot write the build's manifest in {path.parent}")


def _plugin_config(site: Site) -> dict[str, Any]:
    config = site.config.plugin_config("storykit_web")
    date = config.get("statement_date")
    if isinstance(date, dt.date):
        config["statement_date"] = nice_date(date)
    elif isinstance(date, str) and date:
        config["statement_date"] = nice_date(parse_date(date))
    return config


def _checked_base_url(url: str) -> str:
    if url and not url.startswith(("https://", "http://")):
        raise BuildError(f"[site] base_url must start with https:// (it is {url[:60]!r})")
    return url


def _name_of(extension: Any) -> str:
    """A Markdown extension's name that is the same in every process (no memory address)."""
    if isinstance(extension, str):
        return extension
    kind = type(extension)
    return f"{kind.__module__}.{kind.__qualname__}"


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _inside(path: Path, root: Path) -> bool:
    return os.path.normpath(path).startswith(str(root) + os.sep)


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and _inside(folder, root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
