"""Dates: one parser for dates from outside, the day recorded decisions are made for, and
dates as people read them.

Python's dates run from year 1 to 9999, and both ends are traps. ``int()`` of the year in
``1/1/99999999999999999999`` is fine but ``date()`` then raises OverflowError, not the
ValueError callers expect; and a date that parses can still overflow later, when consent runs
to the day after ``expires``, a warning looks 60 days ahead, an audit filter runs to the day
after ``until``, or a time ``9999-12-31T23:00:00-05:00`` is turned into UTC. So every date
storykit reads goes through :func:`parse_date` (or :func:`parse_datetime`), which accepts only
dates between :data:`EARLIEST` and :data:`LATEST` and raises :class:`DateError`, a
ValueError whose message says in words what to type instead.

:func:`today` is the one place storykit asks the computer for the date when it decides what
may be rendered or published and records it; ``render`` and ``build`` always use it (a date
given on the command line is only ever a marked, unrecorded what-if preview).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Consent, stories and audit entries all fall well inside this; arithmetic of centuries
#: either side of it is still safe.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)
MAX_LENGTH = 40  # longer text is not a date; do not spend time (or memory) on it

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9:]+)?")
ISO_EXAMPLE = "2027-03-01"


class DateError(ValueError):
    """A date that cannot be used; the message says why and what to write, in words."""


def parse_date(text: str, *, day_first: bool = False) -> dt.date:
    """``text`` as a date: ``2027-03-01`` (year-month-day, as date boxes, files and the
    command line write it) or, with ``day_first``, ``1/3/2027`` (day/month/year, as people
    in the UK type it). Raises :class:`DateError`."""
    if not isinstance(text, str):
        text = ""
    known = _KNOWN_DATES.get(text)
    if known is not None:
        return known
    value = text.strip()
    found = _ISO.fullmatch(value) if len(value) <= MAX_LENGTH else None
    if found:
        year, month, day = map(int, found.groups())
    elif day_first and (found := _DAY_FIRST.fullmatch(value)) is not None:
        day, month, year = map(int, found.groups())
    else:
        also = " or 1/3/2027 (day/month/year)" if day_first else ""
        raise DateError(f"write the date as year-month-day, for example {ISO_EXAMPLE}{also}")
    try:
        when = dt.date(year, month, day)
    except ValueError:
        raise DateError(f"{value} is not a real date: check the day and the month") from None
    in_range(when)
    if found.re is _ISO:  # the same text means the same date whatever day_first says
        _remember(_KNOWN_DATES, text, when)
    return when


def parse_datetime(text: str) -> dt.datetime:
    """``text`` as a time with a time zone (``2026-09-02T14:10:00Z``), in UTC. Raises
    :class:`DateError`."""
    if not isinstance(text, str):
        text = ""
    known = _KNOWN_TIMES.get(text)
    if known is not None:
        return known
    value = text.strip()
    if len(value) > MAX_LENGTH or not _ISO_TIME.fullmatch(value):
        raise DateError("write a date and time such as 2026-09-02T14:10:00Z")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DateError(f"{value} is not a real date and time") from None
    if when.tzinfo is None:
        raise DateError(f"{value} needs a time zone: add Z for UTC, e.g. {value}Z")
    in_range(when.date())  # before converting: near year 1 or 9999 that overflows
    return _remember(_KNOWN_TIMES, text, when.astimezone(dt.UTC))


#: Text already read as a valid date or time, and what it was read as: loading a big site
#: reads the same few hundred dates tens of thousands of times. Dates and times cannot be
#: changed, so sharing them is safe; only valid text is kept (a refusal is worked out again,
#: message and all), and no more than _KNOWN_MAX of each.
_KNOWN_DATES: dict[str, dt.date] = {}
_KNOWN_TIMES: dict[str, dt.datetime] = {}
_KNOWN_MAX = 20_000


def _remember(known: dict, text: str, value: Any) -> Any:
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known[text] = value
    return value


def in_range(day: dt.date) -> dt.date:
    """``day`` if it lies between :data:`EARLIEST` and :data:`LATEST`; else DateError."""
    if not EARLIEST <= day <= LATEST:
        raise DateError(f"use a date between {EARLIEST.year} and {LATEST.year}, not "
                        f"{day.isoformat()}")
    return day


#: The test suite pins the day here (``monkeypatch.setattr(storykit.dates, "FIXED_TODAY",
#: day)``) so that recorded decisions do not depend on when the tests run. No setting,
#: environment variable or command-line option reaches it.
FIXED_TODAY: dt.date | None = None


def today() -> dt.date:
    """The date consent decisions that produce recorded outputs are made for."""
    return FIXED_TODAY or dt.date.today()


def nice_date(value: dt.date | None) -> str:
    """NHS style dates: 26 November 2026 (an empty string for no date)."""
    return f"{value.day} {value:%B %Y}" if value else ""
