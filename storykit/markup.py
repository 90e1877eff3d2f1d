"""Markdown to safe HTML: the one function every output uses.

Python-Markdown does not sanitise, so its output always goes through nh3 with an allow-list:
no scripts, styles, event handlers, iframes, forms or images (pictures come only from a story's
``images`` list, where consent and alt text are checked), and links only to http, https and
mailto. Stories are stored raw and sanitised at render time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING, Any

import nh3
from markupsafe import Markup

from .plain_markdown import plain_document

if TYPE_CHECKING:  # pragma: no cover
    import markdown

MAX_MARKDOWN = 500_000  # characters; longer input is refused before parsing (bounded time)
# No "smarty": it was half the cost of every conversion and grows with the square of the
# number of paragraphs; people type curly quotes themselves when they want them.
BASE_EXTENSIONS = ("tables", "footnotes", "attr_list", "sane_lists")
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s",
    "blockquote", "ul", "ol", "li", "a", "code", "pre", "table", "thead", "tbody", "tfoot",
    "tr", "th", "td", "caption", "sup", "sub", "div", "span", "abbr", "dl", "dt", "dd", "q",
    "cite", "small", "mark",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "*": {"id", "class", "lang"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_HEADING = re.compile(r"<(/?)h([1-6])\b")
_UNSAFE_ID = re.compile(r'\s(id|class)="[^"]*[^\w\s:."-][^"]*"')  # '"' excluded: stay in one value


class MarkdownTooLong(ValueError):
    pass


class MarkdownTooComplex(MarkdownTooLong):
    """Markup so dense or deeply nested that Python-Markdown would take minutes (its inline
    patterns are quadratic within a paragraph) or overflow the stack (nested lists)."""


#: Limits that keep rendering time bounded (row 39 of the bad-input catalogue), measured
#: against Python-Markdown 3.11: real stories stay far below every one of them.
MAX_PARAGRAPH = 20_000  # characters in one paragraph (inline work grows with its square)
MAX_NESTING = 32  # quote or list levels on one line
#: name -> (characters counted, most in one paragraph, most in the whole text)
_MARKUP_KINDS = {
    "[": ("[", 300, 2_000),  # links and footnotes
    "<": ("<", 300, 1_000),  # raw HTML (stripped anyway) and autolinks
    "*": ("*_", 300, 10_000),  # emphasis
    "`": ("`", 300, 2_000),  # code spans
    "&": ("&", 2_000, 5_000),  # character references
    "quote": ("\"'", MAX_PARAGRAPH, 20_000),  # curly quotes (smarty)
}
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_NESTING = re.compile(r"^(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t>]|$))+", re.M)
_MARKER = re.compile(r"[>\-+*]|\d+[.)]")
_MARKER_STARTS = frozenset(">-+*0123456789")  # what a nested quote or list line starts with


def check_complexity(text: str) -> None:
    """Raise :class:`MarkdownTooComplex` (saying what to change) for text that would take
    Python-Markdown too long to render. Linear time: counts characters, never parses."""
    paragraphs: list[str] | None = None
    for name, (chars, per_paragraph, most) in _MARKUP_KINDS.items():
        total = sum(text.count(c) for c in chars)
        if total > most:
            raise MarkdownTooComplex(f"the text has {total:,} '{name}' characters; at most "
                                     f"{most:,} are allowed")
        if total > per_paragraph:
            paragraphs = paragraphs or _PARAGRAPHS.split(text)
            if any(sum(p.count(c) for c in chars) > per_paragraph for p in paragraphs):
                raise MarkdownTooComplex(f"a paragraph has more than {per_paragraph} "
                                         f"'{name}' characters; split it into shorter ones")
    if len(text) > MAX_PARAGRAPH and any(
            len(p) > MAX_PARAGRAPH for p in paragraphs or _PARAGRAPHS.split(text)):
        raise MarkdownTooComplex(f"a paragraph is longer than {MAX_PARAGRAPH:,} characters; "
                                 "put blank lines between paragraphs")
    lines = text.split("\n")  # line by line: a multi-line regex tries every position
    for line in lines:
        if line.lstrip(" \t")[:1] in _MARKER_STARTS:
            match = _NESTING.match(line)  # a marker is at least one character: count only
            if match and len(match.group()) > MAX_NESTING and len(  # prefixes that could hold
                    _MARKER.findall(match.group())) > MAX_NESTING:  # too many
                raise MarkdownTooComplex(f"quotes or lists are nested more than {MAX_NESTING} "
                                         "deep")
    if any(len(line) - len(line.lstrip(" \t")) >= 4 * MAX_NESTING for line in lines):
        raise MarkdownTooComplex(f"a line is indented more than {4 * MAX_NESTING} spaces")


@lru_cache(maxsize=8)
def _converter(extensions: tuple[Any, ...]) -> markdown.Markdown:
    import markdown  # about 40 ms: only for commands that convert text

    from .quick_markdown import speed_up

    md = markdown.Markdown(extensions=list(extensions), output_format="html")
    speed_up(md)
    return md


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    """The allow-list, built once (building it took three quarters of each clean)."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def sanitise(html: str) -> str:
    """Clean HTML with the allow-list: safe in any page, feed or PDF."""
    cleaned = _cleaner().clean(html)
    if 'id="' in cleaned or 'class="' in cleaned:  # the cheap test first
        cleaned = _UNSAFE_ID.sub("", cleaned)
    return _A_TAG.sub(_rel_only_with_href, cleaned) if "<a" in cleaned else cleaned


