"""The storyteller's outcome page (a one-time link of purpose ``outcome``, emailed or printed
as a code in the outcome letter): what the team decided because of their story, in large
clear print, and an optional "What do you think?" box. Sending it (with or without words) is
recorded as their response on the outcome (``how="link"``), shown to the team on the outcome's
page and their home pages, emailed about (never their words) to whoever recorded or owns the
outcome (storykit.web.alerts), and uses the link up. The page shows this outcome only: no
other story, no names."""

from __future__ import annotations

from flask import render_template, session

from ...links import LinkRefused, Links
from ...outcomes import OutcomeError, outcome_log, record_response
from ...outcomes.letters import _stage
from ...outcomes.records import LIMITS
from ..alerts import outcome_answered
from ..forms import Form
from ..state import state
from ..storyform import clean
from .teller import BY_LINK, finished, refused

#: What the team sees when the storyteller sent the form without writing anything.
NO_WORDS = "They read what we decided and sent no comment."


def _outcome(link, story):
    """The outcome the link was sent about (its id is kept in the link's ``etag``), or None
    when it is gone or no longer about this story."""
    found = outcome_log(state().site).find(link.etag or "")
    return found if found is not None and story.id in found.story_ids else None


def outcome_page(link, story, form: Form, status: int = 200):
    outcome = _outcome(link, story)
    if outcome is None:
        return refused("nothing_to_show", story.id)
    return render_template("teller/outcome.html", form=form, outcome=outcome,
                           stage=_stage(outcome), limit=LIMITS["response"],
                           organisation=state().site.config.organisation), status


def answer_outcome(link, story, form: Form):
    outcome = _outcome(link, story)
    if outcome is None:
        return refused("nothing_to_show", story.id)
    comment = clean(form.get("comment")).strip()
    if len(comment) > LIMITS["response"]:
        form.error("comment", f"Keep it to {LIMITS['response']:,} characters or fewer.")
        return outcome_page(link, story, form, 422)
    site = state().site
    try:
        Links(site).answer(link.id, "commented" if comment else "read", via="link",
                           session=session.get("teller_key", ""))
    except LinkRefused as exc:
        return refused(exc.code, story.id)
    try:
        record_response(site, outcome.id, story.id, text=comment or NO_WORDS, how="link",
                        by=BY_LINK)
    except OutcomeError:
        return refused("nothing_to_show", story.id)
    outcome_answered(site, outcome)
    return finished("outcome")
