"""The theme's font, cut down to the letters a deck uses, for embedding in one HTML file.

A deck must work offline on a locked-down laptop, so its font travels inside it as a
``data:`` URI. The whole Liberation Sans is about 400 KB; the subset a deck needs is a few KB.
The subset gets its own family name: the SIL Open Font License reserves the name
"Liberation" for unmodified fonts, and a subset is a modified font. The copyright and licence
entries stay in the font.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

EMBEDDED_FAMILY = "Storykit Slides Sans"
#: Letters the deck's own words and scripts use, whatever the stories hold.
BASE_CHARS = ("".join(chr(c) for c in range(0x20, 0x7F))
              + "\u00a0\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u2022\u00b7\u00e9")
_KEEP_NAMES = (0, 7, 13, 14)  # copyright, trademark, licence, licence URL


def font_face_css(regular: Path | None, bold: Path | None, text: str) -> str:
    """``@font-face`` rules embedding subsets of the regular and bold fonts as WOFF2."""
    chars = "".join(sorted(set(text + BASE_CHARS)))
    rules = []
    for path, weight in ((regular, 400), (bold or regular, 700)):
        if path is None:
            continue
        data = subset_woff2(str(path), chars)
        uri = "data:font/woff2;base64," + base64.b64encode(data).decode("ascii")
        rules.append(f'@font-face{{font-family:"{EMBEDDED_FAMILY}";font-style:normal;'
                     f'font-weight:{weight};src:url("{uri}") format("woff2")}}')
    return "\n".join(rules)


@lru_cache(maxsize=16)
def subset_woff2(path: str, chars: str) -> bytes:
    """A WOFF2 subset of the font at ``path`` holding ``chars``, renamed (see module doc)."""
    options = subset.Options()
    options.flavor = "woff2"
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # slides use large sizes; unhinted glyphs are half the size
    options.drop_tables = [*options.drop_tables, "FFTM"]
    options.layout_features = ["kern", "liga", "clig", "calt", "ccmp", "locl", "mark", "mkmk"]
    font = TTFont(path, recalcBBoxes=False, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    _rename(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue()


def _rename(font: TTFont) -> None:
    table = font["name"]
    style = "Bold" if font["OS/2"].usWeightClass >= 600 else "Regular"
    table.names = [r for r in table.names if r.nameID in _KEEP_NAMES]
    postscript = EMBEDDED_FAMILY.replace(" ", "") + "-" + style
    for name_id, value in ((1, EMBEDDED_FAMILY), (2, style),
                           (3, postscript), (4, f"{EMBEDDED_FAMILY} {style}"), (6, postscript)):
        table.setName(value, name_id, 3, 1, 0x409)
