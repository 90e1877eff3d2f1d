"""The publishing queue: approved stories, and whether consent lets each go on the website."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template

from ..auth import current_user, roles_required
from ..listing import page_number, paginate, visible
from ..state import state
from ..website import builds_enabled, status_for

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
    """The website's state, alone (app.js refreshes the publishing and jobs pages with it)."""
    return status_fragment(None)


def status_fragment(story):
    """The website status part of a page, for app.js; ``X-Pending: 1`` while an update is
    on its way (then it asks again)."""
    found = status_for(story)
    response = make_response(render_template("website/_status.html", story=story,
                                             website=found))
    response.headers["X-Pending"] = "1" if found.pending else "0"
    return response
