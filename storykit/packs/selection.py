"""Which stories a pack definition picks: the ones it names, in order, then every other
story of its services or with its tags (by title). Named stories that do not exist are an
error; a story picked by a filter that consent refuses is left out with its reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import NotFoundError
from .definition import PackDefinition, PackError

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site


@dataclass(frozen=True)
class Chosen:
    """A story a pack considers, and whether the person asked for it by name (a named
    story that is refused makes ``storykit pack`` exit non-zero)."""

    story: Story
    named: bool


def select_stories(site: Site, definition: PackDefinition) -> tuple[list[Chosen], list[str]]:
    """``(stories to decide on, problems)``: problems are story files storykit could not read
    while filtering (named with file and line, never their text)."""
    chosen: list[Chosen] = []
    seen: set[str] = set()
    missing = []
    for ref in definition.stories:
        try:
            story = site.store.find(ref)
        except NotFoundError:
            missing.append(ref)
            continue
        if story.id not in seen:
            seen.add(story.id)
            chosen.append(Chosen(story, True))
    if missing:
        raise PackError(f"no story {', '.join(repr(r) for r in missing)}: use a story's id "
                        "(st-...) or its web address name (see storykit list)")
    problems: list[str] = []
    if definition.services or definition.tags:
        loaded = site.store.load_all()
        problems = [str(p) for p in loaded.problems]
        picked = [s for s in loaded.stories if s.id not in seen and matches(s, definition)]
        chosen += [Chosen(s, False) for s in sorted(picked, key=lambda s: (s.title.lower(), s.id))]
    return chosen, problems


def matches(story: Story, definition: PackDefinition) -> bool:
    """Whether a filter picks ``story``: its service is one of the services asked for (if
    any; case does not matter) and it has one of the tags asked for (if any)."""
    if definition.services:
        wanted = {s.casefold().strip() for s in definition.services}
        if (story.service or "").casefold().strip() not in wanted:
            return False
    if definition.tags:
        wanted = {t.casefold().strip() for t in definition.tags}
        if not wanted & {t.casefold().strip() for t in story.tags}:
            return False
    return True
