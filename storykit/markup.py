"""Markdown to safe HTML: the one function every output uses.

Python-Markdown does not sanitise, so its output always goes through nh3 with an allow-list:
no scripts, styles, event handlers, iframes, forms or images (pictures come only from a story's
``images`` list, where consent and alt text are checked), and links only to http, https and
mailto. Stories are stored raw and sanitised at render time.

A story is one part of a page it does not own, so it cannot borrow the page's names: every
``id`` it carries (footnotes, an attribute list's ``{: #name }``, a plugin's heading anchors)
is prefixed with :data:`ID_PREFIX`, and so is every link to a place in the page
(``href="#..."``); ``class`` keeps only the footnote classes Python-Markdown makes. So
``<div id="main-content" class="nhsuk-skip-link">`` can neither restyle the page nor pose as
its skip link.
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
    "*": {"id", "class", "lang"},  # id and class: filtered by _attribute (see the docstring)
}
#: Put before every id a story's HTML carries, and every in-page link: the page's own ids
#: (``main-content``, a booklet's ``story-<slug>``...) never start with it.
ID_PREFIX = "in-story-"
#: The only classes story HTML keeps, by tag: those of Python-Markdown's footnotes.
ALLOWED_CLASSES = {"div": frozenset({"footnote"}),
                   "a": frozenset({"footnote-ref", "footnote-backref"})}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"  # on every link the sanitiser keeps
_HEADING = re.compile(r"<(/?)h([1-6])\b")
_SAFE_ID = re.compile(r"[\w:.-]+")


class MarkdownTooLong(ValueError):
    pass


class MarkdownTooComplex(MarkdownTooLong):
    """Markup so dense or deeply nested that Python-Markdown would take minutes (its inline
    patterns are quadratic within a paragraph) or overflow the stack (nested lists)."""


#: Limits that keep rendering time bounded (row 39 of the bad-input catalogue), measured
#: against Python-Markdown 3.11: real stories stay far below every one of them.
MAX_PARAGRAPH = 20_000  # characters in one paragraph (inline work grows with its square)
MAX_NESTING = 32  # quote or list levels on one line
#: Python-Markdown spends 20 to 130 microseconds on each block it makes (a paragraph, a
#: heading, a rule, a list item, a level of quoting), so these bound the whole text: with
#: them no text takes more than about a third of a second here. A long story of 20,000
#: words has a few hundred paragraphs.
MAX_LINES = 10_000
MAX_BLOCKS = 2_000  # paragraphs, headings, rules, code blocks... between blank lines
MAX_MARKERS = 3_000  # list items and quote marks, each level of nesting counted
MAX_LINE_BREAKS = 2_000  # lines ending in two spaces
MAX_FOOTNOTES = 200  # [^...] marks (Python-Markdown numbers repeats in quadratic time)
#: A heading or a rule inside a block of lines (no blank line around it) makes Python-Markdown
#: split the block there and search the rest again: work grows with (such lines) x (the
#: block's length), about 20 ns each here (lists, quotes, tables and code take a block whole).
MAX_SPLITTING = 5_000_000
#: name -> (characters counted, most in one paragraph, most in the whole text)
_MARKUP_KINDS = {
    "[": ("[", 300, 2_000),  # links and footnotes
    "<": ("<", 300, 1_000),  # raw HTML (stripped anyway) and autolinks
    "*": ("*_", 300, 4_000),  # emphasis (each pair is a tenth of a millisecond)
    "`": ("`", 300, 2_000),  # code spans
    "&": ("&", 2_000, 5_000),  # character references
    "|": ("|", 5_000, 10_000),  # table cells
    "quote": ("\"'", MAX_PARAGRAPH, 20_000),  # curly quotes (smarty)
}
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_NESTING = re.compile(r"^(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t>]|$))+", re.M)
_MARKER = re.compile(r"[>\-+*]|\d+[.)]")
_MARKER_STARTS = frozenset(">-+*0123456789")  # what a nested quote or list line starts with
_SPLITS = re.compile(r" {0,3}(?:#|=+[ \t]*$|([-*_])(?:[ \t]*\1){2,}[ \t]*$|-+[ \t]*$)")


#: The characters of the kinds above but quotes, as bytes (UTF-8 keeps ASCII bytes for ASCII
#: characters only, so counting them in the encoded text is exact), and the fewest of them
#: that can break any per-paragraph limit: below that, no kind needs counting one by one.
_COUNTED = "".join(c for name, (c, _p, _m) in _MARKUP_KINDS.items() if name != "quote").encode()
_FEWEST = min(p for name, (_c, p, _m) in _MARKUP_KINDS.items() if name != "quote")


#: The last texts :func:`check_complexity` let through: a story's view is checked when it
#: is made and each text again when it is rendered, just after, in the same process.
_PASSED: dict[str, None] = {}
_PASSED_KEEP = 64


def check_complexity(text: str, *, plain: bool = False) -> None:
    """Raise :class:`MarkdownTooComplex` (saying what to change) for text that would take
    Python-Markdown too long to render. Linear time: counts characters, never parses; a
    typical story takes a few tens of microseconds (``storykit check`` runs it on every
    story), and a text checked a moment ago is not counted again.

    ``plain``: the text is one :func:`~storykit.plain_markdown.plain_document` converts. Its
    lines are then never indented more than four spaces, each list item or quote line is one
    level deep, and its only headings or rules are headings on lines of their own, so the
    line-by-line limits can only be broken by a text with more lines than list items and
    quote marks allowed: the answer is the same, found without looking at each line."""
    if text in _PASSED:
        return
    _count_complexity(text, plain)
    if len(_PASSED) >= _PASSED_KEEP:
        _PASSED.clear()  # one step, so threads rendering at once never see it half-done
    _PASSED[text] = None


def _count_complexity(text: str, plain: bool = False) -> None:
    newlines = text.count("\n")
    if newlines >= MAX_LINES:
        raise MarkdownTooComplex(f"the text has more than {MAX_LINES:,} lines; split it into "
                                 "two stories")
    if newlines >= MAX_BLOCKS:  # with fewer lines there cannot be that many blocks
        blocks = sum(1 for _ in _PARAGRAPHS.finditer(text)) + 1
        if blocks > MAX_BLOCKS:
            raise MarkdownTooComplex(f"the text has {blocks:,} paragraphs, headings and other "
                                     f"parts; at most {MAX_BLOCKS:,} are allowed, so split it "
                                     "into two stories")
    if text.count("[^") > MAX_FOOTNOTES:
        raise MarkdownTooComplex(f"the text has more than {MAX_FOOTNOTES} footnote marks "
                                 "([^...]); use fewer footnotes")
    if text.count("  \n") > MAX_LINE_BREAKS:
        raise MarkdownTooComplex(f"more than {MAX_LINE_BREAKS:,} lines end in two spaces "
                                 "(each makes a line break); remove the spaces")
    data = text.encode("utf-8", "surrogatepass")
    few = len(data) - len(data.translate(None, _COUNTED)) <= _FEWEST
    paragraphs: list[str] | None = None
    for name, (chars, per_paragraph, most) in _MARKUP_KINDS.items():
        if few and name != "quote":
            continue
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
    if plain and newlines < MAX_MARKERS and len(text) < MAX_SPLITTING // 2:
        return  # nothing left that could be too much (see check_complexity)
    _check_lines(text.split("\n"))  # line by line: a multi-line regex tries every position


def _check_lines(lines: list[str]) -> None:
    """Nesting, indentation, list items and quote marks, and blocks that split again and
    again (see :data:`MAX_SPLITTING`)."""
    markers = splitting = size = breaking = 0
    too_indented = False
    for line in lines:
        rest = line.lstrip(" \t")
        first = rest[:1]
        indent = len(line) - len(rest)
        if indent:
            too_indented = too_indented or indent >= 4 * MAX_NESTING
        if not first:  # a blank line ends a block
            splitting += breaking * size
            size = breaking = 0
            continue
        size += len(line) + 1
        if first in "#=-*_" and _SPLITS.match(line):  # a heading, underline or rule
            breaking += 1
        if first in _MARKER_STARTS:
            match = _NESTING.match(line)
            depth = len(_MARKER.findall(match.group())) if match else 0
            if depth > MAX_NESTING:
                raise MarkdownTooComplex(f"quotes or lists are nested more than {MAX_NESTING} "
                                         "deep")
            markers += depth
    if too_indented:
        raise MarkdownTooComplex(f"a line is indented more than {4 * MAX_NESTING} spaces")
    if splitting + breaking * size > MAX_SPLITTING:
        raise MarkdownTooComplex("headings or rules are written inside long paragraphs; put "
                                 "a blank line before and after each heading and rule")
    if markers > MAX_MARKERS:
        raise MarkdownTooComplex(f"the text has {markers:,} list items and quote marks (each "
                                 f"level of a nested list counts); at most {MAX_MARKERS:,} are "
                                 "allowed, so use fewer lists or quotes")


#: A story's Markdown fields, and how a message names one of them.
STORY_TEXTS = (("body", "the story text"), ("summary", "the summary"),
               ("speaker_notes", "the speaker notes"), ("quotes", "a pull quote"),
               ("changes", "a change"), ("asks", "an ask"))


def story_text_problem(story: Any) -> str | None:
    """Why one of a story's texts cannot be rendered (too long, or too complex to render in
    bounded time), in words that name it; None when every one can."""
    for name, label in STORY_TEXTS:
        value = getattr(story, name, None)
        for text in value if isinstance(value, list | tuple) else [value]:
            if not text:
                continue
            try:
                if len(text) > MAX_MARKDOWN:
                    raise MarkdownTooLong(f"it is longer than {MAX_MARKDOWN:,} characters")
                check_complexity(text)
            except MarkdownTooLong as exc:
                return f"{label} cannot be shown: {exc}"
    return None


@lru_cache(maxsize=8)
def _converter(extensions: tuple[Any, ...]) -> markdown.Markdown:
    import markdown  # about 40 ms: only for commands that convert text

    from .quick_markdown import speed_up

    md = markdown.Markdown(extensions=[_built_in(e) for e in extensions], output_format="html")
    speed_up(md)
    return md


def _built_in(extension: Any) -> Any:
    """One of Python-Markdown's own extensions by name, made here: found by name, it would
    first be looked for among every installed package's entry points (about 15 ms in each
    process that converts text)."""
    if extension not in BASE_EXTENSIONS:
        return extension
    from markdown.extensions import attr_list, footnotes, sane_lists, tables

    return {"tables": tables.TableExtension, "footnotes": footnotes.FootnoteExtension,
            "attr_list": attr_list.AttrListExtension,
            "sane_lists": sane_lists.SaneListExtension}[extension]()


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    """The allow-list, built once (building it took three quarters of each clean)."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        attribute_filter=_attribute,
    )


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Keep the page's names out of reach of a story: ids and in-page links prefixed,
    classes only the footnotes' (None drops the attribute)."""
    if name == "id":
        if not _SAFE_ID.fullmatch(value):
            return None
        return value if value.startswith(ID_PREFIX) else ID_PREFIX + value
    if name == "class":
        kept = [c for c in value.split() if c in ALLOWED_CLASSES.get(tag, ())]
        return " ".join(kept) or None
    if name == "href" and value.startswith("#") and not value.startswith("#" + ID_PREFIX):
        return "#" + ID_PREFIX + value[1:]
    return value


