"""A persistent cache of parsed stories in the instance folder, so a fresh process does not
parse thousands of unchanged files again.

An entry is reused only while the files' inode, size and modification time are unchanged
(as git's index does). Entries for files changed in the last two seconds are not written,
so an edit in the same clock tick is never mistaken for "unchanged". The cache holds only
what the stories folder already holds, in the private instance folder; delete it any time.

Saving after a few edits writes only those entries to a small side file (the journal) that
loading lays over the main file, so one edit on a big site does not rewrite every story;
when the journal grows past an eighth of the entries, the main file is written afresh.
Forgetting a story (after a withdrawal that deletes everything) rewrites both at once.

Stories are kept as plain tuples (:func:`story_record`) written with :mod:`marshal`, not as
pickled objects: five times quicker to write and twice as quick to read back at 10,000
stories, which is most of a first load's time after parsing. The same records carry parsed
stories from the worker processes of a cold load (:mod:`storykit.store`), and a file is a
list of *chunks*, each the marshal bytes of ``{id: entry or None}`` (None: forget that
story), read in order: so the bytes a worker sent are written as they are, as are the
chunks this process makes of its own batches while the workers still parse. The file is
the length of a header (8 bytes), the header (the cache's key and each chunk's length, in
marshal's bytes), then the chunks one after another, so reading takes each chunk where it
lies in the file's bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import marshal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import model as m
from .errors import StorykitError
from .fsio import make_dirs, replace_file, settled_before

FORMAT = 4  # bump when the model, the records or parsing rules change
_JOURNAL_MIN = 64  # entries a journal may always hold before the main file is rewritten
_LEGACY = ("stories.pickle", "stories.journal.pickle")  # earlier versions' files: story text


class ParseCache:
    def __init__(self, path: Path, key: tuple[Any, ...]):
        self.path = path
        self.journal_path = path.with_name(path.stem + ".journal" + path.suffix)
        self.key = (FORMAT, sys.version_info[:2], *key)
        self._saved: dict[str, tuple[Any, Any]] | None = None  # id -> stat keys on disk
        self._journal: dict[str, Any] = {}

    def load(self) -> dict[str, Any]:
        """Saved entries, or nothing if the cache is missing, stale or unreadable."""
        entries = self._read(self.path)
        if entries is None:
            self._saved, self._journal = None, {}
            return {}
        entries = {k: v for k, v in entries.items() if v is not None}
        self._journal = self._read(self.journal_path) or {}
        for story_id, entry in self._journal.items():
            if entry is None:
                entries.pop(story_id, None)
            else:
                entries[story_id] = entry
        self._saved = {k: (v[0], v[1]) for k, v in entries.items()}
        return entries

    def save(self, entries: dict[str, Any], chunks: Sequence[Chunk] | None = None) -> None:
        """Write entries whose stat keys are settled (not changed in the last 2 s): only
        what changed since :meth:`load`, when that is little. ``chunks``: entries already
        in marshal's bytes (from worker processes), with the stat keys of each story in
        them; the file reuses those bytes for every entry they still hold."""
        cutoff = settled_before()
        settled = {k: v for k, v in entries.items() if _settled(v, cutoff)}
        if self._saved is None:
            self._write_all(settled, chunks or [])
            return
        changes: dict[str, Any] = {k: v for k, v in settled.items()
                                   if self._saved.get(k) != (v[0], v[1])}
        changes.update((k, None) for k in self._saved if k not in settled)
        if not changes:
            return
        journal = {**self._journal, **changes}
        if len(journal) > max(_JOURNAL_MIN, len(settled) // 8):
            self._write_all(settled, chunks or [])
            return
        if self._write(self.journal_path, journal):
            self._journal = journal
            self._saved.update((k, (v[0], v[1])) for k, v in changes.items() if v is not None)
            for k in [k for k, v in changes.items() if v is None]:
                self._saved.pop(k, None)

    def forget(self, story_id: str) -> None:
        """Remove one story's entry from every file of the cache (its text must go)."""
        entries = self.load()
        if entries.pop(story_id, None) is not None or story_id in self._journal:
            self._write_all(entries)

    def _write_all(self, entries: dict[str, Any], chunks: Sequence[Chunk] = ()) -> None:
        cutoff = settled_before()
        entries = {k: v for k, v in entries.items() if _settled(v, cutoff)}
        if self._write(self.path, entries, chunks):
            for path in (self.journal_path, *(self.path.with_name(n) for n in _LEGACY)):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            self._saved = {k: (v[0], v[1]) for k, v in entries.items()}
            self._journal = {}

    def _read(self, path: Path) -> dict[str, Any] | None:
        """Entries (id -> (stat keys, Story), or None for a story the journal dropped), or
        None when the file is missing, damaged or from other code."""
        try:
            with open(path, "rb", buffering=0) as f:
                data = memoryview(f.readall())
            # our own private file; marshal builds plain values only (no code runs)
            at = 8 + int.from_bytes(data[:8], "little")
            key, sizes = marshal.loads(data[8:at])  # noqa: S302
            if key != self.key or not isinstance(sizes, list) or at + sum(sizes) != len(data):
                return None
            out: dict[str, Any] = {}
            for size in sizes:  # each chunk read where it lies (no copy of the file's bytes)
                for i, r in marshal.loads(data[at:at + size]).items():  # noqa: S302
                    out[i] = None if r is None else (r[0], r[1], story_from_record(r[2]))
                at += size
            return out
        except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError,
                AttributeError):
            return None

    def _write(self, path: Path, entries: dict[str, Any], chunks: Sequence[Chunk] = ()) -> bool:
        """Write ``entries`` (None for a story to forget). Stories a chunk holds with the
        same stat keys are taken from its bytes; the chunk's other stories are forgotten
        again in this process's own chunk, which comes last."""
        held: dict[str, tuple] = {}
        for _, keys in chunks:
            held.update(keys)
        records = {}
        for i, e in entries.items():
            if e is None or held.get(i) != (e[0], e[1]):
                records[i] = None if e is None else (e[0], e[1], story_record(e[2]))
        records.update((i, None) for i in held if i not in entries)
        try:
            # version 2: no back-references, quickest to write and read at this size
            pieces = [data for data, _ in chunks] + [marshal.dumps(records, 2)]
            head = marshal.dumps((self.key, [len(piece) for piece in pieces]), 2)
            make_dirs(path.parent)
            # whole or not at all; no fsync: only a cache; the pieces written without a join
            replace_file(path, [len(head).to_bytes(8, "little"), head, *pieces], 0o600)
        except (StorykitError, OSError, ValueError):
            return False
        return True


