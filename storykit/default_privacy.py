"""Built-in privacy checks (a plugin): privacy findings become ``storykit check`` warnings.

Each warning points at the line of story.md where the detail is: in the body, the body line
offset by the front matter; in a front-matter field, the line of the source that holds it
(found in the YAML source, which may fold or quote it; else the field's first line).
Messages carry a masked excerpt only, never the detail itself.

The privacy rules and PyYAML are imported when a story is checked, not when plugins load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .checks import NOTE, WARNING, Finding
from .hookspecs import hookimpl
from .model import Story

if TYPE_CHECKING:  # pragma: no cover
    import yaml

    from .privacy import PrivacyFinding


@hookimpl
def story_checks(site, story: Story, on: dt.date) -> list[Finding]:
    from .privacy import LOW, find_privacy_issues

    found = find_privacy_issues(story)
    if not found:
        return []
    where = _line_finder(story)
    file = str(story.path) if story.path else None
    # Low-severity findings (names renders already replace, long numbers) are notes: they
    # would bury expired consent in `storykit check`; `--all` and the editor show them.
    return [Finding(NOTE if f.severity == LOW else WARNING, _message(f), file, where(f),
                    story.id, f.code) for f in found]


def _message(finding: PrivacyFinding) -> str:
    from .privacy import field_label

    return f"{finding.message} ({field_label(finding.field)}, column {finding.column})"


def _line_finder(story: Story) -> Callable[[PrivacyFinding], int | None]:
    """Maps a finding to its line in story.md, if the file still holds what was loaded."""
    import yaml

    from .privacy import field_path, field_text
    from .storyfile import front_node, loaded_text, split_front_matter

    text = loaded_text(story)
    if text is None:
        return lambda finding: None
    front, body = split_front_matter(text, "story.md")
    body_offset = text[:len(text) - len(body)].count("\n")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same parser storyfile uses
    root = yaml.compose(front, Loader=loader)
    front_lines = front.split("\n")

    def line(finding: PrivacyFinding) -> int | None:
        if finding.field == "body":
            return body_offset + finding.line
        node = front_node(root, field_path(finding.field))
        if node is None:
            return None
        found = _line_in_node(front_lines, node, field_text(story, finding.field), finding)
        return 2 + (node.start_mark.line if found is None else found)

    return line


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
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    nth = len(pattern.findall(value, 0, finding.start))
    start, end = node.start_mark, node.end_mark
    source = "\n".join(lines[start.line:end.line + 1])
    source = source[start.column:len(source) - len(lines[end.line]) + end.column]
    matches = list(pattern.finditer(source))
    if nth >= len(matches):
        return None
    return start.line + source.count("\n", 0, matches[nth].start())
