"""The organisation's PowerPoint template: where it comes from, checks, and its boxes.

A site names one in storykit.toml (``[plugins.storykit_pptx] template = "brand/trust.pptx"``,
a path inside the site folder) or a theme ships ``static/pptx/template.pptx``; otherwise the
deck starts from python-pptx's plain template, widened to 16:9. A template is untrusted: it
must be a real .pptx of a sensible size, 16:9, with a layout that has a title.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn
from storykit_slides.plan import DEFAULT_GEOMETRY, Box, Geometry

from storykit import StorykitError

PLUGIN = "storykit_pptx"
KNOWN = ("template",)
THEME_TEMPLATE = "pptx/template.pptx"
MAX_TEMPLATE_BYTES = 50 * 1024 * 1024
EMU_PER_PX = 9525  # 914400 EMU to the inch, 96 px to the inch
WIDTH_16_9, HEIGHT_16_9 = 12192000, 6858000  # 13.333 x 7.5 in
_SKIP = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}


class TemplateError(StorykitError):
    """The PowerPoint template cannot be used."""


@dataclass
class Layouts:
    """The layouts a deck uses: a title-only layout for every slide, and a cover layout."""

    title_only: Any
    cover: Any
    branded: bool  # an organisation template: keep its colours and backgrounds


# --- settings and checks -----------------------------------------------------------------

def config_problems(config: Mapping[str, Any], site_root: Path) -> list[str]:
    """Problems with ``[plugins.storykit_pptx]``, as sentences (empty when all is well)."""
    found = [f"unknown setting {key!r}; known settings: {', '.join(KNOWN)}"
             for key in config if key not in KNOWN]
    if "template" not in config:
        return found
    value = config["template"]
    if not isinstance(value, str) or not value.strip():
        return [*found, 'template must be a path inside the site folder, for example '
                        'template = "brand/trust-template.pptx"']
    try:
        site_template(value, site_root)
    except TemplateError as exc:
        found.append(str(exc))
    return found


def site_template(value: str, site_root: Path) -> Path:
    """The checked path of a site's template setting."""
    rel = Path(value)
    if rel.is_absolute():
        raise TemplateError(f"template {value!r} must be a path inside the site folder, not an "
                            "absolute path")
    root = site_root.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise TemplateError(f"template {value!r} is outside the site folder; put the file "
                            "inside the site")
    if not path.is_file():
        raise TemplateError(f"template {value!r} does not exist (looked for {path})")
    check_template(path, value)
    return path


def check_template(path: Path, label: str) -> None:
    """Refuse anything that is not a 16:9 .pptx that PowerPoint could open."""
    size = path.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"template {label!r} is {size // (1024 * 1024)} MB; templates may "
                            f"be at most {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB")
    if not zipfile.is_zipfile(path):
        raise TemplateError(f"template {label!r} is not a PowerPoint file (.pptx)")
    prs = _open(path, label)
    if abs(prs.slide_width / prs.slide_height - 16 / 9) > 0.01:
        inches = f"{prs.slide_width / 914400:.2f} x {prs.slide_height / 914400:.2f} in"
        raise TemplateError(f"template {label!r} is {inches}; it must be 16:9 "
                            "(13.333 x 7.5 in). In PowerPoint: Design, Slide Size, Widescreen.")
    find_layouts(prs, branded=True, label=label)


def _open(path: Path, label: str):
    try:
        return Presentation(str(path))
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many kinds for bad files
        raise TemplateError(f"template {label!r} is not a PowerPoint file python-pptx can "
                            f"read ({type(exc).__name__})") from None


def template_for(config: Mapping[str, Any], site_root: Path | None,
                 theme_template: Path | None) -> Path | None:
    """The site's template if it names one, else the theme's, else None (plain 16:9)."""
    if config.get("template") and site_root is not None:
        return site_template(str(config["template"]), site_root)
    if theme_template is not None:
        check_template(theme_template, f"theme file {THEME_TEMPLATE}")
        return theme_template
    return None


# --- opening and layouts ---------------------------------------------------------------------

