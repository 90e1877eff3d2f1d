"""Dates from outside (files, forms, the command line): one parser, 1900 to 2999 only, the
same answer every time (valid text is remembered; refusals are worked out afresh)."""

from __future__ import annotations

import datetime as dt

import pytest

from storykit.dates import DateError, parse_date, parse_datetime


@pytest.mark.parametrize(("text", "words"), [
    ("2027-02-29", "is not a real date"),
    ("1899-12-31", "between 1900 and 2999"),
    ("3000-01-01", "between 1900 and 2999"),
    ("2027-3-1", "year-month-day"),
    ("1/3/2027", "year-month-day"),
    ("99999999999999999999-01-01", "year-month-day"),
    ("", "year-month-day"),
])
def test_refused_dates_are_refused_every_time_with_the_same_words(text, words):
    for _ in range(3):
        parse_date("2027-03-01")  # a valid date read in between changes nothing
        with pytest.raises(DateError, match=words):
            parse_date(text)


def test_a_date_read_again_is_the_same_date_and_day_first_only_when_asked():
    assert parse_date("2027-03-01") == parse_date(" 2027-03-01 ") == dt.date(2027, 3, 1)
    assert parse_date("2027-03-01", day_first=True) == dt.date(2027, 3, 1)
    assert parse_date("1/3/2027", day_first=True) == dt.date(2027, 3, 1)
    with pytest.raises(DateError, match="year-month-day"):
        parse_date("1/3/2027")  # read day first a moment ago: still not without day_first
    with pytest.raises(DateError):
        parse_date(None)  # type: ignore[arg-type]


def test_times_are_read_in_utc_the_same_every_time_and_limited_to_1900_to_2999():
    for _ in range(2):
        assert parse_datetime("2026-09-02T15:10:00+01:00") == \
            dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC)
        with pytest.raises(DateError, match="between 1900 and 2999"):
            parse_datetime("9999-12-31T23:00:00-05:00")
        with pytest.raises(DateError, match="needs a time zone"):
            parse_datetime("2026-09-02T14:10:00")
