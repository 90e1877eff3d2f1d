"""The slide plan: one list of slides that the HTML deck, its PDFs and PowerPoint share.

:func:`plan_deck` turns a job's stories into :class:`Slide` objects: a title slide, a content
warning, the story split by headings and length into slides that fit, quotes, pictures, what
is changing and what is asked, and a consent slide; with ``length`` "summary", at most six
slides a story (``summary``). Text is measured with Pillow and the
theme's font, so a slide never holds more than its box can show; renderers only lay slides
out. One module per idea: what a plan is made of (``parts``), the boxes (``geometry``),
measuring text (``measure``), reading the story's HTML (``blocks``), splitting what does not
fit (``paginate``), planning (``planner``), colours (``colours``) and names (``names``).

Other plugins may build on it (``storykit_pptx`` does): the names below are its public API.
"""

from __future__ import annotations

from .blocks import markdown_blocks
from .colours import PALETTE_DEFAULTS, palette
from .geometry import DEFAULT_GEOMETRY, Box, Geometry
from .measure import Layout, TextMeasure, heading_size, measure_for_theme
from .names import deck_basename, deck_title
from .paginate import Paginator, fit_title, split_runs
from .parts import Block, Cell, Item, Run, Slide, SlideError, SlideImage
from .planner import (
    IDENTIFICATION_LABELS,
    PlanContext,
    picture_title,
    plan_cover,
    plan_deck,
    plan_notice,
    plan_stories,
    plan_story,
    quote_height,
    story_facts,
)
from .summary import SUMMARY_SLIDES, fit_budget, plan_story_summary

__all__ = [
    "DEFAULT_GEOMETRY", "IDENTIFICATION_LABELS", "PALETTE_DEFAULTS", "Block", "Box", "Cell",
    "Geometry", "Item", "Layout", "Paginator", "PlanContext", "Run", "Slide", "SlideError",
    "SlideImage", "TextMeasure", "deck_basename", "deck_title", "fit_title", "heading_size",
    "SUMMARY_SLIDES", "fit_budget", "markdown_blocks", "measure_for_theme", "palette",
    "picture_title", "plan_cover", "plan_deck", "plan_notice", "plan_stories", "plan_story",
    "plan_story_summary", "quote_height", "split_runs", "story_facts",
]
