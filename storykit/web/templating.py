"""What every template can use: the signed-in user, the site's title, plain-English labels for
statuses, roles and uses, and the main menu for the user's roles."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, request

from ..findings import kinds_in_words
from .access import can
from .accounts import ROLES
from .auth import current_user
from .website import template_globals
from .words import copy_words, day, person, reasons

log = logging.getLogger("storykit.web")

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

STATUS_LABELS = {
    "draft": "Draft",
    "in_review": "Waiting for review",
    "changes_requested": "Changes asked for",
    "approved": "Approved",
    "published": "Published",
    "withdrawn": "Withdrawn",
    "archived": "Archived",
}
STATUS_COLOURS = {"approved": "green", "published": "green", "withdrawn": "red",
                  "archived": "grey", "draft": "grey"}
#: Plain words for consent values (shown on the story page).
CONSENT_WORDS = {
    "pending": "Not given yet", "active": "Given", "withdrawn": "Withdrawn",
    "self": "The storyteller", "parent_with_pr": "A parent with parental responsibility",
    "lpa_health_welfare": "An attorney for health and welfare",
    "court_deputy": "A deputy appointed by the court", "other": "Someone else",
    "written": "On a signed form", "e_signature": "Signed online",
    "recorded_verbal": "Said out loud and recorded",
    "full_name": "Full name", "first_name": "First name only", "pseudonym": "A made-up name",
    "anonymous": "Not named",
    "text": "The story", "quotes": "Quotes", "photo": "Photos", "audio": "Sound recordings",
    "video": "Video",
}
ROLE_LABELS = {"advocate": "Advocate", "reviewer": "Reviewer", "publisher": "Publisher",
               "admin": "Admin"}

#: Main menu: (endpoint, label, roles that see it; empty = everyone signed in).
MENU: list[tuple[str, str, tuple[str, ...]]] = [
    ("home.dashboard", "Home", ()),
    ("stories.index", "All stories", ()),
    ("review.queue", "Review", ("reviewer",)),
    ("publishing.queue", "Publishing", ("publisher",)),
    ("packs.index", "Packs", ("publisher", "admin")),
    ("outcomes.index", "Outcomes", ()),
    ("jobs.index", "Jobs", ("publisher", "admin")),
    ("admin.users", "Users", ("admin",)),
    ("admin.audit", "Audit log", ("admin",)),
]


#: Menu items that show a count (storykit.web.queues.counts): endpoint -> (count, words
#: after the number for screen readers: "Review (3 waiting)").
MENU_COUNTS = {"review.queue": ("review", "waiting"), "publishing.queue": ("publish", "waiting"),
               "jobs.index": ("failed", "failed")}


def menu() -> list[tuple[str, str, bool, tuple[int, str] | None]]:
    """Menu items for the current user: (endpoint, label, is the current page, (count,
    words) or None)."""
    user = current_user()
    if user is None:
        return []
    here = request.endpoint or ""
    shown = [(ep, label) for ep, label, roles in MENU if not roles or user.has(*roles)]
    found = menu_counts(user) if any(ep in MENU_COUNTS for ep, _ in shown) else {}
    out = []
    for ep, label in shown:
        key, words = MENU_COUNTS.get(ep, ("", ""))
        count = found.get(key)
        if key == "failed" and not count:  # "Jobs (0 failed)" says nothing worth reading
            count = None
        out.append((ep, label, here == ep, None if count is None else (count, words)))
    return out


def menu_counts(user) -> dict[str, int]:
    """The menu's counts; none (and a log entry) if they cannot be worked out, so a page
    is never lost for a count."""
    from .queues import counts
    from .state import state

    try:
        st = state()
        return counts(st.site, user, st.index.snapshot())
    except Exception:  # noqa: BLE001 - the page matters more than its menu's numbers
        log.exception("storykit: the menu's counts could not be worked out")
        return {}


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value.day} {value:%B %Y at %H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return "" if value is None else str(value)


def install(app: Flask, site: Site) -> None:
    config = site.config

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_user": current_user(),
            "site_title": config.title,
            "site_organisation": config.organisation,
            "site_language": config.language or "en-GB",
            "menu": menu(),
            "can": can,
            "status_labels": STATUS_LABELS,
            "status_colours": STATUS_COLOURS,
            "role_labels": ROLE_LABELS,
            "role_help": ROLES,
            "use_label": config.label,
            "words": CONSENT_WORDS,
            "kinds_in_words": kinds_in_words,
            "person": person, "reasons": reasons, "day": day, "copy_words": copy_words,
            **template_globals(),
        }

    app.add_template_filter(_date, "date")
