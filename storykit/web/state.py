"""The app's shared state: the site, the story index, the password hasher, and the site's
database (storykit.db: one connection per thread, as waitress serves requests from several).

Views reach it through :func:`state` (``current_app.extensions["storykit"]``) or the shortcuts
:func:`db` and :func:`audit_log`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from ..audit import AuditLog
from ..db import Connection
from .index import StoryIndex
from .passwords import Hasher
from .throttle import Limits
from .workload import Workload

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site


class AppState:
    def __init__(self, site: Site, config: dict):
        self.site = site
        self.index = StoryIndex(site, ttl=float(config["STORYKIT_INDEX_TTL"]))
        self.hasher = Hasher(config.get("STORYKIT_ARGON2"))
        self.limits = Limits(int(config["STORYKIT_LOGIN_PER_ACCOUNT"]),
                             int(config["STORYKIT_LOGIN_PER_ADDRESS"]),
                             int(config["STORYKIT_LOGIN_WINDOW"]))
        self.workload = Workload(int(config["STORYKIT_HEAVY_SLOTS"]),
                                 int(config["STORYKIT_HEAVY_QUEUE"]),
                                 float(config["STORYKIT_HEAVY_BUDGET"]))
        self.has_users = False  # set once the first user exists (users are never deleted)
        self.db()  # check the database now (refusing to start if it is behind), not later

    def db(self) -> Connection:
        """This thread's connection to the site's database."""
        return self.site.database.connection()

    def audit(self) -> AuditLog:
        return self.site.audit


def state() -> AppState:
    return current_app.extensions["storykit"]


def db() -> Connection:
    return state().db()


def audit_log() -> AuditLog:
    return state().audit()
