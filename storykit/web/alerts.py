"""Who is told what by email (storykit.mail sends it): staff get a notice with a link into the
app when a story they work on, or may review, needs them; never its title, words or names.

Who works on a story, and staff email addresses (``user_emails``), are the app's data, so the
app decides the recipients and the core's :func:`storykit.mail.notify` sends. Without
``[email] host`` nothing is sent and the dashboards are the inbox.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .. import mail

if TYPE_CHECKING:  # pragma: no cover
    from ..db import Connection
    from ..outcomes import Outcome
    from ..site import Site

#: Status changes that tell someone: new status -> event.
STATUS_EVENTS = {"in_review": "review_requested", "changes_requested": "changes_requested",
                 "approved": "approved"}


def set_email(conn: Connection, user_id: int, email: str | None) -> None:
    """Set (or, with None or "", remove) a staff member's address for notices."""
    if not email:
        conn.execute("DELETE FROM user_emails WHERE user_id = :id", {"id": user_id})
        return
    if not mail.is_address(email):
        raise mail.MailError("that is not an email address")
    conn.execute("INSERT INTO user_emails (user_id, email) VALUES (:id, :email) ON CONFLICT "
                 "(user_id) DO UPDATE SET email = excluded.email", {"id": user_id,
                                                                   "email": email})


def email_of(conn: Connection, user_id: int) -> str | None:
    return conn.value("SELECT email FROM user_emails WHERE user_id = :id", {"id": user_id})


def working_on(conn: Connection, story_id: str) -> list[str]:
    """Addresses of the active people who own the story or have it shared with them."""
    return [r["email"] for r in conn.all(
        "SELECT e.email FROM story_access a JOIN users u ON u.id = a.user_id JOIN user_emails e "
        "ON e.user_id = u.id WHERE a.story_id = :story AND u.active = 1 AND e.notices = 1 "
        "ORDER BY u.name", {"story": story_id})]


def with_role(conn: Connection, role: str, *, not_on: str | None = None) -> list[str]:
    """Addresses of active people with ``role`` (leaving out those working on ``not_on``)."""
    return [r["email"] for r in conn.all(
        "SELECT e.email FROM users u JOIN user_roles r ON r.user_id = u.id JOIN user_emails e "
        "ON e.user_id = u.id WHERE r.role = :role AND u.active = 1 AND e.notices = 1 AND "
        "u.id NOT IN (SELECT user_id FROM story_access WHERE story_id = :story) ORDER BY u.name",
        {"role": role, "story": not_on or ""})]


def story_link(site: Site, story_id: str, page: str = "") -> str:
    """The story's page in the app, as an address for an email."""
    return app_link(site, f"/stories/{story_id}{page}")


def app_link(site: Site, path: str) -> str:
    """``path`` in the app, as an address for an email."""
    base = site.config.app_url.rstrip("/")
    if not base:
        try:
            from flask import request

            base = request.url_root.rstrip("/")
        except RuntimeError:  # no request: the command line, a worker
            base = ""
    return base + path


def outcome_people(conn: Connection, outcome: Outcome) -> list[str]:
    """Addresses of the active people who recorded the outcome, or whom its "Who owns it"
    names (their sign-in name or full name, as typed)."""
    owner = " ".join(outcome.owner.split()).lower()
    return [r["email"] for r in conn.all(
        "SELECT e.email FROM users u JOIN user_emails e ON e.user_id = u.id WHERE u.active = 1 "
        "AND e.notices = 1 AND (u.name = :recorder OR (:owner <> '' AND (lower(u.name) = "
        ":owner OR lower(u.display_name) = :owner))) ORDER BY u.name",
        {"recorder": outcome.created_by, "owner": owner})]


def outcome_answered(site: Site, outcome: Outcome) -> list[int]:
    """A storyteller answered about an outcome through their link: tell whoever recorded it
    and its owner (fixed words and a link to the outcome's page: never their words)."""
    if mail.email_settings(site) is None:
        return []
    return mail.notify(site, "outcome_answered",
                       outcome_people(site.database.connection(), outcome),
                       link=app_link(site, f"/outcomes/{outcome.id}#responses"))


def status_changed(site: Site, story_id: str, new: str) -> list[int]:
    """``after_status_change``: review requested (reviewers not on the story), changes
    requested and approved (the people who work on it)."""
    event = STATUS_EVENTS.get(new)
    if event is None or mail.email_settings(site) is None:
        return []
    conn = site.database.connection()
    to = with_role(conn, "reviewer", not_on=story_id) if new == "in_review" else \
        working_on(conn, story_id)
    return mail.notify(site, event, to, link=story_link(site, story_id),
                       story_id=story_id)


def signoff_answered(site: Site, story_id: str, choice: str) -> list[int]:
    """The storyteller answered a sign-off request: tell the people who work on the story."""
    if mail.email_settings(site) is None:
        return []
    conn = site.database.connection()
    return mail.notify(site, "signoff_answered", working_on(conn, story_id),
                       link=story_link(site, story_id, "/sign-off"), story_id=story_id)


def consent_changed(site: Site, story_id: str) -> list[int]:
    """The storyteller changed their consent through a link: the link goes to the page with
    their answers (and the button to confirm a change that waits for staff)."""
    if mail.email_settings(site) is None:
        return []
    conn = site.database.connection()
    return mail.notify(site, "consent_changed", working_on(conn, story_id),
                       link=story_link(site, story_id, "/consent/link"), story_id=story_id)


def consent_expiring(site: Site, on: dt.date) -> list[int]:
    """Stories whose consent ends within ``[consent] expiry_warning_days``: tell the people
    who work on each, once in that span."""
    from ..expiry import ending

    if mail.email_settings(site) is None:
        return []
    days = site.config.expiry_warning_days
    since = (on - dt.timedelta(days=days)).isoformat()
    conn = site.database.connection()
    sent: list[int] = []
    for end in ending(site, within=days, on=on):
        if end.ended or conn.one("SELECT id FROM outbox WHERE event = 'consent_expiring' AND "
                                 "story_id = :story AND created_at >= :since",
                                 {"story": end.story_id, "since": since}):
            continue
        sent += mail.notify(site, "consent_expiring", working_on(conn, end.story_id),
                            link=story_link(site, end.story_id, "/consent"),
                            story_id=end.story_id)
    return sent
