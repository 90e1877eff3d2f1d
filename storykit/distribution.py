"""The distribution log: where every story went, so withdrawal becomes a takedown list."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .db import Connection, Database
    from .model import Story
    from .site import Site


#: A distribution entry whose ``job`` starts with this is a download from the browser app
#: (storykit.packs.record_download writes ``download:<pack id>``).
DOWNLOAD_JOB = "download"
#: The address of a taken-down copy of an erased story.
ERASED_ADDRESS = "(erased at the storyteller's request)"


@dataclass(frozen=True)
class Distribution:
    id: int
    story_id: str
    consent_version: int
    use: str
    format: str
    sha256: str
    path: str
    url: str | None
    job: str | None
    created_at: str
    created_by: str
    removable: bool
    removed_at: str | None
    pack_id: str | None = None


_INSERT = ("INSERT INTO distributions (story_id, consent_version, use, format, sha256, path, "
           "url, job, created_at, created_by, removable, pack_id) VALUES (:story_id, "
           ":consent_version, :use, :format, :sha256, :path, :url, :job, :created_at, "
           ":created_by, :removable, :pack_id)")


def _entry(now: str, *, story_id: str, consent_version: int, use: str, format: str,
           sha256: str, path: str, created_by: str, url: str | None = None,
           job: str | None = None, removable: bool = True,
           pack_id: str | None = None) -> dict[str, Any]:
    return {"story_id": story_id, "consent_version": consent_version, "use": use,
            "format": format, "sha256": sha256, "path": path, "url": url, "job": job,
            "created_at": now, "created_by": created_by, "removable": int(removable),
            "pack_id": pack_id}


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DistributionLog:
    """The ``distributions`` table of the site's database (each thread uses its own
    connection)."""

    def __init__(self, database: Database):
        self.database = database

    @property
    def conn(self) -> Connection:
        """This thread's connection."""
        return self.database.connection()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DistributionLog]:
        """Group several calls (``record``, ``mark_removed``...) in one transaction: all of
        them are kept, or none. Serialised against other writers on both engines."""
        with self.conn.transaction():
            yield self

    def record(self, *, story_id: str, consent_version: int, use: str, format: str,
               sha256: str, path: str, created_by: str, url: str | None = None,
               job: str | None = None, removable: bool = True,
               pack_id: str | None = None) -> int:
        """Log one artefact carrying ``story_id``; returns the entry's id. ``pack_id``
        names the pack (storykit.packs) the artefact went out in."""
        return int(self.conn.value(_INSERT + " RETURNING id", _entry(
            _now(), story_id=story_id, consent_version=consent_version, use=use,
            format=format, sha256=sha256, path=path, created_by=created_by, url=url, job=job,
            removable=removable, pack_id=pack_id)))

    def record_many(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Log many artefacts in one batch of statements (a site build's thousand pages),
        all or none: each entry holds :meth:`record`'s keyword arguments. Returns how many
        were logged. (Inside :meth:`transaction`, they are kept with its other changes.)"""
        now = _now()
        rows = [_entry(now, **entry) for entry in entries]
        if rows:
            with self.conn.transaction():
                self.conn.executemany(_INSERT, rows)
        return len(rows)

    def current(self, story_id: str, path: str) -> Distribution | None:
        """The live (not removed) entry for ``story_id`` at ``path``, if any."""
        row = self.conn.one(
            "SELECT * FROM distributions WHERE story_id = :story_id AND path = :path AND "
            "removed_at IS NULL ORDER BY id DESC LIMIT 1", {"story_id": story_id, "path": path})
        return _row(row) if row else None

    def for_story(self, story_id: str, *, live_only: bool = False) -> list[Distribution]:
        sql = "SELECT * FROM distributions WHERE story_id = :story_id"
        if live_only:
            sql += " AND removed_at IS NULL"
        return [_row(r) for r in self.conn.all(sql + " ORDER BY id", {"story_id": story_id})]

    def live_for(self, story_ids: Iterable[str]) -> dict[str, list[Distribution]]:
        """Live (not removed) entries of each of ``story_ids`` that has any, in one query
        (the home page's stories to take back)."""
        ids = list(dict.fromkeys(story_ids))
        found: dict[str, list[Distribution]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(f":s{n}" for n in range(len(chunk)))
            sql = ("SELECT * FROM distributions WHERE removed_at IS NULL AND "  # noqa: S608
                   "story_id IN (" + marks + ") ORDER BY id")  # placeholders; ids are params
            rows = self.conn.all(sql, {f"s{n}": i for n, i in enumerate(chunk)})
            for row in rows:
                entry = _row(row)
                found.setdefault(entry.story_id, []).append(entry)
        return found

    def for_pack(self, pack_id: str) -> list[Distribution]:
        """Every entry of the pack ``pack_id`` (one per artefact and story it carries)."""
        return [_row(r) for r in self.conn.all(
            "SELECT * FROM distributions WHERE pack_id = :pack_id ORDER BY id",
            {"pack_id": pack_id})]

    def all(self) -> list[Distribution]:
        return [_row(r) for r in self.conn.all("SELECT * FROM distributions ORDER BY id")]

    def mark_removed(self, ids: Iterable[int]) -> None:
        now = _now()
        self.conn.executemany("UPDATE distributions SET removed_at = :now WHERE id = :id AND "
                              "removed_at IS NULL", [{"now": now, "id": i} for i in ids])


    def forget_addresses(self, story_id: str) -> None:
        """An erased story's copies that were taken down keep no address (file names and
        URLs are made from its slug): the record keeps what went where for which use, and
        when it was removed. Copies still out there keep theirs until they are removed."""
        self.conn.erase("UPDATE distributions SET path = :gone, url = NULL WHERE "
                        "story_id = :story_id AND removed_at IS NOT NULL",
                        {"gone": ERASED_ADDRESS, "story_id": story_id})

    def live_at_paths(self, prefix: str, fmt: str) -> list[Distribution]:
        """Live entries of format ``fmt`` whose path starts with ``prefix`` (e.g. a site build)."""
        rows = self.conn.all(
            "SELECT * FROM distributions WHERE format = :fmt AND removed_at IS NULL AND "
            "substr(path, 1, :length) = :prefix ORDER BY id",
            {"fmt": fmt, "length": len(prefix), "prefix": prefix})
        return [_row(r) for r in rows]


def _row(row: Any) -> Distribution:
    data = dict(row)
    data["removable"] = bool(data["removable"])
    return Distribution(**data)


def takedown_lines(site: Site, story: Story) -> list[str]:
    """What a person must do after a withdrawal: every copy still out there, described as
    what it is and who has it (storykit.copies), and what can be done about each."""
    from .copies import story_copies
    from .dates import today

    live = [c for c in story_copies(site, story.id) if c.live]
    if not live:
        return ["No copies of this story are on record as still out there."]
    lines = [f"This story went to {len(live)} {'place' if len(live) == 1 else 'places'} "
             "still on record:"]
    on = today()
    for copy in live:
        lines.append(f"  - {copy.sentence} What to do: {copy.recall(on)}.")
    if any("web" in copy.formats for copy in live):
        lines.append("Web pages are taken down by the next website build, which is queued "
                     "at once (a worker runs it: storykit serve or storykit worker; see "
                     "storykit jobs list).")
    return lines
