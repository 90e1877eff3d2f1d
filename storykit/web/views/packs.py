"""Packs in the browser: choose stories (search and filters), the use, formats, theme and
length, and who the pack is for; see which stories would be left out and why before
anything is made; build it as a background job (``pack-build``: storykit.web.packorders)
with its progress shown in place; download the zip (recorded in the distribution log by the
core); and the packs made so far, each with its stories and downloads, and saved packs to
build again (consent is decided again then).

Publishers and admins make packs. The stories offered are the ones the person may view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import MultiDict

from ... import dates
from ...errors import StorykitError
from ...jobs import Jobs
from ...model import STORY_STATUSES, Story
from ...packs import LENGTHS, PackDefinition, PackError, PackLog, pack_folder, record_download
from ...packs.definition import MAX_RECIPIENTS, MAX_STORIES, MAX_TEXT
from ...render import decide_all
from ..access import VIEW, can
from ..auth import current_user, deny, record, roles_required
from ..forms import Form
from ..listing import visible
from ..packorders import find_order, order_pack
from ..state import db, state
from ..storyform import clean
from ..templating import STATUS_LABELS
from ..words import people, reasons

bp = Blueprint("packs", __name__, url_prefix="/packs")
STAFF = ("publisher", "admin")
#: Consent states a story list can be filtered by, in words.
CONSENT_STATES = {"active": "Consent given", "pending": "Consent not given yet",
                  "withdrawn": "Consent withdrawn", "expired": "Consent ran out"}
#: "Consent ends within..." filter choices: days, in words.
EXPIRY = {"30": "the next 30 days", "60": "the next 60 days", "90": "the next 90 days",
          "365": "the next year"}
LENGTH_WORDS = {"full": ("The whole story", "Every part of each story."),
                "summary": ("A short version for meetings",
                            "At most 6 slides a story in slides and PowerPoint.")}
SHOWN = 200  # stories listed at once on the form
SEARCH_MAX = 100


# --- choosing stories ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    q: str = ""
    service: str = ""
    tag: str = ""
    status: str = ""
    consent: str = ""
    expiry: str = ""


def read_filters(args: MultiDict) -> tuple[Filters, Form]:
    """The story filters from the address (bad values are errors in words, not ignored)."""
    form = Form(args)
    values = {name: form.get(name) for name in Filters.__dataclass_fields__}
    for name, value in values.items():
        if len(value) > SEARCH_MAX or any(ord(c) < 32 for c in value):
            form.error(name, f"Use at most {SEARCH_MAX} characters, without line breaks.")
            values[name] = ""
    if values["status"] and values["status"] not in STORY_STATUSES:
        form.error("status", "Choose a status from the list.")
        values["status"] = ""
    if values["consent"] and values["consent"] not in CONSENT_STATES:
        form.error("consent", "Choose a consent state from the list.")
        values["consent"] = ""
    if values["expiry"] and values["expiry"] not in EXPIRY:
        form.error("expiry", "Choose how soon consent ends from the list.")
        values["expiry"] = ""
    return Filters(**values), form


def consent_state(story: Story, on: dt.date) -> str:
    consent = story.current_consent
    if consent is None:
        return "pending"
    if consent.status == "active" and consent.expires < on:
        return "expired"
    return consent.status


def matches(story: Story, f: Filters, on: dt.date) -> bool:
    if f.q and f.q.casefold() not in f"{story.title} {story.id} {story.slug}".casefold():
        return False
    if f.service and (story.service or "").casefold() != f.service.casefold():
        return False
    if f.tag and f.tag.casefold() not in {t.casefold() for t in story.tags}:
        return False
    if f.status and story.status != f.status:
        return False
    if f.consent and consent_state(story, on) != f.consent:
        return False
    if f.expiry:
        consent = story.current_consent
        if consent is None or consent.status != "active" or not \
                on <= consent.expires <= on + dt.timedelta(days=int(f.expiry)):
            return False
    return True


def offered() -> list[Story]:
    """The stories this person may put in a pack: every one they may view."""
    user = current_user()
    assert user is not None
    return visible(user, state().index.snapshot())


def _choices(stories: list[Story]) -> tuple[list[str], list[str]]:
    services = sorted({s.service for s in stories if s.service}, key=str.casefold)
    tags = sorted({t for s in stories for t in s.tags}, key=str.casefold)
    return services, tags


# --- the pack's settings ------------------------------------------------------------------------

def format_options() -> list[tuple[str, str]]:
    formats = state().site.formats()
    return [(name, f"{name}: {fmt.description}" if fmt.description else name)
            for name, fmt in sorted(formats.items())]


def theme_options() -> list[tuple[str, str]]:
    from ...themes import theme_sources

    return [("", "The site's own theme")] + [(n, n) for n in sorted(theme_sources(state().site))]


def read_definition(form: Form) -> PackDefinition | None:
    """The pack asked for, or None with every problem recorded against its field."""
    site = state().site
    use = form.get("use")
    if use not in site.config.uses:
        form.error("use", "Choose who the pack is for.")
    formats = form.getlist("format")
    known = site.formats()
    if not formats:
        form.error("format", "Choose at least one kind of file.")
    elif any(f not in known for f in formats) or len(set(formats)) != len(formats):
        form.error("format", "Choose kinds of file from the list.")
    elif use in site.config.uses:
        wrong = [f for f in formats if known[f].uses is not None and use not in known[f].uses]
        if wrong:
            form.error("format", f"{', '.join(wrong)} cannot be made for "
                                 f"{site.config.label(use).lower()}: choose other kinds of file.")
    length = form.get("length") or "full"
    if length not in LENGTHS:
        form.error("length", "Choose how long each story should be.")
    theme = form.get("theme") or None
    if theme is not None and theme not in dict(theme_options()):
        form.error("theme", "Choose a theme from the list.")
    stories = _chosen_stories(form)
    texts = {}
    for name, label in (("title", "The title"), ("meeting", "The meeting")):
        value = clean(form.get(name))
        if len(value) > MAX_TEXT or "\n" in value or "\t" in value:
            form.error(name, f"{label} must be one line of at most {MAX_TEXT} characters.")
        texts[name] = value
    meeting_date = _meeting_date(form)
    recipients = [" ".join(line.split()) for line in clean(form.get("recipients")).splitlines()]
    recipients = [r for r in recipients if r]
    if len(recipients) > MAX_RECIPIENTS:
        form.error("recipients", f"List at most {MAX_RECIPIENTS} people or groups.")
    elif any(len(r) > MAX_TEXT for r in recipients):
        form.error("recipients", f"Keep each person or group to {MAX_TEXT} characters.")
    save_as = " ".join(clean(form.get("save_as")).split())
    if len(save_as) > 100:
        form.error("save_as", "Keep the name to 100 characters or fewer.")
    if not form.ok:
        return None
    definition = PackDefinition(
        use=use, formats=tuple(formats), stories=tuple(stories), title=texts["title"],
        length=length, theme=theme, meeting=texts["meeting"] or None,
        meeting_date=meeting_date, recipients=tuple(recipients))
    for problem in definition.problems():  # anything the core refuses that is not above
        form.error("story", f"The pack cannot be made: {problem}.")
    return definition if form.ok else None


def _chosen_stories(form: Form) -> list[str]:
    ids = list(dict.fromkeys(form.getlist("story")))
    if not ids:
        form.error("story", "Choose at least one story.")
        return []
    if len(ids) > MAX_STORIES:
        form.error("story", f"Choose at most {MAX_STORIES} stories.")
        return []
    user = current_user()
    index = state().index
    for story_id in ids:
        story = index.get(story_id) if len(story_id) <= 100 else None
        if story is None or not can(user, VIEW, story):
            form.error("story", "A story you chose is not one you can put in a pack. Choose "
                                "again from the list.")
            return []
    return ids


def _meeting_date(form: Form) -> dt.date | None:
    raw = form.get("meeting_date")
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        form.error("meeting_date", "Enter the meeting date as a date, for example 2027-03-01.")
        return None
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        form.error("meeting_date", "Enter a real meeting date.")
        return None
    return day


def _form_page(form: Form | None, filters: Filters, filter_form: Form, status: int = 200):
    stories = offered()
    on = dates.today()
    shown = [s for s in stories if matches(s, filters, on)]
    services, tags = _choices(stories)
    chosen = set(form.getlist("story")) if form else set()
    # stories already chosen stay on the page even when the filters hide them
    extra = [s for s in stories if s.id in chosen and s not in shown[:SHOWN]]
    return render_template(
        "packs/new.html", form=form, filters=filters, filter_form=filter_form,
        stories=shown[:SHOWN] + extra, more=max(0, len(shown) - SHOWN), total=len(stories),
        chosen=chosen, services=services, tags=tags, statuses=STATUS_LABELS,
        consent_states=CONSENT_STATES, expiry=EXPIRY, formats=format_options(),
        themes=theme_options(), uses=_uses(), lengths=LENGTH_WORDS,
        consent_state=consent_state, on=on), status


def _uses() -> list[tuple[str, str]]:
    config = state().site.config
    return [("", "Choose who the pack is for")] + [(u, config.label(u)) for u in
                                                   config.use_names]


# --- pages --------------------------------------------------------------------------------------

@bp.route("")
@roles_required(*STAFF)
def index():
    log = PackLog(state().site.database)
    return render_template("packs/index.html", packs=log.all(limit=100), total=log.count(),
                           saved=log.definitions(), people=people())


@bp.route("/new")
@roles_required(*STAFF)
def new():
    filters, filter_form = read_filters(request.args)
    return _form_page(None, filters, filter_form, 200 if filter_form.ok else 422)


@bp.route("/check", methods=["POST"])
@roles_required(*STAFF)
def check():
    """Before building: which stories go in and which are left out, and why, in words."""
    form = Form(request.form)
    definition = read_definition(form)
    if definition is None:
        return _form_page(form, Filters(), Form())[0], 422
    site = state().site
    index = state().index
    try:
        stories = [index.story(i) for i in definition.stories]
    except StorykitError:
        form.error("story", "A story you chose cannot be read now (ask whoever runs the site "
                            "to run storykit check). Choose again.")
        return _form_page(form, Filters(), Form())[0], 422
    decisions = decide_all(site, stories, definition.use)
    allowed = [s for s, d in zip(stories, decisions, strict=True) if d.allowed]
    label = site.config.label
    refused = [(s, reasons(s, d, label)) for s, d in zip(stories, decisions, strict=True)
               if not d.allowed]
    return render_template("packs/check.html", form=form, definition=definition,
                           allowed=allowed, refused=refused,
                           use_words=site.config.label(definition.use))


@bp.route("/change", methods=["POST"])
@roles_required(*STAFF)
def change():
    """Back from the check to the form, with every choice kept."""
    return _form_page(Form(request.form), Filters(), Form())[0]


@bp.route("/build", methods=["POST"])
@roles_required(*STAFF)
def build():
    form = Form(request.form)
    definition = read_definition(form)
    if definition is None:
        return _form_page(form, Filters(), Form())[0], 422
    user = current_user()
    assert user is not None
    save_as = " ".join(clean(form.get("save_as")).split()) or None
    order, job = order_pack(state().site, definition, by=user.name, save_as=save_as)
    record("pack.asked", detail=f"{order.id}: {len(definition.stories)} stories for "
                                f"{definition.use}, job {job.id}")
    return redirect(url_for("packs.making", order_id=order.id), 303)


@bp.route("/saved/<definition_id>/build", methods=["POST"])
@roles_required(*STAFF)
def rebuild(definition_id: str):
    """Build a saved pack again: its stories' consent is decided when the job runs."""
    log = PackLog(state().site.database)
    try:
        saved = log.definition(definition_id)
    except PackError:
        deny(404, "saved pack")
    if saved.id != definition_id:
        deny(404, "saved pack")  # by id only: names are for the command line
    user = current_user()
    assert user is not None
    order, job = order_pack(state().site, saved.definition, by=user.name,
                            definition_id=saved.id)
    record("pack.asked", detail=f"{order.id}: saved pack {saved.id} again, job {job.id}")
    return redirect(url_for("packs.making", order_id=order.id), 303)


