"""Measuring text with the theme's font (Pillow), and the heights of blocks on a slide, so
a slide never holds more than its box can show."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ImageFont

from .geometry import Geometry
from .parts import Block, Cell, Item, Run, SlideError

if TYPE_CHECKING:  # pragma: no cover
    from storykit import Theme

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
