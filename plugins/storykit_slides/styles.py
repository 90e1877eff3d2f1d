"""CSS that depends on the plan's geometry and the theme: boxes, type sizes and colours.

The planner measured text against :class:`~storykit_slides.plan.Geometry`; generating the CSS
from the same object keeps the slides and the measurements in step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from storykit import Theme
from storykit.kit import contrast_ratio

from .plan import Box, Geometry, Slide, heading_size

STATIC = Path(__file__).parent / "static"
FAMILY = "Storykit Slides Sans"
_SAFE_FAMILY = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,200}$")


def static_text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def font_stack(theme: Theme) -> str:
    """The CSS font list: the embedded font first, then the theme's (checked: it is untrusted
    and goes into CSS), then a generic family."""
    family = theme.fonts.get("family", "")
    fallback = family if isinstance(family, str) and _SAFE_FAMILY.match(family) else "Arial"
    return f'"{FAMILY}", {fallback}, sans-serif'


def css_vars(colours: dict[str, str], family: str) -> dict[str, str]:
    """Custom properties from the checked palette (only ``#rrggbb`` values reach here)."""
    chrome, on_chrome = colours["text"], colours["background"]
    strong = colours["border"] if contrast_ratio(colours["border"], colours["background"]) >= 3 \
        else colours["secondary_text"]
    names = {"primary": "primary", "on-primary": "on_primary", "text": "text",
             "secondary-text": "secondary_text", "background": "background", "link": "link",
             "warning": "warning", "focus": "focus", "panel": "panel"}
    values = {f"--{css}": colours[key] for css, key in names.items()}
    values.update({"--chrome": chrome, "--on-chrome": on_chrome, "--border-strong": strong,
                   "--family": family})
    return values


def colour_vars(values: dict[str, str]) -> str:
    return ":root{" + ";".join(f"{k}:{v}" for k, v in values.items()) + "}"


_VAR = re.compile(r"var\((--[a-z-]+)\)")


def inline_vars(css: str, values: dict[str, str]) -> str:
    """``css`` with each ``var(--x)`` replaced by its value. WeasyPrint re-parses a custom
    property for every element that uses it, which made a 50-slide PDF a third slower."""
    return _VAR.sub(lambda m: values[m.group(1)], css)


def offset_css(slides: Sequence[Slide]) -> str:
    """Padding classes for the vertical offsets the planner worked out (``to-N`` for
    titles, ``bo-N`` for quotes), only those the deck uses."""
    titles = sorted({s.title_offset for s in slides})
    bodies = sorted({s.body_offset for s in slides})
    return "\n".join([*(f".to-{n}{{padding-top:{n}px}}" for n in titles),
                      *(f".bo-{n}{{padding-top:{n}px}}" for n in bodies)])


def _box(selector: str, box: Box) -> str:
    return (f"{selector}{{left:{box.x:g}px;top:{box.y:g}px;width:{box.w:g}px;"
            f"height:{box.h:g}px}}")


def geometry_css(g: Geometry) -> str:
    """Boxes, margins and type sizes exactly as the planner measured them."""
    body = ".slide__body"
    blocks = ",".join(f"{body} {t}" for t in ("p", "ul", "ol", "blockquote", "table", "pre",
                                               "h3", "h4", "h5", "h6"))
    bar = g.title_box.y * 2 + g.title_box.h
    rules = [
        f".slide{{width:{g.width:g}px;height:{g.height:g}px}}",
        f".slide__bar{{height:{bar:g}px}}",
        _box(".slide__heading", g.title_box), _box(body, g.body_box),
        _box(".slide__foot", g.footer_box),
        _box(".slide--cover .slide__heading", g.cover_title_box),
        _box(".slide__cover-sub", g.cover_sub_box),
        f".slide__title{{line-height:{g.title_line_height}}}",
        f"{body}{{font-size:{g.body_size}px;line-height:{g.line_height}}}",
        f"{blocks}{{margin-bottom:{g.gap:g}px}}",
        f"{body} li{{margin:0 0 {g.item_gap:g}px}}",
        f"{body} ul,{body} ol{{padding-left:{g.indent:g}px;margin-left:0}}",
        f"{body} blockquote{{padding-left:{g.indent - 6:g}px;border-left-width:6px}}",
        f"{body} blockquote p{{margin:0 0 {g.gap:g}px}}",
        f"{body} table{{font-size:{g.table_size}px;line-height:{g.line_height}}}",
        f"{body} th,{body} td{{padding:{g.cell_pad:g}px}}",
        f".slide__cover-sub{{font-size:{g.cover_text_size}px;line-height:{g.line_height}}}",
        f".slide__cover-sub p{{margin:0 0 {g.gap:g}px}}",
        f".slide__quote{{padding:0 {g.indent:g}px 0 {g.indent - 8:g}px;border-left-width:8px}}",
        f".slide__quote blockquote p{{line-height:{g.line_height};margin:0 0 {g.gap:g}px}}",
        f".slide__quote figcaption{{font-size:{g.body_size}px;line-height:{g.line_height}}}",
        f".slide--warning::before{{content:\"\";position:absolute;left:{g.body_box.x - 32:g}px;"
        f"top:{g.body_box.y:g}px;width:12px;height:{g.body_box.h:g}px;"
        "background:var(--warning)}",
    ]
    for level in (3, 4, 5, 6):
        rules.append(f"{body} h{level}{{font-size:{heading_size(g, level)}px;"
                     f"line-height:{g.line_height}}}")
    for size in sorted(set(g.title_sizes) | set(g.cover_sizes)):
        rules.append(f".ts-{size}{{font-size:{size}px}}")
    for size in g.quote_sizes:
        rules.append(f".qs-{size}{{font-size:{size}px}}")
    return "\n".join(rules)
