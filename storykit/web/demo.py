"""The demo site's people: one account for each role, with passwords the README prints, and
the advocate owning every story nobody owns, so a newcomer can sign in as each role in turn
and walk a story from draft to the website and back (``storykit user demo``, which
``./dev demo`` runs).

Known passwords have no place on a real site: :func:`add_demo_accounts` refuses when the
site has any account that is not one of these. All the people are invented.

The demo stories' files are written as on :data:`DEMO_DAY`. :func:`set_demo_dates` moves
every date in them by the same number of days so that the demo stands on today as it stood
then (one consent ending within the warning window, one ended, the others in force), however
long after the files were written it is opened (``storykit user demo`` does it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..db import Connection
from . import accounts
from .access import grant, owners
from .passwords import Hasher


@dataclass(frozen=True)
class DemoAccount:
    name: str
    display_name: str
    role: str
    password: str


#: One account for each role (README: "Quick start"). Fictional people.
DEMO_ACCOUNTS = (
    DemoAccount("amy", "Amy Patel", "advocate", "blue heron advocate"),
    DemoAccount("rob", "Rob Evans", "reviewer", "blue heron reviewer"),
    DemoAccount("pat", "Pat Okafor", "publisher", "blue heron publisher"),
    DemoAccount("ada", "Ada Lewis", "admin", "blue heron admin"),
)
#: The account that owns the demo stories.
OWNER = "amy"
#: A reviewer's note on the demo story sent back for changes (its id and the note).
NOTE = ("st-8cv3wz", "Please say roughly when this happened (the month is enough), and "
        "check that the nurse is not named.")
#: The day the demo stories' files are written for.
DEMO_DAY = dt.date(2026, 12, 1)
#: The demo story whose consent ends soon, and the day its first consent version ends in
#: the files as written (DEMO_DAY + 52 days): where the files stand now is read from it.
ANCHOR = ("st-t5jw3n", dt.date(2027, 1, 22))
_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?!\d)")
_FRONT = re.compile(r"\A(---\n.*?\n---\n)", re.S)


class DemoRefused(Exception):
    """The site has real accounts: demo accounts with known passwords must not be added."""


def add_demo_accounts(conn: Connection, hasher: Hasher, story_ids: list[str]) -> list[str]:
    """Add the demo accounts that are missing, give every story in ``story_ids`` nobody owns
    to the advocate, and leave the reviewer's note on the story sent back for changes.
    Returns what was done, in words. Raises :class:`DemoRefused` on a site with other
    accounts."""
    known = {a.name for a in DEMO_ACCOUNTS}
    others = [u.name for u in accounts.all_users(conn) if u.name not in known]
    if others:
        raise DemoRefused("this site has accounts of its own, so the demo accounts (whose "
                          "passwords are published) were not added")
    done = []
    for account in DEMO_ACCOUNTS:
        if accounts.by_name(conn, account.name) is None:
            accounts.add_user(conn, hasher, account.name, account.password, [account.role],
                              account.display_name)
            done.append(f"added {account.name} ({account.role})")
    owner = accounts.by_name(conn, OWNER)
    assert owner is not None
    owned = owners(conn)
    unowned = [i for i in story_ids if i not in owned]
    for story_id in unowned:
        grant(conn, story_id, owner, "owner", "demo")
    if unowned:
        done.append(f"{owner.name} now owns {len(unowned)} "
                    f"{'story' if len(unowned) == 1 else 'stories'}")
    _leave_note(conn, story_ids)
    return done


def _leave_note(conn: Connection, story_ids: list[str]) -> None:
    from .workflow import add_note, notes

    story_id, text = NOTE
    if story_id in story_ids and not notes(conn, story_id):
        add_note(conn, story_id, "rob", "request_changes", text)


def set_demo_dates(stories: Path, today: dt.date) -> int:
    """Move every date in the demo site's story files (in the folder ``stories``:
    ``story.md`` front matter and ``consent.yml``) by the same number of days, so that the
    stories stand on ``today`` as they stood on :data:`DEMO_DAY`. Returns the days moved
    (0: already there, or not the demo site, which is left alone)."""
    now = _anchor_day(stories / ANCHOR[0] / "consent.yml")
    if now is None:
        return 0
    days = (today - DEMO_DAY).days - (now - ANCHOR[1]).days
    if days == 0:
        return 0
    moved = dt.timedelta(days=days)
    for folder in sorted(p for p in stories.iterdir() if p.is_dir()):
        _move(folder / "consent.yml", moved, whole=True)
        _move(folder / "story.md", moved, whole=False)
    return days


def _anchor_day(path: Path) -> dt.date | None:
    """The first consent version's end date in the anchor story's file (None without it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"^[ \t]+expires:[ \t]*(\d{4}-\d{2}-\d{2})[ \t]*$", text, re.M)
    return dt.date.fromisoformat(found.group(1)) if found else None


def _move(path: Path, moved: dt.timedelta, *, whole: bool) -> None:
    """Move the dates in ``path`` (only in its front matter unless ``whole``): the text is
    kept as it is written, so comments and layout stay."""
    from ..fsio import atomic_write

    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    if whole:
        new = _DATE.sub(lambda m: _later(m, moved), text)
    else:
        new = _FRONT.sub(lambda f: _DATE.sub(lambda m: _later(m, moved), f.group(1)), text,
                         count=1)
    if new != text:
        atomic_write(path, new)


def _later(match: re.Match, moved: dt.timedelta) -> str:
    try:
        day = dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return match.group(0)
    return (day + moved).isoformat()
