"""Simple stories to HTML without Python-Markdown: exactly the HTML it would make.

Most stories are headings, paragraphs, short lists and quotes, with some *emphasis*
(or _emphasis_), **bold** and links. For a text made only of those (see
:func:`plain_document`), the HTML Python-Markdown makes is written here directly,
without parsing into a tree, walking it and serialising it again: about a tenth of the
time, and without importing Python-Markdown at all. :func:`storykit.markup.render_markdown`
uses it only with storykit's own Markdown extensions (no plugin's); its HTML holds only
what the sanitiser allows, so it is finished without parsing it again
(:func:`storykit.markup.plain_sanitised`). Anything this module does not know for certain
is left to Python-Markdown (``None``).

The rules, each a reason Python-Markdown could do something else:

* no character that an inline pattern, storykit's extensions (attribute lists, footnotes,
  tables) or the HTML serialiser treats specially: `` ` \\ < > & { } | ``, tabs and
  control characters; ``*``, ``_``, ``[`` and ``]`` only in the inline forms below;
* no line ending with a space (two make a line break);
* blocks are separated by blank lines, and each is one kind throughout:

  - a heading: ``#`` to ``######``, spaces, then words without ``#``, alone on its line;
  - a paragraph: every line starts with a letter (lists, quotes, code, setext headings,
    rules and references all need a line starting with something else) or with one of
    the inline forms;
  - a list: every line ``- text`` (or ``* ``, ``+ ``: one marker throughout), or every line
    ``N. text``, each item perhaps followed by a list of its own indented by four spaces
    (one level); never next to another list (Python-Markdown would join them into one loose
    list, with paragraphs in its items);
  - a quote: every line ``> text``, the text as a paragraph's; never next to another quote
    (they would join);

* inline, only ``*words*``, ``**words**``, ``_words_``, ``__words__`` and
  ``[words](https://address)``, each with plain words inside, standing between spaces (or
  the line's ends) and punctuation.
"""

from __future__ import annotations

import re

#: Characters with a meaning to some inline pattern, block processor, the serialiser or
#: the whitespace clean-up, and control characters and lone surrogates (the sanitiser's
#: parser would change or refuse them): a text with any of them takes the full way.
_NOT_PLAIN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f`\\<&{}|\ud800-\udfff]")
_HEADING_LINE = re.compile(r"(#{1,6})[ ]+([^#\s](?:[^#\n]*[^#\s])?)")
#: The text of a paragraph line, list item or quote: a letter first (or an inline form).
_TEXT_START = re.compile(r"[^\W\d_]|\*{1,2}[^\W\d_]|_{1,2}[^\W\d_]|\[[^\W\d_]")
_BULLET = re.compile(r"([-*+]) (.*)")
_NUMBER = re.compile(r"([1-9][0-9]{0,8})\. (.*)")
_QUOTE = re.compile(r"> (.*)")
#: What may be inside emphasis or a link's words: letters, digits, spaces and a little
#: punctuation, starting and ending with a letter or digit.
_WORDS = r"[^\W_](?:[^\W_]|[ ',.!?;:-](?=[^\W_]|[ ',.!?;:-]))*[^\W_]|[^\W_]"
_URL = r"https?://[A-Za-z0-9][A-Za-z0-9./:?#=%+~-]*"
_INLINE = re.compile(rf"\*\*(?P<strong>{_WORDS})\*\*|\*(?P<em>{_WORDS})\*"
                     rf"|__(?P<strong_>{_WORDS})__|_(?P<em_>{_WORDS})_"
                     rf"|\[(?P<label>{_WORDS})\]\((?P<url>{_URL})\)")
_BEFORE = frozenset(" ")  # what may stand just before an inline form (or the line's start)
_AFTER = frozenset(" .,!?;:")  # what may follow one (or the line's end)
_SPECIAL = re.compile(r"[*_\[\]]")


def plain_document(text: str) -> str | None:
    """The HTML Python-Markdown (with storykit's extensions) makes of ``text`` when the text
    is only the simple blocks and inline forms this module knows (see its docstring);
    None for any other text (then convert it the usual way)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _NOT_PLAIN.search(text) is not None or " \n" in text or text.endswith(" "):
        return None
    inline = _inline if _SPECIAL.search(text) is not None else _plain
    html: list[str] = []
    block: list[str] = []
    previous = ""
    for line in [*text.split("\n"), ""]:
        if line:
            block.append(line)
            continue
        if not block:
            continue
        kind, made = _block(block, inline)
        if made is None or (kind == previous and kind in ("ul", "ol", "quote")):
            return None
        html.append(made)
        previous, block = kind, []
    return "\n".join(html)


def _block(lines: list[str], inline) -> tuple[str, str | None]:
    """(kind, HTML) of one block; HTML None when the block is not one this module knows."""
    first = lines[0]
    start = first[0]
    if start == "#":
        heading = _HEADING_LINE.fullmatch(first)
        if heading is None or len(lines) > 1:
            return "h", None
        level = len(heading.group(1))
        words = inline(heading.group(2))
        return "h", None if words is None else f"<h{level}>{words}</h{level}>"
    if start == ">":
        body = _items(lines, _QUOTE, inline)
        return "quote", None if body is None else ("<blockquote>\n<p>" + "\n".join(body)
                                                   + "</p>\n</blockquote>")
    if start in "-+" or (start == "*" and first[1:2] == " ") or start.isdigit():
        return _list_block(lines, inline)
    body = []
    for line in lines:
        made = inline(line) if _TEXT_START.match(line) else None
        if made is None:
            return "p", None
        body.append(made)
    return "p", "<p>" + "\n".join(body) + "</p>"


def _items(lines: list[str], pattern: re.Pattern[str], inline, group: int = 1) -> list[str] | None:
    """Each line's text after its marker, as inline HTML; None if any line differs."""
    out = []
    for line in lines:
        match = pattern.fullmatch(line)
        if match is None:
            return None
        text = match.group(group)
        made = inline(text) if _TEXT_START.match(text) else None
        if made is None:
            return None
        out.append(made)
    return out


def _list_block(lines: list[str], inline) -> tuple[str, str | None]:
    """A list block, its items one line each; an item may have a list of its own, one
    level deep, on the lines after it indented by four spaces."""
    top = _list_kind(lines[0])
    if top is None:
        return "ul", None
    tag, marker, attrs = top
    items: list[list] = []  # [item HTML, nested lines]
    for line in lines:
        if line.startswith("    ") and items:
            items[-1][1].append(line[4:])
            continue
        made = _items([line], marker, inline, group=2 if tag == "ol" else 1)
        if made is None:
            return tag, None
        items.append([made[0], []])
    html = [f"<{tag}{attrs}>"]
    for text, nested in items:
        if not nested:
            html.append(f"<li>{text}</li>")
            continue
        inner = _list_kind(nested[0])
        if inner is None or inner[2]:
            return tag, None  # not a list, or a numbered one not from 1
        made = _items(nested, inner[1], inline, group=2 if inner[0] == "ol" else 1)
        if made is None:
            return tag, None
        html.append(f"<li>{text}<{inner[0]}>\n" + "".join(f"<li>{i}</li>\n" for i in made)
                    + f"</{inner[0]}>\n</li>")
    html.append(f"</{tag}>")
    return tag, "\n".join(html)


def _list_kind(first: str) -> tuple[str, re.Pattern[str], str] | None:
    """(tag, item pattern, attributes) of a list whose first line is ``first``."""
    bullet = _BULLET.fullmatch(first)
    if bullet is not None:
        return "ul", re.compile(re.escape(bullet.group(1)) + " (.*)"), ""
    number = _NUMBER.fullmatch(first)
    if number is not None:
        attrs = "" if number.group(1) == "1" else f' start="{number.group(1)}"'
        return "ol", _NUMBER, attrs
    return None


def _plain(text: str) -> str | None:
    return None if ">" in text else text


def _inline(text: str) -> str | None:
    """Text with the inline forms as HTML; None if any ``*``, ``_``, ``[`` or ``]`` is not
    part of one, or one is not between spaces and punctuation. Each form starts at one of
    those characters, so they are found by a quick search, then matched in place."""
    if ">" in text:
        return None
    special = _SPECIAL.search(text)
    out = []
    at = 0
    while special is not None:
        start = special.start()
        match = _INLINE.match(text, start)
        if match is None:
            return None
        end = match.end()
        if (start and text[start - 1] not in _BEFORE) or (end < len(text)
                                                         and text[end] not in _AFTER):
            return None
        out.append(text[at:start])
        strong, em = match.group("strong", "em")
        if strong is not None or (strong := match.group("strong_")) is not None:
            out.append(f"<strong>{strong}</strong>")
        elif em is not None or (em := match.group("em_")) is not None:
            out.append(f"<em>{em}</em>")
        else:
            out.append(f'<a href="{match.group("url")}">{match.group("label")}</a>')
        at = end
        special = _SPECIAL.search(text, end)
    out.append(text[at:])
    return "".join(out)
