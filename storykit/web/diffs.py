"""Readable differences between two versions of a story, for the history and conflict pages.

Field by field, in the editor's order: a field that changed shows its old and new value; a
long text (the story itself, speaker notes) shows a line-by-line difference from ``difflib``.
Templates mark each line with words as well as colour ("Added", "Removed"), so the change is
clear without colour and to screen readers (``<ins>``/``<del>`` plus hidden labels).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..model import Story
from .merge import EDITED
from .templating import STATUS_LABELS

LABELS = {
    "title": "Title", "summary": "Summary", "body": "The story", "service": "Service",
    "tags": "Tags", "content_warning": "Content warning", "storyteller": "Storyteller",
    "people": "People named in the story", "quotes": "Pull quotes",
    "changes": "What we are changing", "asks": "What we ask", "speaker_notes": "Speaker notes",
    "images": "Pictures", "status": "Status",
}
LINE_BY_LINE = frozenset({"body", "speaker_notes", "summary", "content_warning", "quotes",
                          "changes", "asks"})
#: Around each change, this many unchanged lines are shown; the rest are counted.
CONTEXT = 2
#: difflib's exact matching takes time growing with (old lines) x (new lines) when lines
#: repeat (blank lines, a line typed many times): two revisions of 9,000 equal lines took
#: 17 s. Past this product it skips lines too common to anchor a match (``autojunk``), which
#: may show a longer change but takes milliseconds; below it, about a fifth of a second at most.
EXACT_WORK = 1_000_000


@dataclass(frozen=True)
class Line:
    kind: str   # "same", "added", "removed" or "gap" (unchanged lines left out)
    text: str


@dataclass
class FieldChange:
    name: str
    label: str
    old: str = ""
    new: str = ""
    lines: list[Line] = field(default_factory=list)  # for long texts


def text_of(name: str, value: Any) -> str:
    """A field's value as plain text for showing."""
    if value is None:
        return ""
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if name == "storyteller":
        parts = [value.name, f"made-up name: {value.pseudonym}" if value.pseudonym else "",
                 f"role: {value.role}"]
        return ", ".join(p for p in parts if p)
    if name == "people":
        return "\n".join(f"{p.name} \u2192 {p.render_as}" for p in value)
    if name == "images":
        return "\n".join(f"{i.file} ({i.kind}): {i.alt}" for i in value)
    if name == "quotes":
        return "\n\n".join(value)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) if name != "tags" else ", ".join(value)
    return str(value)


def compare(old: Story, new: Story, fields: tuple[str, ...] = EDITED + ("images", "status")
            ) -> list[FieldChange]:
    """Every field that differs between two versions, with its old and new text."""
    changes = []
    for name in fields:
        a, b = text_of(name, getattr(old, name)), text_of(name, getattr(new, name))
        if a == b:
            continue
        change = FieldChange(name, LABELS.get(name, name), a, b)
        if name in LINE_BY_LINE:
            change.lines = line_diff(a, b)
        changes.append(change)
    return changes


def line_diff(old: str, new: str, context: int = CONTEXT) -> list[Line]:
    """Lines added and removed between two texts, with a little unchanged text around."""
    a, b = old.splitlines(), new.splitlines()
    out: list[Line] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(a) * len(b) > EXACT_WORK)
    for group in matcher.get_grouped_opcodes(context):
        first = group[0]
        if out or first[1] > 0:
            out.append(Line("gap", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [Line("same", t) for t in a[i1:i2]]
                continue
            out += [Line("removed", t) for t in a[i1:i2]]
            out += [Line("added", t) for t in b[j1:j2]]
    if out and group[-1][2] < len(a):
        out.append(Line("gap", ""))
    return out


def raw_diff(old: str, new: str) -> list[Line]:
    """A whole-file line difference (for versions that cannot be read as stories)."""
    return line_diff(old, new)