def sanitise(html: str) -> str:
    """Clean HTML with the allow-list: safe in any page, feed or PDF."""
    cleaned = _cleaner().clean(html)
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
    extensions = tuple(extensions)
    if text.count("\n") >= MAX_MARKERS:  # too many lines for a plain text to skip any check
        check_complexity(text)  # first, as for any text: then the memo has it
    # A plugin's extension may differ. Linear time, so it may come before the check.
    html = None if extensions else _plain_sanitised_document(text)
    check_complexity(text, plain=html is not None)
    if html is None:
        md = _converter(BASE_EXTENSIONS + extensions)
        md.reset()
        try:
            html = sanitise(md.convert(text))
        except RecursionError:
            raise MarkdownTooComplex("the text nests too deeply to show") from None
    return Markup(_shift_headings(html, top_level))  # noqa: S704 - sanitised


_PLAIN_LINK = re.compile(r'<a href="([^"<>]*)">')


def plain_sanitised(html: str) -> str:
    """What :func:`sanitise` makes of :func:`~storykit.plain_markdown.plain_document`'s
    HTML, without parsing it again: that HTML has only allowed tags, links only to http(s)
    addresses, and no ``<``, ``>``, ``&`` or control character in its text, so the cleaner
    would only mark the links and write no-break spaces as ``&nbsp;`` (a property test
    holds this to ``sanitise``'s own output for generated and hostile text)."""
    if "\xa0" in html:
        html = html.replace("\xa0", "&nbsp;")
    if "<a " in html:
        html = _PLAIN_LINK.sub(rf'<a href="\1" rel="{LINK_REL}">', html)
    return html


def _plain_sanitised_document(text: str) -> str | None:
    """:func:`plain_sanitised` of :func:`~storykit.plain_markdown.plain_document`, its links
    marked as they are written (None when the text is not plain)."""
    html = plain_document(text, link_attributes=f' rel="{LINK_REL}"')
    if html is not None and "\xa0" in html:
        html = html.replace("\xa0", "&nbsp;")
    return html


def _shift_headings(html: str, top_level: int) -> str:
    if top_level <= 2 and "<h1" not in html:  # no heading above top_level: nothing moves
        return html
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
