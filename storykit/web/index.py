"""An in-memory index of the site's stories, so lists of thousands stay fast.

Reading 10,000 story folders on every request is far too slow, so lists come from a snapshot.

* The first use loads every story (``store.load_all``, which reuses the persistent parse cache).
* After that a background thread rescans: it stats each ``story.md`` and ``consent.yml`` and
  re-reads only stories whose inode, size or modification time changed (files edited outside
  the app show up within a few seconds). It waits at least ``STORYKIT_INDEX_TTL`` seconds
  (default 2) between scans, and longer on big, slow folders (20 times what the last scan took,
  at most a minute), so scanning never takes more than about 5% of one core. Requests never
  wait for a rescan.
* Writes made through the app update the snapshot at once (:meth:`put`), and pages about one
  story read it fresh (:meth:`story`), so a form always carries the latest etag.
* With ``STORYKIT_INDEX_TTL = 0`` (tests) there is no thread: every :meth:`snapshot` rescans.
* When the site's database is PostgreSQL (several app servers may share the stories folder),
  every request also asks the change feed (:mod:`storykit.changes`) for stories changed
  since it last asked, on any server, and reads those again at once: one indexed query, at
  most every ``FEED_EVERY`` seconds (0: every time), and always before a page about one story.

Consent decisions are cached per story version, use and day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import NotFoundError, Problem, ValidationError
from ..fsio import stat_key
from ..model import Story
from ..slugs import is_valid_id, slug_key

if TYPE_CHECKING:  # pragma: no cover
    from ..consent import Decision
    from ..site import Site

log = logging.getLogger("storykit.web")
MAX_INTERVAL = 60.0
COST_FACTOR = 20
FEED_EVERY = 0.0  # seconds between questions to the feed (0: every time: it is one quick query)


@dataclass(frozen=True)
class Snapshot:
    """Every readable story by id, ids newest-first, and problems with unreadable files."""

    stories: dict[str, Story] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @cached_property
    def by_status(self) -> dict[str, tuple[str, ...]]:
        """Ids newest-first for each status (worked out once per snapshot)."""
        groups: dict[str, list[str]] = {}
        for story_id in self.order:
            groups.setdefault(self.stories[story_id].status, []).append(story_id)
        return {status: tuple(ids) for status, ids in groups.items()}

    @cached_property
    def position(self) -> dict[str, int]:
        return {story_id: n for n, story_id in enumerate(self.order)}

    def in_statuses(self, statuses: frozenset[str]) -> tuple[str, ...]:
        """Ids newest-first of the stories with any of ``statuses``, worked out once per
        snapshot for each set (lists ask the same few sets again and again)."""
        found = self._in_statuses.get(statuses)
        if found is None:
            groups = [self.by_status.get(s, ()) for s in statuses]
            found = groups[0] if len(groups) == 1 else tuple(
                sorted((i for g in groups for i in g), key=self.position.__getitem__))
            self._in_statuses[statuses] = found
        return found

    @cached_property
    def _in_statuses(self) -> dict[frozenset[str], tuple[str, ...]]:
        return {}


def _sort_key(story: Story) -> tuple:
    """Newest first, then by title, then id (ids are unique, so no two keys are equal)."""
    return (-(story.updated or dt.date.min).toordinal(), story.title.lower(), story.id)


def _ordered(stories: dict[str, Story]) -> tuple[str, ...]:
    return tuple(s.id for s in sorted(stories.values(), key=_sort_key))


def _moved(order: tuple[str, ...], old: dict[str, Story], new: dict[str, Story],
           story_id: str) -> tuple[str, ...]:
    """``order`` with one story moved to its place (after a save), by binary search: sorting
    10,000 stories again took several milliseconds of every save."""
    ids = list(order)
    before = old.get(story_id)
    if before is not None:
        at = bisect.bisect_left(ids, _sort_key(before), key=lambda i: _sort_key(old[i]))
        if at >= len(ids) or ids[at] != story_id:  # not where it should be: start afresh
            return _ordered(new)
        del ids[at]
    ids.insert(bisect.bisect_left(ids, _sort_key(new[story_id]),
                                  key=lambda i: _sort_key(new[i])), story_id)
    return tuple(ids)


class StoryIndex:
    def __init__(self, site: Site, ttl: float = 2.0):
        self.site = site
        self.ttl = ttl
        self._snap: Snapshot | None = None
        self._keys: dict[str, tuple] = {}         # story id -> stat keys at the last scan
        self._bad: dict[str, list[Problem]] = {}  # story id -> why it could not be read
        self._slugs: dict[str, tuple[str | None, str]] = {}  # id -> (etag, slug key)
        self._refreshing = threading.Lock()
        self._writing = threading.Lock()
        self._decisions: dict[tuple, Decision] = {}
        self._day = dt.date.today()
        self.last_scan_seconds = 0.0
        self._thread: threading.Thread | None = None
        self._feed_id = 0           # the last change feed row seen
        self._feed_asked = 0.0      # when (time.monotonic)
        self._following = threading.Lock()

    # --- the snapshot ------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current snapshot (the first call loads every story)."""
        if self._snap is None:
            with self._refreshing:
                if self._snap is None:
                    self._load_everything()
            self._start_rescanning()
        elif self.ttl <= 0:
            self.refresh()
        self._follow()
        assert self._snap is not None
        return self._snap

    def _load_everything(self) -> None:
        keys, stray = self._scan()  # before reading, so a change meanwhile is seen next time
        feed = self.site.store.changes
        if feed is not None:  # likewise: changes made during the load are read again
            self._feed_id = self._ask(feed.latest, self._feed_id)
        result = self.site.store.load_all()
        stories = {s.id: s for s in result.stories}
        self._bad = {}
        for problem in result.problems:
            story_id = _story_id_of(problem, self.site.store.root)
            if story_id and problem.code != "duplicate_slug":
                self._bad.setdefault(story_id, []).append(problem)
        self._keys = keys
        self._publish(stories, stray)

    def refresh(self) -> Snapshot:
        """Re-read stories whose files changed since the last scan; returns the snapshot."""
        with self._refreshing:
            if self._snap is None:
                self._load_everything()
                assert self._snap is not None
                return self._snap
            start = time.monotonic()
            keys, stray = self._scan()
            changed = [i for i, k in keys.items() if self._keys.get(i) != k]
            removed = set(self._keys) - set(keys)
            if changed or removed or stray != self._stray:
                stories = dict(self._snap.stories)
                for story_id in removed:
                    stories.pop(story_id, None)
                    self._bad.pop(story_id, None)
                for story_id in changed:
                    self._reread(story_id, stories)
                self._publish(stories, stray)
            self._keys = keys
            self.last_scan_seconds = time.monotonic() - start
            return self._snap

    def _reread(self, story_id: str, stories: dict[str, Story]) -> None:
        try:
            stories[story_id] = self.site.store.get(story_id)
            self._bad.pop(story_id, None)
        except ValidationError as exc:
            stories.pop(story_id, None)
            self._bad[story_id] = list(exc.problems)
        except NotFoundError:
            stories.pop(story_id, None)
            self._bad[story_id] = [Problem(str(self.site.store.root / story_id), None,
                                           "story.md is missing", "missing")]

    def _scan(self) -> tuple[dict[str, tuple], tuple[Problem, ...]]:
        """Stat keys of every story folder's two files, and folders that are not stories."""
        root = str(self.site.store.root)
        keys: dict[str, tuple] = {}
        stray: list[Problem] = []
        try:
            entries = os.scandir(root)
        except FileNotFoundError:
            return keys, ()
        with entries:
            for entry in entries:
                if not entry.is_dir() or entry.name.startswith("."):
                    continue
                if not is_valid_id(entry.name):
                    stray.append(Problem(entry.path, None, "folder name is not a valid story "
                                         "id", "bad_id"))
                    continue
                keys[entry.name] = (stat_key(entry.path + "/story.md"),
                                    stat_key(entry.path + "/consent.yml"))
        return keys, tuple(sorted(stray, key=lambda p: p.file))

    _stray: tuple[Problem, ...] = ()

    def _publish(self, stories: dict[str, Story], stray: tuple[Problem, ...]) -> None:
        self._stray = stray
        problems = [p for ps in self._bad.values() for p in ps] + list(stray)
        problems += self._duplicate_slugs(stories)
        with self._writing:
            self._snap = Snapshot(stories, _ordered(stories), tuple(problems))

    def _duplicate_slugs(self, stories: dict[str, Story]) -> list[Problem]:
        seen: dict[str, str] = {}
        found = []
        for story_id in sorted(stories):
            story = stories[story_id]
            cached = self._slugs.get(story_id)
            if cached is None or cached[0] != story.etag:
                cached = (story.etag, slug_key(story.slug))
                self._slugs[story_id] = cached
            if cached[1] in seen:
                found.append(Problem(str(story.path), None, f"slug {story.slug!r} is also used "
                                     f"by story {seen[cached[1]]}", "duplicate_slug"))
            else:
                seen[cached[1]] = story_id
        return found

    def put(self, story: Story) -> None:
        """Record a story the app has just written, so lists show it at once."""
        with self._writing:
            old = self._snap or Snapshot()
            stories = dict(old.stories)
            stories[story.id] = story
            self._snap = Snapshot(stories, _moved(old.order, old.stories, stories, story.id),
                                  old.problems)

    # --- the change feed (several app servers) -----------------------------------------------

    def _follow(self, now: bool = False) -> None:
        """Read again the stories the change feed says changed since we last asked."""
        feed = self.site.store.changes
        if feed is None or self._snap is None:
            return
        with self._following:
            if not now and time.monotonic() - self._feed_asked < FEED_EVERY:
                return
            self._feed_asked = time.monotonic()
            last, changed = self._ask(lambda: feed.since(self._feed_id), (self._feed_id, set()))
            if changed is None:  # too far behind: the feed no longer has every row
                for story_id in list(self._snap.stories):
                    self.site.store.forget_cached(story_id)
                changed = set(self._snap.stories)
            fresh: dict[str, Story | None] = {}
            for story_id in changed:
                self.site.store.forget_cached(story_id)
                try:
                    fresh[story_id] = self.site.store.get(story_id)
                except (NotFoundError, ValidationError):
                    fresh[story_id] = None  # the next rescan says why
            self._feed_id = last
        if fresh:
            self._apply(fresh)

    def _ask(self, question, otherwise):
        from ..errors import StorykitError

        try:
            return question()
        except StorykitError as exc:  # keep serving what we have; the rescan still runs
            log.warning("storykit: the change feed could not be read (%s)", type(exc).__name__)
            return otherwise

    def _apply(self, fresh: dict[str, Story | None]) -> None:
        with self._writing:
            old = self._snap or Snapshot()
            stories = dict(old.stories)
            for story_id, story in fresh.items():
                if story is None:
                    stories.pop(story_id, None)
                else:
                    stories[story_id] = story
            one = next(iter(fresh)) if len(fresh) == 1 else None
            order = (_moved(old.order, old.stories, stories, one)
                     if one is not None and fresh[one] is not None else _ordered(stories))
            self._snap = Snapshot(stories, order, old.problems)

    # --- the background rescan ---------------------------------------------------------------

    def _start_rescanning(self) -> None:
        if self.ttl <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=_rescan_loop, args=(weakref.ref(self),),
                                        name="storykit-index", daemon=True)
        self._thread.start()

    def interval(self) -> float:
        """Seconds to wait before the next rescan."""
        return min(MAX_INTERVAL, max(self.ttl, COST_FACTOR * self.last_scan_seconds))

    # --- single stories ----------------------------------------------------------------------

    def get(self, story_id: str) -> Story | None:
        """A story from the snapshot (may be a few seconds old), or None."""
        return self.snapshot().stories.get(story_id)

    def story(self, story_id: str) -> Story:
        """The story as its files hold it now (raises NotFoundError / ValidationError)."""
        self.snapshot()  # which asks the change feed: another server may have just changed it
        if FEED_EVERY > 0:
            self._follow(now=True)
        story = self.site.store.get(story_id)
        assert self._snap is not None
        known = self._snap.stories.get(story_id)
        if known is None or known.etag != story.etag or known.consent_etag != story.consent_etag:
            self.put(story)
        return story

    # --- consent decisions -------------------------------------------------------------------

    def decision(self, story: Story, use: str) -> Decision:
        """``site.decide(story, use)`` for today, cached for this version of the story."""
        today = dt.date.today()
        if today != self._day:
            self._decisions = {}
            self._day = today
        key = (story.id, story.etag, story.consent_etag, use)
        found = self._decisions.get(key)
        if found is None:
            found = self.site.decide(story, use, today)
            if len(self._decisions) > 100_000:
                self._decisions = {}
            self._decisions[key] = found
        return found


def _story_id_of(problem: Problem, root) -> str | None:
    """The story folder a problem from ``load_all`` is about, if any."""
    try:
        rel = os.path.relpath(problem.file, str(root))
    except ValueError:
        return None
    first = rel.split(os.sep, 1)[0]
    return first if is_valid_id(first) else None


def _rescan_loop(ref: weakref.ReferenceType) -> None:
    """Rescan until the index is gone (the app was discarded)."""
    while True:
        index = ref()
        if index is None:
            return
        wait = index.interval()
        del index
        time.sleep(wait)
        index = ref()
        if index is None:
            return
        try:
            index.refresh()
        except Exception:  # noqa: BLE001 - keep serving the last snapshot; say why
            log.exception("storykit: rescanning the stories folder failed")
        del index
