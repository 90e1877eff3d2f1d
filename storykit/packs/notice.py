"""The consent notice every pack carries: what the stories may be used for, until when, and
that the pack must not be passed on. In plain words, dates as people write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..dates import nice_date
from ..render import Notice

if TYPE_CHECKING:  # pragma: no cover
    from ..consent import StoryView

NOTICE_FILE = "consent-notice.txt"


def pack_notice(views: Sequence[StoryView], *, use_label: str, title: str, made_on: dt.date,
                meeting: str | None = None, meeting_date: dt.date | None = None,
                recipients: Sequence[str] = (), organisation: str = "",
                contact_email: str = "") -> Notice:
    """The notice for a pack of ``views`` made for ``use_label`` on ``made_on``."""
    ends = [v.consent_expires for v in views if v.consent_expires]
    earliest = min(ends) if ends else None
    who = "The person who shared this story" if len(views) == 1 else \
        "The people who shared these stories"
    lines = [f"{title}. Made on {nice_date(made_on)}"
             + (f" by {organisation}" if organisation else "") + "."]
    if meeting or meeting_date:
        where = meeting or "the meeting"
        lines.append(f"It is for {where}" + (f" on {nice_date(meeting_date)}"
                                              if meeting_date else "") + ".")
    if recipients:
        lines.append(f"Copies are for: {', '.join(recipients)}.")
    lines.append(f"{who} agreed that we can use "
                 + ("it" if len(views) == 1 else "them") + f" for: {use_label}. "
                 "Please do not use this pack for anything else.")
    if earliest:
        lines.append(f"Do not use this pack after {nice_date(earliest)}, when consent for "
                     + ("this story" if len(views) == 1 else "the first of these stories")
                     + " ends.")
    lines.append("Please do not copy this pack or pass it on to anyone it is not for. If a "
                 "storyteller changes their mind, we will ask you to delete your copy.")
    if contact_email:
        lines.append(f"Questions? Email {contact_email}")
    short = [f"Shared with consent for: {use_label} only."]
    if meeting or meeting_date:
        short.append(f"For {meeting or 'the meeting'}"
                     + (f" on {nice_date(meeting_date)}" if meeting_date else "") + ".")
    if earliest:
        short.append(f"Do not use after {nice_date(earliest)}.")
    short.append("Please do not copy this pack or pass it on.")
    return Notice("About this pack", tuple(lines), tuple(short))


def notice_file_text(notice: Notice, views: Sequence[StoryView]) -> str:
    """``consent-notice.txt``: the notice, then each story and when its consent ends."""
    rows = [f"- {v.title}: consent for this use ends on {nice_date(v.consent_expires)}."
            for v in views if v.consent_expires]
    listing = "\n".join(["Stories in this pack:", *rows]) + "\n" if rows else ""
    return notice.text + ("\n" + listing if listing else "")
