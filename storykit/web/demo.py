"""The demo site's people: one account for each role, with passwords the README prints, and
the advocate owning every story nobody owns, so a newcomer can sign in as each role in turn
and walk a story from draft to the website and back (``storykit user demo``, which
``./dev demo`` runs).

Known passwords have no place on a real site: :func:`add_demo_accounts` refuses when the
site has any account that is not one of these. All the people are invented.
"""

from __future__ import annotations

from dataclasses import dataclass

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
