"""The publishing queue: approved stories, and whether consent lets each go on the website."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..auth import current_user, roles_required
from ..listing import page_number, paginate, visible
from ..state import state
from ..website import builds_enabled, status_for, status_page

bp = Blueprint("publishing", __name__, url_prefix="/publishing")


@bp.route("")
@roles_required("publisher")
def queue():
    user = current_user()
    st = state()
    ready = visible(user, st.index.snapshot(), ("approved",))
    page = paginate(ready, page_number(), current_app.config["STORYKIT_PAGE_SIZE"])
    return render_template("publishing/queue.html", page=page, decisions=st.index.decision,
                           website=status_for(), builds=builds_enabled())


@bp.route("/website")
@roles_required("publisher", "admin")
def website():
    """The website's state (app.js refreshes the publishing and jobs pages from it)."""
    return status_page(None)
