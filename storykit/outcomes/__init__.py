"""Outcomes: what a team decided or did because of stories, linked to the stories and to the
meeting or pack where they were heard, tracked to done (or not taken, with the reason), with
the storytellers told and their responses kept. See docs/outcomes.md.

- :mod:`.records`: the outcome as data and its tables (:class:`OutcomeLog`).
- :mod:`.recording`: recording and changing outcomes and responses (checks, audit, the
  ``after_outcome_change`` hook), and turning old ``changes`` lists into outcomes.
"""

from __future__ import annotations

from .recording import (
    FIELDS,
    find_stories,
    migrate_changes,
    outcome_log,
    record_outcome,
    record_response,
    update_outcome,
)
from .records import (
    CHANNELS,
    LIMITS,
    OPEN,
    RESPONSE_WAYS,
    RESPONSE_WORDS,
    STATUS_WORDS,
    STATUSES,
    Filter,
    Message,
    Outcome,
    OutcomeError,
    OutcomeLog,
    Response,
)

__all__ = [
    "CHANNELS", "FIELDS", "LIMITS", "OPEN", "RESPONSE_WAYS", "RESPONSE_WORDS", "STATUSES",
    "STATUS_WORDS", "Filter", "Message", "Outcome", "OutcomeError", "OutcomeLog", "Response",
    "find_stories", "migrate_changes", "outcome_log", "record_outcome", "record_response",
    "update_outcome",
]
