"""The app's shared state: the site, the story index, the password hasher, and one SQLite
connection per thread (waitress serves requests from several threads).

Views reach it through :func:`state` (``current_app.extensions["storykit"]``) or the shortcuts
:func:`db` and :func:`audit_log`.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

from flask import current_app

from ..audit import AuditLog
from ..db import connect
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
        self._local = threading.local()
        self.has_users = False  # set once the first user exists (users are never deleted)
        self.db()  # create and migrate the database now, not in the first request

    def db(self) -> sqlite3.Connection:
        """This thread's connection to ``instance/storykit.db``."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.site.instance)
            self._local.conn = conn
            self._local.audit = AuditLog(conn)
        return conn

    def audit(self) -> AuditLog:
        self.db()
        return self._local.audit


def state() -> AppState:
    return current_app.extensions["storykit"]


def db() -> sqlite3.Connection:
    return state().db()


def audit_log() -> AuditLog:
    return state().audit()
