"""Titles and file names of decks: they name the story or the use, never a person."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from storykit import Job

def deck_title(job: Job) -> str:
    """The title of a deck: the story's title, or the site's title for several stories."""
    if len(job.stories) == 1:
        return job.stories[0].title
    return job.site.title or "Stories"


def deck_basename(job: Job, suffix: str, *, notes: bool | None = None) -> str:
    """A file name for the deck that names no one: the slug, or the use for several stories.
    Presenter copies say ``-with-notes`` (``notes`` defaults to whether the job has notes)."""
    base = job.stories[0].slug if len(job.stories) == 1 else f"{job.use}-stories"
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-") or "deck"
    notes = "-with-notes" if (job.with_notes if notes is None else notes) else ""
    draft = "-draft" if any(v.draft for v in job.stories) else ""
    return f"{base}{suffix}{notes}{draft}"
