"""Two shortcuts through Python-Markdown for plain text, each giving exactly its output.

**Inline.** Python-Markdown tries each of its fifteen inline patterns (links, emphasis, code,
HTML...) on every run of text, one regular-expression search after another: about half the
time of converting a story of plain paragraphs. Every one of those patterns needs a
particular character before it can match (``[`` for links and footnotes, ``*`` or ``_`` for
emphasis, ``<`` for HTML and autolinks, ``&`` for entities, a backtick, a backslash, or two
spaces before a line break), so one search for those characters tells whether any pattern
could match. When none could, the text is left as it is, exactly as the full loop would.

**Paragraphs.** Each block of text (between blank lines) is offered to a dozen block
processors (headings, lists, quotes, code, tables, footnotes...) before the paragraph one
takes it. A block whose every line starts with a letter and which has no ``|`` can only be
a paragraph: every other processor needs a line starting with something else (``#``,
``>``, ``-``, ``*``, ``+``, a digit, ``=``, ``[``, spaces) or a ``|`` for a table. Such a
block becomes a paragraph at once, as the paragraph processor makes it outside lists.

Texts of only headings and plain paragraphs do not reach Python-Markdown at all: see
:mod:`storykit.plain_markdown`.

Each shortcut is used only when every registered pattern or block processor is one known
here; a plugin's Markdown extension with one of its own turns that shortcut off for that
converter, and conversion is as slow (and as correct) as before.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import TYPE_CHECKING

from markdown import inlinepatterns, util
from markdown.blockprocessors import BlockProcessor
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


#: Block processors of Python-Markdown and storykit's extensions, none of which can take a
#: block whose lines all start with a letter and which holds no "|".
KNOWN_BLOCK_PROCESSORS = frozenset({
    "empty", "indent", "code", "hashheader", "setextheader", "hr", "olist", "ulist", "quote",
    "reference", "paragraph", "table", "footnote"})
_PLAIN_BLOCK = re.compile(r"[^\W\d_][^\n|]*(?:\n[^\W\d_][^\n|]*)*")


class QuickParagraphProcessor(BlockProcessor):
    """A plain block at the top level becomes a paragraph without the other processors'
    tests (inside lists, quotes and footnotes every block takes the usual way)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return not self.parser.state and _PLAIN_BLOCK.fullmatch(block) is not None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        etree.SubElement(parent, "p").text = blocks.pop(0)  # as ParagraphProcessor does


def speed_up_paragraphs(md: markdown.Markdown) -> bool:
    """Give ``md`` the quick paragraph processor when that is safe; say whether it was."""
    names = {item.name for item in md.parser.blockprocessors._priority}
    if not names <= KNOWN_BLOCK_PROCESSORS:
        return False
    top = max(item.priority for item in md.parser.blockprocessors._priority)
    md.parser.blockprocessors.register(QuickParagraphProcessor(md.parser), "quick_paragraph",
                                       top + 10)
    return True


def speed_up(md: markdown.Markdown) -> None:
    """Both shortcuts, each where it is safe."""
    speed_up_inline(md)
    speed_up_paragraphs(md)
