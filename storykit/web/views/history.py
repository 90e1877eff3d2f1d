"""A story's history: every kept version with who saved it and when, and a readable
difference between any two of them.

Versions come from the store (``store.revisions()``: the files it keeps in
``instance/revisions``), oldest first. A status change keeps the version number, so versions
are told apart by their etag. Anyone who may view a story may see its history.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ...errors import StorykitError, ValidationError
from ...model import Story
from ...store import Revision
from ...storyfile import parse_story
from ..diffs import compare, raw_diff
from ..state import state
from .stories import viewable

bp = Blueprint("history", __name__, url_prefix="/stories")


@dataclass(frozen=True)
class Version:
    number: int          # 1 = the oldest kept
    revision: Revision


def versions(story_id: str) -> list[Version]:
    try:
        kept = state().site.store.revisions(story_id)
    except (OSError, StorykitError):
        kept = []
    return [Version(n, r) for n, r in enumerate(kept, start=1)]


def _text(story_id: str, revision: Revision) -> str | None:
    try:
        return state().site.store.revision_text(story_id, revision)
    except (OSError, UnicodeDecodeError):
        return None


def story_at(story_id: str, etag: str) -> Story | None:
    """The story as it was at ``etag`` (a kept version), or None if it is not kept."""
    for version in versions(story_id):
        if version.revision.etag == etag:
            text = _text(story_id, version.revision)
            if text is None:
                return None
            try:
                return parse_story(text.encode("utf-8"), "story.md", story_id)
            except ValidationError:
                return None
    return None


@bp.route("/<story_id>/history")
def index(story_id: str):
    """Every kept version, newest first, and a form to compare two."""
    story = viewable(story_id, "history")
    found = versions(story_id)
    return render_template("history/list.html", story=story, versions=list(reversed(found)),
                           latest=found[-1] if found else None,
                           previous=found[-2] if len(found) > 1 else None)


@bp.route("/<story_id>/diff")
def diff(story_id: str):
    """What changed between two versions (``?from=ETAG&to=ETAG``)."""
    story = viewable(story_id, "diff")
    found = {v.revision.etag: v for v in versions(story_id)}
    old, new = found.get(request.args.get("from", "")), found.get(request.args.get("to", ""))
    if old is None or new is None:  # e.g. versions erased since the link was made
        flash("Those versions are not kept. Choose two from the list.")
        return redirect(url_for("history.index", story_id=story.id), 303)
    if old.number > new.number:
        old, new = new, old
    old_text, new_text = _text(story_id, old.revision), _text(story_id, new.revision)
    if old_text is None or new_text is None:
        abort(404)
    try:
        changes = compare(parse_story(old_text.encode(), "story.md", story_id),
                          parse_story(new_text.encode(), "story.md", story_id))
        raw = None
    except ValidationError:  # a hand-edited version storykit cannot read: compare the files
        changes, raw = [], raw_diff(old_text, new_text)
    return render_template("history/diff.html", story=story, old=old, new=new,
                           changes=changes, raw=raw,
                           versions=list(reversed(list(found.values()))))
