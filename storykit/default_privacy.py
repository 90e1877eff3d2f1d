"""Built-in privacy checks (a plugin): privacy findings become ``storykit check`` warnings.

Each warning points at the line of story.md where the detail is: in the body, the body line
offset by the front matter; in a front-matter field, the field's line (and, inside a ``|``
block, the exact line). Messages carry a masked excerpt only, never the detail itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import yaml

from .checks import WARNING, Finding
from .hookspecs import hookimpl
from .model import Story
from .privacy import PrivacyFinding, field_label, field_path, find_privacy_issues
from .storyfile import MAX_STORY_BYTES, decode, etag_of, split_front_matter

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same parser storyfile uses


@hookimpl
def story_checks(site, story: Story, on: dt.date) -> list[Finding]:
    found = find_privacy_issues(story)
    if not found:
        return []
    where = _line_finder(story)
    file = str(story.path) if story.path else None
    return [Finding(WARNING, _message(f), file, where(f), story.id, f.code) for f in found]


def _message(finding: PrivacyFinding) -> str:
    return f"{finding.message} ({field_label(finding.field)}, column {finding.column})"


def _line_finder(story: Story) -> Callable[[PrivacyFinding], int | None]:
    """Maps a finding to its line in story.md, if the file still holds what was loaded."""
    text = _file_text(story)
    if text is None:
        return lambda finding: None
    front, body = split_front_matter(text, "story.md")
    body_offset = text[:len(text) - len(body)].count("\n")
    root = yaml.compose(front, Loader=_Loader)

    def line(finding: PrivacyFinding) -> int | None:
        if finding.field == "body":
            return body_offset + finding.line
        return _front_line(root, field_path(finding.field), finding.line)

    return line


def _file_text(story: Story) -> str | None:
    """The text of story.md, or None when there is no file or it changed since loading."""
    if story.path is None or story.etag is None:
        return None
    try:
        data = story.path.read_bytes()
    except OSError:
        return None
    if etag_of(data) != story.etag:
        return None
    text = decode(data, "story.md", MAX_STORY_BYTES)
    return text if text.endswith(story.body) else None


def _front_line(root: yaml.Node | None, path: tuple[str | int, ...], line: int) -> int | None:
    """File line of ``line`` within the front-matter value at ``path`` (front matter starts
    on line 2). Exact for one-line values and ``|`` blocks; for folded text, its first line."""
    node = root
    for part in path:
        node = _child(node, part)
        if node is None:
            return None
    start = node.start_mark.line + 2
    if node.style == "|":
        return start + line
    if node.style == ">":
        return start + 1
    return start


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(part, int):
        if isinstance(node, yaml.SequenceNode) and part < len(node.value):
            return node.value[part]
        return None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    return None
