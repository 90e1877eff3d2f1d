"""Theme colours and WCAG 2.2 contrast, as pure functions, for every renderer.

Theme files are untrusted and their colours go into CSS, slides and pictures, so a colour is
only ever a ``#rgb`` or ``#rrggbb`` value. Quote cards and slides are pictures of text (or
end up as them), so a browser cannot fix poor contrast for the reader: the check has to happen
before they are drawn. The maths is WCAG 2.2's relative luminance and contrast ratio (success
criterion 1.4.3 asks for 4.5:1 for normal text).
"""

from __future__ import annotations

import math
import re

#: WCAG 2.2 AA minimum for text (1.4.3 Contrast, Minimum).
AA_TEXT = 4.5
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def is_hex(value: object) -> bool:
    """Whether ``value`` is a colour written like ``#005EB8`` or ``#fff``."""
    return isinstance(value, str) and bool(_HEX.match(value.strip()))


def long_hex(colour: str) -> str:
    """``#rgb`` or ``#rrggbb`` as ``#RRGGBB``; ValueError for anything else."""
    r, g, b = parse_hex(colour)
    return f"#{r:02X}{g:02X}{b:02X}"


def parse_hex(colour: str) -> tuple[int, int, int]:
    """``#RGB`` or ``#RRGGBB`` as an (r, g, b) tuple of 0-255 values; ValueError otherwise."""
    if not is_hex(colour):
        raise ValueError(f"{colour!r} is not a colour like #005EB8")
    digits = colour.strip()[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance: 0 for black, 1 for white."""
    r, g, b = (_channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """The WCAG contrast ratio of two hex colours, from 1 (same) to 21 (black on white)."""
    la, lb = relative_luminance(parse_hex(a)), relative_luminance(parse_hex(b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def shown_ratio(ratio: float) -> str:
    """The ratio for people, rounded down so a failing 4.496 never reads as "4.5:1"."""
    return f"{math.floor(ratio * 100) / 100:.2f}:1"
