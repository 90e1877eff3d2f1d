"""Measures of closing the loop, per service and quarter: stories heard (carried by a pack
to a meeting), outcomes by how far they have got, the time from a story being heard to its
outcome being done, and storytellers told. Numbers only: no titles, names or words.

- A story is *heard* in the quarter of the first pack that carried it (its meeting day, or
  the day it was built); a story in no pack counts from the day it was created.
- Outcomes count in the quarter they were recorded; *days to outcome* runs from the day its
  first story was heard to the day the outcome was done (the median, per quarter done).
- *Storytellers told* counts each outcome and story whose storyteller was told (a letter, an
  email or a link), in the quarter of the first time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .records import STATUSES, Filter, OutcomeLog

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from ..model import Story
    from ..site import Site

NO_SERVICE = "No service"
MONTHS = ("January", "April", "July", "October")
ENDS = ("March", "June", "September", "December")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def words(self) -> str:
        """``January to March 2027``: how people say it (no "Q1" codes)."""
        return f"{MONTHS[self.number - 1]} to {ENDS[self.number - 1]} {self.year}"


@dataclass
class Row:
    """The measures of one service in one quarter."""

    service: str
    quarter: Quarter
    heard: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    done_days: list[int] = field(default_factory=list)
    told: int = 0

    @property
    def median_days(self) -> int | None:
        return round(statistics.median(self.done_days)) if self.done_days else None


def story_heard_on(site: Site, stories: Iterable[Story] | None = None
                   ) -> dict[str, tuple[dt.date, str]]:
    """Each story's first day heard and its service (``stories``: all, loaded, by default)."""
    from ..packs import PackLog

    heard: dict[str, dt.date] = {}
    for pack in PackLog(site.database).all(limit=100_000):
        day = pack.meeting_date or pack.built_on
        for story_id in pack.story_ids:
            if story_id not in heard or day < heard[story_id]:
                heard[story_id] = day
    found: dict[str, tuple[dt.date, str]] = {}
    for story in site.store.load_all().stories if stories is None else stories:
        day = heard.get(story.id) or story.created
        if day is not None:
            found[story.id] = (day, story.service or NO_SERVICE)
    return found


def measures(site: Site, *, service: str | None = None,
             stories: Iterable[Story] | None = None) -> list[Row]:
    """Rows per (service, quarter), oldest quarter first; only ``service`` when given."""
    rows: dict[tuple[str, Quarter], Row] = {}

    def row(svc: str, day: dt.date) -> Row:
        key = (svc, Quarter.of(day))
        if key not in rows:
            rows[key] = Row(svc, key[1])
        return rows[key]

    heard_on = story_heard_on(site, stories)
    for day, svc in heard_on.values():
        row(svc, day).heard += 1
    log = OutcomeLog(site.database)
    outcomes = log.list(Filter(limit=1_000_000))
    by_id = {o.id: o for o in outcomes}
    for o in outcomes:
        svc = o.service or NO_SERVICE
        row(svc, o.created_on).outcomes[o.status] += 1
        heard = [heard_on[s][0] for s in o.story_ids if s in heard_on]
        if o.status == "done" and o.done_on and heard:
            row(svc, o.done_on).done_days.append(max(0, (o.done_on - min(heard)).days))
    seen: set[tuple[str, str]] = set()
    for m in log.messages():
        outcome = by_id.get(m.outcome_id)
        if outcome is None or (m.outcome_id, m.story_id) in seen:
            continue
        seen.add((m.outcome_id, m.story_id))
        row(outcome.service or NO_SERVICE, m.sent_on).told += 1
    found = sorted(rows.values(), key=lambda r: (r.quarter, r.service))
    return [r for r in found if service is None or r.service == service]


def totals_by_quarter(rows: list[Row]) -> list[Row]:
    """The rows added up over services, one per quarter (for charts of the whole site)."""
    out: dict[Quarter, Row] = {}
    for r in rows:
        total = out.setdefault(r.quarter, Row("All services", r.quarter))
        total.heard += r.heard
        total.told += r.told
        total.done_days += r.done_days
        for status, count in r.outcomes.items():
            total.outcomes[status] += count
    return [out[q] for q in sorted(out)]


CSV_HEADER = ["service", "quarter", "quarter_start", "stories_heard",
              *(f"outcomes_{s}" for s in STATUSES), "median_days_story_to_outcome_done",
              "storytellers_told"]


def measures_csv(rows: list[Row]) -> str:
    """The rows as CSV (cells that a spreadsheet would run as a formula are quoted safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        median = r.median_days
        writer.writerow([_cell(r.service), r.quarter.words, r.quarter.start.isoformat(),
                         r.heard, *(r.outcomes[s] for s in STATUSES),
                         "" if median is None else median, r.told])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A service name as a CSV cell: never a formula when opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
