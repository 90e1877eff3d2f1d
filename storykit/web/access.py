"""Who may do what to which story: :func:`can` is the one rule book; every route asks it.

Who works on a story is kept in the site's database (``story_access``): one owner and any number of people
it is shared with. Story files do not record it, so a story made on the command line has no
owner until an admin gives it one.

The rules, in words:

* admins may see every story (and share it);
* advocates see and edit the stories they own or that are shared with them; nobody else's
  drafts;
* reviewers see stories that are in review or later;
* publishers see approved, published and withdrawn stories (they take copies down);
* status changes (send for review, ask for changes, approve, publish, take down) and
  dismissing a finding follow the core's rules (:mod:`storykit.lifecycle`): this module asks
  them, with the user as an :class:`~storykit.lifecycle.Actor`;
* nobody may do anything to a withdrawn story except look at it (if they could before).

Routes answer 404 when :func:`can` says the user may not even ``view`` the story (so ids of other
people's drafts reveal nothing) and 403 when they may view it but not do the action; both are
written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import lifecycle
from ..db import Connection
from ..lifecycle import (  # noqa: F401 - the status changes, by their names here too
    APPROVE,
    PUBLISH,
    REQUEST_CHANGES,
    SUBMIT,
    UNPUBLISH,
    Actor,
)
from ..model import Story
from .accounts import AccountError, User

VIEW = "view"
EDIT = "edit"
SHARE = "share"
#: Dismiss a blocking finding with a reason (storykit.findings): reviewers, not their own.
DISMISS = "dismiss"
RECORD_CONSENT = "record_consent"
WITHDRAW_CONSENT = "withdraw_consent"
#: Download the signed consent forms: the story's owner and admins only, even once withdrawn.
VIEW_EVIDENCE = "view_evidence"
#: Record that the storyteller was told their withdrawal was done (only once withdrawn).
CONFIRM_WITHDRAWAL = "confirm_withdrawal"
#: Status changes: the core's rules decide them.
STATUS_CHANGES = frozenset(lifecycle.TRANSITIONS)
ACTIONS = frozenset({VIEW, EDIT, SHARE, RECORD_CONSENT, WITHDRAW_CONSENT, VIEW_EVIDENCE,
                     CONFIRM_WITHDRAWAL, DISMISS} | STATUS_CHANGES)

EDITABLE = frozenset({"draft", "changes_requested"})
REVIEWER_SEES = frozenset({"in_review", "changes_requested", "approved", "published"})
#: Publishers also see withdrawn stories: they take published copies down.
PUBLISHER_SEES = frozenset({"approved", "published", "withdrawn"})


def involved(user: User, story_id: str) -> bool:
    """True if the user owns the story or it is shared with them."""
    return story_id in user.access


def actor_of(user: User) -> Actor:
    """The user as the core's rules see them."""
    return Actor(user.name, user.display_name, user.roles, frozenset(user.access), user.active)


#: The story, or its current consent, is withdrawn: nothing may change it any more.
is_withdrawn = lifecycle.is_withdrawn


def can(user: User | None, action: str, story: Story) -> bool:
    """May ``user`` do ``action`` to ``story`` now? Unknown actions are refused."""
    if user is None or not user.active or action not in ACTIONS:
        return False
    mine = involved(user, story.id)
    status = story.status
    if action == VIEW:
        return (user.has("admin") or mine or (user.has("reviewer") and status in REVIEWER_SEES)
                or (user.has("publisher") and status in PUBLISHER_SEES))
    if action == SHARE:
        return user.has("admin")
    if action == VIEW_EVIDENCE:
        return user.has("admin") or user.access.get(story.id) == "owner"
    if action == CONFIRM_WITHDRAWAL:
        return is_withdrawn(story) and ((mine and user.has("advocate")) or user.has("admin"))
    if action in STATUS_CHANGES:
        return lifecycle.permitted(actor_of(user), story, action)
    if action == DISMISS:
        return not lifecycle.dismissal_refusals(actor_of(user), story)
    if is_withdrawn(story):
        return False
    writer = mine and user.has("advocate")
    rules = {
        EDIT: writer and status in EDITABLE,
        RECORD_CONSENT: writer,
        WITHDRAW_CONSENT: writer or user.has("admin"),
    }
    return bool(rules[action])


def statuses_seen(user: User) -> frozenset[str] | None:
    """The statuses of stories ``user`` may view without being involved in them. None means
    every story (``can(user, VIEW, story)`` is True for all). Lists use it to look only at
    likely stories; test_fast_lists_agree_with_the_rule_book keeps it in step with can()."""
    if user.has("admin"):
        return None
    seen: frozenset[str] = frozenset()
    if user.has("reviewer"):
        seen |= REVIEWER_SEES
    if user.has("publisher"):
        seen |= PUBLISHER_SEES
    return seen


# --- story_access rows ---------------------------------------------------------------------

def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def grant(conn: Connection, story_id: str, user: User, access: str, by: str) -> None:
    """Give ``user`` access to a story. Making someone the owner moves ownership: the
    previous owner keeps shared access."""
    if access not in ("owner", "shared"):
        raise AccountError("Access must be owner or shared.", "access")
    if not user.active:
        raise AccountError(f"{user.name} is deactivated; reactivate them first.", "user")
    now = _now()
    row = {"story_id": story_id, "user_id": user.id, "access": access, "by": by, "now": now}
    with conn.transaction():
        if access == "owner":
            conn.execute("UPDATE story_access SET access = 'shared' WHERE story_id = :story_id "
                         "AND access = 'owner' AND user_id != :user_id", row)
        conn.execute(
            "INSERT INTO story_access (story_id, user_id, access, granted_by, granted_at) "
            "VALUES (:story_id, :user_id, :access, :by, :now) ON CONFLICT (story_id, user_id) "
            "DO UPDATE SET access = excluded.access, granted_by = excluded.granted_by, "
            "granted_at = excluded.granted_at", row)


def revoke(conn: Connection, story_id: str, user: User) -> bool:
    """Take away ``user``'s access to a story; False if they had none."""
    cur = conn.execute("DELETE FROM story_access WHERE story_id = :story_id AND "
                       "user_id = :user_id", {"story_id": story_id, "user_id": user.id})
    return cur.rowcount > 0


def people(conn: Connection, story_id: str) -> list[Any]:
    """Who works on a story: rows with name, display_name, access (owner first)."""
    return conn.all(
        "SELECT u.name, u.display_name, a.access, a.granted_by, a.granted_at "
        "FROM story_access a JOIN users u ON u.id = a.user_id WHERE a.story_id = :story_id "
        "ORDER BY a.access = 'shared', u.name", {"story_id": story_id})


def owners(conn: Connection) -> dict[str, str]:
    """Story id -> owner's user name, for every owned story."""
    return {r[0]: r[1] for r in conn.all(
        "SELECT a.story_id, u.name FROM story_access a JOIN users u ON u.id = a.user_id "
        "WHERE a.access = 'owner'")}
