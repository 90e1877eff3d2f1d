"""The slide plan: one list of slides that the HTML deck, its PDFs and the PowerPoint share.

:func:`plan_deck` turns a job's stories into :class:`Slide` objects: a title slide, a content
warning, the story split by headings and length into slides that fit, quotes, pictures, what
is changing and what is asked, and a consent slide. Text is measured with Pillow and the
theme's font, so a slide never holds more than its box can show; renderers only lay slides out.

The plan holds story text as :class:`Run` objects (plain text plus bold, italic, code and
link flags), never as HTML, so every renderer escapes it. Speaker notes (the story's own and
the facts generated here) are planned only for ``with_notes`` jobs: an audience copy has none.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ImageFont

from .errors import StorykitError
from .markup import MarkdownTooLong, plain_text
from .themes import nice_date

if TYPE_CHECKING:  # pragma: no cover
    from .consent import StoryView
    from .render import Job
    from .themes import Theme

IDENTIFICATION_LABELS = {
    "full_name": "their full name",
    "first_name": "their first name only",
    "pseudonym": "a made-up name",
    "anonymous": "no name (anonymous)",
}


class SlideError(StorykitError):
    """The slides cannot be made as asked (for example, theme colours that are hard to read)."""


# --- what a plan is made of --------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """A piece of text with one style. ``href`` is set only for http, https and mailto links."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Item:
    """A list item: its text and any list nested inside it."""

    runs: tuple[Run, ...]
    items: tuple[Item, ...] = ()
    ordered: bool = False


@dataclass(frozen=True)
class Cell:
    runs: tuple[Run, ...]
    header: bool = False