def open_presentation(template: Path | None):
    """A presentation to add slides to: the template without its own slides, or plain 16:9."""
    if template is None:
        prs = Presentation()
        widen_to_16_9(prs)
        return prs, find_layouts(prs, branded=False, label="default")
    prs = _open(template, template.name)
    remove_slides(prs)
    return prs, find_layouts(prs, branded=True, label=template.name)


def widen_to_16_9(prs) -> None:
    """python-pptx's template is 4:3; stretch its masters and layouts to 16:9."""
    factor = WIDTH_16_9 / prs.slide_width
    prs.slide_width, prs.slide_height = WIDTH_16_9, HEIGHT_16_9
    for master in prs.slide_masters:
        for owner in (master, *master.slide_layouts):
            for xfrm in owner.shapes._spTree.iter(qn("a:xfrm")):  # noqa: SLF001 - plain XML
                for child, attr in ((xfrm.find(qn("a:off")), "x"), (xfrm.find(qn("a:ext")), "cx")):
                    if child is not None and child.get(attr) is not None:
                        child.set(attr, str(round(int(child.get(attr)) * factor)))


def remove_slides(prs) -> None:
    """Drop the sample slides a template may hold."""
    ids = prs.slides._sldIdLst  # noqa: SLF001 - python-pptx has no public API for this
    for sld_id in list(ids):
        prs.part.drop_rel(sld_id.rId)
        ids.remove(sld_id)


def _kinds(layout) -> set:
    return {p.placeholder_format.type for p in layout.placeholders
            if p.placeholder_format.type not in _SKIP}


def find_layouts(prs, *, branded: bool, label: str) -> Layouts:
    """The title-only and cover layouts (found by their placeholders, not their names,
    which are translated in other languages)."""
    layouts = list(prs.slide_layouts)
    title_only = next((lay for lay in layouts if _kinds(lay) == {PP_PLACEHOLDER.TITLE}), None)
    title_only = title_only or next((lay for lay in layouts if PP_PLACEHOLDER.TITLE in _kinds(lay)),
                                    None)
    if title_only is None:
        raise TemplateError(f"template {label!r} has no slide layout with a title; every slide "
                            "needs one (PowerPoint's accessibility checker asks for it)")
    cover = next((lay for lay in layouts if {PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.SUBTITLE}
                  <= _kinds(lay)), title_only)
    return Layouts(title_only, cover, branded)


# --- geometry ------------------------------------------------------------------------------

def _box(shape) -> Box | None:
    if shape is None or shape.left is None or shape.width is None:
        return None
    return Box(shape.left / EMU_PER_PX, shape.top / EMU_PER_PX, shape.width / EMU_PER_PX,
               shape.height / EMU_PER_PX)


def _placeholder(layout, kinds) -> Any:
    found = next((p for p in layout.placeholders if p.placeholder_format.type in kinds), None)
    if found is not None and found.left is None:  # inherits its position from the master
        master = layout.slide_master
        found = next((p for p in master.placeholders if p.placeholder_format.type in kinds), None)
    return found


def geometry_for(prs, layouts: Layouts) -> Geometry:
    """The plan's boxes: storykit's own for the plain deck, the template's placeholders
    for an organisation template (so text is measured against the boxes it will fill)."""
    g = DEFAULT_GEOMETRY
    if not layouts.branded:
        return g
    title = _box(_placeholder(layouts.title_only, _TITLES)) or g.title_box
    body_layout = next((lay for lay in prs.slide_layouts if PP_PLACEHOLDER.TITLE in _kinds(lay)
                        and _kinds(lay) & {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT}), None)
    body = _box(_placeholder(body_layout, {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT})) \
        if body_layout is not None else None
    top = title.y + title.h + 16
    body = body or Box(title.x, top, title.w, g.footer_box.y - 8 - top)
    body = replace(body, h=min(body.h, g.footer_box.y - 8 - body.y))
    cover_title = _box(_placeholder(layouts.cover, {PP_PLACEHOLDER.CENTER_TITLE})) \
        or g.cover_title_box
    cover_sub = _box(_placeholder(layouts.cover, {PP_PLACEHOLDER.SUBTITLE})) or g.cover_sub_box
    return replace(g, title_box=title, body_box=body, cover_title_box=cover_title,
                   cover_sub_box=cover_sub)
