"""Where every line of a quote card goes, as a pure function of the text, the size and the fonts.

:func:`fit_card` picks the largest quote size at which the quote, its attribution and the
footer all fit inside the card's safe area, measured from the fonts' real glyph boxes ("ink"),
not guessed from character counts. It never goes below a readable size: if the text does not
fit at the smallest size it raises :class:`DoesNotFit` instead of shrinking further or clipping.
Drawing (in ``render.py``) only paints the lines this module placed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

#: Quote marks a storyteller's quote may already be wrapped in; the card adds its own.
_QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e"
LINE_SPACING = 1.25


@dataclass(frozen=True)
class CardSize:
    """A card's pixel size; ``name`` (e.g. ``1200x630``) goes into file names."""

    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def margin(self) -> int:
        """Space kept clear on every side (8% of the short side): platforms crop and round."""
        return round(min(self.width, self.height) * 0.08)

    @property
    def small_size(self) -> int:
        """The smallest readable text size, in pixels.

        Phones show a card about a third of its width across (1080 px -> 360 CSS px), so
        width / 30 comes out at about 12 CSS px: the smallest size people can read comfortably.
        The attribution and footer use it; the quote never goes below it."""
        return self.width // 30

    @property
    def largest_quote_size(self) -> int:
        return self.width // 12


#: Open Graph / X (1200x630) and Instagram square and portrait (1080x1080, 1080x1350).
SIZES = (CardSize(1200, 630), CardSize(1080, 1080), CardSize(1080, 1350))


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    def contains(self, other: Box) -> bool:
        return (self.left <= other.left and self.top <= other.top
                and other.right <= self.right and other.bottom <= self.bottom)

    def union(self, other: Box) -> Box:
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))


@dataclass(frozen=True)
class Line:
    """One line of text: drawn at ``(x, baseline)`` with anchor ``ls``; ``ink`` is where its
    glyphs really land on the card."""

    text: str
    role: str  # "quote", "attribution" or "footer"
    x: int
    baseline: int
    size: int
    bold: bool
    ink: Box


@dataclass(frozen=True)
class Layout:
    size: CardSize
    safe: Box
    band_top: int
    quote_size: int
    lines: tuple[Line, ...]

    @property
    def text_box(self) -> Box:
        """The box holding every glyph on the card."""
        box = self.lines[0].ink
        for line in self.lines[1:]:
            box = box.union(line.ink)
        return box

    def text(self, role: str) -> str:
        return " ".join(line.text for line in self.lines if line.role == role)


class DoesNotFit(ValueError):
    """The text cannot fit on this card size at a readable size. ``reason`` says which part."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path

    def get(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _font(str(self.bold if bold else self.regular), size)


@lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


# --- text preparation ------------------------------------------------------------------------

def card_quote(text: str) -> str:
    """A quote as the card shows it: NFC-normalised, one line of spaces, in curly quotes.

    Quote marks the storyteller's text already starts and ends with are replaced, not doubled."""
    clean = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    if len(clean) >= 2 and clean[0] in _QUOTE_MARKS and clean[-1] in _QUOTE_MARKS:
        clean = clean[1:-1].strip()
    return f"\u201c{clean}\u201d" if clean else ""


@lru_cache(maxsize=8)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str, font_file: Path) -> list[str]:
    """Characters of ``text`` the font cannot draw, as ``U+XXXX`` (sorted, no repeats).

    A missing glyph would print as an empty box, so such a card is refused instead."""
    have = _cmap(str(font_file))
    return sorted({f"U+{ord(ch):04X}" for ch in text if not ch.isspace() and ord(ch) not in have})


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str] | None:
    """Greedy word wrap measured in pixels; None if one word alone is too wide (cards never
    break words or clip them).

    It measures advance widths (three times faster than glyph boxes) and keeps 4% of the font
    size spare for glyphs that overhang their advance ("W", "f"); :func:`fit_card` then checks
    the real glyph boxes, so an unexpected overhang can only make a size fail, never overflow."""
    room = width - max(1, round(font.size * 0.04))
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= room:
            current = candidate
            continue
        if not current or font.getlength(word) > room:
            return None
        lines.append(current)
        current = word
    if current:
        lines.append(current)
    return lines


