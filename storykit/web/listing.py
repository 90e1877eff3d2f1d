"""Lists of stories for a user, from the index snapshot, and paging through them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request

from ..model import Story
from .access import VIEW, can
from .accounts import User
from .index import Snapshot


def visible(user: User, snap: Snapshot, statuses: Iterable[str] | None = None) -> list[Story]:
    """Stories ``user`` may view, newest first, optionally only with one of ``statuses``."""
    wanted = frozenset(statuses) if statuses is not None else None
    out = []
    for story_id in snap.order:
        story = snap.stories[story_id]
        if (wanted is None or story.status in wanted) and can(user, VIEW, story):
            out.append(story)
    return out


def mine(user: User, snap: Snapshot) -> list[Story]:
    """Stories the user owns or that are shared with them, newest first."""
    return [snap.stories[i] for i in snap.order if i in user.access]


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    page: int
    pages: int
    total: int


def page_number() -> int:
    """The ``page`` query argument: a whole number from 1 (anything else means 1)."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


def paginate(items: Sequence[Any], page: int, size: int) -> Page:
    pages = max(1, -(-len(items) // size))
    page = min(page, pages)
    start = (page - 1) * size
    return Page(items[start:start + size], page, pages, len(items))
