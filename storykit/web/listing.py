"""Lists of stories for a user, from the index snapshot, and paging through them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request

from ..model import Story
from .access import statuses_seen
from .accounts import User
from .index import Snapshot


def visible(user: User, snap: Snapshot, statuses: Iterable[str] | None = None) -> list[Story]:
    """Stories ``user`` may view, newest first, optionally only with one of ``statuses``.

    Decided from the user's roles and stories, not story by story: ``can(user, VIEW, s)`` is
    True exactly for the stories the user works on and those whose status their roles see
    (``statuses_seen``), so those are the list, read from the snapshot's status groups (a
    list stays fast with 10,000 stories). test_fast_lists_agree_with_the_rule_book keeps
    this equal to asking ``can`` of every story."""
    if not user.active:
        return []  # can() lets a deactivated account see nothing
    wanted = frozenset(statuses) if statuses is not None else None
    seen = statuses_seen(user)
    if seen is None:  # may view every story (admins)
        ids = snap.order if wanted is None else snap.in_statuses(wanted)
        return [snap.stories[i] for i in ids]
    shown = seen if wanted is None else seen & wanted
    ids = snap.in_statuses(shown) if shown else ()
    stories = snap.stories
    extra = [i for i in user.access if i in stories and stories[i].status not in shown
             and (wanted is None or stories[i].status in wanted)]
    if extra:
        ids = _merge(snap, [ids, tuple(extra)])
    return [stories[i] for i in ids]


def _merge(snap: Snapshot, groups: list[tuple[str, ...]]) -> list[str]:
    """The ids of several groups, without repeats, newest first."""
    position = snap.position
    return sorted({i for group in groups for i in group}, key=position.__getitem__)


def mine(user: User, snap: Snapshot) -> list[Story]:
    """Stories the user owns or that are shared with them, newest first."""
    ids = [i for i in user.access if i in snap.stories]
    ids.sort(key=snap.position.__getitem__)
    return [snap.stories[i] for i in ids]


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
