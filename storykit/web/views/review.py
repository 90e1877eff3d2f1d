"""The review queue: stories waiting for review that the reviewer did not write."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..access import APPROVE, can
from ..auth import current_user, roles_required
from ..listing import page_number, paginate, visible
from ..state import state

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("")
@roles_required("reviewer")
def queue():
    user = current_user()
    snap = state().index.snapshot()
    waiting = [s for s in visible(user, snap, ("in_review",)) if can(user, APPROVE, s)]
    page = paginate(waiting, page_number(), current_app.config["STORYKIT_PAGE_SIZE"])
    return render_template("review/queue.html", page=page)
