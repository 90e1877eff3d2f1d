"""``GET /health``: whether this app server can do its work, for a load balancer or a
monitor. No sign-in; it says only which parts work ("ok") or not, never a path, a story or
an error's text (those go to the server's log).

200 when the database answers and is up to date, the story folder can be read and the
instance folder written; 503 otherwise, so the load balancer sends people elsewhere.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable

from flask import Blueprint, Response, jsonify

from ...fsio import TEMP_PREFIX
from ..auth import public
from ..state import state

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

OK = "ok"


@bp.route("/health")
@public
def health() -> tuple[Response, int]:
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result == OK for result in checks.values())
    response = jsonify(status=OK if healthy else "failing", checks=checks)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def _run(name: str, check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception:  # noqa: BLE001 - a probe reports, it never fails the request
        log.warning("health check %s failed", name, exc_info=True)
        return "failing"


def _database() -> str:
    database = state().site.database
    conn = database.connect()  # a fresh connection: the thread's own may be stale
    try:
        conn.value("SELECT 1")
        return OK if database.status(conn).up_to_date else "not upgraded: run storykit db upgrade"
    finally:
        conn.close()


def _stories() -> str:
    folder = state().site.store.root
    with os.scandir(folder) as entries:
        next(entries, None)
    return OK


def _instance() -> str:
    folder = state().site.instance / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=TEMP_PREFIX):
        pass
    return OK


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database, "stories": _stories, "instance": _instance}
