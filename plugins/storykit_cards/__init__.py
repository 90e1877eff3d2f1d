"""storykit_cards: social-media quote cards as PNG with alt-text files (format ``card``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storykit import Format, hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from storykit import Artefact, Job

FORMAT = "card"


def render_cards(job: Job) -> list[Artefact]:
    """Render quote cards (Pillow is imported only now, not whenever plugins load)."""
    from .cards import render_cards as render

    return render(job)


@hookimpl
def register_formats() -> list[Format]:
    """The ``card`` format: PNG quote cards (1200x630, 1080x1080, 1080x1350) for social media."""
    return [Format(name=FORMAT, render=render_cards, extension=".png",
                   description="Quote cards (PNG with alt-text files) for social media",
                   uses=frozenset({"social_media"}), parallel=True)]
