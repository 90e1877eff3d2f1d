"""Publishing: the stories the core lets a builder put out for a use today, and the record of
what it put out.

A builder of a whole publication (the public web site of ``storykit build``) never loads
stories or decides about them itself. It asks :func:`publication_set` for the stories that
may be published for a use *today*: published, allowed by the consent decision, not a draft,
their pictures passing the media rule. Each comes as a :class:`Publishable` whose reduced
view is made on first use, exactly as ``render`` makes it (decide -> reduce). What the
builder then has live is handed back to :meth:`PublicationSet.record`, which keeps the
distribution log in step in one transaction; it records only stories of the set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .consent import Decision, StoryView, decision_window, shown_images
from .dates import today
from .errors import NotFoundError, StorykitError
from .fsio import stat_key
from .media import media_problem

if TYPE_CHECKING:  # pragma: no cover
    from .distribution import DistributionLog
    from .model import Story
    from .site import Site
    from .store import LoadResult

#: Only stories with this status are published (approved ones wait for a publisher).
PUBLISHED = "published"


@dataclass(frozen=True)
class PublishedPage:
    """A page a builder has live for a story: its file, content hash and public address."""

    story_id: str
    path: str
    sha256: str
    url: str | None = None


class Publishable:
    """One story a builder may publish today. ``source_key`` changes whenever anything its
    view is made from changes (its files' bytes, the consent version, its pictures' files);
    ``pictures`` are the files its story lists (for a builder's own change checks)."""

    def __init__(self, decision: Decision, source_key: str, pictures: tuple[str, ...]):
        self._decision = decision  # (in place of the property below)
        self.id: str = decision.story_id
        self.slug: str = decision.slug or decision.story_id
        self.consent_version: int = decision.consent_version or 0
        self.source_key = source_key
        self.pictures = pictures

    @classmethod
    def decided_in_load(cls, site: Site, story: Story, use: str, on: dt.date,
                        facts: tuple[str, int, str], pictures: tuple[str, ...]) -> Publishable:
        """One a load's worker decided about (it sent back ``facts``: slug, consent version
        and source key). The decision is made again by the same :meth:`Site.decide` only
        when the view is needed: on a cold build, in the workers that render it."""
        self = cls.__new__(cls)
        self._again = (site, story, use, on)
        self.id = story.id
        self.slug, self.consent_version, self.source_key = facts
        self.pictures = pictures
        return self

    @cached_property
    def _decision(self) -> Decision:
        """The decision made again for a story a load's worker decided about: it cannot
        differ (the same story, use and day), but a view is never made unless it allows
        the story, as a finished story, under the same consent version."""
        site, story, use, on = self._again
        decision = site.decide(story, use, on)
        if not decision.allowed or decision.draft or \
                (decision.consent_version or 0) != self.consent_version:
            raise StorykitError(f"story {self.id}: consent's decision changed while the site "
                                "was being built; build again")
        return decision

    @cached_property
    def view(self) -> StoryView:
        """The story as consent lets it be published: reduced, without speaker notes, its
        pictures' paths checked by the media rule (:class:`~storykit.media.MediaError`)."""
        from .render import checked_view

        return checked_view(self._decision)

    def __repr__(self) -> str:
        return f"Publishable({self.id!r}, slug={self.slug!r})"


@dataclass
class PublicationSet:
    """The stories that may be published for ``use`` on ``on`` (today), in id order, with
    ``problems`` (sentences naming stories, never their text) for those left out for a
    reason a person should fix. Every decision holds from ``valid_from`` to
    ``valid_until``: a builder may trust the set on those days while no story changes.
    ``among`` is the ids looked at (None: every story of the site)."""

    use: str
    on: dt.date
    stories: list[Publishable]
    problems: list[str]
    valid_from: dt.date
    valid_until: dt.date
    among: frozenset[str] | None = None
    _log: DistributionLog | None = field(default=None, repr=False)
    _store: Any = field(default=None, repr=False)

    def get(self, story_id: str) -> Publishable | None:
        return self._by_id.get(story_id)

    @cached_property
    def _by_id(self) -> dict[str, Publishable]:
        return {p.id: p for p in self.stories}

    def record(self, pages: Iterable[PublishedPage], *, format: str, job: str,
               folder: Path | str, by: str | None = None) -> tuple[int, int]:
        """Make the distribution log's live entries of ``job`` under ``folder`` match
        ``pages``: a new page, or one whose content or consent version changed, is recorded;
        a page that is gone or replaced is marked removed; all in one transaction. Only the
        stories this set looked at are touched. Returns (recorded, taken down)."""
        from .store import current_user

        log = self._log
        if log is None:  # pragma: no cover - sets come from publication_set
            raise StorykitError("this publication set has no distribution log")
        current = {}
        for page in pages:
            story = self.get(page.story_id)
            if story is None:
                raise StorykitError(f"story {page.story_id} may not be published for "
                                    f"{self.use} today, so it cannot be recorded")
            current[(page.story_id, page.path)] = (page, story)
        live = [d for d in self._live(log, format, str(folder) + os.sep) if d.job == job]
        keep: set[tuple[str, str]] = set()
        stale: list[int] = []
        for d in live:
            found = current.get((d.story_id, d.path))
            if found and d.sha256 == found[0].sha256 \
                    and d.consent_version == found[1].consent_version:
                keep.add((d.story_id, d.path))
            else:
                stale.append(d.id)
        new = [found for key, found in current.items() if key not in keep]
        if not stale and not new:
            return 0, 0
        who = by or current_user()
        with log.transaction():
            log.mark_removed(stale)
            log.record_many({"story_id": page.story_id, "consent_version": story.consent_version,
                             "use": self.use, "format": format, "sha256": page.sha256,
                             "path": page.path, "url": page.url, "job": job, "created_by": who}
                            for page, story in new)
        gone = {d.story_id for d in live if d.id in set(stale)} - set(self._by_id)
        for story_id in sorted(gone):
            if self._erased(story_id):  # its pages are gone now: so are their addresses
                log.forget_addresses(story_id)
        return len(new), len(stale)

    def _erased(self, story_id: str) -> bool:
        if self._store is None:  # pragma: no cover - sets come from publication_set
            return False
        try:
            return self._store.get(story_id).erased
        except StorykitError:
            return False

    def _live(self, log: DistributionLog, fmt: str, prefix: str) -> list[Any]:
        if self.among is None:
            return log.live_at_paths(prefix, fmt)
        return [d for i in sorted(self.among) for d in log.for_story(i, live_only=True)
                if d.format == fmt and d.path.startswith(prefix)]


def publication_set(site: Site, use: str, *, ids: Iterable[str] | None = None) -> PublicationSet:
    """The stories of ``site`` that may be published for ``use`` today (every story, or only
    ``ids``: a story among them that no longer exists is left out, one that cannot be read
    raises its :class:`~storykit.errors.StorykitError`)."""
    if use not in site.config.uses:
        raise StorykitError(f"unknown use {use!r}; this site's uses are: "
                            f"{', '.join(site.config.use_names)}")
    on = today()
    wanted = None if ids is None else frozenset(ids)
    problems: list[str] = []
    checked: dict[str, Any] = {}
    if wanted is None:
        loaded = _load_and_check(site, use, on)
        stories, checked = loaded.stories, loaded.found
        problems += [str(p) for p in loaded.problems]
    else:
        stories = []
        if hasattr(site.store, "catch_up"):
            site.store.catch_up()  # changes made on other machines (storykit.changes)
        for story_id in sorted(wanted):
            try:
                stories.append(site.store.get(story_id))
            except NotFoundError:
                continue
    found: dict[str, Publishable] = {}
    first, last = dt.date.min, dt.date.max
    # each allowed story with its decision, or with what the load's worker found (_facts)
    allowed: list[tuple[Story, Decision | None, tuple | None]] = []
    for story in sorted(stories, key=lambda s: s.id):
        if story.status != PUBLISHED:
            continue
        facts = checked.get(story.id)
        if facts:  # decided where it was parsed
            window = dt.date.fromordinal(facts[0]), dt.date.fromordinal(facts[1])
            first, last = max(first, window[0]), min(last, window[1])
            if facts[2]:
                allowed.append((story, None, facts[2]))
            continue
        window = decision_window(story, on)
        first, last = max(first, window[0]), min(last, window[1])
        decision = site.decide(story, use, on)
        if not decision.allowed or decision.draft:
            continue
        allowed.append((story, decision, None))
    blocking = _blocking_problems(site, [story for story, _, told in allowed if told is None])
    blocking.reverse()
    for story, decision, told in allowed:
        blocked = blocking.pop() if told is None else told[0]
        problem = _media_problem(story) or blocked
        if problem:
            problems.append(f"story {story.id} is not published: {problem}")
            continue
        if decision is None:
            publishable = Publishable.decided_in_load(site, story, use, on, told[1:],
                                                      _pictures(story))
        else:
            publishable = Publishable(decision, source_key(story, decision), _pictures(story))
        if publishable.slug in found:
            problems.append(f"story {story.id} is not published: its slug "
                            f"{publishable.slug!r} is used by story {found[publishable.slug].id}")
            continue
        found[publishable.slug] = publishable
    return PublicationSet(use, on, sorted(found.values(), key=lambda p: p.id), problems,
                          first, last, wanted, site.distributions, site.store)


def _load_and_check(site: Site, use: str, on: dt.date) -> LoadResult:
    """Every story of the site (``load_all``), each published one decided about and, when
    allowed, looked for blocking findings where it is parsed (on a big cold site: in the
    workers that parse it, so only the answer, a few bytes, comes back): its ``found``
    holds :func:`_facts`, or nothing for a story the load did not decide about."""
    if threading.active_count() > 1:
        return site.store.load_all()  # a fork copies no other thread (nor the locks one holds)
    from . import findings  # noqa: F401 - once, before workers fork, not once in each

    def each(story: Story) -> tuple | bool:
        return _facts(site, story, use, on)

    return site.store.load_all(each=each)


def _facts(site: Site, story: Story, use: str, on: dt.date) -> tuple | bool:
    """What :func:`publication_set` needs of a story, in plain values a load's worker can
    send back: False for a story that is not published; else the first and last day of
    its decision window (ordinals) and False when the decision refuses it today (or makes
    it a draft), or (its blocking problem or None, slug, consent version, source key)."""
    if story.status != PUBLISHED:
        return False
    first, last = decision_window(story, on)
    decision = site.decide(story, use, on)
    if not decision.allowed or decision.draft:
        return first.toordinal(), last.toordinal(), False
    return first.toordinal(), last.toordinal(), (
        _blocking_problem(site, story), decision.slug or decision.story_id,
        decision.consent_version or 0, source_key(story, decision))


def _media_problem(story: Story) -> str | None:
    """Why a picture the view of an allowed story would show may not be read
    (storykit.media), or None."""
    if not story.images:
        return None
    consent = story.current_consent
    assert consent is not None  # an allowed decision has consent
    for image in shown_images(story, consent):
        problem = media_problem(story.folder, image.file)
        if problem is not None:
            return str(problem)
    return None


#: Stories whose findings it pays to look for on every core (a worker takes ~10 ms to start;
#: a story's privacy scan and checks ~0.3 ms).
PARALLEL_FINDINGS_MIN = 200
#: The site and its stories (by id) that forked workers look for findings in.
_FINDING: tuple[Site, dict[str, Story]] | None = None


def _blocking_problems(site: Site, stories: list[Story]) -> list[str | None]:
    """:func:`_blocking_problem` of each story, in order: on a big site, shared between this
    process and forked workers (a clean build of a thousand stories spends a third of a
    second here). Only from a process with one thread: a fork copies no other thread, nor
    any lock one holds."""
    cores = min(os.cpu_count() or 1, 4)
    if len(stories) < PARALLEL_FINDINGS_MIN or cores < 2 or not hasattr(os, "fork") \
            or threading.active_count() > 1:
        return [_blocking_problem(site, story) for story in stories]
    import concurrent.futures
    import multiprocessing

    global _FINDING
    _FINDING = site, {story.id: story for story in stories}
    shares = [stories[i::cores] for i in range(cores)]  # interleaved: even work
    try:
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=ctx) as pool:
            theirs = [pool.submit(_blocking_chunk, [s.id for s in share]) for share in shares[1:]]
            results = [[_blocking_problem(site, story) for story in shares[0]]]
            results += [future.result() for future in theirs]
    except (OSError, concurrent.futures.process.BrokenProcessPool):
        return [_blocking_problem(site, story) for story in stories]
    finally:
        _FINDING = None
    by_id = {s.id: r for share, found in zip(shares, results, strict=True)
             for s, r in zip(share, found, strict=True)}
    return [by_id[story.id] for story in stories]


