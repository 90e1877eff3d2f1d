"""Three-way merge of two edits of one story, for the "someone else changed this" page.

When a save is refused because the story changed after the form was loaded, we know three
versions: the *base* (the revision the form was loaded from, kept by the store), *theirs* (the
story as saved now) and *mine* (what the person just sent). Field by field:

* a field only one side changed takes that side's value;
* both sides made the same change: that value;
* both changed a text field differently: its lines are merged with ``merge3`` (the diff3
  idea MediaWiki and git use); overlapping line changes are a conflict;
* both changed any other field differently: a conflict.

A merge with no conflicts can be offered as "save the combined version"; otherwise the page
shows both versions and keeps the person's own text in the form, so nothing is lost.
Bookkeeping (status, revision, dates, images, slug) always comes from *theirs*: the editor
does not change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from merge3 import Merge3

from ..model import Story

#: Story fields the editor changes, in the order the page shows them.
EDITED = ("title", "summary", "body", "service", "tags", "content_warning", "storyteller",
          "people", "quotes", "changes", "asks", "speaker_notes")
#: Fields whose text may be merged line by line.
TEXTS = frozenset({"body", "summary", "speaker_notes", "content_warning"})


@dataclass
class MergeResult:
    """``story`` is the combined version (``theirs`` with both sides' edits), or None when
    some fields conflict; ``conflicts`` names them, ``changed_by_them`` and ``changed_by_me``
    say which fields each side changed since the base."""

    story: Story | None
    conflicts: list[str] = field(default_factory=list)
    changed_by_them: list[str] = field(default_factory=list)
    changed_by_me: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.story is not None


def merge_stories(base: Story, mine: Story, theirs: Story) -> MergeResult:
    """Combine ``mine`` and ``theirs``, both edited from ``base`` (see the module text)."""
    merged: dict[str, Any] = {}
    result = MergeResult(None)
    for name in EDITED:
        b, m, t = getattr(base, name), getattr(mine, name), getattr(theirs, name)
        if m != b:
            result.changed_by_me.append(name)
        if t != b:
            result.changed_by_them.append(name)
        value, ok = merge_value(name, b, m, t)
        if ok:
            merged[name] = value
        else:
            result.conflicts.append(name)
    if not result.conflicts:
        result.story = theirs.copy(**merged)
    return result


def merge_value(name: str, base: Any, mine: Any, theirs: Any) -> tuple[Any, bool]:
    """``(value, True)`` when the field merges, ``(None, False)`` when it conflicts."""
    if mine in (theirs, base):
        return theirs, True
    if theirs == base:
        return mine, True
    if name in TEXTS and all(isinstance(v, str | None) for v in (base, mine, theirs)):
        text = merge_text(base or "", mine or "", theirs or "")
        if text is not None:
            return text or None, True
    return None, False


def merge_text(base: str, mine: str, theirs: str) -> str | None:
    """Line-by-line three-way merge; None when the two sides changed the same lines."""
    merger = Merge3(_lines(base), _lines(mine), _lines(theirs))
    out: list[str] = []
    for group in merger.merge_groups():
        if group[0] == "conflict":
            return None
        out.extend(group[1])
    text = "".join(out)
    if not (mine.endswith("\n") or theirs.endswith("\n")):
        text = text.removesuffix("\n")  # _lines added it
    return text


def _lines(text: str) -> list[str]:
    """Lines with their endings; a last line without one gets one, so an edit at the end
    of one side does not look like a change to the other side's last line."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines
