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
from collections.abc import Callable
from functools import lru_cache, partial

#: Characters with a meaning to some inline pattern, block processor, the serialiser or
#: the whitespace clean-up, and control characters and lone surrogates (the sanitiser's
#: parser would change or refuse them): a text with any of them takes the full way.
_NOT_PLAIN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f`\\<&{}|\ud800-\udfff]")
_NOT_PLAIN_ASCII = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F]) + b"`\\<&{}|"  # the same
_BLANK_LINES = re.compile(r"\n\n+")
_HEADING_LINE = re.compile(r"(#{1,6})[ ]+([^#\s](?:[^#\n]*[^#\s])?)")
#: The text of a paragraph line, list item or quote: a letter first (or an inline form).
_TEXT_START = re.compile(r"[^\W\d_]|\*{1,2}[^\W\d_]|_{1,2}[^\W\d_]|\[[^\W\d_]")
#: A line (not the first) of a block whose text does not start as :data:`_TEXT_START` says.
_BAD_LINE = re.compile(rf"\n(?!{_TEXT_START.pattern})")
_BULLETS = {marker: re.compile(re.escape(marker) + " (.*)") for marker in "-*+"}
_BULLET = re.compile(r"([-*+]) (.*)")
_NUMBER = re.compile(r"([1-9][0-9]{0,8})\. (.*)")
#: What may be inside emphasis or a link's words: letters, digits, spaces and a little
#: punctuation, starting and ending with a letter or digit. Possessive, so a form that does
#: not close costs one look along its words, never a search back through them.
_WORDS = r"[^\W_](?:[ ',.!?;:-]*+[^\W_])*+"
#: The same words where the form does not end with "_", as one quick run of characters (not
#: a group for each one): an "_" taken in with them stays in the HTML, where it shows that
#: the text is not plain, as it is.
_RUN = r"[^\W_][\w ',.!?;:-]*+(?<=[^\W_])"
_URL = r"https?://[A-Za-z0-9][A-Za-z0-9./:?#=%+~-]*+"
_STARTS = r"(?<![^ >\n].)"  # after its first character: what stands before that one
#: An inline form in the blocks' HTML, standing where Python-Markdown makes it: after a
#: space or the start of its text (a line's start, or a tag's ">": text holds no "<" or ">"),
#: and before a space, some punctuation or the end of its text (a line's end, or a "<").
#: Each form starts with its own character, so the search skips along to the next one.
_FORM = re.compile(rf"(?:\*{_STARTS}(?:\*(?P<strong>{_RUN})\*\*|(?P<em>{_RUN})\*)"
                   rf"|_{_STARTS}(?:_(?P<strong_>{_WORDS})__|(?P<em_>{_WORDS})_)"
                   rf"|\[{_STARTS}(?P<label>{_RUN})\]\((?P<url>{_URL})\))(?=[ .,!?;:<\n])")
_SPECIAL = re.compile(r"[*_\[\]]")
#: Kinds of block that Python-Markdown joins with one of the same kind just before.
_JOINING = frozenset({"ul", "ol", "quote"})


def plain_document(text: str, *, link_attributes: str = "") -> str | None:
    """The HTML Python-Markdown (with storykit's extensions) makes of ``text`` when the text
    is only the simple blocks and inline forms this module knows (see its docstring);
    None for any other text (then convert it the usual way). ``link_attributes`` are
    written after each link's address (what the sanitiser would add).

    The blocks are made first with their text as written, then every inline form in one
    pass over the whole HTML: each form stands inside one line's text, so where it may
    stand is told by the characters around it (see :data:`_FORM`), and any ``*``, ``_``,
    ``[`` or ``]`` left over was not part of a form."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if " \n" in text or text.endswith(" ") or _not_plain(text):
        return None
    if ">" in text and text.count(">") != text.startswith("> ") + text.count("\n> "):
        return None  # a ">" in some text, not a quote's mark
    html: list[str] = []
    previous = ""
    for block in _BLANK_LINES.split(text.strip("\n")):
        if not block:
            continue
        kind, made = _block(block)
        if made is None or (kind == previous and kind in _JOINING):
            return None
        html.append(made)
        previous = kind
    out = "\n".join(html)
    if _SPECIAL.search(out) is None:
        return out
    out = _FORM.sub(_form if not link_attributes else _linking(link_attributes), out)
    return None if _SPECIAL.search(out) is not None else out


def _not_plain(text: str) -> bool:
    """Whether the text has a character of :data:`_NOT_PLAIN` (for ASCII text, found by
    bytes: a few times quicker than a search)."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, _NOT_PLAIN_ASCII)) != len(text)
    return _NOT_PLAIN.search(text) is not None


