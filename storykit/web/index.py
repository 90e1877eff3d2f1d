"""An in-memory index of the site's stories, so lists of thousands stay fast.

Reading 10,000 story folders on every request is too slow, so lists come from a snapshot that
is refreshed at most every ``ttl`` seconds (``STORYKIT_INDEX_TTL``, default 2). A refresh asks
the store for every story; the store re-reads only files whose inode, size or time changed, so a
refresh costs a few stats per story. One request refreshes while the others keep using the
previous snapshot. Writes made through the app update the snapshot at once (:meth:`put`), and
pages about one story read it fresh (:meth:`story`), so a form always carries the latest etag.

Consent decisions are cached per story version, use and day.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import NotFoundError, Problem
from ..model import Story

if TYPE_CHECKING:  # pragma: no cover
    from ..consent import Decision
    from ..site import Site


@dataclass(frozen=True)
class Snapshot:
    """Every readable story by id, ids newest-first, and problems with unreadable files."""

    stories: dict[str, Story] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    taken: float = 0.0


def _ordered(stories: dict[str, Story]) -> tuple[str, ...]:
    far = dt.date.min
    return tuple(s.id for s in sorted(stories.values(),
                                      key=lambda s: (-(s.updated or far).toordinal(),
                                                     s.title.lower(), s.id)))


class StoryIndex:
    def __init__(self, site: Site, ttl: float = 2.0):
        self.site = site
        self.ttl = ttl
        self._snap: Snapshot | None = None
        self._refreshing = threading.Lock()
        self._writing = threading.Lock()
        self._decisions: dict[tuple, Decision] = {}
        self._day = dt.date.today()

    # --- the snapshot ------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current snapshot, refreshed first if older than ``ttl`` (by one thread only)."""
        snap = self._snap
        if snap is not None and time.monotonic() - snap.taken < self.ttl:
            return snap
        if snap is None:
            with self._refreshing:
                if self._snap is None:
                    self.refresh()
        elif self._refreshing.acquire(blocking=False):
            try:
                self.refresh()
            finally:
                self._refreshing.release()
        assert self._snap is not None
        return self._snap

    def refresh(self) -> Snapshot:
        """Read every story (unchanged files come from the store's cache)."""
        result = self.site.store.load_all()
        stories = {s.id: s for s in result.stories}
        snap = Snapshot(stories, _ordered(stories), tuple(result.problems), time.monotonic())
        with self._writing:
            self._snap = snap
        return snap

    def put(self, story: Story) -> None:
        """Record a story the app has just written, so lists show it at once."""
        with self._writing:
            old = self._snap or Snapshot()
            stories = dict(old.stories)
            stories[story.id] = story
            self._snap = Snapshot(stories, _ordered(stories), old.problems, old.taken)

    # --- single stories ----------------------------------------------------------------------

    def get(self, story_id: str) -> Story | None:
        """A story from the snapshot (may be up to ``ttl`` seconds old), or None."""
        return self.snapshot().stories.get(story_id)

    def story(self, story_id: str) -> Story:
        """The story as its files hold it now (raises NotFoundError / ValidationError)."""
        story = self.site.store.get(story_id)
        known = self.snapshot().stories.get(story_id)
        if known is None or known.etag != story.etag or known.consent_etag != story.consent_etag:
            self.put(story)
        return story

    def find(self, ref: str) -> Story | None:
        """A story by id or slug, from the snapshot."""
        snap = self.snapshot()
        if ref in snap.stories:
            return snap.stories[ref]
        from ..slugs import slug_key

        key = slug_key(ref)
        return next((s for s in snap.stories.values() if slug_key(s.slug) == key), None)

    def require(self, story_id: str) -> Story:
        story = self.get(story_id)
        if story is None:
            raise NotFoundError(f"no story {story_id!r}")
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
