"""Where has this story gone? Every copy of a story on record (storykit.copies), in words:
what it was, who has it, when, for which use and consent version; never a path on the
server. After a withdrawal (or once consent ran out), the takedown checklist built from the
same copies: staff tick each one off with a note, web pages show as taken down by the
website update, copies used within the consent window say so; and the confirmation letter
to the storyteller, in the format they prefer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for

from ... import dates
from ...copies import story_copies
from ...errors import StorykitError
from ..access import involved
from ..auth import current_user, deny, record
from ..forms import Form
from ..state import db, state
from ..storyform import clean
from ..takedown import MAX_NOTE, TICKED, checklist, set_tick, with_names, withdrawn_on
from ..website import builds_enabled, status_for
from ..words import people
from .stories import viewable

bp = Blueprint("copies", __name__, url_prefix="/stories")
STAFF = ("publisher", "admin")
#: Audited when someone reads a withdrawn story's text for its takedown.
TEXT_READ = "takedown.text_read"


def may_act(user, story) -> bool:
    """Publishers and admins, and the advocates who work on the story, deal with its copies
    after a withdrawal."""
    return user.has(*STAFF) or (user.has("advocate") and involved(user, story.id))


@bp.route("/<story_id>/copies")
def where(story_id: str):
    """Where has this story gone?"""
    story = viewable(story_id, "copies")
    site = state().site
    copies = with_names(story_copies(site, story.id), people())
    return render_template("copies/where.html", story=story, copies=copies,
                           live=sum(c.live for c in copies),
                           withdrawn=withdrawn_on(story) is not None)


@bp.route("/<story_id>/takedown", methods=["GET", "POST"])
def takedown(story_id: str):
    """The checklist: each copy of a withdrawn story, ticked off with a note."""
    story = viewable(story_id, "takedown")
    user = current_user()
    assert user is not None
    if request.method == "POST" and not may_act(user, story):
        deny(403, "takedown", story.id)
    since = withdrawn_on(story)
    if since is None:
        return render_template("copies/takedown.html", story=story, items=[], since=None,
                               form=None, website=None), 200
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        saved = _tick(story, form, since)
        if saved:
            return redirect(url_for("copies.takedown", story_id=story.id) + f"#{saved}", 303)
    items = checklist(state().site, db(), story, since, people())
    website = status_for(story) if builds_enabled() and any(
        i.automatic for i in items) else None
    return render_template("copies/takedown.html", story=story, items=items, since=since,
                           form=form, website=website,
                           staff=may_act(user, story), people=people()), 422 if form.errors else 200


def _tick(story, form: Form, since) -> str | None:
    """Keep one item's tick and note; its anchor, or None with the problem on ``form``."""
    items = {i.copy.key: i for i in checklist(state().site, db(), story, since)}
    key = form.get("item")
    item = items.get(key)
    if item is None or item.automatic:
        form.error("item", "That copy is not on this list any more. Open the page again.")
        return None
    done = form.get("done")
    if done not in ("", "yes"):
        form.error(f"done-{item.copy.entries[0]}", "Tick the box, or leave it empty.")
        return None
    note = clean(form.get(f"note-{item.copy.entries[0]}"))
    if len(note) > MAX_NOTE:
        form.error(f"note-{item.copy.entries[0]}",
                   f"Keep the note to {MAX_NOTE:,} characters or fewer.")
        return None
    user = current_user()
    assert user is not None
    set_tick(db(), story.id, key, done=done == "yes", note=note, by=user.name)
    record(TICKED, story_id=story.id,
           detail=f"{key}: {'done' if done == 'yes' else 'not done yet'}")
    flash("Saved." if done == "yes" else "Saved: still to do.")
    return f"item-{item.copy.entries[0]}"



@bp.route("/<story_id>/takedown/text")
def text(story_id: str):
    """The story's saved text, read only, for the people who take its copies down once its
    consent was withdrawn or ended (to recognise the copies): never a preview of it for any
    use. Nothing of it is kept once everything was deleted. Each reading is audited (the
    story's id only)."""
    story = viewable(story_id, "takedown text")
    user = current_user()
    assert user is not None
    if withdrawn_on(story) is None:
        deny(404, "takedown text (consent in force)", story.id)
    if not may_act(user, story):
        deny(403, "takedown text", story.id)
    if not story.erased:
        record(TEXT_READ, story_id=story.id)
    return render_template("copies/text.html", story=story)


@bp.route("/<story_id>/takedown/letter")
def letter(story_id: str):
    """The withdrawal confirmation letter, as a PDF in the storyteller's preferred format."""
    from ...letters import LetterError, withdrawal_letter, write_letter

    story = viewable(story_id, "withdrawal letter")
    user = current_user()
    assert user is not None
    if story.current_consent is None or story.current_consent.withdrawal is None:
        deny(404, "withdrawal letter (no withdrawal)", story.id)
    if not may_act(user, story):
        deny(403, "withdrawal letter", story.id)
    site = state().site
    try:
        made = withdrawal_letter(site, story, on=dates.today())
        with tempfile.TemporaryDirectory(prefix="storykit-letter-") as tmp:
            path = write_letter(site, made, Path(tmp) / "letter.pdf", by=user.name)
            data = path.read_bytes()
    except (LetterError, StorykitError) as exc:
        flash(f"The letter could not be made: {exc}.", "warning")
        return redirect(url_for("copies.takedown", story_id=story.id), 303)
    from io import BytesIO

    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"withdrawal-letter-{story.id}.pdf", conditional=False,
                     etag=False)