@bp.route("/making/<order_id>")
@roles_required(*STAFF)
def making(order_id: str):
    order = find_order(db(), order_id) if len(order_id) <= 40 else None
    if order is None:
        deny(404, "pack order")
    job = Jobs(state().site).find(order.job_id) if order.job_id else None
    left_out = []
    if job is not None and job.result:
        left_out = _titles([i for i in job.result.get("left_out", []) if isinstance(i, str)])
    return render_template("packs/making.html", order=order, job=job, left_out=left_out,
                           use_words=state().site.config.label(order.definition.use))


@bp.route("/<pack_id>")
@roles_required(*STAFF)
def show(pack_id: str):
    from ...copies import group_copies

    site = state().site
    pack = _pack(pack_id)
    entries = site.distributions.for_pack(pack.id)
    copies = group_copies(site, entries, {pack.id: pack})
    downloads = [c for c in copies if c.kind == "download"]
    seen = {}
    for c in downloads:  # one row a download, not one a story
        seen.setdefault((c.made_by, c.made_at), c)
    return render_template("packs/show.html", pack=pack, titles=_titles(pack.story_ids),
                           downloads=list(seen.values()), people=people(),
                           kept=_kept(pack) is not None, problems=_download_problems(pack),
                           use_words=site.config.label(pack.use))


