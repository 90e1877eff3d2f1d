"""Skip Python-Markdown's inline patterns for text that none of them could match.

Python-Markdown tries each of its fifteen inline patterns (links, emphasis, code, HTML...) on
every run of text, one regular-expression search after another: about half the time of
converting a story of plain paragraphs. Every one of those patterns needs a particular
character before it can match (``[`` for links and footnotes, ``*`` or ``_`` for emphasis,
``<`` for HTML and autolinks, ``&`` for entities, a backtick, a backslash, or two spaces before
a line break), so one search for those characters tells whether any pattern could match. When
none could, the text is left as it is, exactly as the full loop would leave it.

The shortcut is used only when every registered inline pattern is one whose characters are
known here; a plugin's Markdown extension with a pattern of its own turns it off for that
converter, and conversion is as slow (and as correct) as before.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markdown import inlinepatterns, util
from markdown.extensions.footnotes import FootnoteInlineProcessor
from markdown.treeprocessors import InlineProcessor

if TYPE_CHECKING:  # pragma: no cover
    import markdown

#: The regular expression of each built-in inline pattern (by its name in
#: markdown.inlinepatterns) -> what it needs to match. Names a Python-Markdown version lacks
#: are skipped; a pattern not listed here turns the shortcut off.
_PATTERN_NEEDS = {
    "BACKTICK_RE": [re.escape("`")],
    "ESCAPE_RE": [re.escape("\\")],
    "LINK_RE": [re.escape("[")],  # links, references and short references
    "IMAGE_LINK_RE": [re.escape("[")],  # images and image references
    "AUTOLINK_RE": ["<"],
    "AUTOMAIL_RE": ["<"],
    "LINE_BREAK_RE": [inlinepatterns.LINE_BREAK_RE],
    "HTML_RE": ["<"],
    "ENTITY_RE": ["&"],
}
_NEEDS = {getattr(inlinepatterns, name): chars for name, chars in _PATTERN_NEEDS.items()
          if isinstance(getattr(inlinepatterns, name, None), str)}
#: Emphasis: one processor for every delimiter (``*``, ``_``) in recent Python-Markdown.
_DELIMITERS = getattr(inlinepatterns, "DelimiterProcessor", ())
_FOOTNOTE_NEEDS = [re.escape("[")]


class QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, skipping text without any pattern's character."""

    def __init__(self, md: markdown.Markdown, needed: re.Pattern[str]):
        super().__init__(md)
        self.needed = needed

    # Python-Markdown calls this (name-mangled) method for every run of text.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803
        if not isinstance(data, util.AtomicString) and self.needed.search(data) is None:
            return data
        return super()._InlineProcessor__handleInline(data, patternIndex)


def needed_characters(md: markdown.Markdown) -> re.Pattern[str] | None:
    """One search for what any of ``md``'s inline patterns needs; None when a pattern is
    not known here (then no shortcut is safe)."""
    parts: list[str] = []
    for pattern in md.inlinePatterns:
        if _DELIMITERS and isinstance(pattern, _DELIMITERS):
            parts += [re.escape(token) for token in pattern.tokens]
        elif isinstance(pattern, FootnoteInlineProcessor):
            parts += _FOOTNOTE_NEEDS
        elif type(pattern).getCompiledRegExp is not inlinepatterns.Pattern.getCompiledRegExp:
            return None
        else:
            source = pattern.getCompiledRegExp().pattern
            if source not in _NEEDS:
                return None
            parts += _NEEDS[source]
    return re.compile("|".join(dict.fromkeys(parts)) or "(?!)")


def speed_up_inline(md: markdown.Markdown) -> bool:
    """Give ``md`` the quick inline processor when that is safe; say whether it was."""
    needed = needed_characters(md)
    if needed is None or not hasattr(InlineProcessor, "_InlineProcessor__handleInline"):
        return False
    priority = next(item.priority for item in md.treeprocessors._priority if item.name == "inline")
    md.treeprocessors.register(QuickInlineProcessor(md, needed), "inline", priority)
    return True