def _blocking_chunk(ids: list[str]) -> list[str | None]:
    """In a forked worker: the blocking problems of these stories, from the copy of the
    stories the worker was forked with (nothing is read again)."""
    assert _FINDING is not None
    site, stories = _FINDING
    return [_blocking_problem(site, stories[i]) for i in ids]


def _blocking_problem(site: Site, story: Story) -> str | None:
    """Why the story is held back by a blocking finding nobody has dealt with (its kind in
    words, never the detail), or None."""
    from .findings import story_findings

    reason = story_findings(site, story).reason()
    return None if reason is None else reason.message


def _pictures(story: Story) -> tuple[str, ...]:
    if not story.images:
        return ()
    folder = story.folder
    return tuple(str(folder / img.file) for img in story.images) if folder else ()


def source_key(story: Story, decision: Decision) -> str:
    """A hash of everything a story's published view is made from: the exact bytes of its
    files (etags), the consent version and use decided on, and its pictures' files."""
    folder = story.folder
    images = repr([(img.file, stat_key(folder / img.file) if folder else None)
                   for img in story.images]) if story.images else ""
    if story.etag is None:  # a store that does not say which bytes it read: use the view
        parts = [repr(decision.view), images]
    else:
        parts = [story.id, story.etag, story.consent_etag or "",
                 str(decision.consent_version), decision.use, images]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def stories_fingerprint(site: Site) -> dict[str, Any]:
    """The stories folder's fingerprint (every name in it and each story's file stat keys),
    taken without loading a story; {} for a store that cannot give one."""
    store = site.store
    return store.fingerprint() if hasattr(store, "fingerprint") else {}


def code_fingerprint() -> str:
    """A hash of the core code that decides what a published view shows (the consent
    decision and reduction, the Markdown sanitiser, the media rule, the privacy findings
    that hold a story back): a builder that keeps pages between builds renders them all
    again when it changes."""
    digest = hashlib.sha256()
    for name in ("consent", "markup", "media", "privacy", "findings"):
        digest.update(_module_file(f"{__package__}.{name}").read_bytes())
    return digest.hexdigest()[:32]


def _module_file(name: str) -> Path:
    """A module's source file, found without importing it (a no-change build never needs
    the privacy findings, YAML and the rest they import)."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module else None
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
    return Path(origin or "")
