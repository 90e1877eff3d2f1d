"""The letter's print rules for each style, made from the theme's checked settings.

Sizes follow UKAAF's clear and large print guidance and the Department of Health's Easy Read
guidance: standard print 12pt; large print 18pt body and nothing under 16pt, headings larger;
Easy Read 16pt (at least 14pt) with a picture on the left of each idea. Left aligned, no
italics, no text in capitals. Values taken from a theme are checked before they reach CSS."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storykit import StorykitError, Theme
from storykit.kit import is_hex

DEFAULT_COLOURS = {"primary": "#005EB8", "primary_dark": "#003087", "text": "#212B32",
                   "secondary_text": "#4C6272", "border": "#D8DDE0", "panel": "#F0F4F5"}
_FONT_NAME = re.compile(r"^[A-Za-z0-9 -]{1,60}$")


@dataclass(frozen=True)
class Sizes:
    """Type sizes in points: body, main heading, sub heading, the smallest text."""

    body: float
    h1: float
    h2: float
    small: float
    icon_cm: float = 0


SIZES = {
    "standard": Sizes(12, 18, 14, 10),
    "large_print": Sizes(18, 28, 22, 16),
    "easy_read": Sizes(16, 26, 20, 16, icon_cm=2.6),
}


def colours(theme: Theme) -> dict[str, str]:
    out = dict(DEFAULT_COLOURS)
    for key, value in theme.colours.items():
        if key in out:
            if not isinstance(value, str) or not is_hex(value):
                raise StorykitError(f"theme {theme.name!r}: [colours] {key} must be a colour "
                                    "like \"#005EB8\"")
            out[key] = value
    return out


def font_css(theme: Theme) -> tuple[str, str]:
    """``(@font-face rules, the font-family value)``: the theme's open font embedded."""
    name = theme.fonts.get("name", "Liberation Sans")
    if not isinstance(name, str) or not _FONT_NAME.match(name):
        raise StorykitError(f"theme {theme.name!r}: [fonts] name must be a font name")
    rules = []
    for key, weight in (("regular", "normal"), ("bold", "bold")):
        file = theme.font_file(key)
        if file is not None:
            rules.append(f'@font-face {{ font-family: "{name}"; font-weight: {weight}; '
                         f'src: url("{file.resolve().as_uri()}"); }}')
    return "\n".join(rules), f'"{name}", Arial, sans-serif'


def stylesheet(theme: Theme, style: str) -> str:
    s = SIZES[style]
    c = colours(theme)
    faces, family = font_css(theme)
    icon = f"{s.icon_cm}cm"
    return f"""
{faces}
@page {{
  size: A4; margin: 20mm 20mm 24mm 20mm;
  @bottom-left {{ content: "Page " counter(page) " of " counter(pages); font-family: {family};
                 font-size: {s.small}pt; color: {c['text']}; }}
}}
html {{ font-family: {family}; font-size: {s.body}pt; line-height: 1.5; color: {c['text']}; }}
body {{ margin: 0; text-align: left; hyphens: manual; }}
em, i, cite, address {{ font-style: normal; }}
em, i {{ font-weight: bold; }}
h1, h2 {{ color: {c['primary_dark']}; line-height: 1.25; break-after: avoid; }}
h1 {{ font-size: {s.h1}pt; margin: 0.6em 0 0.4em; }}
h2 {{ font-size: {s.h2}pt; margin: 1em 0 0.3em; }}
p, li {{ orphans: 2; widows: 2; margin: 0 0 0.6em; }}
ul {{ padding-left: 1.2em; margin: 0 0 0.6em; }}
.letterhead {{ border-top: 8pt solid {c['primary']}; padding-top: 4mm; margin-bottom: 8mm; }}
.letterhead .organisation {{ font-weight: bold; color: {c['primary_dark']}; margin: 0; }}
.letterhead p {{ margin: 0; font-size: {max(s.small, s.body - 1)}pt; }}
.address {{ margin: 0 0 8mm; }}
.address p {{ margin: 0; }}
.meta p {{ margin: 0; }}
.meta {{ margin-bottom: 6mm; }}
.sign-off {{ margin-top: 8mm; }}
.code {{ border: 2pt solid {c['primary']}; padding: 3mm 4mm; margin: 6mm 0; break-inside: avoid; }}
.code .value {{ font-size: {s.h1}pt; font-weight: bold; letter-spacing: 0.1em; }}
.reply {{ break-before: page; border-top: 2pt dashed {c['secondary_text']}; padding-top: 6mm; }}
.choice {{ display: flex; align-items: flex-start; margin: 0 0 5mm; break-inside: avoid; }}
.box {{ display: inline-block; flex: none; width: 1.2em; height: 1.2em;
  border: 2pt solid {c['text']}; margin: 0.1em 0.6em 0 0; }}
.fill-in {{ margin: 8mm 0 0; }}
.fill-in p {{ border-bottom: 1pt solid {c['text']}; padding-bottom: 8mm; margin: 0 0 6mm; }}
.point {{ display: flex; align-items: flex-start; margin: 0 0 6mm; break-inside: avoid; }}
.point img, .point .no-picture {{ flex: none; width: {icon}; height: {icon};
  margin-right: 6mm; }}
.point p {{ margin: 0; }}
.point .words {{ flex: 1; padding-top: 0.2em; }}
"""
