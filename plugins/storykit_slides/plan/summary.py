"""The summary length: a story in at most six slides, for a meeting's ten-minute story slot.

A board or committee hears several stories in one item, so each gets: its title and who
shared it (as consent allows), a content warning when it has one, the story in brief, one
or two quotes and a picture where the consent allows them, what we ask or what changed, and
the consent slide. Slides that cannot be cut (title, warning, the brief, the ask, consent)
come first; quotes and pictures fill what is left of the six. A deck of several stories
keeps within six slides a story counting its cover and a pack's notice, by giving up
quotes and pictures where a story has the most slides (:func:`fit_budget`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from storykit.kit import MarkdownTooLong, plain_text

from .blocks import markdown_blocks
from .paginate import Paginator
from .parts import Block, Run, Slide, SlideError
from .planner import (
    PlanContext,
    _bar_title,
    _bullets,
    _consent_slides,
    _cover_blocks,
    _cover_title,
    _fit_quote,
    _notes,
    _para,
    _speaker_notes,
    image_slide,
    story_facts,
)

if TYPE_CHECKING:  # pragma: no cover
    from storykit import StoryView

#: The most slides one story takes in a summary deck.
SUMMARY_SLIDES = 6
#: Slides made of a story's quotes and pictures, the parts a summary may leave out.
MEDIA_KINDS = ("quote", "image")


def plan_story_summary(view: StoryView, ctx: PlanContext) -> list[Slide]:
    """At most :data:`SUMMARY_SLIDES` slides for ``view``, in the order it is told."""
    base = {"story_id": view.id, "story_title": view.title, "draft": view.draft}
    try:
        head = [_title_slide(view, ctx), *_warning(view, ctx), *_brief(view, ctx)]
        tail = [*_closing(view, ctx), *_consent_slides(view, ctx)[:1]]
        room = max(SUMMARY_SLIDES - len(head) - len(tail), 0)
        slides = [*head, *_media(view, ctx, room), *tail]
    except (SlideError, MarkdownTooLong) as exc:
        raise SlideError(f"story {view.id}: {exc}") from None
    return [replace(s, **base) for s in slides]


def fit_budget(stories: list[list[Slide]], budget: int) -> list[list[Slide]]:
    """Each story's slides, leaving out quote and picture slides until all of them together
    take at most ``budget``: from the story with the most of them (then the most slides),
    a picture before a quote, so every story keeps its storyteller's words longest."""
    stories = [list(s) for s in stories]
    while sum(map(len, stories)) > budget:
        candidates = [s for s in stories if any(x.kind in MEDIA_KINDS for x in s)]
        if not candidates:
            break  # nothing more may go: the fixed slides always fit (at most five a story)
        richest = max(candidates, key=lambda s: (sum(x.kind in MEDIA_KINDS for x in s), len(s)))
        pictures = [i for i, x in enumerate(richest) if x.kind == "image"]
        quotes = [i for i, x in enumerate(richest) if x.kind == "quote"]
        del richest[(pictures or quotes)[-1]]
    return stories


def _title_slide(view: StoryView, ctx: PlanContext) -> Slide:
    g = ctx.geometry
    title, size = _cover_title(view.title, ctx)
    lines = [_para(f"Shared by {view.attribution}")]
    if view.service:
        lines.append(_para(f"Service: {view.service}"))
    notes = story_facts(view, ctx) + _speaker_notes(view, ctx)
    return Slide("title", title, _cover_blocks(lines, ctx), notes=notes, title_size=size,
                 text_size=g.cover_text_size)


def _one_slide(kind: str, title: str, blocks: Sequence[Block], ctx: PlanContext,
               notes: tuple[str, ...] = ()) -> Slide:
    """``blocks`` on one slide: as many as fit (a paragraph is cut between sentences)."""
    pages = Paginator(ctx.layout).pages(blocks)
    text, size = _bar_title(title, ctx)
    return Slide(kind, text, tuple(pages[0]) if pages else (), notes=notes, title_size=size,
                 text_size=ctx.geometry.body_size)