_A_TAG = re.compile(r'<a((?:\s+[\w:-]+="[^"]*")*)\s*>')
_REL = re.compile(r'\s+rel="[^"]*"')


def _rel_only_with_href(match: re.Match[str]) -> str:
    """nh3 adds ``rel`` to every link, also one whose unsafe ``href`` it removed; HTML allows
    ``rel`` only with ``href`` (the Nu HTML Checker reports an error), so drop it there."""
    attrs = match.group(1)
    return match.group(0) if ' href="' in attrs else "<a" + _REL.sub("", attrs) + ">"


def prepare_markdown(extensions: Iterable[Any] = ()) -> None:
    """Build the sanitiser, and the converter when every text will need it, now: before
    forking worker processes, so each does not build its own. Without a plugin's extension,
    Python-Markdown is imported only for the first text that is not plain (see
    :mod:`storykit.plain_markdown`): often never, which spares about 40 ms."""
    extensions = tuple(extensions)
    if extensions:
        _converter(BASE_EXTENSIONS + extensions)
    _cleaner()


def render_markdown(text: str, extensions: Iterable[Any] = (), *,
                    top_level: int = 2) -> Markup:
    """Markdown to sanitised HTML. Headings are shifted so the highest one in the text is
    ``<h{top_level}>`` (the page title is the ``<h1>``)."""
    if len(text) > MAX_MARKDOWN:
        raise MarkdownTooLong(f"the text is longer than {MAX_MARKDOWN:,} characters")
    check_complexity(text)
    extensions = tuple(extensions)
    html = None if extensions else plain_document(text)  # a plugin's extension may differ
    if html is None:
        md = _converter(BASE_EXTENSIONS + extensions)
        md.reset()
        try:
            html = md.convert(text)
        except RecursionError:
            raise MarkdownTooComplex("the text nests too deeply to show") from None
    return Markup(_shift_headings(sanitise(html), top_level))  # noqa: S704 - sanitised


def _shift_headings(html: str, top_level: int) -> str:
    levels = [int(m.group(2)) for m in _HEADING.finditer(html)]
    if not levels:
        return html
    shift = top_level - min(levels)
    if shift <= 0:
        return html
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", html)


def plain_text(text: str) -> str:
    """Markdown to plain text (for summaries, feeds, search and alt-text files)."""
    html = render_markdown(text) if text else ""
    return re.sub(r"\s+", " ", unescape(nh3.clean(str(html), tags=set()))).strip()


def markdown_inline(text: str) -> Markup:
    """One line of Markdown (e.g. a quote) as inline HTML without the wrapping paragraph."""
    html = str(render_markdown(text))
    return Markup(re.sub(r"^<p>(.*)</p>$", r"\1", html.strip(), flags=re.S))  # noqa: S704
