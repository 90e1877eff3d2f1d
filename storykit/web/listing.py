"""Lists of stories for a user, from the index snapshot, and paging through them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request

from ..model import Story
from .access import VIEW, can, statuses_seen
from .accounts import User
from .index import Snapshot


def visible(user: User, snap: Snapshot, statuses: Iterable[str] | None = None) -> list[Story]:
    """Stories ``user`` may view, newest first, optionally only with one of ``statuses``.

    Only likely stories are looked at (those the user works on, and those in statuses their
    roles see), so a list stays fast with 10,000 stories; each is checked with ``can``, except
    for users who may view every story (``statuses_seen`` is None)."""
    wanted = frozenset(statuses) if statuses is not None else None
    seen = statuses_seen(user)
    if seen is None:  # may view every story (admins): nothing to check one by one
        ids = snap.order if wanted is None else _merge(
            snap, [snap.by_status.get(s, ()) for s in wanted], presorted=True)
        return [snap.stories[i] for i in ids]
    else:
        groups = [snap.by_status.get(s, ()) for s in (seen if wanted is None else seen & wanted)]
        mine_ids = tuple(i for i in user.access if i in snap.stories and
                         (wanted is None or snap.stories[i].status in wanted))
        ids = _merge(snap, [*groups, mine_ids])
        return [snap.stories[i] for i in ids if can(user, VIEW, snap.stories[i])]


def _merge(snap: Snapshot, groups: list[tuple[str, ...]], presorted: bool = False) -> list[str]:
    """The ids of several groups, without repeats, newest first (``presorted``: each group
    already is, so one group needs no sorting)."""
    if presorted and len(groups) == 1:
        return list(groups[0])
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
