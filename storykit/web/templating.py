"""What every template can use: the signed-in user, the site's title, plain-English labels for
statuses, roles and uses, and the main menu for the user's roles."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask import Flask, request

from ..findings import kinds_in_words
from .access import can
from .accounts import ROLES
from .auth import current_user
from .website import template_globals

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
    ("home.dashboard", "Your stories", ()),
    ("stories.index", "All stories", ()),
    ("review.queue", "Review", ("reviewer",)),
    ("publishing.queue", "Publishing", ("publisher",)),
    ("outcomes.index", "Outcomes", ()),
    ("jobs.index", "Jobs", ("publisher", "admin")),
    ("admin.users", "Users", ("admin",)),
    ("admin.audit", "Audit log", ("admin",)),
]


def menu() -> list[tuple[str, str, bool]]:
    """Menu items for the current user: (endpoint, label, is the current page)."""
    user = current_user()
    if user is None:
        return []
    here = request.endpoint or ""
    return [(ep, label, here == ep) for ep, label, roles in MENU if not roles or user.has(*roles)]


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
            **template_globals(),
        }

    app.add_template_filter(_date, "date")