@bp.route("/<pack_id>/download")
@roles_required(*STAFF)
def download(pack_id: str):
    """The pack's zip, when storykit still keeps it and every story in it may still be used
    for its use today; the download is recorded as a copy of each story."""
    pack = _pack(pack_id)
    path = _kept(pack)
    problems = _download_problems(pack)
    if path is None or problems:
        flash("The pack cannot be downloaded: " + ("; ".join(problems) if problems else
              "its file is no longer kept") + ". Make it again to get the stories that may be "
              "used today.", "warning")
        return redirect(url_for("packs.show", pack_id=pack.id), 303)
    user = current_user()
    assert user is not None
    record_download(state().site, pack, by=user.name)
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=pack.file_name, conditional=False, etag=False)


def _pack(pack_id: str):
    pack = PackLog(state().site.database).find(pack_id) if len(pack_id) <= 40 else None
    if pack is None:
        deny(404, "pack")
    return pack


def _kept(pack) -> Path | None:
    """The pack's zip when it is one storykit keeps (in the instance folder's packs/)."""
    if not pack.location:
        return None
    folder = pack_folder(state().site).resolve()
    path = Path(pack.location)
    if path.is_symlink() or not path.is_file() or path.resolve().parent != folder:
        return None
    return path


def _download_problems(pack) -> list[str]:
    """Why the pack may not be handed out today, in words (a story withdrawn or run out)."""
    index = state().index
    site = state().site
    problems = []
    for number, story_id in enumerate(pack.story_ids, 1):
        try:
            story = index.story(story_id)
        except StorykitError:
            problems.append(f"story {number} in it is no longer on record")
            continue
        decision = site.decide(story, pack.use)
        if not decision.allowed:
            problems.append(f"story {number} in it may no longer be used for "
                            f"{site.config.label(pack.use).lower()}")
    return problems


def _titles(story_ids) -> dict[str, str]:
    """Titles of the stories this person may see (others are named by number only)."""
    user, index, found = current_user(), state().index, {}
    for story_id in list(story_ids)[:MAX_STORIES]:
        try:
            story = index.story(story_id)
        except StorykitError:
            continue
        if can(user, VIEW, story) and not story.erased:
            found[story_id] = story.title
    return found
