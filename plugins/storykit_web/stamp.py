"""The stamp a web build leaves of what it saw, so the next build can stop at once when
nothing changed, or load only the few stories that did."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storykit.kit import PublicationSet, Publishable, settled_before, stat_key

UNSETTLED = ("unsettled",)  # a stamp's stat key for a file too recently changed to trust
FEW_CHANGES = 64  # changed stories a build may load alone (the last build's records for the rest)


@dataclass(frozen=True)
class StampInputs:
    """What a build's stamp is checked against: the global key (code, templates, theme,
    settings), the theme's name, a digest of the site's settings, the build's day, the last
    build's manifest, the output folder, and how to take the stories folder's fingerprint."""

    key: str
    theme: str
    settings: str
    on: dt.date
    old: dict[str, Any]
    out: str
    fingerprint: Callable[[], dict[str, Any]]

    def output_exists(self, rel: str) -> bool:
        return os.path.isfile(f"{self.out}/{rel}")


class Stamp:
    """What a build saw: the global key (code, templates, theme, settings), the site's
    settings, every name in the stories folder with each story's file stat keys, the
    pictures' stat keys, and the days around the build's day on which every published
    story's consent decision stays the same.

    With it the next build can tell in a few milliseconds that nothing it depends on
    changed, and stop without loading a single story; or that only a few stories changed,
    and load only those, keeping the last build's records of the others."""

    def __init__(self, inputs: StampInputs, stories: dict[str, Any]):
        self.inputs, self.stories = inputs, stories
        self.first, self.last = dt.date.min, dt.date.max
        self.pictures: list[list[Any]] = []  # [file, stat key, story id]

    @classmethod
    def start(cls, inputs: StampInputs) -> Stamp:
        return cls(inputs, inputs.fingerprint())

    def narrow(self, publications: PublicationSet) -> None:
        """Keep to the days on which the set's decisions hold."""
        self.first = max(self.first, publications.valid_from)
        self.last = min(self.last, publications.valid_until)

    def add_pictures(self, publishable: Publishable) -> None:
        self.pictures += [[path, stat_key(path), publishable.id]
                          for path in publishable.pictures]

    def finish(self, problems: list[str]) -> dict[str, Any] | None:
        """The stamp to keep. A file changed in the last two seconds is marked unsettled
        (an edit in the same clock tick could keep its stat key), so the next build reads
        its story again whatever its stat key says."""
        if not self.stories:
            return None
        settled = settled_before()
        files = {i: keys if all(k is None or k[2] < settled for k in keys) else tuple(
                 k if k is None or k[2] < settled else UNSETTLED for k in keys)
                 for i, keys in self.stories["files"].items()}
        pictures = [[path, k if k is None or k[2] < settled else UNSETTLED, story_id]
                    for path, k, story_id in self.pictures]
        return {**self.checked(self.inputs), "from": self.first.isoformat(),
                "until": self.last.isoformat(), "stories": {**self.stories, "files": files},
                "pictures": pictures, "problems": list(problems)}

    @staticmethod
    def checked(inputs: StampInputs) -> dict[str, Any]:
        return {"key": inputs.key, "theme": inputs.theme, "settings": inputs.settings}

    @classmethod
    def changes(cls, inputs: StampInputs) -> tuple[Stamp, set[str], set[str]] | None:
        """A new stamp, and the ids of the stories changed (or new) and gone since the last
        build, when only a few changed and everything else holds; else None."""
        try:
            return cls._changes(inputs)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a damaged manifest (or one from before): build everything

    @classmethod
    def _changes(cls, inputs: StampInputs) -> tuple[Stamp, set[str], set[str]] | None:
        old = inputs.old
        stamp = old.get("stamp")
        if not stamp or stamp["problems"] or not cls._same_inputs(inputs, stamp):
            return None
        new = cls.start(inputs)
        before, now = stamp["stories"].get("files", {}), new.stories.get("files", {})
        if not now or set(new.stories["names"]) - set(now) != set(stamp["stories"]["names"]) - set(before):
            return None  # other entries of the stories folder came or went
        pictures = [(story_id, path, key) for path, key, story_id in stamp["pictures"]]
        changed = {i for i, keys in now.items() if before.get(i) != keys}
        changed |= {i for i, path, key in pictures if stat_key(path) != key}
        gone = set(before) - set(now)
        if len(changed) + len(gone) > FEW_CHANGES or not all(
                inputs.output_exists(f) for f in old.get("files", [])):
            return None
        new.first, new.last = (dt.date.fromisoformat(stamp["from"]),
                               dt.date.fromisoformat(stamp["until"]))
        reloaded = changed | gone
        new.pictures = [[path, key, i] for i, path, key in pictures if i not in reloaded]
        return new, changed, gone

    @classmethod
    def _same_inputs(cls, inputs: StampInputs, stamp: dict[str, Any]) -> bool:
        return not inputs.old.get("pending") and all(
            stamp.get(k) == v for k, v in cls.checked(inputs).items()) and \
            stamp["from"] <= inputs.on.isoformat() <= stamp["until"]

    @classmethod
    def unchanged(cls, inputs: StampInputs) -> bool:
        """Whether the last build's stamp still holds, and its files are all there."""
        try:
            return cls._unchanged(inputs)
        except (KeyError, TypeError, ValueError, AttributeError):
            return False  # a damaged manifest (or one from before): build everything

    @classmethod
    def _unchanged(cls, inputs: StampInputs) -> bool:
        old = inputs.old
        stamp = old.get("stamp")
        if not stamp or not cls._same_inputs(inputs, stamp):
            return False
        now = inputs.fingerprint()
        if not now or now != stamp["stories"]:
            return False
        if any(stat_key(path) != key for path, key, _story in stamp["pictures"]):
            return False
        return all(inputs.output_exists(f) for f in old.get("files", []))