#: Entries in marshal's bytes (``{id: (story keys, consent keys, record)}``) and the stat
#: keys of each story they hold.
Chunk = tuple[bytes, dict[str, tuple[Any, Any]]]


def _settled(entry: Any, cutoff: int) -> bool:
    skey, ckey = entry[0], entry[1]
    return all(k is None or k[2] < cutoff for k in (skey, ckey))


# --- stories as plain tuples -----------------------------------------------------------------

def story_record(story: m.Story) -> tuple:
    """Every field of ``story`` as a tuple of plain values (marshal can write it)."""
    s = story
    return (s.id, s.title, s.slug, s.status, _teller(s.storyteller), s.body, s.service,
            s.tags, s.summary, s.content_warning, [(p.name, p.render_as) for p in s.people],
            s.quotes, s.speaker_notes, s.changes, s.asks,
            [(i.file, i.alt, i.kind) for i in s.images], _day(s.created), _day(s.updated),
            s.revision, s.extra, [_consent(v) for v in s.consent], s.etag, s.consent_etag,
            None if s.path is None else str(s.path), _plain(s.source_fields))


def story_from_record(r: tuple) -> m.Story:
    """The story :func:`story_record` made ``r`` from."""
    return m.Story(
        r[0], r[1], r[2], r[3], m.Storyteller(*r[4]), r[5], r[6], r[7], r[8], r[9],
        [m.Person(*p) for p in r[10]], r[11], r[12], r[13], r[14],
        [m.Image(*i) for i in r[15]], _date(r[16]), _date(r[17]), r[18], r[19],
        [_consent_from(v) for v in r[20]], r[21], r[22], None if r[23] is None else Path(r[23]),
        _unplain(r[24]))


def _teller(t: m.Storyteller) -> tuple:
    return (t.name, t.role, t.pseudonym)


def _consent(v: m.ConsentVersion) -> tuple:
    taken, gone = v.taken_by, v.withdrawal
    return (v.version, v.recorded.isoformat(), v.status, v.given_by, v.method,
            v.granted.toordinal(), v.expires.toordinal(), v.uses, v.media, v.identification,
            v.signoff_required, v.recorded_by, v.capacity, v.age_band, _day(v.reconsent_due),
            None if taken is None else (taken.name, taken.role, taken.involved_in_care),
            _day(v.signed_off), v.signed_off_revision, v.project_class, v.ethics_ref,
            None if gone is None else (_day(gone.requested), gone.scope, gone.reason,
                                       _day(gone.confirmed)),
            v.evidence, v.notes, v._written, _contact(v.contact))


def _consent_from(r: tuple) -> m.ConsentVersion:
    gone = r[20]
    version = m.ConsentVersion(
        r[0], dt.datetime.fromisoformat(r[1]), r[2], r[3], r[4], dt.date.fromordinal(r[5]),
        dt.date.fromordinal(r[6]), r[7], r[8], r[9], r[10], r[11], r[12], r[13], _date(r[14]),
        None if r[15] is None else m.TakenBy(*r[15]), _date(r[16]), r[17], r[18], r[19],
        None if gone is None else m.Withdrawal(_date(gone[0]), gone[1], gone[2], _date(gone[3])),
        r[21], r[22], None if r[24] is None else m.Contact(*r[24]))
    version._written = r[23]
    return version


def _contact(c: m.Contact | None) -> tuple | None:
    if c is None:
        return None
    return (c.agrees_to_contact, c.name, c.email, c.address, c.phone, c.preferred_format)


def _day(day: dt.date | None) -> int | None:
    return None if day is None else day.toordinal()


def _date(ordinal: int | None) -> dt.date | None:
    return None if ordinal is None else dt.date.fromordinal(ordinal)


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    """Front matter as read, each date as a one-item tuple (YAML gives no tuples). Dates
    are top-level fields only (``created``, ``updated``); a date elsewhere would make
    marshal refuse the record, and the cache is then only not written."""
    return {k: (v.toordinal(),) if isinstance(v, dt.date) else v for k, v in fields.items()}


def _unplain(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: dt.date.fromordinal(v[0]) if type(v) is tuple else v for k, v in fields.items()}
