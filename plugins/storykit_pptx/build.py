"""The ``pptx`` format: an editable PowerPoint deck from the shared slide plan.

Every slide has a real title placeholder, text stays editable (no pictures of text), every
picture carries its alt text (``descr``), decorative shapes are marked decorative, and
speaker notes go into the notes pane only for ``--with-notes`` copies. Text was measured by
the planner with the theme's font (Liberation Sans has Arial's metrics), and every paragraph
gets exact line spacing, so PowerPoint lays it out in the height the planner counted.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt
from storykit_slides.plan import (
    Block,
    Box,
    Geometry,
    Item,
    Layout,
    Run,
    Slide,
    TextMeasure,
    deck_basename,
    deck_title,
    heading_size,
    measure_for_theme,
    palette,
    plan_deck,
)

from storykit import Artefact, Job, StorykitError
from storykit.kit import DRAFT_MARK, ImageError, MediaError, atomic_write, picture_path, prepare_image

from .template import EMU_PER_PX, THEME_TEMPLATE, geometry_for, open_presentation, template_for

IMAGE_WIDTH = 1920
FOOTER_SIZE = 20
#: Fonts with the same metrics, so PowerPoint breaks lines where the planner measured them.
OFFICE_FONTS = {"Liberation Sans": "Arial", "Arimo": "Arial", "Liberation Serif": "Times New Roman",
                "Tinos": "Times New Roman", "Liberation Mono": "Courier New"}
CODE_FONT = "Courier New"
_DECORATIVE = "{C183D7F6-B498-43B3-948B-1728B52AA6E4}"
_ADEC = "http://schemas.microsoft.com/office/drawing/2017/decorative"


@dataclass
class Style:
    """What every slide needs to know: boxes, colours, font, language, branding."""

    geometry: Geometry
    colours: dict[str, str]
    font: str
    lang: str
    branded: bool
    measure: TextMeasure
    with_notes: bool
    draft_mark: str

    def px(self, value: float) -> Emu:
        return Emu(round(value * EMU_PER_PX))

    def pt(self, px: float) -> Pt:
        return Pt(round(px * 0.75 * 100) / 100)

    def rgb(self, key: str) -> RGBColor:
        return RGBColor.from_string(self.colours[key].lstrip("#"))


def render_pptx(job: Job) -> list[Artefact]:
    """Write the deck for ``job`` as one .pptx carrying every story."""
    template = template_for(job.config, job.site_root, job.theme.static(THEME_TEMPLATE))
    prs, layouts = open_presentation(template)
    geometry = geometry_for(prs, layouts)
    measure = measure_for_theme(job.theme)
    slides = plan_deck(job, geometry, measure)
    name = job.theme.fonts.get("name", "Arial")
    style = Style(geometry, palette(job.theme), OFFICE_FONTS.get(name, name) or "Arial",
                  job.site.language or "en-GB", layouts.branded, measure, job.with_notes,
                  job.draft_mark or DRAFT_MARK)
    with tempfile.TemporaryDirectory(prefix="storykit-pptx-") as tmp:
        for slide in slides:
            add_slide(prs, layouts, slide, style, Path(tmp))
        set_properties(prs, job)
        data = io.BytesIO()
        prs.save(data)
    out = job.out_dir / (deck_basename(job, "") + ".pptx")
    atomic_write(out, data.getvalue())
    media = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    return [Artefact(out, job.format, tuple(v.id for v in job.stories), media)]


def set_properties(prs, job: Job) -> None:
    """Document properties that name the deck and the organisation, never a storyteller."""
    props = prs.core_properties
    props.title = deck_title(job)
    props.author = job.site.organisation or job.site.title
    props.last_modified_by = "storykit"
    props.subject = f"For: {job.use_label}"
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.language = job.site.language or "en-GB"
    props.revision = 1


# --- slides ----------------------------------------------------------------------------------

def add_slide(prs, layouts, slide: Slide, style: Style, tmp: Path) -> None:
    cover = slide.kind in ("title", "deck")
    layout = layouts.cover if cover else layouts.title_only
    page = prs.slides.add_slide(layout)
    title, sub = _placeholders(page)
    if cover and not style.branded:
        _fill(page.background.fill, style.rgb("primary"))
    _title(title, slide, style, cover)
    g = style.geometry
    if cover:
        _cover_text(page, sub, slide, style)
    else:
        if sub is not None:
            _remove(sub)
        if slide.kind == "quote":
            _quote(page, slide, style)
        elif slide.kind == "image":
            _picture(page, slide, style, tmp)
        else:
            _blocks(page, slide.blocks, g.body_box, style)
        if slide.kind == "warning":
            bar = Box(g.body_box.x - 32, g.body_box.y, 12, g.body_box.h)
            _decoration(page, bar, style.rgb("warning"), style)
    _footer(page, slide, style, cover)
    if style.with_notes and slide.notes:
        page.notes_slide.notes_text_frame.text = "\n".join(slide.notes)


def _placeholders(page):
    """The slide's title placeholder and (on covers) its subtitle; other placeholders the
    layout brought along are removed, so no empty "Click to add text" box is left."""
    title = sub = None
    for shape in list(page.placeholders):
        kind = shape.placeholder_format.type
        if kind in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE) and title is None:
            title = shape
        elif kind == PP_PLACEHOLDER.SUBTITLE and sub is None:
            sub = shape
        else:
            _remove(shape)
    if title is None:  # pragma: no cover - find_layouts only picks layouts with a title
        raise StorykitError("the slide layout has no title placeholder")
    return title, sub


def _remove(shape) -> None:
    shape.element.getparent().remove(shape.element)


def _fill(fill, colour: RGBColor) -> None:
    fill.solid()
    fill.fore_color.rgb = colour


def _place(shape, box: Box, style: Style) -> None:
    shape.left, shape.top = style.px(box.x), style.px(box.y)
    shape.width, shape.height = style.px(box.w), style.px(box.h)


def _frame(frame, style: Style, anchor=MSO_ANCHOR.TOP, margins=(0, 0, 0, 0)) -> None:
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = anchor
    left, top, right, bottom = (style.px(m) for m in margins)
    frame.margin_left, frame.margin_top, frame.margin_right, frame.margin_bottom = (
        left, top, right, bottom)


def _title(shape, slide: Slide, style: Style, cover: bool) -> None:
    g = style.geometry
    if cover:
        _place(shape, g.cover_title_box, style)
        _frame(shape.text_frame, style, MSO_ANCHOR.BOTTOM)
    elif style.branded:
        _place(shape, g.title_box, style)
        _frame(shape.text_frame, style, MSO_ANCHOR.MIDDLE)
    else:  # a full-width NHS Blue bar; the margins leave exactly the planner's title box
        t = g.title_box
        _place(shape, Box(0, 0, g.width, t.y * 2 + t.h), style)
        _frame(shape.text_frame, style, MSO_ANCHOR.MIDDLE,
               (t.x, t.y, g.width - t.x - t.w, t.y))
        _fill(shape.fill, style.rgb("primary"))
    colour = None if style.branded else style.rgb("on_primary")
    para = shape.text_frame.paragraphs[0]
    para.alignment = PP_ALIGN.LEFT
    para.line_spacing = style.pt(slide.title_size * g.title_line_height)
    _runs(para, (Run(slide.title, bold=True),), slide.title_size, style, colour)


def _cover_text(page, sub, slide: Slide, style: Style) -> None:
    g = style.geometry
    shape = sub if sub is not None else page.shapes.add_textbox(0, 0, 1, 1)
    _place(shape, g.cover_sub_box, style)
    _frame(shape.text_frame, style)
    colour = None if style.branded else style.rgb("on_primary")
    frame = shape.text_frame
    for i, block in enumerate(slide.blocks):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        _para_format(para, g.cover_text_size, style, gap=g.gap)
        _bullet(para, None)
        _runs(para, block.runs, g.cover_text_size, style, colour)


# --- text ------------------------------------------------------------------------------------

def _para_format(para, size: int, style: Style, *, gap: float, align=PP_ALIGN.LEFT) -> None:
    para.alignment = align
    para.line_spacing = style.pt(size * style.geometry.line_height)
    para.space_before = Pt(0)
    para.space_after = style.pt(gap)


def _bullet(para, kind: str | None, *, level: int = 0, start: int = 1, style=None) -> None:
    """List markers by hand: ``None`` (plain paragraph), ``"bullet"`` or ``"number"``."""
    ppr = para._p.get_or_add_pPr()  # noqa: SLF001 - no public API for bullets
    for tag in ("a:buNone", "a:buAutoNum", "a:buChar", "a:buFont"):
        for old in ppr.findall(qn(tag)):
            ppr.remove(old)
    if kind is None:
        ppr.set("marL", "0")
        ppr.set("indent", "0")
        etree.SubElement(ppr, qn("a:buNone"))
        return
    indent = style.px(style.geometry.indent)
    ppr.set("marL", str(int(indent) * (level + 1)))
    ppr.set("indent", str(-int(indent)))
    if kind == "number":
        etree.SubElement(ppr, qn("a:buAutoNum"), type="arabicPeriod", startAt=str(start))
    else:
        etree.SubElement(ppr, qn("a:buFont"), typeface="Arial")
        etree.SubElement(ppr, qn("a:buChar"), char="\u2022" if level % 2 == 0 else "\u25e6")


def _runs(para, runs: Sequence[Run], size: int, style: Style, colour: RGBColor | None = None,
          *, bold: bool = False, italic: bool = False) -> None:
    for run in runs:
        for i, piece in enumerate(run.text.split("\n")):
            if i:
                para.add_line_break()
            if not piece:
                continue
            r = para.add_run()
            r.text = piece
            font = r.font
            font.size = style.pt(size)
            font.bold = bold or run.bold or None
            font.italic = italic or run.italic or None
            font.name = CODE_FONT if run.code else style.font
            if colour is not None:
                font.color.rgb = colour
            if run.href:
                r.hyperlink.address = run.href
            r._r.get_or_add_rPr().set("lang", style.lang)  # noqa: SLF001


def _textbox(page, box: Box, style: Style, anchor=MSO_ANCHOR.TOP):
    shape = page.shapes.add_textbox(style.px(box.x), style.px(box.y), style.px(box.w),
                                    style.px(box.h))
    _frame(shape.text_frame, style, anchor)
    return shape


def _blocks(page, blocks: Sequence[Block], box: Box, style: Style) -> None:
    """Body text: one text box per run of text blocks, a real table for each table, stacked
    at the heights the planner measured."""
    layout = Layout(style.geometry, style.measure)
    y = box.y
    pending: list[Block] = []

    def flush() -> None:
        nonlocal y, pending
        if pending:
            height = sum(layout.height(b) for b in pending)
            shape = _textbox(page, Box(box.x, y, box.w, min(height, box.y + box.h - y)), style)
            _write_blocks(shape.text_frame, pending, style)
            y += height
            pending = []

    for block in blocks:
        if block.kind == "table":
            flush()
            height = layout.height(block)
            _table(page, block, Box(box.x, y, box.w, height - style.geometry.gap), style, layout)
            y += height
        else:
            pending.append(block)
    flush()


def _write_blocks(frame, blocks: Sequence[Block], style: Style) -> None:
    g = style.geometry
    first = True

    def para():
        nonlocal first
        p = frame.paragraphs[0] if first else frame.add_paragraph()
        first = False
        return p

    colour = None if style.branded else style.rgb("text")
    for block in blocks:
        if block.kind == "heading":
            size = heading_size(g, block.level)
            p = para()
            _para_format(p, size, style, gap=g.gap)
            _bullet(p, None)
            _runs(p, block.runs, size, style, colour, bold=True)
        elif block.kind == "list":
            _write_items(para, block.items, block.ordered, block.start, 0, style, colour)
            last = frame.paragraphs[-1]
            last.space_after = style.pt(g.item_gap + g.gap)
        elif block.kind == "quote":
            for i, child in enumerate(block.children):
                p = para()
                last = i == len(block.children) - 1
                _para_format(p, g.body_size, style, gap=g.gap * 2 if last else g.gap)
                _bullet(p, None)
                p._p.get_or_add_pPr().set("marL", str(int(style.px(g.indent))))  # noqa: SLF001
                _runs(p, child.runs, g.body_size, style, colour, italic=True)
        else:
            p = para()
            _para_format(p, g.body_size, style, gap=g.gap)
            _bullet(p, None)
            _runs(p, block.runs, g.body_size, style, colour)


def _write_items(para, items: Sequence[Item], ordered: bool, start: int, level: int,
                 style: Style, colour) -> None:
    g = style.geometry
    for item in items:
        p = para()
        _para_format(p, g.body_size, style, gap=g.item_gap)
        p.level = min(level, 8)
        _bullet(p, "number" if ordered else "bullet", level=level, start=start, style=style)
        _runs(p, item.runs, g.body_size, style, colour)
        if item.items:
            _write_items(para, item.items, item.items[0].ordered, 1, level + 1, style, colour)


def _table(page, block: Block, box: Box, style: Style, layout: Layout) -> None:
    g = style.geometry
    rows = [r for r in (block.head, *block.rows) if r]
    cols = max(len(r) for r in rows)
    frame = page.shapes.add_table(len(rows), cols, style.px(box.x), style.px(box.y),
                                  style.px(box.w), style.px(box.h))
    table = frame.table
    table.first_row = bool(block.head)
    table.horz_banding = False
    for c in range(cols):
        table.columns[c].width = style.px(box.w / cols)
    for r, row in enumerate(rows):
        table.rows[r].height = style.px(layout.row_height(row))
        for c in range(cols):
            cell = table.cell(r, c)
            for side in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
                setattr(cell, side, style.px(g.cell_pad))
            cell.text_frame.word_wrap = True
            p = cell.text_frame.paragraphs[0]
            _para_format(p, g.table_size, style, gap=0)
            header = c < len(row) and row[c].header
            if not style.branded:  # the theme's colours, not the default table style's
                _fill(cell.fill, style.rgb("panel" if header else "background"))
            if c < len(row):
                _runs(p, row[c].runs, g.table_size, style,
                      None if style.branded else style.rgb("text"), bold=header)
    frame.name = "Table"


def _quote(page, slide: Slide, style: Style) -> None:
    g = style.geometry
    box = g.body_box
    shape = _textbox(page, Box(box.x + g.indent, box.y, box.w - 2 * g.indent, box.h), style,
                     MSO_ANCHOR.MIDDLE)
    frame = shape.text_frame
    colour = None if style.branded else style.rgb("text")
    p = frame.paragraphs[0]
    _para_format(p, slide.text_size, style, gap=g.gap)
    _bullet(p, None)
    _runs(p, slide.quote, slide.text_size, style, colour, italic=True)
    if slide.attribution:
        a = frame.add_paragraph()
        _para_format(a, g.body_size, style, gap=0)
        _bullet(a, None)
        _runs(a, (Run(slide.attribution, bold=True),), g.body_size, style, colour)
    _decoration(page, Box(box.x, box.y + box.h * 0.3, 8, box.h * 0.4), style.rgb("primary"), style)


def _decoration(page, box: Box, colour: RGBColor, style: Style) -> None:
    """A coloured bar, marked decorative so screen readers and the checker skip it."""
    shape = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, style.px(box.x), style.px(box.y),
                                  style.px(box.w), style.px(box.h))
    _fill(shape.fill, colour)
    shape.line.fill.background()
    shape.name = "Decoration"
    c_nv_pr = shape._element.nvSpPr.cNvPr  # noqa: SLF001
    ext_lst = etree.SubElement(c_nv_pr, qn("a:extLst"))
    ext = etree.SubElement(ext_lst, qn("a:ext"), uri=_DECORATIVE)
    etree.SubElement(ext, f"{{{_ADEC}}}decorative", nsmap={"adec": _ADEC}, val="1")


def _picture(page, slide: Slide, style: Style, tmp: Path) -> None:
    """The picture, whole and centred in the body box, with its alt text as description."""
    image = slide.image
    if image is None:
        raise StorykitError(f"story {slide.story_id}: a picture has no file")
    dest = tmp / f"picture-{slide.number}.jpg"
    try:  # the media rule, again: nothing but the story's own media file is read
        width, height = prepare_image(picture_path(image), dest, max_width=IMAGE_WIDTH,
                                      fmt="JPEG")
    except (ImageError, MediaError) as exc:
        raise StorykitError(f"story {slide.story_id}: {exc}") from None
    box = style.geometry.body_box
    scale = min(box.w / width, box.h / height)
    w, h = width * scale, height * scale
    pic = page.shapes.add_picture(str(dest), style.px(box.x + (box.w - w) / 2),
                                  style.px(box.y + (box.h - h) / 2), style.px(w), style.px(h))
    c_nv_pr = pic._element.nvPicPr.cNvPr  # noqa: SLF001
    c_nv_pr.set("descr", image.alt)
    pic.name = "Photo" if image.kind == "photo" else "Picture"


def _footer(page, slide: Slide, style: Style, cover: bool) -> None:
    """The story's title (shortened to fit), the draft mark and the slide number. Two text
    boxes: LibreOffice ignores a right-aligned tab stop, which would need only one."""
    g = style.geometry
    box = g.footer_box
    colour = style.rgb("on_primary") if cover and not style.branded else (
        None if style.branded else style.rgb("secondary_text"))
    number = f"Slide {slide.number} of {slide.total}"
    right = f"{style.draft_mark}   {number}" if slide.draft else number
    right_w = style.measure.width(right, FOOTER_SIZE, bold=slide.draft) / g.fit + 8
    left_w = max(box.w - right_w - 24, 0)
    for text, x, w, align in ((_shorten(slide.story_title, left_w, style), box.x, left_w,
                               PP_ALIGN.LEFT),
                              (right, box.x + box.w - right_w, right_w, PP_ALIGN.RIGHT)):
        if not text or w <= 0:
            continue
        shape = _textbox(page, Box(x, box.y, w, box.h), style, MSO_ANCHOR.MIDDLE)
        shape.name = "Footer"
        p = shape.text_frame.paragraphs[0]
        _para_format(p, FOOTER_SIZE, style, gap=0, align=align)
        _bullet(p, None)
        _runs(p, (Run(text, bold=slide.draft and align == PP_ALIGN.RIGHT),), FOOTER_SIZE, style,
              colour)


def _shorten(text: str, width: float, style: Style) -> str:
    """``text`` cut with an ellipsis so it fits on one footer line."""
    limit = width * style.geometry.fit
    if style.measure.width(text, FOOTER_SIZE) <= limit:
        return text
    words = text.split()
    while words and style.measure.width(" ".join(words) + "\u2026", FOOTER_SIZE) > limit:
        words.pop()
    return " ".join(words) + "\u2026" if words else ""
