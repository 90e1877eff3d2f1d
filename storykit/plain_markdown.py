"""Plain stories to HTML without Python-Markdown: exactly the HTML it would make.

Most stories are headings and paragraphs of plain words. For a text made only of those
(see :func:`plain_document`), the HTML Python-Markdown makes is written here directly,
without parsing into a tree, walking it and serialising it again: about a tenth of the
time, and without importing Python-Markdown at all. :func:`storykit.markup.render_markdown`
uses it only with storykit's own Markdown extensions (no plugin's), and sanitises the
result as it does every other.

The rules, each a reason Python-Markdown could do something else:

* no character that any inline pattern, storykit's extensions (attribute lists,
  footnotes, tables) or the HTML serialiser treats specially: `` ` \\ [ ] < > & * _ { } | ``,
  tabs and control characters;
* no line ending with a space (two make a line break);
* every line of a paragraph starts with a letter: lists, quotes, code, setext headings,
  rules and references all need a line starting with something else;
* a heading is ``#`` to ``######``, spaces, then words without ``#``, on a line of its own
  between blank lines.
"""

from __future__ import annotations

import re

#: Characters with a meaning to some inline pattern, block processor, the serialiser or
#: the whitespace clean-up: a text with any of them takes the full way.
_NOT_PLAIN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f`\\\[\]<>&*_{}|]")
_PLAIN_LINE = re.compile(r"[^\W\d_][^\n]*")  # starts with a letter: only a paragraph's
_HEADING_LINE = re.compile(r"(#{1,6})[ ]+([^#\s](?:[^#\n]*[^#\s])?)")


def plain_document(text: str) -> str | None:
    """The HTML Python-Markdown (with storykit's extensions) makes of ``text`` when the text
    is only ATX headings (each alone between blank lines, with no ``#`` after the words)
    and paragraphs of lines starting with a letter, with no character any inline pattern
    needs; None for any other text (then convert it the usual way)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _NOT_PLAIN.search(text) is not None or " \n" in text or text.endswith(" "):
        return None
    html: list[str] = []
    paragraph: list[str] = []
    after_heading = False
    for line in text.split("\n"):
        if not line:
            if paragraph:
                html.append("<p>" + "\n".join(paragraph) + "</p>")
                paragraph = []
            after_heading = False
        elif after_heading:  # a heading must stand alone between blank lines
            return None
        elif _PLAIN_LINE.match(line) is not None:
            paragraph.append(line)
        else:
            heading = _HEADING_LINE.fullmatch(line)
            if heading is None or paragraph:
                return None
            level = len(heading.group(1))
            html.append(f"<h{level}>{heading.group(2)}</h{level}>")
            after_heading = True
    if paragraph:
        html.append("<p>" + "\n".join(paragraph) + "</p>")
    return "\n".join(html)
