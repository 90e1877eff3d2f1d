"""The command line's date type: ``--date 2027-03-01``, read with :func:`.dates.parse_date`.

Apart from :mod:`storykit.dates` so that loading and building stories, which need dates
but no command line, do not import click.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from .dates import DateError, parse_date


class DateParam(click.ParamType):
    """A command-line date (``--date 2027-03-01``) read with :func:`parse_date`."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except DateError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


#: The type of every ``--date`` option.
DATE = DateParam()
