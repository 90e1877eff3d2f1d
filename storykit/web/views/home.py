"""The start page: your stories, and what is waiting for you as a reviewer or publisher."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..auth import current_user
from ..listing import mine, page_number, paginate, visible
from ..state import state

bp = Blueprint("home", __name__)


@bp.route("/")
def dashboard():
    """The signed-in user's stories, with whether consent lets each go to the board or on
    the public website today."""
    user = current_user()
    assert user is not None
    st = state()
    snap = st.index.snapshot()
    page = paginate(mine(user, snap), page_number(), current_app.config["STORYKIT_PAGE_SIZE"])
    to_review = len(_review_queue(user, snap)) if user.has("reviewer") else None
    to_publish = (sum(1 for s in snap.stories.values() if s.status == "approved")
                  if user.has("publisher") else None)
    problems = len(snap.problems) if user.has("admin") else None
    return render_template("home/dashboard.html", page=page, to_review=to_review,
                           to_publish=to_publish, problems=problems,
                           decisions=st.index.decision)


def _review_queue(user, snap):
    from ..access import REQUEST_CHANGES, can

    return [s for s in visible(user, snap, ("in_review",)) if can(user, REQUEST_CHANGES, s)]
