"""A persistent cache of parsed stories in the instance folder, so a fresh process does not
parse thousands of unchanged files again.

An entry is reused only while the files' inode, size and modification time are unchanged
(as git's index does). Entries for files changed in the last two seconds are not written,
so an edit in the same clock tick is never mistaken for "unchanged". The cache holds only
what the stories folder already holds, in the private instance folder; delete it any time.
"""

from __future__ import annotations

import contextlib
import pickle
import time
from pathlib import Path
from typing import Any

from .errors import StorykitError
from .fsio import atomic_write, make_dirs

FORMAT = 1  # bump when the model or parsing rules change
_RACY_NS = 2_000_000_000


class ParseCache:
    def __init__(self, path: Path, key: tuple[Any, ...]):
        self.path = path
        self.key = (FORMAT, *key)

    def load(self) -> dict[str, Any]:
        """Saved entries, or nothing if the cache is missing, stale or unreadable."""
        try:
            with self.path.open("rb") as f:
                data = pickle.load(f)  # noqa: S301 - our own private file, see module doc
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
                TypeError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("key") != self.key:
            return {}
        return data.get("entries", {})

    def save(self, entries: dict[str, Any]) -> None:
        """Write entries whose stat keys are settled (not changed in the last 2 s)."""
        cutoff = time.time_ns() - _RACY_NS
        settled = {k: v for k, v in entries.items() if _settled(v, cutoff)}
        data = pickle.dumps({"key": self.key, "entries": settled}, pickle.HIGHEST_PROTOCOL)
        with contextlib.suppress(StorykitError):  # a cache that can't be written is just slower
            make_dirs(self.path.parent)
            atomic_write(self.path, data, mode=0o600)


def _settled(entry: Any, cutoff: int) -> bool:
    skey, ckey = entry[0], entry[1]
    return all(k is None or k[2] < cutoff for k in (skey, ckey))