@dataclass(frozen=True)
class Block:
    """One block of slide content: ``paragraph``, ``heading``, ``list``, ``quote`` (holding
    paragraphs in ``children``), ``table`` or ``pre``; ``break`` only while planning."""

    kind: str
    runs: tuple[Run, ...] = ()
    level: int = 0
    ordered: bool = False
    start: int = 1
    items: tuple[Item, ...] = ()
    children: tuple[Block, ...] = ()
    head: tuple[Cell, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()

    @property
    def text(self) -> str:
        """The block as plain text (for measuring, counting words and searching)."""
        parts = [_runs_text(self.runs)]
        parts += [_item_text(i) for i in self.items]
        parts += [c.text for c in self.children]
        parts += [_runs_text(c.runs) for row in (self.head, *self.rows) for c in row]
        return " ".join(p for p in parts if p)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class SlideImage:
    """A picture the consent allows, with its alt text (already reduced by consent)."""

    path: Path | None
    alt: str
    kind: str
    file: str = ""


@dataclass(frozen=True)
class Slide:
    """One slide. ``kind`` is deck, contents, title, warning, content, quote, image, closing
    or consent. ``notes`` is empty unless the job was rendered with notes. ``title_offset``
    and ``body_offset`` (px from the top of their boxes) centre the title in its bar (or set
    it on the bottom of a cover) and a quote on its slide, without flexible layouts, which
    WeasyPrint lays out slowly."""

    kind: str
    title: str
    blocks: tuple[Block, ...] = ()
    quote: tuple[Run, ...] = ()
    attribution: str | None = None
    image: SlideImage | None = None
    notes: tuple[str, ...] = ()
    number: int = 0
    total: int = 0
    story_id: str | None = None
    story_title: str = ""
    draft: bool = False
    title_size: int = 44
    text_size: int = 32
    title_offset: int = 0
    body_offset: int = 0

    @property
    def text(self) -> str:
        """Everything the audience can read on the slide, as plain text."""
        parts = [self.title, *(b.text for b in self.blocks), _runs_text(self.quote),
                 self.attribution or "", self.image.alt if self.image else ""]
        return " ".join(p for p in parts if p)


def _runs_text(runs: Iterable[Run]) -> str:
    return "".join(r.text for r in runs).strip()


def _item_text(item: Item) -> str:
    return " ".join([_runs_text(item.runs), *(_item_text(i) for i in item.items)]).strip()


# --- geometry: one set of boxes for the HTML deck, the PDFs and PowerPoint ----------------

@dataclass(frozen=True)
class Box:
    """A rectangle in CSS pixels (96 per inch) from the slide's top left corner."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Geometry:
    """Slide size, boxes and type sizes in CSS pixels. 1280 x 720 px is 13.333 x 7.5 in (16:9).

    ``fit`` narrows measured lines a little: browsers, WeasyPrint and PowerPoint break lines
    slightly differently, and bold words run wider."""

    width: float = 1280
    height: float = 720
    title_box: Box = Box(64, 16, 1152, 112)
    body_box: Box = Box(64, 160, 1152, 492)
    footer_box: Box = Box(64, 672, 1152, 40)
    cover_title_box: Box = Box(96, 150, 1088, 260)
    cover_sub_box: Box = Box(96, 430, 1088, 220)
    body_size: int = 32
    line_height: float = 1.3
    title_line_height: float = 1.15
    gap: float = 16
    item_gap: float = 6
    indent: float = 44
    title_sizes: tuple[int, ...] = (44, 38, 32, 28)
    title_lines: int = 2
    title_lines_smallest: int = 3
    cover_sizes: tuple[int, ...] = (60, 52, 44, 36)
    cover_lines: int = 4
    cover_text_size: int = 30
    quote_sizes: tuple[int, ...] = (44, 38, 32)
    table_size: int = 26
    cell_pad: float = 8
    max_words: int = 90
    fit: float = 0.93

    @property
    def aspect(self) -> float:
        return self.width / self.height


DEFAULT_GEOMETRY = Geometry()


# --- measuring text with the theme's font -------------------------------------------------

class TextMeasure:
    """Line counts and heights for text in the theme's font, measured with Pillow.

    Word widths are cached per size and style, so planning a 50-slide deck takes milliseconds.
    Without a font file (a theme that names none) a wide average letter width is assumed."""

    def __init__(self, regular: Path | None = None, bold: Path | None = None):
        self.regular, self.bold = regular, bold or regular
        self._widths: dict[tuple[str, int, bool, bool], float] = {}

    def _font(self, size: int, bold: bool):
        path = self.bold if bold else self.regular
        return _load_font(str(path), size) if path else None

    def width(self, text: str, size: int, *, bold: bool = False, code: bool = False) -> float:
        key = (text, size, bold, code)
        found = self._widths.get(key)
        if found is None:
            font = None if code else self._font(size, bold)
            if font is not None:
                found = float(font.getlength(text))
            else:  # monospace code, or no font file: a generous average width
                found = len(text) * size * (0.6 if code else 0.62)
            self._widths[key] = found
        return found

    def lines(self, runs: Sequence[Run], size: int, width: float, *, bold: bool = False) -> int:
        """How many lines ``runs`` take at ``size`` px in a box ``width`` px wide."""
        if width <= 0:
            return 10_000
        count = 0
        space = self.width(" ", size, bold=bold)
        for words in _paragraph_lines(runs):
            count += 1
            line = 0.0
            for word in words:
                w = sum(self.width(t, size, bold=bold or r.bold, code=r.code) for t, r in word)
                if line and line + space + w <= width:
                    line += space + w
                    continue
                if line:
                    count += 1
                extra = max(math.ceil(w / width) - 1, 0)  # a long word breaks anywhere
                count += extra
                line = w - extra * width
        return max(count, 1)


@lru_cache(maxsize=64)
def _load_font(path: str, size: int):
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise SlideError(f"cannot read the theme font {Path(path).name}: {exc}") from None


def _paragraph_lines(runs: Sequence[Run]) -> list[list[list[tuple[str, Run]]]]:
    """Hard lines (split at newlines) as lists of words; a word is a list of (text, run)
    pieces, because one word may mix styles (``**bold**ly``)."""
    hard: list[list[list[tuple[str, Run]]]] = [[]]
    joined = True  # does the next piece continue the current word?
    for run in runs:
        for i, segment in enumerate(run.text.split("\n")):
            if i:
                hard.append([])
                joined = False
            for j, piece in enumerate(re.split(r"[ \t\r\f\v]+", segment)):
                if j:
                    joined = False
                if not piece:
                    continue
                if joined and hard[-1]:
                    hard[-1][-1].append((piece, run))
                else:
                    hard[-1].append([(piece, run)])
                joined = True
            if segment and segment[-1] in " \t":
                joined = False
    return hard


def measure_for_theme(theme: Theme) -> TextMeasure:
    return TextMeasure(theme.font_file("regular"), theme.font_file("bold"))


# --- heights of blocks --------------------------------------------------------------------

class Layout:
    """Heights (in px) of blocks in the body box, matching the slides' CSS and PowerPoint's
    exact line spacing."""

    def __init__(self, geometry: Geometry, measure: TextMeasure):
        self.g, self.m = geometry, measure

    @property
    def width(self) -> float:
        return self.g.body_box.w * self.g.fit

    def line(self, size: int) -> float:
        return size * self.g.line_height

    def text_height(self, runs: Sequence[Run], size: int, width: float,
                    bold: bool = False) -> float:
        return self.m.lines(runs, size, width, bold=bold) * self.line(size)

    def height(self, block: Block) -> float:
        g = self.g
        if block.kind == "heading":
            size = heading_size(g, block.level)
            return self.text_height(block.runs, size, self.width, bold=True) + g.gap
        if block.kind == "list":
            return self.items_height(block.items, self.width - g.indent) + g.gap
        if block.kind == "quote":
            inner = self.width - g.indent
            return sum(self.text_height(c.runs, g.body_size, inner) + g.gap
                       for c in block.children) + g.gap
        if block.kind == "table":
            return sum(self.row_height(r) for r in (block.head, *block.rows) if r) + g.gap
        return self.text_height(block.runs, g.body_size, self.width) + g.gap

    def items_height(self, items: Sequence[Item], width: float) -> float:
        g = self.g
        total = 0.0
        for item in items:
            total += self.text_height(item.runs, g.body_size, width) + g.item_gap
            if item.items:
                total += self.items_height(item.items, width - g.indent)
        return total

    def row_height(self, row: Sequence[Cell]) -> float:
        g = self.g
        if not row:
            return 0.0
        col = self.width / len(row) - 2 * g.cell_pad
        tallest = max(self.m.lines(c.runs, g.table_size, col, bold=c.header) for c in row)
        return tallest * self.line(g.table_size) + 2 * g.cell_pad + 1


def heading_size(g: Geometry, level: int) -> int:
    """Headings inside a slide: a little larger than body text, bold."""
    return round(g.body_size * (1.12 if level <= 3 else 1.0))


# --- reading the sanitised Markdown HTML ----------------------------------------------------

@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _Tree(HTMLParser):
    """A small tree of the (already sanitised) HTML that ``job.markdown`` returns."""

    VOID = frozenset({"br", "hr", "img", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


_BOLD = frozenset({"strong", "b", "th", "dt"})
_ITALIC = frozenset({"em", "i", "cite"})
_LINK = re.compile(r"^(https?:|mailto:)", re.I)
_BLOCKS = frozenset({"p", "ul", "ol", "blockquote", "table", "pre", "div", "dl", "hr",
                     "h1", "h2", "h3", "h4", "h5", "h6"})


def _inline(node: _Node, style: dict, pre: bool = False) -> list[Run]:
    runs: list[Run] = []
    for child in node.children:
        if isinstance(child, str):
            text = child if pre else re.sub(r"\s+", " ", child)
            if text:
                runs.append(Run(text, **style))
            continue
        tag = child.tag
        if tag == "br":
            runs.append(Run("\n", **style))
        elif tag == "a" and "footnote-backref" in child.attrs.get("class", ""):
            continue
        elif tag in ("ul", "ol", "table"):
            continue  # nested lists are handled by the list item; tables never appear inline
        else:
            inner = dict(style)
            inner["bold"] = style.get("bold", False) or tag in _BOLD
            inner["italic"] = style.get("italic", False) or tag in _ITALIC
            inner["code"] = style.get("code", False) or tag in ("code", "pre")
            href = child.attrs.get("href", "")
            if tag == "a":
                inner["href"] = href if _LINK.match(href) else None
            if tag in _BLOCKS and runs and not runs[-1].text.endswith("\n"):
                runs.append(Run("\n", **style))
            runs.extend(_inline(child, inner, pre or tag == "pre"))
    return runs


def _tidy(runs: Iterable[Run]) -> tuple[Run, ...]:
    """Merge neighbours with the same style; trim the ends."""
    out: list[Run] = []
    for run in runs:
        if out and _same_style(out[-1], run):
            out[-1] = replace(out[-1], text=out[-1].text + run.text)
        elif run.text:
            out.append(run)
    while out and not out[0].text.strip():
        out.pop(0)
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        out[0] = replace(out[0], text=out[0].text.lstrip())
        out[-1] = replace(out[-1], text=out[-1].text.rstrip())
    return tuple(out)


def _same_style(a: Run, b: Run) -> bool:
    return (a.bold, a.italic, a.code, a.href) == (b.bold, b.italic, b.code, b.href)


def _item(node: _Node, ordered: bool) -> Item:
    nested: list[Item] = []
    for child in node.children:
        if isinstance(child, _Node) and child.tag in ("ul", "ol"):
            nested += [_item(li, child.tag == "ol") for li in _elements(child, "li")]
    return Item(_tidy(_inline(node, {})), tuple(nested), ordered)


def _elements(node: _Node, *tags: str) -> list[_Node]:
    return [c for c in node.children if isinstance(c, _Node) and c.tag in tags]


def _cells(row: _Node) -> tuple[Cell, ...]:
    return tuple(Cell(_tidy(_inline(c, {"bold": c.tag == "th"})), c.tag == "th")
                 for c in _elements(row, "td", "th"))


def _table(node: _Node) -> Block:
    rows: list[tuple[Cell, ...]] = []
    for part in _elements(node, "thead", "tbody", "tfoot", "tr"):
        rows += [_cells(tr) for tr in ([part] if part.tag == "tr" else _elements(part, "tr"))]
    rows = [r for r in rows if r]
    head = rows.pop(0) if rows and all(c.header for c in rows[0]) else ()
    return Block("table", head=head, rows=tuple(rows))


def markdown_blocks(html: str) -> list[Block | tuple[str, str]]:
    """Blocks of sanitised Markdown HTML. Top-level headings (``h1``/``h2``) come back as
    ``("section", title)`` markers: each starts new slides with that title."""
    tree = _Tree()
    tree.feed(str(html))
    tree.close()
    return _blocks(tree.root)


def _blocks(node: _Node) -> list[Block | tuple[str, str]]:
    out: list[Block | tuple[str, str]] = []
    for child in node.children:
        if isinstance(child, str):
            runs = _tidy([Run(re.sub(r"\s+", " ", child))])
            if runs:
                out.append(Block("paragraph", runs))
            continue
        out += _block(child)
    return out


def _block(node: _Node) -> list[Block | tuple[str, str]]:
    tag = node.tag
    if tag in ("h1", "h2"):
        return [("section", _runs_text(_tidy(_inline(node, {}))))]
    if tag in ("h3", "h4", "h5", "h6"):
        runs = _tidy(_inline(node, {}))
        return [Block("heading", runs, level=int(tag[1]))] if runs else []
    if tag in ("ul", "ol"):
        items = tuple(_item(li, tag == "ol") for li in _elements(node, "li"))
        start_attr = node.attrs.get("start", "")
        start = int(start_attr) if start_attr.isdigit() else 1
        return [Block("list", ordered=tag == "ol", start=start, items=items)] if items else []
    if tag == "blockquote":
        paras = [b for b in _blocks(node) if isinstance(b, Block)]
        children = tuple(Block("paragraph", b.runs or _tidy([Run(b.text)])) for b in paras)
        return [Block("quote", children=children)] if children else []
    if tag == "table":
        return [_table(node)]
    if tag == "pre":
        runs = _tidy(_inline(node, {"code": True}, pre=True))
        return [Block("pre", runs)] if runs else []
    if tag == "hr":
        return [Block("break")]
    if tag in ("div", "dl", "section"):
        return _blocks(node)
    if tag in ("dt", "dd"):
        runs = _tidy(_inline(node, {"bold": tag == "dt"}))
        return [Block("paragraph", runs)] if runs else []
    runs = _tidy(_inline(node, {}))
    return [Block("paragraph", runs)] if runs else []


# --- splitting blocks so that each slide fits ------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]*\s+")


def split_runs(runs: Sequence[Run], at: int) -> tuple[tuple[Run, ...], tuple[Run, ...]]:
    """Split runs at character offset ``at`` of their joined text."""
    left: list[Run] = []
    right: list[Run] = []
    pos = 0
    for run in runs:
        end = pos + len(run.text)
        if end <= at:
            left.append(run)
        elif pos >= at:
            right.append(run)
        else:
            left.append(replace(run, text=run.text[: at - pos]))
            right.append(replace(run, text=run.text[at - pos:]))
        pos = end
    return _tidy(left), _tidy(right)


def _cut_points(text: str) -> list[int]:
    """Offsets where a paragraph may be split: after sentences, or else between words."""
    points = [m.end() for m in _SENTENCE.finditer(text)]
    return points or [m.end() for m in re.finditer(r"\s+", text)]


def _split_runs_to_fit(runs: tuple[Run, ...], fits: Callable[[tuple[Run, ...]], bool]
                       ) -> tuple[tuple[Run, ...], tuple[Run, ...]] | None:
    """The longest head of ``runs`` (cut after a sentence, or else a word) that fits."""
    text = "".join(r.text for r in runs)
    for points in (_cut_points(text), [m.end() for m in re.finditer(r"\s+", text)]):
        best = None
        for at in points:
            head, tail = split_runs(runs, at)
            if not head or not tail:
                continue
            if not fits(head):
                break
            best = (head, tail)
        if best:
            return best
    return None


class Paginator:
    """Fills slides with blocks, splitting a block (between sentences, list items or table
    rows) when it does not fit, and keeping headings with what follows them."""

    def __init__(self, layout: Layout, height: float | None = None):
        self.layout = layout
        self.g = layout.g
        self.room = height if height is not None else layout.g.body_box.h

    def fits(self, blocks: Sequence[Block]) -> bool:
        words = sum(b.words for b in blocks)
        return (sum(self.layout.height(b) for b in blocks) <= self.room
                and (words <= self.g.max_words or len(blocks) <= 1 and self._one_fits(blocks)))

    def _one_fits(self, blocks: Sequence[Block]) -> bool:
        return bool(blocks) and blocks[0].kind == "table"

    def pages(self, blocks: Iterable[Block]) -> list[list[Block]]:
        pages: list[list[Block]] = [[]]
        queue = deque(blocks)
        while queue:
            block = queue.popleft()
            if block.kind == "break":
                if pages[-1]:
                    pages.append([])
                continue
            current = pages[-1]
            if self.fits([*current, block]) and not self._orphan(current, block, queue):
                current.append(block)
                continue
            parts = self.split(block, current)
            if parts is not None:
                current.append(parts[0])
                queue.appendleft(parts[1])
                pages.append([])
            elif current:
                pages.append([])
                queue.appendleft(block)
            else:
                raise SlideError("a block of text is too big for one slide and cannot be split")
        return [p for p in pages if p]

    def _orphan(self, current: list[Block], block: Block, queue: deque[Block]) -> bool:
        """A heading at the very bottom of a slide goes to the next slide instead."""
        if block.kind != "heading" or not current or not queue:
            return False
        following = queue[0]
        if following.kind == "break":
            return False
        probe = self.split(following, [*current, block])
        return not self.fits([*current, block, following]) and probe is None

    def split(self, block: Block, current: list[Block]) -> tuple[Block, Block] | None:
        """``(head, tail)`` with ``head`` fitting after ``current``; None if nothing fits."""

        def ok(candidate: Block) -> bool:
            return self.fits([*current, candidate])

        if block.kind in ("paragraph", "pre"):
            cut = _split_runs_to_fit(block.runs, lambda r: ok(replace(block, runs=r)))
            return (replace(block, runs=cut[0]), replace(block, runs=cut[1])) if cut else None
        if block.kind == "list":
            return self._split_list(block, ok)
        if block.kind == "quote":
            return self._split_quote(block, ok)
        if block.kind == "table":
            return self._split_table(block, ok)
        return None

    def _split_list(self, block: Block, ok) -> tuple[Block, Block] | None:
        items = block.items
        for n in range(len(items) - 1, 0, -1):
            head = replace(block, items=items[:n])
            if ok(head):
                return head, replace(block, items=items[n:], start=block.start + n)
        first = items[0]
        cut = _split_runs_to_fit(first.runs, lambda r: ok(replace(block, items=(Item(r),))))
        if cut is None:
            return None
        rest = (Item(cut[1], first.items, first.ordered), *items[1:])
        return replace(block, items=(Item(cut[0]),)), replace(block, items=rest,
                                                                start=block.start)

    def _split_quote(self, block: Block, ok) -> tuple[Block, Block] | None:
        paras = block.children
        for n in range(len(paras) - 1, 0, -1):
            head = replace(block, children=paras[:n])
            if ok(head):
                return head, replace(block, children=paras[n:])
        first = paras[0]
        cut = _split_runs_to_fit(
            first.runs, lambda r: ok(replace(block, children=(replace(first, runs=r),))))
        if cut is None:
            return None
        rest = (replace(first, runs=cut[1]), *paras[1:])
        return (replace(block, children=(replace(first, runs=cut[0]),)),
                replace(block, children=rest))

    def _split_table(self, block: Block, ok) -> tuple[Block, Block] | None:
        rows = block.rows
        for n in range(len(rows) - 1, 0, -1):
            head = replace(block, rows=rows[:n])
            if ok(head):
                return head, replace(block, rows=rows[n:])
        return None


# --- titles -----------------------------------------------------------------------------------

def fit_title(text: str, measure: TextMeasure, box: Box, sizes: Sequence[int],
              lines: int, last_lines: int, line_height: float, fit: float) -> tuple[str, int]:
    """The largest size at which ``text`` fits ``box`` (bold); very long text is shortened
    with an ellipsis at the smallest size rather than overflow."""
    runs = (Run(text),)
    width = box.w * fit
    for i, size in enumerate(sizes):
        allowed = last_lines if i == len(sizes) - 1 else lines
        allowed = min(allowed, int(box.h // (size * line_height)))
        if measure.lines(runs, size, width, bold=True) <= allowed:
            return text, size
    size = sizes[-1]
    allowed = min(last_lines, int(box.h // (size * line_height)))
    words = text.split()
    while words and measure.lines((Run(" ".join(words) + "\u2026"),), size, width,
                                  bold=True) > allowed:
        words.pop()
    return (" ".join(words) + "\u2026") if words else text[:20] + "\u2026", size


# --- planning ---------------------------------------------------------------------------------

@dataclass
class PlanContext:
    """What planning needs from a job (kept small so the planner stays a pure function)."""

    use_label: str
    with_notes: bool
    markdown: Callable[[str], object]
    site_title: str = ""
    organisation: str = ""
    contact_email: str = ""
    on_text: str = ""
    geometry: Geometry = DEFAULT_GEOMETRY
    measure: TextMeasure = field(default_factory=TextMeasure)

    @property
    def layout(self) -> Layout:
        return Layout(self.geometry, self.measure)


def plan_deck(job: Job, geometry: Geometry = DEFAULT_GEOMETRY,
              measure: TextMeasure | None = None) -> list[Slide]:
    """Every slide of the job's deck, numbered, in the job's story order."""
    ctx = PlanContext(
        use_label=job.use_label, with_notes=job.with_notes, markdown=job.markdown,
        site_title=job.site.title, organisation=job.site.organisation,
        contact_email=job.site.contact_email, on_text=nice_date(job.on), geometry=geometry,
        measure=measure or measure_for_theme(job.theme))
    return plan_stories(job.stories, ctx)


def plan_stories(stories: Sequence[StoryView], ctx: PlanContext) -> list[Slide]:
    slides: list[Slide] = []
    if len(stories) > 1:
        slides += plan_cover(stories, ctx)
    for view in stories:
        slides += plan_story(view, ctx)
    total = len(slides)
    return [_offsets(replace(s, number=i, total=total), ctx) for i, s in enumerate(slides, 1)]


def _offsets(slide: Slide, ctx: PlanContext) -> Slide:
    g = ctx.geometry
    cover = slide.kind in ("title", "deck")
    box = g.cover_title_box if cover else g.title_box
    lines = ctx.measure.lines((Run(slide.title),), slide.title_size, box.w * g.fit, bold=True)
    spare = max(box.h - lines * slide.title_size * g.title_line_height, 0)
    body = 0.0
    if slide.kind == "quote":
        body = max((g.body_box.h - quote_height(slide.quote, slide.text_size, ctx,
                                                bool(slide.attribution))) / 2, 0)
    return replace(slide, title_offset=int(spare if cover else spare / 2), body_offset=int(body))


def plan_cover(stories: Sequence[StoryView], ctx: PlanContext) -> list[Slide]:
    """A cover and a contents list for a deck of several stories."""
    g = ctx.geometry
    lines = [x for x in (ctx.organisation, f"For: {ctx.use_label}", ctx.on_text) if x]
    title, size = _cover_title(ctx.site_title or "Stories", ctx)
    notes = (f"This deck has {len(stories)} stories.",) if ctx.with_notes else ()
    cover = Slide("deck", title, _cover_blocks([_para(x) for x in lines], ctx), notes=notes,
                  title_size=size,
                  text_size=g.cover_text_size, draft=any(v.draft for v in stories))
    listing = Block("list", ordered=True, items=tuple(Item((Run(v.title),)) for v in stories))
    contents = _content_slides("contents", "Stories in this deck", [listing], ctx, None)
    return [cover, *(replace(s, draft=cover.draft) for s in contents)]


def plan_story(view: StoryView, ctx: PlanContext) -> list[Slide]:
    """The slides for one story, in the order a presenter tells it."""
    base = {"story_id": view.id, "story_title": view.title, "draft": view.draft}
    try:
        slides = [*_title_slides(view, ctx), *_warning_slides(view, ctx),
                  *_body_slides(view, ctx), *_quote_slides(view, ctx),
                  *_image_slides(view, ctx), *_closing_slides(view, ctx),
                  *_consent_slides(view, ctx)]
    except (SlideError, MarkdownTooLong) as exc:
        raise SlideError(f"story {view.id}: {exc}") from None
    return [replace(s, **base) for s in slides]


def _para(text: str, **style: bool) -> Block:
    return Block("paragraph", (Run(text, **style),))


def _notes(ctx: PlanContext, *lines: str | None) -> tuple[str, ...]:
    return tuple(x for x in lines if x) if ctx.with_notes else ()


def _cover_title(text: str, ctx: PlanContext) -> tuple[str, int]:
    g = ctx.geometry
    return fit_title(text, ctx.measure, g.cover_title_box, g.cover_sizes, g.cover_lines,
                     g.cover_lines, g.title_line_height, g.fit)


def _bar_title(text: str, ctx: PlanContext) -> tuple[str, int]:
    g = ctx.geometry
    return fit_title(text, ctx.measure, g.title_box, g.title_sizes, g.title_lines,
                     g.title_lines_smallest, g.title_line_height, g.fit)


def story_facts(view: StoryView, ctx: PlanContext) -> tuple[str, ...]:
    """Generated notes for presenters: who, which service, what consent covers, and care
    points. Plain sentences; only ever planned for with-notes copies."""
    expires = f", until {nice_date(view.consent_expires)}" if view.consent_expires else ""
    return _notes(
        ctx,
        "Presenter copy: do not share it with the audience.",
        f"Who: {view.attribution}.",
        f"Service: {view.service}." if view.service else None,
        f"Consent: for {ctx.use_label}{expires}.",
        f"Named as: {IDENTIFICATION_LABELS.get(view.identification, view.identification)}.",
        f"Content warning: {view.content_warning}" if view.content_warning else None,
        "This is a draft. It is not for sharing." if view.draft else None,
    )


def _title_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    g = ctx.geometry
    title, size = _cover_title(view.title, ctx)
    lines = [_para(f"Shared by {view.attribution}")]
    if view.service:
        lines.append(_para(f"Service: {view.service}"))
    summary = _para(plain_text(view.summary)) if view.summary else None
    if summary and _cover_paginator(ctx).fits([*lines, summary]):
        lines.append(summary)
        summary = None
    notes = story_facts(view, ctx) + _speaker_notes(view, ctx)
    slides = [Slide("title", title, _cover_blocks(lines, ctx), notes=notes, title_size=size,
                    text_size=g.cover_text_size)]
    if summary:
        slides += _content_slides("content", "In short", [summary], ctx, None)
    return slides


def _cover_paginator(ctx: PlanContext) -> Paginator:
    g = ctx.geometry
    cover = replace(g, body_box=g.cover_sub_box, body_size=g.cover_text_size)
    return Paginator(Layout(cover, ctx.measure))


def _cover_blocks(blocks: list[Block], ctx: PlanContext) -> tuple[Block, ...]:
    """The lines under a cover title, dropping the last ones if they would not fit."""
    paginator = _cover_paginator(ctx)
    while len(blocks) > 1 and not paginator.fits(blocks):
        blocks = blocks[:-1]
    if blocks and not paginator.fits(blocks):
        cut = _split_runs_to_fit(blocks[0].runs,
                                 lambda r: paginator.fits([replace(blocks[0], runs=r)]))
        blocks = [replace(blocks[0], runs=cut[0])] if cut else []
    return tuple(blocks)


def _speaker_notes(view: StoryView, ctx: PlanContext) -> tuple[str, ...]:
    if not ctx.with_notes or not view.speaker_notes:
        return ()
    lines = [x.strip() for x in view.speaker_notes.splitlines() if x.strip()]
    return ("Notes from the story team:", *lines)


def _warning_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    if not view.content_warning:
        return []
    blocks = [_para(view.content_warning), _para("You can step out at any time. "
                                                 "Please look after yourself.")]
    notes = _notes(ctx, "Read the warning out loud. Pause so people can leave if they need to.")
    return _content_slides("warning", "Content warning", blocks, ctx, notes)


def _body_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    if not view.body.strip():
        return []
    sections: list[tuple[str, list[Block]]] = [(view.title, [])]
    for item in markdown_blocks(str(ctx.markdown(view.body))):
        if isinstance(item, tuple):
            sections.append((item[1] or view.title, []))
        else:
            sections[-1][1].append(item)
    slides: list[Slide] = []
    for title, blocks in sections:
        if blocks:
            slides += _content_slides("content", title, blocks, ctx, None)
    return slides


def _content_slides(kind: str, title: str, blocks: Sequence[Block], ctx: PlanContext,
                    notes: tuple[str, ...] | None) -> list[Slide]:
    """Slides for ``blocks`` under one title, numbered "(2 of 3)" when they take several."""
    pages = Paginator(ctx.layout).pages(blocks)
    out = []
    for i, page in enumerate(pages, 1):
        label = title if len(pages) == 1 else f"{title} ({i} of {len(pages)})"
        text, size = _bar_title(label, ctx)
        out.append(Slide(kind, text, tuple(page), notes=notes or () if i == 1 else (),
                         title_size=size, text_size=ctx.geometry.body_size))
    return out


def _quote_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    out: list[Slide] = []
    quotes = [q for q in view.quotes if q.strip()]
    pieces = [piece for q in quotes for piece in _fit_quote(plain_text(q), view.attribution, ctx)]
    for i, (runs, size, attribution) in enumerate(pieces, 1):
        label = "In their own words" + (f" ({i} of {len(pieces)})" if len(pieces) > 1 else "")
        text, tsize = _bar_title(label, ctx)
        notes = _notes(ctx, f"Read the quote slowly. It is from {view.attribution}.")
        out.append(Slide("quote", text, quote=runs, attribution=attribution, notes=notes,
                         title_size=tsize, text_size=size))
    return out


def quote_height(runs: Sequence[Run], size: int, ctx: PlanContext,
                 attribution: bool = True) -> float:
    """Height of a quote and its attribution line on a quote slide."""
    g = ctx.geometry
    width = g.body_box.w * g.fit - 2 * g.indent
    lines = ctx.measure.lines(runs, size, width) * size * g.line_height
    return lines + (g.gap + g.body_size * g.line_height if attribution else 0)


def _fit_quote(text: str, attribution: str, ctx: PlanContext
               ) -> list[tuple[tuple[Run, ...], int, str | None]]:
    """A quote at the largest size that fits; split between sentences if none does."""
    g = ctx.geometry
    room = g.body_box.h
    pending: tuple[Run, ...] = _tidy([Run(text)])
    out: list[tuple[tuple[Run, ...], int, str | None]] = []
    while pending:
        size = next((s for s in g.quote_sizes if quote_height(pending, s, ctx) <= room), None)
        if size is not None:
            out.append((pending, size, attribution))
            break
        cut = _split_runs_to_fit(
            pending, lambda r: quote_height(r, g.quote_sizes[-1], ctx) <= room)
        if cut is None:
            raise SlideError("a quote has a word too long to fit on a slide")
        out.append((cut[0], g.quote_sizes[-1], None))
        pending = cut[1]
    return out


def _image_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    out = []
    for image in view.images:
        if not (image.alt or "").strip():
            raise SlideError("a picture has no alt text; describe it in the story's images list")
        label = "A photo from this story" if image.kind == "photo" else "A picture from this story"
        text, size = _bar_title(label, ctx)
        notes = _notes(ctx, f"Describe the picture for anyone who cannot see it: {image.alt}")
        picture = SlideImage(image.path, image.alt.strip(), image.kind, image.file)
        out.append(Slide("image", text, image=picture, notes=notes, title_size=size))
    return out


def _bullets(lines: Sequence[str], ctx: PlanContext) -> Block:
    items = []
    for line in lines:
        runs = [b.runs for b in markdown_blocks(str(ctx.markdown(line)))
                if isinstance(b, Block) and b.runs]
        items.append(Item(runs[0] if runs else (Run(plain_text(line)),)))
    return Block("list", items=tuple(items))


def _closing_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    changes = [c for c in view.changes if c.strip()]
    asks = [a for a in view.asks if a.strip()]
    if not changes and not asks:
        return []
    if changes and asks:
        title = "What we are changing and what we ask"
        blocks = [Block("heading", (Run("What we are changing"),), level=3),
                  _bullets(changes, ctx),
                  Block("heading", (Run("What we ask"),), level=3), _bullets(asks, ctx)]
    else:
        title = "What we are changing" if changes else "What we ask"
        blocks = [_bullets(changes or asks, ctx)]
    notes = _notes(ctx, "Say what changed because of this story, and what you are asking for.")
    return _content_slides("closing", title, blocks, ctx, notes)


def _consent_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    lines = [f"This story was shared by {view.attribution}.",
             f"They agreed that we can use it for: {ctx.use_label}."]
    if view.consent_expires:
        lines.append(f"Their consent ends on {nice_date(view.consent_expires)}.")
    lines.append("Please do not copy this story or use it for anything else.")
    if ctx.contact_email:
        lines.append(f"Questions? Email {ctx.contact_email}")
    if view.draft:
        lines.append("This is a draft. It is not for sharing.")
    notes = _notes(ctx, f"Consent covers {ctx.use_label} only. Do not send these slides on.")
    return _content_slides("consent", "Using this story", [_para(x) for x in lines], ctx, notes)


# --- colours ------------------------------------------------------------------------------------

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
PALETTE_DEFAULTS = {
    "primary": "#005EB8", "on_primary": "#FFFFFF", "text": "#212B32",
    "secondary_text": "#4C6272", "background": "#FFFFFF", "panel": "#F0F4F5",
    "focus": "#FFEB3B", "warning": "#FFB81C", "link": "#005EB8", "border": "#D8DDE0",
}
#: (foreground, background, minimum ratio) pairs that slides put together.
_CONTRAST_PAIRS = (("on_primary", "primary", 4.5), ("text", "background", 4.5),
                   ("secondary_text", "background", 4.5), ("link", "background", 4.5),
                   ("text", "panel", 4.5), ("text", "warning", 4.5), ("text", "focus", 4.5))


def palette(theme: Theme) -> dict[str, str]:
    """The theme's slide colours, checked: ``#rgb``/``#rrggbb`` only (theme files are
    untrusted and these go into CSS), and text contrast at least 4.5:1 (WCAG AA)."""
    colours = dict(PALETTE_DEFAULTS)
    for key, value in theme.colours.items():
        if key not in colours:
            continue
        if not isinstance(value, str) or not _HEX.match(value.strip()):
            raise SlideError(f"theme {theme.name!r}: colour {key} must be written like "
                             f"#005EB8, not {str(value)[:40]!r}")
        colours[key] = _long_hex(value.strip())
    for fore, back, minimum in _CONTRAST_PAIRS:
        ratio = contrast(colours[fore], colours[back])
        if ratio < minimum:
            raise SlideError(f"theme {theme.name!r}: {fore} {colours[fore]} on {back} "
                             f"{colours[back]} has contrast {ratio:.1f}:1; slides need at "
                             f"least {minimum}:1")
    return colours


def _long_hex(value: str) -> str:
    value = value.upper()
    return "#" + "".join(c * 2 for c in value[1:]) if len(value) == 4 else value


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours."""
    la, lb = _luminance(a), _luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def deck_title(job: Job) -> str:
    """The title of a deck: the story's title, or the site's title for several stories."""
    if len(job.stories) == 1:
        return job.stories[0].title
    return job.site.title or "Stories"


def deck_basename(job: Job, suffix: str, *, notes: bool | None = None) -> str:
    """A file name for the deck that names no one: the slug, or the use for several stories.
    Presenter copies say ``-with-notes`` (``notes`` defaults to whether the job has notes)."""
    base = job.stories[0].slug if len(job.stories) == 1 else f"{job.use}-stories"
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-") or "deck"
    notes = "-with-notes" if (job.with_notes if notes is None else notes) else ""
    draft = "-draft" if any(v.draft for v in job.stories) else ""
    return f"{base}{suffix}{notes}{draft}"
