"""Built-in privacy checks (a plugin): privacy findings in ``storykit check``. Blocking ones
(storykit.findings) are ``blocking`` and make the check fail; advisory ones, and blocking ones
a reviewer dismissed, are notes.

Each warning points at the line of story.md where the detail is: in the body, the body line
offset by the front matter; in a front-matter field, the line of the source that holds it
(found in the YAML source, which may fold or quote it; else the field's first line).
Messages carry a masked excerpt only, never the detail itself.

The privacy rules and PyYAML are imported when a story is checked, not when plugins load.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .checks import BLOCKING, ERROR, NOTE, Finding
from .hookspecs import hookimpl
from .model import Story

if TYPE_CHECKING:  # pragma: no cover
    import yaml

    from .privacy import PrivacyFinding


@hookimpl
def story_checks(site, story: Story, on: dt.date) -> list[Finding]:
    from .findings import dismissals_of, dismissed_words
    from .privacy import BLOCKING as BLOCKS
    from .privacy import find_privacy_issues

    record, broken = _review_record(story)
    found = find_privacy_issues(story)  # the hot path of `storykit check`: no more than this
    if not found:
        return broken
    dismissed = dismissals_of(story, record, found) if record.dismissed else {}
    where = _line_finder(story)
    file = str(story.path) if story.path else None
    out = []
    for f in found:
        message = _message(f)
        dismissal = dismissed.get(id(f))
        if dismissal is not None:
            severity, message = NOTE, f"{message}: {dismissed_words(dismissal)}"
        else:
            # Advisory findings (long numbers, names renders already replace) are notes:
            # they would bury what must be fixed; `--all` and the editor show them.
            severity = BLOCKING if f.severity == BLOCKS else NOTE
        out.append(Finding(severity, message, file, where(f), story.id, f.code))
    return broken + out


@hookimpl
def after_withdraw(site, story: Story, scope: str) -> None:
    """Erasing everything forgets the story's privacy findings kept for `storykit check`."""
    if scope == "delete_everything":
        from .checks import PrivacyCache

        PrivacyCache.forget(site, story.id)


def _review_record(story: Story):
    """The story's review.yml record, and its problems as errors: until a broken file is
    fixed, no dismissal in it counts (every finding blocks)."""
    from .errors import ValidationError
    from .reviewfile import ReviewRecord, read_review

    try:
        return read_review(story.folder), []
    except ValidationError as exc:
        return ReviewRecord(), [
            Finding(ERROR, f"{p.message} (until this is fixed no dismissal in it counts)",
                    p.file, p.line, story.id, f"review_{p.code}") for p in exc.problems]


def _message(finding: PrivacyFinding) -> str:
    from .privacy import field_label

    return f"{finding.message} ({field_label(finding.field)}, column {finding.column})"


def _line_finder(story: Story) -> Callable[[PrivacyFinding], int | None]:
    """Maps a finding to its line in story.md, if the file still holds what was loaded."""

    from .privacy import field_path, field_text
    from .storyfile import front_node, loaded_text, split_front_matter

    text = loaded_text(story)
    if text is None:
        return lambda finding: None
    front, body = split_front_matter(text, "story.md")
    body_offset = text[:len(text) - len(body)].count("\n")
    front_lines = front.split("\n")

    @functools.cache
    def node_at(path: tuple) -> tuple[yaml.Node | None, int]:
        """The field's node and the front-matter line its source starts counting from: only
        the field's own top-level block is composed (a tenth of the work), or, if that does
        not find it, the whole front matter."""
        block = _top_level_block(front_lines, path[0])
        if block is not None:
            node = front_node(_compose("\n".join(front_lines[block[0]:block[1]])), path)
            if node is not None:
                return node, block[0]
        return front_node(_compose(front), path), 0

    def line(finding: PrivacyFinding) -> int | None:
        if finding.field == "body":
            return body_offset + finding.line
        node, first = node_at(field_path(finding.field))
        if node is None:
            return None
        found = _line_in_node(front_lines[first:], node, field_text(story, finding.field),
                              finding)
        return 2 + first + (node.start_mark.line if found is None else found)

    return line


def _compose(text: str) -> yaml.Node | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the parser storyfile uses
    try:
        return yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None


def _top_level_block(lines: list[str], key: str) -> tuple[int, int] | None:
    """The front-matter lines of top-level ``key`` and its value: from ``key:`` at the
    start of a line to the next line that starts another top-level key."""
    head = f"{key}:"
    for i, text in enumerate(lines):
        if text.startswith(head):
            for j in range(i + 1, len(lines)):
                nxt = lines[j]
                if nxt[:1] not in ("", " ", "\t", "#", "-"):
                    return i, j
            return i, len(lines)
    return None


@functools.lru_cache(maxsize=1024)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def _line_in_node(lines: list[str], node: yaml.Node, value: str,
                  finding: PrivacyFinding) -> int | None:
    """0-based front-matter line of the finding inside the YAML source of ``node``.

    YAML may fold or quote the text, so the matched words are searched for in the source
    (any whitespace between them), taking the same occurrence as in the field's text. None
    if they cannot be found as written (e.g. escapes), and the field's first line is used.
    """
    words = value[finding.start:finding.end].split()
    if not words:
        return None
    pattern = _words_pattern(tuple(words))
    nth = len(pattern.findall(value, 0, finding.start))
    start, end = node.start_mark, node.end_mark
    source = "\n".join(lines[start.line:end.line + 1])
    source = source[start.column:len(source) - len(lines[end.line]) + end.column]
    matches = list(pattern.finditer(source))
    if nth >= len(matches):
        return None
    return start.line + source.count("\n", 0, matches[nth].start())