def _fits(blocks: Sequence[Block], ctx: PlanContext) -> bool:
    return len(Paginator(ctx.layout).pages(blocks)) <= 1


def _warning(view: StoryView, ctx: PlanContext) -> list[Slide]:
    if not view.content_warning:
        return []
    blocks = [_para(view.content_warning), _para("You can step out at any time. "
                                                 "Please look after yourself.")]
    if not _fits(blocks, ctx):
        blocks = blocks[:1]
    notes = _notes(ctx, "Read the warning out loud. Pause so people can leave if they need to.")
    return [_one_slide("warning", "Content warning", blocks, ctx, notes)]


def _brief(view: StoryView, ctx: PlanContext) -> list[Slide]:
    """The story in brief: its summary, or else as much of its beginning as one slide
    holds (headings left out)."""
    if view.summary:
        blocks = [_para(plain_text(view.summary))]
    elif view.body.strip():
        blocks = [b for b in markdown_blocks(str(ctx.markdown(view.body)))
                  if isinstance(b, Block) and b.kind != "heading"]
    else:
        return []
    if not blocks:
        return []
    notes = _notes(ctx, "This is the story in brief. The full story is in the booklet or "
                        "the full-length slides.")
    return [_one_slide("content", "The story in brief", blocks, ctx, notes)]


def _media(view: StoryView, ctx: PlanContext, room: int) -> list[Slide]:
    """Up to ``room`` slides: the first quote, then a picture, then a second quote (quotes
    that need more than one slide are left out rather than cut)."""
    quotes = []
    for quote in view.quotes:
        if not quote.strip():
            continue
        pieces = _fit_quote(plain_text(quote), view.attribution, ctx)
        if len(pieces) == 1:
            quotes.append(pieces[0])
        if len(quotes) == 2:
            break
    wanted: list[tuple[str, object]] = []
    if quotes:
        wanted.append(("quote", quotes[0]))
    if view.images:
        wanted.append(("image", view.images[0]))
    if len(quotes) > 1:
        wanted.append(("quote", quotes[1]))
    chosen = wanted[:room]
    quote_slides = [_quote_slide(q, view, ctx) for kind, q in chosen if kind == "quote"]
    image_slides = [image_slide(i, ctx) for kind, i in chosen if kind == "image"]
    if len(quote_slides) > 1:
        quote_slides = [replace(s, title=_bar_title(f"In their own words ({n} of 2)", ctx)[0])
                        for n, s in enumerate(quote_slides, 1)]
    return [*quote_slides, *image_slides]


def _quote_slide(piece, view: StoryView, ctx: PlanContext) -> Slide:
    runs, size, attribution = piece
    text, tsize = _bar_title("In their own words", ctx)
    notes = _notes(ctx, f"Read the quote slowly. It is from {view.attribution}.")
    return Slide("quote", text, quote=runs, attribution=attribution, notes=notes,
                 title_size=tsize, text_size=size)


def _closing(view: StoryView, ctx: PlanContext) -> list[Slide]:
    """What we ask and what changed on one slide; when both do not fit, what we ask (the
    meeting's part), else what changed."""
    changes = [c for c in view.changes if c.strip()]
    asks = [a for a in view.asks if a.strip()]
    if not changes and not asks:
        return []
    notes = _notes(ctx, "Say what changed because of this story, and what you are asking for.")
    if changes and asks:
        both = [Block("heading", (Run("What we are changing"),), level=3),
                _bullets(changes, ctx),
                Block("heading", (Run("What we ask"),), level=3), _bullets(asks, ctx)]
        if _fits(both, ctx):
            return [_one_slide("closing", "What we are changing and what we ask", both, ctx,
                               notes)]
    title = "What we ask" if asks else "What we are changing"
    return [_one_slide("closing", title, [_bullets(asks or changes, ctx)], ctx, notes)]