# --- fitting ---------------------------------------------------------------------------------

def fit_card(quote: str, attribution: str, footer: list[str], size: CardSize,
             fonts: Fonts) -> Layout:
    """The layout with the largest quote size that fits; :class:`DoesNotFit` if even the
    smallest readable size does not (the card is then refused, never shrunk or clipped)."""
    m = size.margin
    safe = Box(m, m, size.width - m, size.height - m)
    footer_lines, band_top = _footer(footer, size, safe, fonts)
    region = Box(safe.left, safe.top, safe.right, min(safe.bottom, band_top - m // 2))
    attr_font = fonts.get(size.small_size)
    attr = wrap(attribution, attr_font, safe.right - safe.left) if attribution else []
    if attr is None:
        raise DoesNotFit("the attribution has a word too long for one line")
    smallest = _try(quote, attr, size.small_size, region, fonts, size.small_size)
    if smallest is None:
        raise DoesNotFit(f"the quote does not fit at the smallest readable size "
                         f"({size.small_size} px)")
    best, lo, hi = smallest, size.small_size + 1, size.largest_quote_size
    while lo <= hi:
        mid = (lo + hi) // 2
        found = _try(quote, attr, mid, region, fonts, size.small_size)
        if found is None:
            hi = mid - 1
        else:
            best, lo = found, mid + 1
    return Layout(size, safe, band_top, best[0].size, tuple(best) + tuple(footer_lines))


def _footer(texts: list[str], size: CardSize, safe: Box,
            fonts: Fonts) -> tuple[list[Line], int]:
    """Footer lines set upwards from the bottom of the safe area, and the top of their band."""
    font = fonts.get(size.small_size)
    wrapped: list[str] = []
    for text in texts:
        lines = wrap(text, font, safe.right - safe.left)
        if lines is None:
            raise DoesNotFit("the footer has a word too long for one line")
        wrapped += lines
    if not wrapped:
        return [], size.height  # no footer, no band
    pitch = round(size.small_size * LINE_SPACING)
    ascent, descent = font.getmetrics()
    first = safe.bottom - descent - (len(wrapped) - 1) * pitch
    placed = [_line(t, "footer", safe.left, first + i * pitch, font, size.small_size, False)
              for i, t in enumerate(wrapped)]
    band_top = first - ascent - size.margin // 2
    if any(not safe.contains(line.ink) or line.ink.top < band_top for line in placed):
        raise DoesNotFit("the footer does not fit")
    return placed, band_top


def _try(quote: str, attr: list[str], q_size: int, region: Box, fonts: Fonts,
         a_size: int) -> list[Line] | None:
    """Quote and attribution lines at quote size ``q_size`` centred in ``region``, or None."""
    q_font, a_font = fonts.get(q_size, bold=True), fonts.get(a_size)
    quote_lines = wrap(quote, q_font, region.right - region.left)
    if not quote_lines:
        return None
    q_pitch, a_pitch = round(q_size * LINE_SPACING), round(a_size * LINE_SPACING)
    q_ascent, q_descent = q_font.getmetrics()
    a_ascent, a_descent = a_font.getmetrics()
    gap = round(a_size * 0.9)
    height = (len(quote_lines) - 1) * q_pitch + q_ascent + q_descent
    if attr:
        height += gap + (len(attr) - 1) * a_pitch + a_ascent + a_descent
    if height > region.bottom - region.top:
        return None
    baseline = region.top + (region.bottom - region.top - height) // 2 + q_ascent
    lines = []
    for text in quote_lines:
        lines.append(_line(text, "quote", region.left, baseline, q_font, q_size, True))
        baseline += q_pitch
    baseline += q_descent - q_pitch + gap + a_ascent
    for text in attr:
        lines.append(_line(text, "attribution", region.left, baseline, a_font, a_size, False))
        baseline += a_pitch
    return lines if all(region.contains(line.ink) for line in lines) else None


def _line(text: str, role: str, x: int, baseline: int, font: ImageFont.FreeTypeFont,
          size: int, bold: bool) -> Line:
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    x -= min(0, int(left))  # an overhanging first glyph starts on the margin, not over it
    return Line(text, role, x, baseline, size, bold,
                Box(x + int(left), baseline + int(top), x + int(right), baseline + int(bottom)))
