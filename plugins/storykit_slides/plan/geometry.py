"""Geometry: one set of boxes and type sizes for the HTML deck, its PDFs and PowerPoint."""

from __future__ import annotations

from dataclasses import dataclass


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
