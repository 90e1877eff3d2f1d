"""The change feed: one row per story change, so every app server sees every other's at once.

When several app servers and workers share one stories folder (the site's database is
PostgreSQL), each keeps story state in memory (the app's story index, parsed stories) and
cannot rely on file times seen over a network file system. So the store adds a row to
``story_changes`` for every save, consent change, withdrawal and erasure, while it still holds
the story's lock, after the files are written; readers ask for the rows after the last one
they saw (one indexed query) and read those stories again.

A row holds the story id, the new ``story.md`` etag, the kind of change and when: never
story text, names or reasons. Rows are added inside the site's serialised transaction, so
their ids become visible in order and a reader never skips one still being committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from .errors import StorykitError

log = logging.getLogger("storykit")
KINDS = ("create", "save", "consent", "withdrawal", "erasure")
#: Rows kept (older ones are pruned now and then): enough for a reader that is minutes behind;
#: one further behind reloads everything.
KEEP = 50_000


class ChangeFeed:
    """The ``story_changes`` table of the site's database."""

    def __init__(self, database: Callable[[], Any]):
        """``database()``: the site's storykit.db.Database (asked for on first use)."""
        self._database = database
        self._added = 0

    def record(self, story_id: str, etag: str | None, kind: str,
               consent_etag: str | None = None) -> None:
        """Add a row. A database that cannot take it is logged, not raised: the files are
        already saved, and other servers still notice within their rescan interval."""
        assert kind in KINDS
        try:
            conn = self._database().connection()
            with conn.transaction():
                conn.execute("INSERT INTO story_changes (story_id, etag, consent_etag, kind, "
                             "at) VALUES (:story_id, :etag, :consent_etag, :kind, :at)",
                             {"story_id": story_id, "etag": etag, "kind": kind,
                              "consent_etag": consent_etag,
                              "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")})
                self._added += 1
                if self._added % 1000 == 0:
                    conn.execute("DELETE FROM story_changes WHERE id <= :below",
                                 {"below": (self.latest() or 0) - KEEP})
        except StorykitError as exc:
            log.warning("storykit: a story change was saved but not told to other servers "
                        "(%s)", type(exc).__name__)

    def latest(self) -> int:
        """The newest row's id (0 when there is none)."""
        return int(self._database().connection().value(
            "SELECT max(id) FROM story_changes") or 0)

    def since(self, after: int) -> tuple[int, set[str] | None]:
        """The newest id and the ids of stories changed after row ``after``; None instead of
        the set when rows after it were pruned (read everything again)."""
        rows = self._database().connection().all(
            "SELECT id, story_id FROM story_changes WHERE id > :after ORDER BY id",
            {"after": after})
        if not rows:
            return after, set()
        if after and rows[0][0] > after + 1 and self._pruned_after(after):
            return rows[-1][0], None
        return rows[-1][0], {r[1] for r in rows}

    def newest(self, after: int = 0) -> tuple[int, dict[str, tuple[str | None, str | None]]]:
        """The newest row id, and for each story changed after row ``after`` (0: any kept),
        the etags of its files after its latest change."""
        conn = self._database().connection()
        last = self.latest()
        rows = conn.all(
            "SELECT c.story_id, c.etag, c.consent_etag FROM story_changes c JOIN ("
            "SELECT story_id, max(id) AS newest FROM story_changes WHERE id > :after AND "
            "id <= :last GROUP BY story_id) n ON c.id = n.newest", {"after": after, "last": last})
        return last, {r[0]: (r[1], r[2]) for r in rows}

    def _pruned_after(self, after: int) -> bool:
        oldest = self._database().connection().value("SELECT min(id) FROM story_changes")
        return oldest is None or oldest > after + 1
