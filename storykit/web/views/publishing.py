"""The publishing queue: approved stories, and whether consent lets each go on the website."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, url_for

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
    """The website's state (app.js refreshes the publishing and jobs pages from it)."""
    return status_fragment(None)


def status_fragment(story):
    """The website's state on a page of its own: app.js reads the live region from it to
    refresh the page that started an update (``X-Pending: 1`` while one is on its way)."""
    found = status_for(story)
    refresh = (url_for("stories.website", story_id=story.id) if story is not None
               else url_for("publishing.website"))
    response = make_response(render_template("website/page.html", story=story,
                                             website=found, refresh=refresh))
    response.headers["X-Pending"] = "1" if found.pending else "0"
    return response
