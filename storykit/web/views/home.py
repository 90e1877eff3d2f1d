"""The home page: what is waiting for you. Each role sees its queues (:mod:`..queues`): your
stories on their way and what happens next, waiting for your review, approved and waiting to
publish, live stories, consent ending soon, stories to take back, failed jobs, what
storytellers answered through their links; each with a count, a few rows and a link to the
whole list."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..auth import current_user
from ..inbox import DAYS as ANSWER_DAYS
from ..listing import page_number, paginate
from ..queues import ANSWERED_DAYS, queues
from ..state import state
from ..steps import in_a_few_words

bp = Blueprint("home", __name__)
#: Rows each queue shows on the home page (its own page, where there is one, has them all).
SHOWN = 10


@bp.route("/")
def dashboard():
    user = current_user()
    assert user is not None
    st = state()
    snap = st.index.snapshot()
    found = queues(st.site, user, snap)
    drafts = paginate(found.drafts or [], page_number(),
                      current_app.config["STORYKIT_PAGE_SIZE"]) \
        if found.drafts is not None else None
    problems = len(snap.problems) if user.has("admin") else None
    return render_template("home/dashboard.html", q=found, drafts=drafts, shown=SHOWN,
                           problems=problems, warning_days=st.site.config.expiry_warning_days,
                           answer_days=ANSWER_DAYS, answered_days=ANSWERED_DAYS,
                           next_words=in_a_few_words, decisions=st.index.decision)
