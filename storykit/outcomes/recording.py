"""Recording outcomes for the command line and the browser app alike: check what was typed,
find the stories and the pack, save, note it in the audit log (ids only, never words) and tell
plugins (``after_outcome_change``) so they can sync outcomes elsewhere, such as an action log.

Also: storytellers' responses, and turning a story's old free-text ``changes`` list into
outcomes (once: running it again makes nothing new)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..dates import DateError, today
from ..errors import NotFoundError, ValidationError
from .records import (
    LIMITS,
    MAX_STORIES,
    RESPONSE_WAYS,
    Outcome,
    OutcomeError,
    OutcomeLog,
    Response,
    _date,
    _text_problem,
    check_status,
    clean_fields,
    new_id,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

OUTCOME_ADDED = "outcome.added"
OUTCOME_CHANGED = "outcome.changed"
RESPONSE_RECORDED = "outcome.response"
#: What people may change with :func:`update_outcome`.
FIELDS = ("title", "why", "owner", "due", "status", "reason", "service", "meeting",
          "meeting_date", "pack_id")


def outcome_log(site: Site) -> OutcomeLog:
    return OutcomeLog(site.database)


def find_stories(site: Site, refs: Sequence[str],
                 may_use: Callable[[Story], bool] | None = None) -> tuple[str, ...]:
    """Story ids for ``refs`` (ids or slugs), each once, in order; OutcomeError naming the
    ones that are not found. Stories ``may_use`` refuses (the app: stories the person may
    not view) are not found either, so their ids reveal nothing."""
    found: list[str] = []
    missing: list[str] = []
    for ref in refs:
        ref = str(ref).strip()
        if not ref:
            continue
        try:
            story = site.store.find(ref)
        except (NotFoundError, ValidationError):
            missing.append(ref[:70])
            continue
        if may_use is not None and not may_use(story):
            missing.append(ref[:70])
            continue
        story_id = story.id
        if story_id not in found:
            found.append(story_id)
    if missing:
        raise OutcomeError({"stories": "No story with the id or web address name "
                                       + ", ".join(repr(m) for m in missing) + "."})
    if not found:
        raise OutcomeError({"stories": "Choose at least one story the outcome came from."})
    if len(found) > MAX_STORIES:
        raise OutcomeError({"stories": f"An outcome can name at most {MAX_STORIES} stories."})
    return tuple(found)


def _check_pack(site: Site, fields: dict[str, Any], problems: dict[str, str]) -> None:
    """A named pack must exist; its meeting and date fill in what was left empty."""
    pack_id = fields.get("pack_id")
    if not pack_id:
        return
    from ..packs import PackLog

    pack = PackLog(site.database).find(pack_id)
    if pack is None:
        problems["pack_id"] = f"No pack {pack_id[:40]!r} is on record."
        return
    if not fields.get("meeting") and pack.meeting:
        fields["meeting"] = pack.meeting
    if not fields.get("meeting_date") and pack.meeting_date:
        fields["meeting_date"] = pack.meeting_date


def record_outcome(site: Site, values: Mapping[str, Any], stories: Sequence[str], *,
                   by: str, source: str | None = None,
                   may_use: Callable[[Story], bool] | None = None) -> Outcome:
    """Check and save a new outcome on ``stories`` (ids or slugs). Its service is the first
    story's unless one is given. OutcomeError (by field, in words) when anything is wrong:
    then nothing is saved."""
    values = {"status": "proposed", **values}
    if "title" not in values:
        values["title"] = ""
    fields, problems = clean_fields(values)
    try:
        story_ids = find_stories(site, stories, may_use)
    except OutcomeError as exc:
        problems.update(exc.problems)
        story_ids = ()
    _check_pack(site, fields, problems)
    if "status" in fields:
        problems.update(check_status(fields["status"], fields.get("reason", "")))
    if problems:
        raise OutcomeError(problems)
    if not fields.get("service") and story_ids:
        fields["service"] = site.store.get(story_ids[0]).service
    status = fields.pop("status")
    outcome = Outcome(id=new_id(), status=status, story_ids=story_ids, source=source,
                      created_by=by, done_on=today() if status == "done" else None, **fields)
    saved = outcome_log(site).add(outcome)
    site.audit.record(OUTCOME_ADDED, actor=by, detail=f"{saved.id} {saved.status}")
    _tell(site, saved, None, by)
    return saved


def update_outcome(site: Site, outcome_id: str, values: Mapping[str, Any], *, by: str,
                   stories: Sequence[str] | None = None,
                   may_use: Callable[[Story], bool] | None = None) -> Outcome:
    """Change the fields in ``values`` (and, if given, the stories) of an outcome. Becoming
    done dates it today; leaving done clears that. OutcomeError when anything is wrong."""
    log = outcome_log(site)
    old = log.get(outcome_id)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise OutcomeError(f"unknown outcome field {sorted(unknown)[0]!r}")
    fields, problems = clean_fields(values)
    story_ids = old.story_ids
    if stories is not None:
        try:
            story_ids = find_stories(site, stories, may_use)
        except OutcomeError as exc:
            problems.update(exc.problems)
    _check_pack(site, fields, problems)
    new = replace(old, story_ids=story_ids, updated_by=by, **fields)
    problems.update(check_status(new.status, new.reason))
    if problems:
        raise OutcomeError(problems)
    if new.status == "done" and old.status != "done":
        new = replace(new, done_on=today())
    elif new.status != "done":
        new = replace(new, done_on=None)
    if new == old:
        return old
    saved = log.save(new)
    changed = [f for f in FIELDS if getattr(old, f) != getattr(saved, f)]
    if old.story_ids != saved.story_ids:
        changed.append("stories")
    site.audit.record(OUTCOME_CHANGED, actor=by,
                      detail=f"{saved.id} {saved.status} ({', '.join(changed)})")
    _tell(site, saved, old, by)
    return saved


def _tell(site: Site, outcome: Outcome, old: Outcome | None, by: str) -> None:
    site.plugins.call("after_outcome_change", site=site, outcome=outcome, old=old, by=by)


def record_response(site: Site, outcome_id: str, story: str, *, text: str, how: str,
                    received_on: dt.date | str | None = None, by: str) -> Response:
    """Record what a storyteller said back about an outcome (entered by staff, or through
    the storyteller's link). Their words go to the team's pages only: the audit log notes
    the outcome and story ids."""
    log = outcome_log(site)
    outcome = log.get(outcome_id)
    problems: dict[str, str] = {}
    story_id = ""
    try:
        if not str(story or "").strip():
            raise OutcomeError({"stories": "Choose whose storyteller answered."})
        story_id = find_stories(site, [story])[0]
    except OutcomeError as exc:
        problems["story"] = exc.problems["stories"]
    if story_id and story_id not in outcome.story_ids:
        problems["story"] = "Choose one of the outcome's stories."
    text = str(text or "")
    problem = _text_problem("response", text.replace("\n", " "))
    if problem:
        problems["text"] = problem
    elif not text.strip():
        problems["text"] = "Write what they said, in their words if you can."
    if how not in RESPONSE_WAYS:
        problems["how"] = "Choose how they told you."
    try:
        when = _date(received_on) or today()
        if when > today():
            problems["received_on"] = "The day you heard from them cannot be in the future."
    except DateError as exc:
        problems["received_on"] = f"Date heard: {exc}."
        when = today()
    if problems:
        raise OutcomeError(problems)
    response = log.add_response(outcome.id, story_id, received_on=when, how=how,
                                text=text.strip(), by=by)
    site.audit.record(RESPONSE_RECORDED, actor=by, story_id=story_id, detail=outcome.id)
    return response


# --- the old ``changes`` lists -----------------------------------------------------------------

def changes_source(story: Story, index: int) -> str:
    """The key that marks an outcome made from line ``index`` of a story's ``changes``."""
    return f"changes:{story.id}:{index}"


def migrate_changes(site: Site, stories: Sequence[Story], *, by: str,
                    status: str = "agreed") -> tuple[list[Outcome], int]:
    """Make an outcome (``status``, default agreed) of each line of each story's
    ``changes`` list that has none yet. The story files are not changed. Returns the
    outcomes made and how many lines already had one (so running it twice makes nothing)."""
    log = outcome_log(site)
    made: list[Outcome] = []
    kept = 0
    for story in stories:
        for index, line in enumerate(story.changes):
            source = changes_source(story, index)
            if log.by_source(source) is not None:
                kept += 1
                continue
            title = " ".join(line.split())
            why = ""
            if len(title) > LIMITS["title"]:
                title, why = title[: LIMITS["title"] - 1].rstrip() + "\u2026", line
            made.append(record_outcome(site, {"title": title, "why": why, "status": status},
                                       [story.id], by=by, source=source))
    return made, kept
