"""Dates: the day recorded decisions are made for, and dates as people read them.

:func:`today` is the one place storykit asks the computer for the date when it decides what
may be rendered or published and records it; ``render`` and ``build`` always use it (a date
given on the command line is only ever a marked, unrecorded what-if preview).
"""

from __future__ import annotations

import datetime as dt

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
