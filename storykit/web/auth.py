"""Sessions and the decorators every route uses.

Secure by default: every route needs a signed-in user unless its view is marked ``@public``.
On top of that, ``@roles_required("admin")`` limits a route to users holding any of the roles
named, and story routes ask :func:`storykit.web.access.can` about the story itself.

The session cookie (signed by Flask, never holding health data) carries the user id, the user's
``session_version`` at sign-in, the sign-in time and the time of the last request. On every
request :func:`load_user` checks all four against the database and the clock: a cookie from
before a sign-out, a password change, a role change or deactivation, or one idle for longer
than ``STORYKIT_IDLE_MINUTES`` or older than ``STORYKIT_SESSION_HOURS``, is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from .. import audit
from . import accounts
from .accounts import User
from .state import audit_log, db, state

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view that anonymous visitors may use (sign-in, first-admin setup)."""
    view._storykit_public = True  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to users holding at least one of ``roles`` (403 otherwise)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or not user.has(*roles):
                deny(403, request.endpoint or "?")
            return view(*args, **kwargs)

        wrapped._storykit_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def current_user() -> User | None:
    return g.get("user")


def client_ip() -> str:
    return request.remote_addr or "-"


def deny(status: int, what: str, story_id: str | None = None) -> None:
    """Write a denial to the audit log and stop the request with ``status`` (403 or 404)."""
    user = current_user()
    audit.access_denied(audit_log(), user.name if user else None, what, story_id=story_id,
                        ip=client_ip())
    abort(status)


def record(action: str, *, story_id: str | None = None, etag: str | None = None,
           detail: str | None = None) -> int:
    """Audit ``action`` by the current user from the current address."""
    user = current_user()
    return audit_log().record(action, actor=user.name if user else None, story_id=story_id,
                              etag=etag, ip=client_ip(), detail=detail)


# --- signing in and out -----------------------------------------------------------------------

def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (a new cookie: the old one's contents are dropped)."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session.update(uid=user.id, ver=user.session_version, iat=now, seen=now)
    g.user = user


def logout_user() -> None:
    """End this session and every other one the user holds."""
    user = current_user()
    if user is not None:
        accounts.end_sessions(db(), user)
    session.clear()
    g.user = None


def load_user() -> None:
    """``before_request``: set ``g.user`` from the session, or end a session that is no longer
    valid (``session["ended"]`` then tells the sign-in page to say why)."""
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    cfg = current_app.config
    now = int(time.time())
    user = accounts.load(db(), uid) if isinstance(uid, int) else None
    stale = (user is None or not user.active
             or session.get("ver") != user.session_version
             or now - int(session.get("seen", 0)) > cfg["STORYKIT_IDLE_MINUTES"] * 60
             or now - int(session.get("iat", 0)) > cfg["STORYKIT_SESSION_HOURS"] * 3600)
    if stale:
        session.clear()
        session["ended"] = True  # the sign-in page says why
        return
    session["seen"] = now
    g.user = user


def require_login() -> Any:
    """``before_request``: send visitors to the first-admin page while there are no users, and
    to the sign-in page for any view not marked ``@public``."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in ("static", "health.health"):
        return None  # the health probe answers even before the first account exists
    st = state()
    if not st.has_users and endpoint != "auth.setup":
        if accounts.count_users(db()) == 0:
            return redirect(url_for("auth.setup"))
        st.has_users = True
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "_storykit_public", False) or current_user() is not None:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target), 303)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target
