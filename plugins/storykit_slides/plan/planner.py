"""Planning: a job's stories as slides (title, content warning, the story split by headings
and length, quotes, pictures, what is changing and asked, consent). Speaker notes, the
story's own and the facts made here, are planned only for ``with_notes`` jobs."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from storykit.kit import MarkdownTooLong, nice_date, plain_text

from .blocks import markdown_blocks, tidy_runs
from .geometry import DEFAULT_GEOMETRY, Geometry
from .measure import Layout, TextMeasure, measure_for_theme
from .paginate import Paginator, fit_title, split_runs_to_fit
from .parts import Block, Item, Run, Slide, SlideError, SlideImage

if TYPE_CHECKING:  # pragma: no cover
    from storykit import Job, Notice, StoryView

IDENTIFICATION_LABELS = {
    "full_name": "their full name",
    "first_name": "their first name only",
    "pseudonym": "a made-up name",
    "anonymous": "no name (anonymous)",
}


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
    length: str = "full"
    notice: Notice | None = None

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
        measure=measure or measure_for_theme(job.theme), length=job.length, notice=job.notice)
    return plan_stories(job.stories, ctx)


def plan_stories(stories: Sequence[StoryView], ctx: PlanContext) -> list[Slide]:
    """The whole deck: a pack's notice first, a cover (and, for the full length, contents)
    when there are several stories, then each story's slides; numbered. A summary deck has
    at most :data:`SUMMARY_SLIDES` slides per story, counting the notice and cover too."""
    from .summary import SUMMARY_SLIDES, fit_budget, plan_story_summary

    slides: list[Slide] = []
    if ctx.notice is not None:
        slides += plan_notice(ctx.notice, ctx, draft=any(v.draft for v in stories))
    summary = ctx.length == "summary"
    if len(stories) > 1:
        slides += plan_cover(stories, ctx, contents=not summary)
    if summary:
        per_story = [plan_story_summary(view, ctx) for view in stories]
        budget = SUMMARY_SLIDES * len(stories) - len(slides)
        slides += [s for story in fit_budget(per_story, budget) for s in story]
    else:
        for view in stories:
            slides += plan_story(view, ctx)
    if ctx.notice is not None and ctx.notice.closing is not None:
        slides += plan_closing(ctx.notice.closing, ctx)
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


def plan_cover(stories: Sequence[StoryView], ctx: PlanContext, *,
               contents: bool = True) -> list[Slide]:
    """A cover and (unless ``contents`` is false) a contents list for a deck of several
    stories."""
    g = ctx.geometry
    count = f"{len(stories)} stories"
    lines = [x for x in (ctx.organisation, f"For: {ctx.use_label}", ctx.on_text,
                         None if contents else count) if x]
    title, size = _cover_title(ctx.site_title or "Stories", ctx)
    notes = (f"This deck has {count}.",) if ctx.with_notes else ()
    cover = Slide("deck", title, _cover_blocks([_para(x) for x in lines], ctx), notes=notes,
                  title_size=size,
                  text_size=g.cover_text_size, draft=any(v.draft for v in stories))
    if not contents:
        return [cover]
    listing = Block("list", ordered=True, items=tuple(Item((Run(v.title),)) for v in stories))
    contents_slides = _content_slides("contents", "Stories in this deck", [listing], ctx, None)
    return [cover, *(replace(s, draft=cover.draft) for s in contents_slides)]


def plan_notice(notice: Notice, ctx: PlanContext, *, draft: bool = False) -> list[Slide]:
    """A pack's consent notice as the deck's first slide (more if it cannot fit one)."""
    notes = _notes(ctx, "Read this out, or leave it on screen while people arrive.")
    lines = notice.short or notice.lines
    slides = _content_slides("notice", notice.title, [_para(x) for x in lines], ctx, notes)
    return [replace(s, draft=draft) for s in slides]


def plan_closing(closing: Notice, ctx: PlanContext) -> list[Slide]:
    """What a pack ends with (e.g. a board's "What happened after the last stories")."""
    notes = _notes(ctx, "Say what came of the stories heard before.")
    items = Block("list", items=tuple(Item((Run(x),)) for x in closing.short or closing.lines))
    return _content_slides("notice", closing.title, [items], ctx, notes)


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
        cut = split_runs_to_fit(blocks[0].runs,
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
    pending: tuple[Run, ...] = tidy_runs([Run(text)])
    out: list[tuple[tuple[Run, ...], int, str | None]] = []
    while pending:
        size = next((s for s in g.quote_sizes if quote_height(pending, s, ctx) <= room), None)
        if size is not None:
            out.append((pending, size, attribution))
            break
        cut = split_runs_to_fit(
            pending, lambda r: quote_height(r, g.quote_sizes[-1], ctx) <= room)
        if cut is None:
            raise SlideError("a quote has a word too long to fit on a slide")
        out.append((cut[0], g.quote_sizes[-1], None))
        pending = cut[1]
    return out


def _image_slides(view: StoryView, ctx: PlanContext) -> list[Slide]:
    return [image_slide(image, ctx) for image in view.images]


def image_slide(image, ctx: PlanContext) -> Slide:
    """A picture's slide, headed by what it shows (the first sentence of its alt text)."""
    if not (image.alt or "").strip():
        raise SlideError("a picture has no alt text; describe it in the story's images list")
    text, size = _bar_title(picture_title(image.alt), ctx)
    notes = _notes(ctx, f"Describe the picture for anyone who cannot see it: {image.alt}")
    picture = SlideImage(image.path, image.alt.strip(), image.kind, image.file)
    return Slide("image", text, image=picture, notes=notes, title_size=size)


def picture_title(alt: str) -> str:
    """A heading for a picture from its own words: the alt text's first sentence, without
    its full stop ("A drawing of the ward garden. Two benches..." -> "A drawing of the ward
    garden"). Titles too long for the bar are shortened when fitted."""
    text = " ".join(alt.split())
    first = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
    return first[:-1] if first.endswith(".") and not first.endswith("..") else first


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
