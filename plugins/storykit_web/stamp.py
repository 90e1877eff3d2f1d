"""The stamp a web build leaves of what it saw, so the next build can stop at once when
nothing changed, or load only the few stories that did."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storykit.consent import decision_window
from storykit.fsio import settled_before, stat_key
from storykit.model import Story

from . import pages

if TYPE_CHECKING:  # pragma: no cover
    from .build import Builder

UNSETTLED = ("unsettled",)  # a stamp's stat key for a file too recently changed to trust
FEW_CHANGES = 64  # changed stories a build may load alone (the last build's records for the rest)


class Stamp:
    """What a build saw: the global key (code, templates, theme, settings), the site's
    settings, every name in the stories folder with each story's file stat keys, the
    pictures' stat keys, and the days around the build's day on which every published
    story's consent decision stays the same.

    With it the next build can tell in a few milliseconds that nothing it depends on
    changed, and stop without loading a single story; or that only a few stories changed,
    and load only those, keeping the last build's records of the others."""

    def __init__(self, builder: Builder, stories: dict[str, Any]):
        self.builder, self.stories = builder, stories
        self.first, self.last = dt.date.min, dt.date.max
        self.pictures: list[list[Any]] = []

    @classmethod
    def start(cls, builder: Builder) -> Stamp:
        return cls(builder, builder.fingerprint)

    def narrow(self, story: Story, on: dt.date) -> None:
        first, last = decision_window(story, on)
        self.first, self.last = max(self.first, first), min(self.last, last)

    def add_pictures(self, story: Story) -> None:
        folder = story.folder
        self.pictures += [[str(folder / img.file), stat_key(folder / img.file)]
                          for img in story.images if folder]

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
        pictures = [[path, k if k is None or k[2] < settled else UNSETTLED]
                    for path, k in self.pictures]
        return {**self.inputs(self.builder), "from": self.first.isoformat(),
                "until": self.last.isoformat(), "stories": {**self.stories, "files": files},
                "pictures": pictures, "problems": list(problems)}

    @staticmethod
    def inputs(builder: Builder) -> dict[str, Any]:
        return {"key": builder.key, "theme": builder.theme.name,
                "settings": pages.quick_digest(repr(builder.site.config))}

    @classmethod
    def changes(cls, builder: Builder) -> tuple[Stamp, set[str], set[str]] | None:
        """A new stamp, and the ids of the stories changed (or new) and gone since the last
        build, when only a few changed and everything else holds; else None."""
        try:
            return cls._changes(builder)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a damaged manifest: build everything

    @classmethod
    def _changes(cls, builder: Builder) -> tuple[Stamp, set[str], set[str]] | None:
        old = builder.old
        stamp = old.get("stamp")
        if not stamp or stamp["problems"] or not cls._same_inputs(builder, stamp):
            return None
        new = cls.start(builder)
        before, now = stamp["stories"].get("files", {}), new.stories.get("files", {})
        if not now or set(new.stories["names"]) - set(now) != set(stamp["stories"]["names"]) - set(before):
            return None  # other entries of the stories folder came or went
        stories_dir = Path(builder.site.store.root)
        pictures = [(Path(path).relative_to(stories_dir).parts[0], path, key)
                    for path, key in stamp["pictures"]]  # (story id, file, stat key)
        changed = {i for i, keys in now.items() if before.get(i) != keys}
        changed |= {i for i, path, key in pictures if stat_key(path) != key}
        gone = set(before) - set(now)
        if len(changed) + len(gone) > FEW_CHANGES or not all(
                os.path.isfile(builder._path(f)) for f in old.get("files", [])):
            return None
        new.first, new.last = (dt.date.fromisoformat(stamp["from"]),
                               dt.date.fromisoformat(stamp["until"]))
        reloaded = changed | gone
        new.pictures = [[path, key] for i, path, key in pictures if i not in reloaded]
        return new, changed, gone

    @classmethod
    def _same_inputs(cls, builder: Builder, stamp: dict[str, Any]) -> bool:
        return not builder.old.get("pending") and all(
            stamp.get(k) == v for k, v in cls.inputs(builder).items()) and \
            stamp["from"] <= builder.on.isoformat() <= stamp["until"]

    @classmethod
    def unchanged(cls, builder: Builder) -> bool:
        """Whether the last build's stamp still holds, and its files are all there."""
        try:
            return cls._unchanged(builder)
        except (KeyError, TypeError, ValueError, AttributeError):
            return False  # a damaged manifest: build everything

    @classmethod
    def _unchanged(cls, builder: Builder) -> bool:
        old = builder.old
        stamp = old.get("stamp")
        if not stamp or not cls._same_inputs(builder, stamp):
            return False
        now = builder.fingerprint
        if not now or now != stamp["stories"]:
            return False
        if any(stat_key(path) != key for path, key in stamp["pictures"]):
            return False
        return all(os.path.isfile(builder._path(f)) for f in old.get("files", []))