def _block(block: str) -> tuple[str, str | None]:
    """(kind, HTML with the inline forms still as written) of one block of lines; HTML None
    when the block is not one this module knows."""
    start = block[0]
    if start == "#":  # one line: the pattern never takes a line's end
        heading = _HEADING_LINE.fullmatch(block)
        if heading is None:
            return "h", None
        level = len(heading.group(1))
        return "h", f"<h{level}>{heading.group(2)}</h{level}>"
    if start == ">":
        lines = block.count("\n")
        if not block.startswith("> ") or block.count("\n> ") != lines:
            return "quote", None
        body = block[2:].replace("\n> ", "\n") if lines else block[2:]
        if not _text_lines(body):
            return "quote", None
        return "quote", "<blockquote>\n<p>" + body + "</p>\n</blockquote>"
    if start in "-+" or (start == "*" and block[1:2] == " ") or start.isdigit():
        return _list_block(block.split("\n"))
    if not _text_lines(block):
        return "p", None
    return "p", "<p>" + block + "</p>"


def _text_lines(lines: str) -> bool:
    """Whether each of these lines starts as a paragraph's text must."""
    return _TEXT_START.match(lines) is not None and ("\n" not in lines
                                                     or _BAD_LINE.search(lines) is None)


def _items(lines: list[str], pattern: re.Pattern[str], group: int = 1) -> list[str] | None:
    """Each line's text after its marker; None if any line differs."""
    out = []
    for line in lines:
        match = pattern.fullmatch(line)
        if match is None:
            return None
        text = match.group(group)
        if _TEXT_START.match(text) is None:
            return None
        out.append(text)
    return out


def _list_block(lines: list[str]) -> tuple[str, str | None]:
    """A list block, its items one line each; an item may have a list of its own, one
    level deep, on the lines after it indented by four spaces."""
    top = _list_kind(lines[0])
    if top is None:
        return "ul", None
    tag, marker, attrs = top
    group = 2 if tag == "ol" else 1
    items: list[list] = []  # [item text, nested lines]
    for line in lines:
        if line.startswith("    ") and items:
            items[-1][1].append(line[4:])
            continue
        match = marker.fullmatch(line)
        text = match.group(group) if match is not None else ""
        if _TEXT_START.match(text) is None:
            return tag, None
        items.append([text, []])
    html = [f"<{tag}{attrs}>"]
    for text, nested in items:
        if not nested:
            html.append(f"<li>{text}</li>")
            continue
        inner = _list_kind(nested[0])
        if inner is None or inner[2]:
            return tag, None  # not a list, or a numbered one not from 1
        made = _items(nested, inner[1], group=2 if inner[0] == "ol" else 1)
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
        return "ul", _BULLETS[bullet.group(1)], ""
    number = _NUMBER.fullmatch(first)
    if number is not None:
        attrs = "" if number.group(1) == "1" else f' start="{number.group(1)}"'
        return "ol", _NUMBER, attrs
    return None


_TAGS = (None, "strong", "em", "strong", "em")  # by the number of the form's group


def _form(match: re.Match[str], attributes: str = "") -> str:
    """The HTML of one inline form."""
    group = match.lastindex  # 1 to 4: emphasis; 6: a link's address (5: its words)
    if group == 6:
        return f'<a href="{match[6]}"{attributes}>{match[5]}</a>'
    tag = _TAGS[group]
    return f"<{tag}>{match[group]}</{tag}>"


@lru_cache(maxsize=4)
def _linking(attributes: str) -> Callable[[re.Match[str]], str]:
    """:func:`_form` writing ``attributes`` in each link."""
    return partial(_form, attributes=attributes)
