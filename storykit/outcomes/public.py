"""What the public may see of outcomes ("You said, we did"): only those that are done, and of
each only its title, service, the day it was done and the ids of its stories. Who owns it,
why, where it was heard and the storytellers' responses stay with the team. Which of the
stories may be shown is not decided here: a builder links only to stories on the website
today (consent for ``public_website``, decided by the core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .records import Filter, OutcomeLog

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site


@dataclass(frozen=True)
class PublicOutcome:
    id: str
    title: str
    service: str
    done_on: dt.date
    story_ids: tuple[str, ...]


def done_outcomes(site: Site, *, limit: int = 5000) -> list[PublicOutcome]:
    """Every done outcome as the public may see it, most recently done first."""
    found = OutcomeLog(site.database).list(Filter(status="done", limit=limit))
    public = [PublicOutcome(o.id, o.title, o.service or "", o.done_on or o.created_on,
                            o.story_ids) for o in found]
    return sorted(public, key=lambda o: (o.done_on, o.id), reverse=True)
