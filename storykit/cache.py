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
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from .fsio import read_cache, settled_before, write_cache

FORMAT = 1  # bump when the model or parsing rules change
_JOURNAL_MIN = 64  # entries a journal may always hold before the main file is rewritten


class ParseCache:
    def __init__(self, path: Path, key: tuple[Any, ...]):
        self.path = path
        self.journal_path = path.with_name(path.stem + ".journal" + path.suffix)
        self.key = (FORMAT, *key)
        self._saved: dict[str, tuple[Any, Any]] | None = None  # id -> stat keys on disk
        self._journal: dict[str, Any] = {}

    def load(self) -> dict[str, Any]:
        """Saved entries, or nothing if the cache is missing, stale or unreadable."""
        entries = self._read(self.path)
        if entries is None:
            self._saved, self._journal = None, {}
            return {}
        self._journal = self._read(self.journal_path) or {}
        for story_id, entry in self._journal.items():
            if entry is None:
                entries.pop(story_id, None)
            else:
                entries[story_id] = entry
        self._saved = {k: (v[0], v[1]) for k, v in entries.items()}
        return entries

    def save(self, entries: dict[str, Any]) -> None:
        """Write entries whose stat keys are settled (not changed in the last 2 s): only
        what changed since :meth:`load`, when that is little."""
        cutoff = settled_before()
        settled = {k: v for k, v in entries.items() if _settled(v, cutoff)}
        if self._saved is None:
            self._write_all(settled)
            return
        changes: dict[str, Any] = {k: v for k, v in settled.items()
                                   if self._saved.get(k) != (v[0], v[1])}
        changes.update((k, None) for k in self._saved if k not in settled)
        if not changes:
            return
        journal = {**self._journal, **changes}
        if len(journal) > max(_JOURNAL_MIN, len(settled) // 8):
            self._write_all(settled)
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

    def _write_all(self, entries: dict[str, Any]) -> None:
        cutoff = settled_before()
        entries = {k: v for k, v in entries.items() if _settled(v, cutoff)}
        if self._write(self.path, entries):
            with contextlib.suppress(OSError):
                self.journal_path.unlink(missing_ok=True)
            self._saved = {k: (v[0], v[1]) for k, v in entries.items()}
            self._journal = {}

    def _read(self, path: Path) -> dict[str, Any] | None:
        data = read_cache(path)
        if not isinstance(data, dict) or data.get("key") != self.key:
            return None
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else None

    def _write(self, path: Path, entries: dict[str, Any]) -> bool:
        return write_cache(path, {"key": self.key, "entries": entries})


def _settled(entry: Any, cutoff: int) -> bool:
    skey, ckey = entry[0], entry[1]
    return all(k is None or k[2] < cutoff for k in (skey, ckey))
