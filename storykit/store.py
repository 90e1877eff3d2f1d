"""The story store: a site's ``stories/`` folder, kept safe.

Every write is atomic, made under a per-story lock, and checked against the revision it was
based on (its ``etag``): a stale save raises :class:`ConflictError` and keeps a copy of the
rejected text, instead of overwriting. Previous versions are kept in ``instance/revisions``.
Consent changes append a version. The :class:`Store` protocol is what the rest of storykit
uses, so another backend (e.g. PostgreSQL for several app servers) can replace this one.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import gc
import getpass
import json
import marshal
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from . import model as m
from .cache import Chunk, ParseCache, story_from_record, story_record
from .errors import ConflictError, GoneError, NotFoundError, Problem, StorykitError, ValidationError
from .fsio import RACY_NS, atomic_write, make_dirs, stat_key, temp_files
from .slugs import is_valid_id, new_id, normalise, slug_key, slug_problem, slugify
from .storylocks import FileLocks, Locks

if TYPE_CHECKING:  # pragma: no cover
    from .changes import ChangeFeed

# .storyfile (PyYAML, ruamel.yaml) is imported in the methods that parse or write a file:
# stories from a warm parse cache need neither, which keeps the command line quick to start.

STORY_FILE = "story.md"
CONSENT_FILE = "consent.yml"
SWEEP_STAMP = "last-sweep"  # in instance/cache: its modification time is when the last sweep began


@dataclass(frozen=True)
class Revision:
    revision: int
    etag: str
    saved_at: dt.datetime
    by: str | None
    path: Path


@dataclass
class LoadResult:
    """Every story that loaded, and a problem for each one that did not; ``found``: what
    the load's ``each`` gave for the stories it parsed, by id."""

    stories: list[m.Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    found: dict[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """What storykit needs from a story store."""

    def ids(self) -> list[str]: ...
    def get(self, story_id: str) -> m.Story: ...
    def find(self, ref: str) -> m.Story: ...
    def load_all(self, each: Callable[[m.Story], Any] | None = None) -> LoadResult: ...
    def create(self, title: str, *, slug: str | None = None, storyteller: str = "",
               role: str = "patient", by: str | None = None) -> m.Story: ...
    def save(self, story: m.Story, *, by: str | None = None) -> m.Story: ...
    def add_consent(self, story_id: str, version: m.ConsentVersion, *,
                    base_etag: str | None = None, by: str | None = None) -> m.Story: ...
    def withdraw(self, story_id: str, scope: str, reason: str, *,
                 by: str | None = None, on: dt.date | None = None) -> m.Story: ...
    def revisions(self, story_id: str) -> list[Revision]: ...


def current_user() -> str:
    return os.environ.get("STORYKIT_USER") or _login_name()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class FileStore:
    """Stories as folders of files, as DESIGN.md describes."""

    def __init__(self, stories_dir: Path, instance_dir: Path, uses: Iterable[str] = m.DEFAULT_USES):
        self.root = stories_dir
        self.instance = instance_dir
        self.uses = tuple(uses)
        self._cache: dict[str, tuple[tuple, tuple, m.Story]] = {}
        self._disk = ParseCache(instance_dir / "cache" / "stories.marshal", (self.uses,))
        self._parsed = 0
        #: per-story locks: flock on one machine; the site makes them PostgreSQL advisory
        #: locks, and adds a change feed, when its database is PostgreSQL (storykit.site)
        self.locks: Locks = FileLocks(instance_dir / "locks")
        self.changes: ChangeFeed | None = None
        self._feed_id = 0  # the last change feed row catch_up saw

    # --- paths ---------------------------------------------------------------------------

    def folder(self, story_id: str) -> Path:
        if not is_valid_id(story_id):
            raise NotFoundError(f"{story_id!r} is not a story id")
        return self.root / story_id

    def _lock(self, story_id: str):
        return self.locks.hold(story_id)

    def _site_lock(self):
        return self.locks.hold("_create", what="another new story")

    def _told(self, story_id: str, kind: str) -> None:
        """Add the change to the feed (if the site has one), still under the story's lock."""
        if self.changes is not None:
            from .storyfile import etag_of

            folder = self.root / story_id
            etags = [etag_of(data) if (data := _read_or_none(folder / name)) is not None
                     else None for name in (STORY_FILE, CONSENT_FILE)]
            self.changes.record(story_id, etags[0], kind, consent_etag=etags[1])

    def catch_up(self) -> None:
        """Forget parsed stories the change feed says are out of date, whatever the files'
        stat keys say: on shared storage another machine may have changed a file while this
        one still sees its old size and time. The first call in a process checks every story
        the feed holds (a parse cache from disk may be old); later calls only newer rows."""
        if self.changes is None:
            return
        self._feed_id, newest = self.changes.newest(self._feed_id)
        for story_id, (etag, consent_etag) in newest.items():
            cached = self._cache.get(story_id)
            if cached is not None and (cached[2].etag, cached[2].consent_etag) != \
                    (etag, consent_etag):
                del self._cache[story_id]

    def forget_cached(self, story_id: str) -> None:
        """Read the story's files again next time, whatever their stat keys say (another
        machine changed it: a network file system may show old file times for a while)."""
        self._cache.pop(story_id, None)

    # --- reading -------------------------------------------------------------------------

    def ids(self) -> list[str]:
        try:
            entries = os.scandir(self.root)
        except FileNotFoundError:
            return []
        with entries:
            return sorted(e.name for e in entries if e.is_dir() and is_valid_id(e.name))

    def get(self, story_id: str) -> m.Story:
        folder = self.folder(story_id)
        story_path = folder / STORY_FILE
        consent_path = folder / CONSENT_FILE
        return self._get(story_id, stat_key(story_path), stat_key(consent_path))

    def _get(self, story_id: str, skey: tuple | None, ckey: tuple | None) -> m.Story:
        """The story whose files had these stat keys: from the cache, or parsed now."""
        if skey is None:
            raise NotFoundError(f"no story {story_id!r}")
        cached = self._cache.get(story_id)
        if cached and cached[0] == skey and cached[1] == ckey:
            return cached[2]
        folder = self.folder(story_id)
        story = self._read(story_id, folder / STORY_FILE, folder / CONSENT_FILE)
        self._cache[story_id] = (skey, ckey, story)
        self._parsed += 1
        return story

    def _read(self, story_id: str, story_path: Path, consent_path: Path) -> m.Story:
        from .storyfile import etag_of, parse_consent, parse_story

        try:
            data = _read_file(story_path)
        except FileNotFoundError:
            raise NotFoundError(f"no story {story_id!r}") from None
        problems: list[Problem] = []
        try:
            story = parse_story(data, str(story_path), story_id)
        except ValidationError as exc:
            problems += exc.problems
        try:
            cdata = _read_file(consent_path)
        except FileNotFoundError:
            cdata = None
        consent: list[m.ConsentVersion] = []
        if cdata is not None:
            try:
                consent = parse_consent(cdata, str(consent_path), self.uses)
            except ValidationError as exc:
                problems += exc.problems  # reported with story.md's, not one file at a time
        if problems:
            raise ValidationError(problems)
        story.path = story_path
        story.consent = consent
        story.consent_etag = etag_of(cdata) if cdata is not None else None
        return story

    def load_all(self, each: Callable[[m.Story], Any] | None = None) -> LoadResult:
        """Every story (parsed files reused from the instance cache while unchanged).

        ``each``: a function of one story, run on stories as they are parsed by the workers
        of a big load, in the worker (where the story's text already is: only its result,
        a plain value marshal can send, comes back, in ``found``). It may run on some, all
        or none of them, and on no story from the cache: the caller does the rest. An
        exception it raises only leaves that story out of ``found``."""
        result = LoadResult()
        self._report_stray_folders(result)
        with _gc_paused():  # parsing makes millions of short-lived, acyclic objects
            if not self._cache:
                self._cache.update(self._disk.load())
            self.catch_up()
            parsed_before, ids = self._parsed, self.ids()
            if self._cache:
                keys = self._stat_keys(ids)
                stale = [i for i in ids if not self._fresh(i, keys[i])]
            else:  # nothing to compare with: the workers stat each story as they read it
                keys, stale = {}, ids
            chunks = self._parse_in_parallel(stale, keys, each, result.found)
            if not keys:
                keys = self._parsed_keys(ids)
            for story_id in ids:
                try:
                    result.stories.append(self._get(story_id, *keys[story_id]))
                except ValidationError as exc:
                    result.problems.extend(exc.problems)
                except NotFoundError:
                    result.problems.append(Problem(str(self.root / story_id), None,
                                                   f"{STORY_FILE} is missing", "missing"))
            self._report_duplicate_slugs(result)
            if self._parsed != parsed_before or len(self._cache) != len(ids):
                for gone in set(self._cache) - set(ids):
                    del self._cache[gone]
                self._disk.save(self._cache, chunks)
        return result

    def fingerprint(self) -> dict[str, object]:
        """What the stories folder holds, for a quick "has anything changed?": every name in
        it, and the stat keys of each story's story.md and consent.yml (not its media).
        Equal only while no story was added, removed or edited."""
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return {}
        ids = [n for n in names if is_valid_id(n)]
        found: dict[str, object] = {"names": names, "files": self._stat_keys(ids)}
        if self.changes is not None:  # shared storage: file times may lag; the feed does not
            found["changes"] = self.changes.latest()
        return found

    def _parsed_keys(self, ids: list[str]) -> dict[str, tuple[tuple | None, tuple | None]]:
        """Each story's stat keys as its files had them when they were parsed just now,
        or as they are now for a story that was not (a story that failed to parse)."""
        keys = {i: (c[0], c[1]) for i in ids if (c := self._cache.get(i)) is not None}
        return keys | self._stat_keys([i for i in ids if i not in keys]) \
            if len(keys) < len(ids) else keys

    def _stat_keys(self, ids: list[str]) -> dict[str, tuple[tuple | None, tuple | None]]:
        """Each story's (story.md, consent.yml) stat keys: one stat per file, on plain
        strings (Path objects cost more than the stat on a big site)."""
        root = str(self.root)
        return {i: (stat_key(f"{root}/{i}/{STORY_FILE}"), stat_key(f"{root}/{i}/{CONSENT_FILE}"))
                for i in ids}

    def _parse_in_parallel(self, stale: list[str], keys: dict[str, tuple],
                           each: Callable[[m.Story], Any] | None = None,
                           found: dict[str, Any] | None = None) -> list[Chunk]:
        """Parse many changed stories on every core first (a cold start on a big site).

        Each forked worker parses a share of its own first (so it gets work however late it
        starts) and sends it, then workers and this process take the next few stories from
        a shared counter until none are left. This process unpacks the workers' own shares
        between its batches, so every core stays busy to the end whatever else the machine
        runs (fixed shares left one core or the other idle for most of a second); it also
        turns its own batches into the parse cache's records then. Anything that fails is
        left for the normal one-by-one pass, which reports it. Returns the stories in
        marshal's bytes, for the parse cache to write as they are; what ``each`` gave for
        them goes into ``found`` (see :meth:`load_all`)."""
        cores = min(os.cpu_count() or 1, 4)
        if len(stale) < PARALLEL_PARSE_MIN or cores < 2 or not hasattr(os, "fork"):
            return []
        import concurrent.futures
        import multiprocessing

        from . import storyfile  # noqa: F401 - and YAML: once, before the workers fork

        global _PARSING
        chunks: list[Chunk] = []

        found = found if found is not None else {}

        def unpack(sent: tuple[bytes, bytes]) -> None:
            data, results = sent
            records = marshal.loads(data)  # noqa: S302 - our own worker
            for story_id, (skey, ckey, record) in records.items():
                self._cache[story_id] = (skey, ckey, story_from_record(record))
            self._parsed += len(records)
            chunks.append((data, {i: (r[0], r[1]) for i, r in records.items()}))
            found.update(marshal.loads(results))  # noqa: S302

        try:
            ctx = multiprocessing.get_context("fork")
            # the forked workers see it
            _PARSING = (self, keys, stale, ctx.Value("q", 0), cores, each)
            with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=ctx) as pool:
                own = [pool.submit(_parse_share, n) for n in range(1, cores)]
                shared = [pool.submit(_parse_shared) for _ in range(1, cores)]
                for batch in _batches():  # this process's share
                    parsed = _parse(batch, False, found)
                    for story_id, (skey, ckey, story) in parsed.items():
                        self._cache[story_id] = (skey, ckey, story)
                    self._parsed += len(parsed)
                    chunks += _chunk(parsed)
                    for future in [f for f in own if f.done()]:
                        own.remove(future)
                        unpack(future.result())
                for future in own + shared:
                    unpack(future.result())
        except (OSError, ValueError, concurrent.futures.process.BrokenProcessPool):
            return []  # fall back to parsing one by one
        finally:
            _PARSING = None
        return chunks

    def _fresh(self, story_id: str, keys: tuple[tuple | None, tuple | None]) -> bool:
        cached = self._cache.get(story_id)
        return bool(cached) and (cached[0], cached[1]) == keys

    def _report_stray_folders(self, result: LoadResult) -> None:
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir()]
        except FileNotFoundError:
            return
        for name in sorted(names):
            if not is_valid_id(name) and not name.startswith("."):
                result.problems.append(Problem(str(self.root / name), None,
                                       "folder name is not a valid story id (a-z, 0-9 and -, "
                                       "3 to 64 characters)", "bad_id"))

    def _report_duplicate_slugs(self, result: LoadResult) -> None:
        seen: dict[str, m.Story] = {}
        for story in result.stories:
            key = slug_key(story.slug)
            if key in seen:
                result.problems.append(Problem(str(story.path), None,
                                       f"slug {story.slug!r} is also used by story "
                                       f"{seen[key].id}", "duplicate_slug"))
            else:
                seen[key] = story

    def find(self, ref: str) -> m.Story:
        """A story by id or by slug."""
        if is_valid_id(ref) and (self.root / ref / STORY_FILE).exists():
            return self.get(ref)
        key = slug_key(ref)
        for story_id in self.ids():
            try:
                story = self.get(story_id)
            except (ValidationError, NotFoundError):
                continue
            if slug_key(story.slug) == key:
                return story
        raise NotFoundError(f"no story with id or slug {ref!r}")

    # --- creating ------------------------------------------------------------------------

    def create(self, title: str, *, slug: str | None = None, storyteller: str = "",
               role: str = "patient", by: str | None = None,
               today: dt.date | None = None) -> m.Story:
        """A new draft story. Its slug must be free: two creates with one slug, one fails."""
        from .storyfile import dump_story

        title = title.strip()
        if not title:
            raise ValidationError.single("title", None, "a story needs a title", "required")
        slug = normalise(slug).strip() if slug is not None else slugify(title)
        if (why := slug_problem(slug)) is not None:
            raise ValidationError.single("slug", None, why, "slug")
        if role not in m.ROLES:
            raise ValidationError.single("role", None, f"role must be one of: "
                                         f"{', '.join(m.ROLES)}", "enum")
        today = today or dt.date.today()
        make_dirs(self.root)
        with self._site_lock():
            owner = self._slug_owner(slug)
            if owner:
                raise ConflictError(f"the slug {slug!r} is already used by story {owner}; "
                                    "choose another slug")
            story_id = self._make_folder()
            try:
                with self._lock(story_id):
                    story = m.Story(
                        id=story_id, title=title, slug=slug, status="draft",
                        storyteller=m.Storyteller(name=storyteller.strip() or "Not recorded yet",
                                                  role=role),
                        created=today, updated=today, revision=1,
                        body="Write the story here.\n")
                    path = self.root / story_id / STORY_FILE
                    text = dump_story(story)
                    _check_new(text, story_id)  # e.g. a title too long or on two lines
                    atomic_write(path, text)
                    saved = self.get(story_id)
                    self._keep_revision(saved, by)
                    self._told(story_id, "create")
            except BaseException:
                shutil.rmtree(self.root / story_id, ignore_errors=True)
                raise
        return saved

    def _slug_owner(self, slug: str) -> str | None:
        key = slug_key(slug)
        for story_id in self.ids():
            try:
                other = self.get(story_id)
            except (ValidationError, NotFoundError):
                continue
            if slug_key(other.slug) == key:
                return story_id
        return None

    def _make_folder(self) -> str:
        for _ in range(20):
            story_id = new_id()
            try:
                (self.root / story_id).mkdir()
            except FileExistsError:
                continue
            return story_id
        raise StorykitError("could not find a free story id")  # pragma: no cover

    # --- saving --------------------------------------------------------------------------

    def save(self, story: m.Story, *, by: str | None = None,
             today: dt.date | None = None) -> m.Story:
        """Write ``story`` if the file is still the one it was read from (``story.etag``)."""
        from .storyfile import etag_of

        by = by or current_user()
        with self._lock(story.id):
            current_bytes = self._current_bytes(story.id)
            if etag_of(current_bytes) != story.etag:
                raise self._conflict(story, current_bytes, by)
            current_text = current_bytes.decode("utf-8", "replace")
            current = self._parse_quietly(story.id, current_bytes)
            if current is not None and _is_withdrawn(current) and story.status != "withdrawn":
                raise GoneError("this story's consent was withdrawn; it cannot be changed back")
            new_slug = current is None or slug_key(story.slug) != slug_key(current.slug)
            # a new slug must be free: hold the lock ``create`` takes while checking and writing
            with self._site_lock() if new_slug else contextlib.nullcontext():
                owner = self._slug_owner(story.slug) if new_slug else None
                if owner and owner != story.id:
                    raise ConflictError(f"the slug {story.slug!r} is already used by story "
                                        f"{owner}; choose another slug")
                saved = self._write_story(story, current_text, current_bytes, by, today)
                self._told(story.id, "save")
                return saved

    def _write_story(self, story: m.Story, original: str, original_bytes: bytes, by: str,
                     today: dt.date | None) -> m.Story:
        from .storyfile import dump_story, parse_story

        base_revision = story.revision
        before = self._parse_quietly(story.id, original_bytes)
        # ``updated`` and ``revision`` mean the words changed: sign-off covers the words, so
        # approving a signed-off story (a status change) must not make its sign-off stale.
        same = before is not None and _same_content(before, story)
        updated = story.updated if same else today or dt.date.today()
        new = story.copy(revision=base_revision if same else base_revision + 1, updated=updated)
        text = dump_story(new, original=original if story.source_fields else None)
        path = self.root / story.id / STORY_FILE
        parse_story(text.encode(), str(path), story.id)  # never write a file we cannot read
        self._keep_bytes(story.id, base_revision, original_bytes, by=None)
        atomic_write(path, text)
        saved = self.get(story.id)
        self._keep_revision(saved, by)
        return saved

    def _current_bytes(self, story_id: str) -> bytes:
        try:
            return (self.folder(story_id) / STORY_FILE).read_bytes()
        except FileNotFoundError:
            raise GoneError(f"story {story_id} was deleted meanwhile; it was not saved "
                            "and will not be re-created") from None

    def _parse_quietly(self, story_id: str, data: bytes) -> m.Story | None:
        from .storyfile import parse_consent, parse_story

        try:
            story = parse_story(data, STORY_FILE, story_id)
        except ValidationError:
            return None
        consent = self.folder(story_id) / CONSENT_FILE
        if consent.exists():
            try:
                story.consent = parse_consent(consent.read_bytes(), CONSENT_FILE, self.uses)
            except ValidationError:
                pass
        return story

    def _conflict(self, story: m.Story, current: bytes, by: str) -> ConflictError:
        from .storyfile import dump_story

        mine = dump_story(story)
        copy = self._keep_conflict(story.id, mine, by)
        return ConflictError(
            f"story {story.id} was changed by someone else since you opened it; your "
            f"version was not saved over theirs (a copy is kept: {copy.name})",
            mine=mine, theirs=current.decode("utf-8", "replace"), saved_copy=copy)

    # --- history -------------------------------------------------------------------------

    def _history_dir(self, story_id: str) -> Path:
        return self.instance / "revisions" / story_id

    def _keep_revision(self, story: m.Story, by: str | None) -> None:
        assert story.path is not None
        self._keep_bytes(story.id, story.revision, story.path.read_bytes(), by)

    def _keep_bytes(self, story_id: str, revision: int, data: bytes, by: str | None) -> None:
        from .storyfile import etag_of

        folder = self._history_dir(story_id)
        etag = etag_of(data)
        target = folder / f"{revision:06d}-{etag}.md"
        if target.exists():
            return
        make_dirs(folder)
        atomic_write(target, data, mode=0o600)
        entry = {"revision": revision, "etag": etag, "by": by,
                 "saved_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "saved_ns": time.time_ns()}
        atomic_write(target.with_suffix(".json"), json.dumps(entry), mode=0o600)

    def revisions(self, story_id: str) -> list[Revision]:
        """Every kept version of the story, oldest first."""
        folder = self._history_dir(story_id)
        found = []
        for meta in folder.glob("*.json") if folder.exists() else []:
            try:
                entry = json.loads(meta.read_text())
                saved = dt.datetime.strptime(entry["saved_at"], "%Y-%m-%dT%H:%M:%SZ")
            except (ValueError, KeyError, OSError):
                continue
            # a status change keeps the revision number: order by number, then time saved
            order = (entry["revision"], entry.get("saved_ns", 0), meta.name)
            found.append((order, Revision(entry["revision"], entry["etag"],
                                          saved.replace(tzinfo=dt.UTC), entry.get("by"),
                                          meta.with_suffix(".md"))))
        return [r for _, r in sorted(found, key=lambda pair: pair[0])]

    def revision_text(self, story_id: str, revision: Revision) -> str:
        return revision.path.read_text(encoding="utf-8")

    def _keep_conflict(self, story_id: str, text: str, by: str) -> Path:
        folder = self.instance / "conflicts" / story_id
        make_dirs(folder)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        who = "".join(ch for ch in by if ch.isalnum() or ch in "._-")[:40] or "someone"
        path = folder / f"{stamp}-{who}.md"
        atomic_write(path, text, mode=0o600)
        return path

    # --- consent -------------------------------------------------------------------------

    def add_consent(self, story_id: str, version: m.ConsentVersion, *,
                    base_etag: str | None = None, by: str | None = None) -> m.Story:
        """Append ``version`` to consent.yml (numbered and time-stamped here)."""
        with self._lock(story_id):
            self._append_consent(story_id, version, base_etag, by or current_user())
            self._told(story_id, "consent")
        return self.get(story_id)

    def _append_consent(self, story_id: str, version: m.ConsentVersion, base_etag: str | None,
                        by: str) -> None:
        from .storyfile import append_consent_text, etag_of, parse_consent

        path = self.folder(story_id) / CONSENT_FILE
        if not (path.parent / STORY_FILE).exists():
            raise GoneError(f"story {story_id} no longer exists")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        if base_etag is not None and (data is None or etag_of(data) != base_etag):
            raise ConflictError("the consent record was changed by someone else since you "
                                "opened it; reload to see the latest version")
        versions = parse_consent(data, str(path), self.uses) if data else []
        new = m.ConsentVersion.from_dict({
            **version.to_dict(), "version": len(versions) + 1,
            "recorded": dt.datetime.now(dt.UTC).replace(microsecond=0), "recorded_by": by})
        try:
            text = append_consent_text(data.decode() if data else None, versions, new, self.uses)
        except ValidationError as exc:  # the new version is at fault, not the file
            raise ValidationError([Problem(str(path), None, "the new consent version was not "
                                           f"saved: {p.message}", p.code)
                                   for p in exc.problems]) from None
        atomic_write(path, text)

    def withdraw(self, story_id: str, scope: str, reason: str, *, by: str | None = None,
                 on: dt.date | None = None) -> m.Story:
        """Record a withdrawal: a new consent version, the story set to withdrawn and, for
        ``delete_everything``, its text, media, evidence and history erased."""
        from .storyfile import parse_story

        if scope not in m.WITHDRAWAL_SCOPES:
            raise ValidationError.single("scope", None, f"scope must be one of: "
                                         f"{', '.join(m.WITHDRAWAL_SCOPES)}", "enum")
        if not reason.strip():
            raise ValidationError.single("reason", None, "give a reason for the withdrawal",
                                         "required")
        by = by or current_user()
        on = on or dt.date.today()
        self.get(story_id)  # NotFoundError, or ValidationError naming file and line
        with self._lock(story_id):
            story = self.get(story_id)  # as it is now, under the lock
            base = story.current_consent
            fields = base.to_dict() if base else _blank_consent(on)
            fields.update(status="withdrawn", withdrawal={
                "requested": on, "scope": scope, "reason": reason.strip()})
            self._append_consent(story_id, m.ConsentVersion.from_dict(fields), None, by)
            current_bytes = self._current_bytes(story_id)
            current = parse_story(current_bytes, str(story.path), story_id)
            updated = current.copy(status="withdrawn")
            if scope == "delete_everything":
                updated = self._erase(updated)
            self._write_story(updated, current_bytes.decode(), current_bytes, by, on)
            if scope == "delete_everything":
                self._erase_consent(story_id)
                shutil.rmtree(self._history_dir(story_id), ignore_errors=True)
                shutil.rmtree(self.instance / "conflicts" / story_id, ignore_errors=True)
                self._forget(story_id)
                self._keep_revision(self.get(story_id), by)
            self._told(story_id, "erasure" if scope == "delete_everything" else "withdrawal")
        return self.get(story_id)

    def _forget(self, story_id: str) -> None:
        """Drop a story's parsed text from the instance cache (after delete_everything)."""
        self._cache.pop(story_id, None)
        self._disk.forget(story_id)

    def _erase(self, story: m.Story) -> m.Story:
        """The placeholder left of an erased story: no words of it, not even the slug (made
        from the title, so it may name someone); the id takes its place."""
        folder = self.folder(story.id)
        for sub in ("media", "evidence"):
            shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / "review.yml").unlink(missing_ok=True)  # reviewers' reasons (storykit.reviewfile)
        return story.copy(
            slug=slugify(story.id) or "withdrawn",
            title="Withdrawn story", body="", summary=None, content_warning=None, service=None,
            tags=[], people=[], quotes=[], speaker_notes=None, changes=[], asks=[], images=[],
            extra={}, storyteller=m.Storyteller(name="Deleted at the storyteller's request",
                                                role=story.storyteller.role),
            source_fields={})  # written afresh: comments in the old file may name people too

    def _erase_consent(self, story_id: str) -> None:
        """consent.yml written afresh with the minimal record: every version's dates, uses,
        status and who recorded it, without free text (notes, withdrawal reasons, comments:
        they may name people), contact details or the names of the deleted signed forms."""
        from .storyfile import dump_consent, parse_consent

        path = self.folder(story_id) / CONSENT_FILE
        kept = []
        for version in parse_consent(path.read_bytes(), str(path), self.uses):
            fields = version.to_dict()
            fields.pop("notes", None)
            fields.pop("evidence", None)
            fields.pop("contact", None)  # how to reach them: theirs to take back too
            if isinstance(fields.get("withdrawal"), dict):
                fields["withdrawal"].pop("reason", None)
            kept.append(m.ConsentVersion.from_dict(fields))
        atomic_write(path, dump_consent(kept))

    # --- housekeeping --------------------------------------------------------------------

    def sweep(self, quick: bool = False) -> list[Path]:
        """Remove temporary files left by writers that died mid-save (at start-up).

        ``quick`` looks only in folders changed since the last sweep (a new file changes its
        folder's modification time): one stat per story instead of listing every folder,
        which matters when every command sweeps a big site."""
        removed: list[Path] = []
        started = time.time_ns()
        since = self._last_sweep(started) if quick else None
        left = False  # strays a busy writer still holds: look again next time
        root = str(self.root)  # strings, not Paths: this runs before every command
        kept = [_subfolders(self.instance / name) for name in ("revisions", "conflicts")]
        for story_id in self.ids():
            folders = [f"{root}/{story_id}"] + [k[story_id] for k in kept if story_id in k]
            strays = [p for f in folders if _changed_since(f, since) for p in temp_files(f)]
            if strays:
                gone = self._remove_unlocked(story_id, strays)
                left = left or len(gone) < len(strays)
                removed += gone
        # unlocked writers of these two only lose a cache update if swept mid-write
        removed += [p for p in temp_files(self.root) + temp_files(self.instance / "cache")
                    if _unlink(p)]
        if not left:
            self._swept(started)
        return removed

    def _last_sweep(self, now: int) -> int | None:
        """When the last complete sweep started, less the clock's slack; None for never (or
        a time in the future: the clock was put back)."""
        try:
            when = os.stat(self.instance / "cache" / SWEEP_STAMP).st_mtime_ns
        except OSError:
            return None
        return when - RACY_NS if when <= now else None

    def _swept(self, started: int) -> None:
        stamp = self.instance / "cache" / SWEEP_STAMP
        with contextlib.suppress(OSError, StorykitError):  # not kept: the next sweep is full
            make_dirs(stamp.parent)
            stamp.touch()
            os.utime(stamp, ns=(started, started))

    def _remove_unlocked(self, story_id: str, strays: list[Path]) -> list[Path]:
        with self.locks.if_free(story_id) as free:
            if not free:
                return []  # a writer is busy with this story right now
            return [p for p in strays if _unlink(p)]


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading many stories.

    Its full collections walk every object alive, again and again as the parsed stories pile
    up: about a sixth of a 10,000-story load. Reference counting still frees everything
    parsing throws away. Nested and concurrent pauses (threads of the web app) are counted,
    so the collector comes back on exactly when the last one ends, as it was before.

    On the way out, what was made meanwhile goes straight to the oldest generation (the
    collector's freeze and unfreeze move it there without looking at it): otherwise the next
    young collection walks every story just loaded, another quarter of a second at 10,000,
    and the one after that again. A later full collection still looks at them as usual.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                if gc.get_freeze_count() == 0:  # nobody else holds objects frozen
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
        _quick_exit()


@functools.cache
def _quick_exit() -> None:
    """Once a process has loaded many stories: at its exit, set every object aside from
    the collector (``gc.freeze``) before the interpreter's own collections run.

    The interpreter's exit walks every object alive several times looking for cycles to
    free: about 60 ms after a cold build of 1,000 stories, for memory the operating system
    takes back anyway. Registered with :mod:`atexit`, so it runs after everything the
    process does: the handlers registered before it (files, coverage, temporary folders)
    still run after it. Python never promised that objects still alive at exit are
    finalized; the one difference is that cycles left unreachable at exit are not looked
    for."""
    atexit.register(gc.freeze)


#: The pause, for other modules that make many objects at once (``storykit check``).
gc_paused = _gc_paused


def _check_new(text: str, story_id: str) -> None:
    """Refuse a new story whose details would not make a valid story.md, naming the field."""
    from .storyfile import parse_story

    try:
        parse_story(text.encode("utf-8"), STORY_FILE, story_id)
    except ValidationError as exc:
        raise ValidationError([Problem("new story", None, p.message, p.code)
                               for p in exc.problems]) from None


PARALLEL_PARSE_MIN = 800
PARSE_BATCH = 32  # stories taken from the shared counter at a time (at most)
PARSE_BATCH_MIN = 8  # (at least)
_PARSING: tuple[FileStore, dict[str, tuple], list[str], Any, int,
               Callable[[m.Story], Any] | None] | None = None


def _parse_share(worker: int) -> tuple[bytes, bytes]:
    """Worker number ``worker``'s own share of the stories (see :func:`_parse`), and what
    ``each`` gave for them."""
    assert _PARSING is not None
    stale, cores = _PARSING[2], _PARSING[4]
    own, shared = _shares(len(stale), cores)
    found: dict[str, Any] = {}
    parsed = _parse(stale[shared + own * (worker - 1):shared + own * worker], True, found)
    return marshal.dumps(parsed, 2), _dumps(found)


def _parse_shared() -> tuple[bytes, bytes]:
    """Stories from the shared counter until none are left, in a worker."""
    parsed: dict[str, tuple] = {}
    found: dict[str, Any] = {}
    for batch in _batches():
        parsed.update(_parse(batch, True, found))
    return marshal.dumps(parsed, 2), _dumps(found)


def _dumps(found: dict[str, Any]) -> bytes:
    """``each``'s results in marshal's bytes; none if marshal cannot write them (this
    process then works them out itself)."""
    try:
        return marshal.dumps(found, 2)
    except ValueError:
        return marshal.dumps({}, 2)


def _shares(count: int, cores: int) -> tuple[int, int]:
    """How many stories each worker parses first, and how many (the first ones) are
    shared through the counter: each worker two fifths of all on 2 cores."""
    own = count * 4 // (5 * cores)
    return own, count - own * (cores - 1)


def _chunk(parsed: dict[str, tuple]) -> list[Chunk]:
    """These stories as a chunk of the parse cache (none if marshal cannot write one: the
    cache then tries them again, and is not written)."""
    try:
        data = marshal.dumps({i: (sk, ck, story_record(story))
                              for i, (sk, ck, story) in parsed.items()}, 2)
    except ValueError:
        return []
    return [(data, {i: (sk, ck) for i, (sk, ck, _) in parsed.items()})]


def _batches() -> Iterator[list[str]]:
    """The next few stories from the shared counter, until none are left."""
    assert _PARSING is not None
    stale, counter, cores = _PARSING[2:5]
    _, shared = _shares(len(stale), cores)
    while True:
        with counter.get_lock():
            start = counter.value
            counter.value = start + _batch_size(shared - start, cores)
            end = counter.value
        if start >= shared:
            return
        yield stale[start:min(end, shared)]


def _batch_size(left: int, cores: int) -> int:
    """How many stories to take from the shared counter with ``left`` still to take:
    :data:`PARSE_BATCH`, fewer towards the end, so that the processes finish close
    together (the last batch taken is what the others may wait for)."""
    return max(PARSE_BATCH_MIN, min(PARSE_BATCH, left // (2 * cores)))


def _parse(ids: list[str], as_records: bool, found: dict[str, Any]) -> dict[str, tuple]:
    """Parse these stories (skipping, for the one-by-one pass, any that fail), each with
    the stat keys its files had before it was read, and put what the load's ``each`` gives
    for each into ``found``. Workers hand them back as plain records in marshal's bytes
    (``{id: (keys, keys, record)}``): far quicker to send than pickled objects, and what
    the parse cache writes."""
    assert _PARSING is not None
    store, keys, each = _PARSING[0], _PARSING[1], _PARSING[5]
    root = str(store.root)
    out = {}
    for story_id in ids:
        known = keys.get(story_id)
        if known is None:  # a cold load's: taken here, on every core, before reading
            known = (stat_key(f"{root}/{story_id}/{STORY_FILE}"),
                     stat_key(f"{root}/{story_id}/{CONSENT_FILE}"))
        folder = store.root / story_id
        try:
            story = store._read(story_id, folder / STORY_FILE, folder / CONSENT_FILE)
        except (ValidationError, NotFoundError, OSError):
            continue
        out[story_id] = (*known, story_record(story) if as_records else story)
        if each is not None:
            try:
                found[story_id] = each(story)
            except Exception:  # noqa: BLE001, S112 - left out: the caller works it out itself
                continue
    return out


def _read_file(path: Path) -> bytes:
    """``path.read_bytes()`` with less overhead (twice a story in a load)."""
    with open(path, "rb", buffering=0) as f:
        return f.readall()


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False


def _changed_since(folder: str, since: int | None) -> bool:
    if since is None:
        return True
    try:
        return os.stat(folder).st_mtime_ns >= since
    except OSError:
        return False  # gone: nothing to sweep


def _subfolders(folder: Path) -> dict[str, str]:
    """Name -> path of each folder inside ``folder`` (none if it does not exist)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name: e.path for e in entries if e.is_dir(follow_symlinks=False)}
    except (FileNotFoundError, NotADirectoryError):
        return {}


_NOT_CONTENT = ("status", "revision", "updated", "created")


def _same_content(a: m.Story, b: m.Story) -> bool:
    """True when only bookkeeping (status, revision, dates) differs between two versions."""
    fa, fb = a.fields_dict(), b.fields_dict()
    for key in _NOT_CONTENT:
        fa.pop(key, None)
        fb.pop(key, None)
    return fa == fb and a.body == b.body


def _is_withdrawn(story: m.Story) -> bool:
    consent = story.current_consent
    return story.status == "withdrawn" or (consent is not None and consent.status == "withdrawn")


def _blank_consent(on: dt.date) -> dict:
    return {"version": 1, "recorded": dt.datetime.now(dt.UTC), "status": "withdrawn",
            "given_by": "self", "method": "written", "granted": on,
            "expires": on + dt.timedelta(days=1), "uses": [], "media": [],
            "identification": "anonymous", "signoff_required": False}
