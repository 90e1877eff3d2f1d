"""storykit_cards: social-media quote cards as PNG with alt-text files (format ``card``)."""

from __future__ import annotations

from storykit import hookimpl
from storykit.render import Format

from .cards import FORMAT, render_cards


@hookimpl
def register_formats() -> list[Format]:
    """The ``card`` format: PNG quote cards (1200x630, 1080x1080, 1080x1350) for social media."""
    return [Format(name=FORMAT, render=render_cards, extension=".png",
                   description="Quote cards (PNG with alt-text files) for social media")]
