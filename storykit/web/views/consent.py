"""Consent capture: a guided form for a new consent version, the storyteller's sign-off of
the final text, withdrawal, the signed form as evidence, and the history of versions.

Versions are only ever appended (``store.add_consent``), checked against the consent record
the page was loaded with (the hidden ``consent_etag``): a stale page gets a 409 with the
person's entries kept in the form. A withdrawn story accepts nothing more. Evidence (the
signed form) is stored under a generated name in ``evidence/`` and only ever downloaded, as
an attachment, by the story's owner or an admin.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import MultiDict

from ... import audit, dates, lifecycle
from ...errors import ConflictError, GoneError, NotSavedError, ValidationError
from ...fsio import LockTimeout
from ...model import (
    AGE_BANDS,
    CAPACITY,
    GIVEN_BY,
    IDENTIFICATION,
    MEDIA,
    METHODS,
    PROJECT_CLASSES,
    WITHDRAWAL_SCOPES,
    ConsentVersion,
    Story,
)
from .. import consent_words as words
from ..access import CONFIRM_WITHDRAWAL, RECORD_CONSENT, VIEW_EVIDENCE, WITHDRAW_CONSENT, can
from ..auth import client_ip, current_user, deny, record
from ..forms import Form
from ..state import audit_log, state
from ..storyform import clean
from ..uploads import (
    EVIDENCE_NAME,
    MEDIA_TYPES,
    UploadError,
    receive,
    sniff,
    store_evidence,
    upload_limit,
)
from ..website import builds_enabled, status_for
from .editor import editable, gone
from .stories import viewable

bp = Blueprint("consent", __name__, url_prefix="/stories")
NO_CONSENT = "none"


# --- the form -----------------------------------------------------------------------------------

@bp.route("/<story_id>/consent", methods=["GET", "POST"])
def form(story_id: str):
    """The consent record: its versions, and a guided form for a new version."""
    if request.method == "GET":
        story = viewable(story_id, "consent")
        return _page(story, Form(defaults(story)))
    story = editable(story_id, "record_consent", RECORD_CONSENT)
    posted = Form(MultiDict([(k, clean(v)) for k, v in request.form.items(multi=True)]))
    version = read_version(posted, story)
    upload = request.files.get("evidence")
    if not posted.get("consent_etag"):
        posted.error("status", "This page was out of date. Open it again.")
    if not posted.ok or version is None:
        return _page(story, posted), 422
    return _record(story, posted, version, upload)


def _record(story: Story, posted: Form, version: ConsentVersion, upload):
    user = current_user()
    assert user is not None
    site = state().site
    expected = posted.get("consent_etag")
    if (expected == NO_CONSENT) != (story.consent_etag is None) or (
            expected != NO_CONSENT and expected != story.consent_etag):
        return _stale(story, posted)
    evidence = None
    if upload is not None and upload.filename:
        try:
            evidence = _evidence(story, upload)
        except UploadError as exc:
            posted.error("evidence", exc.message)
            return _page(story, posted), exc.status
        version = ConsentVersion.from_dict({**version.to_dict(), "evidence": evidence})
    try:
        saved = lifecycle.record_consent(
            site, story.id, version, by=user.name,
            base_etag=None if expected == NO_CONSENT else expected, ip=client_ip(),
            log=audit_log())
    except BaseException as exc:
        if evidence:
            (site.store.folder(story.id) / evidence).unlink(missing_ok=True)
        return _not_recorded(story, posted, exc)
    state().index.put(saved)
    if evidence:
        record("consent.evidence_added", story_id=saved.id, etag=saved.consent_etag,
               detail=f"version {saved.current_consent.version}")
    flash(f"Consent version {saved.current_consent.version} was recorded.")
    change = lifecycle.last_change(saved)
    if change is not None and change.widened and saved.status != story.status:
        flash("The consent now covers more, so the story must be reviewed again before it "
              "can be published: " + "; ".join(change.sentences(site.config.label)) + ".")
    return redirect(url_for("consent.form", story_id=story.id), 303)


def _not_recorded(story: Story, posted: Form, exc: BaseException):
    if isinstance(exc, ConflictError):
        return _stale(state().index.story(story.id), posted)
    if isinstance(exc, GoneError):
        return gone(story, "record_consent")
    if isinstance(exc, ValidationError):
        posted.error("status", "The consent could not be recorded: " +
                     "; ".join(p.message.split(": ", 1)[-1] for p in exc.problems))
        return _page(story, posted), 422
    if isinstance(exc, NotSavedError | LockTimeout):
        posted.error("status", f"The consent was not recorded: {exc}. Your answers are still "
                               "in the form: try again.")
        return _page(story, posted), 503
    raise exc


def _stale(story: Story, posted: Form):
    """409: someone recorded a version meanwhile; the person's answers stay in the form."""
    data = MultiDict(posted.data)
    data["consent_etag"] = story.consent_etag or NO_CONSENT
    fresh = Form(data)
    fresh.errors = dict(posted.errors)
    fresh.error("status", "Someone else recorded a consent version after you opened this "
                          "page, so yours was not saved. Check the latest version below, then "
                          "send your answers again.")
    return _page(story, fresh), 409


def _evidence(story: Story, upload) -> str:
    site = state().site
    tmp = receive(upload.stream, site.instance / "tmp", upload_limit())
    try:
        return store_evidence(tmp, site.store.folder(story.id) / "evidence")
    finally:
        tmp.unlink(missing_ok=True)


def _page(story: Story, form_: Form, *, signoff: Form | None = None,
          confirm: Form | None = None):
    site = state().site
    user = current_user()
    return render_template(
        "consent/form.html", story=story, form=form_, signoff=signoff, confirm=confirm,
        versions=list(reversed(story.consent)), consent=story.current_consent,
        uses=[(u.name, u.label, "Outside the organisation" if u.external else None)
              for u in site.config.uses.values()],
        media=[(m, words.MEDIA[m], None) for m in MEDIA], words=words,
        can_record=can(user, RECORD_CONSENT, story),
        can_withdraw=can(user, WITHDRAW_CONSENT, story),
        can_evidence=can(user, VIEW_EVIDENCE, story),
        can_confirm=can(user, CONFIRM_WITHDRAWAL, story), today=dt.date.today().isoformat(),
        years=site.config.default_expiry_years)


# --- reading the form ---------------------------------------------------------------------------

def defaults(story: Story) -> MultiDict:
    """A new version starts as a copy of the current one; the first has sensible defaults
    (no use or media ticked: consent must be given for each, never assumed)."""
    current = story.current_consent
    data = MultiDict({"consent_etag": story.consent_etag or NO_CONSENT})
    if current is None or current.status == "withdrawn":
        today = dt.date.today()
        user = current_user()
        data.update({"status": "active", "given_by": "self", "capacity": "presumed",
                     "age_band": "adult", "method": "written", "granted": today.isoformat(),
                     "expires": add_years(today, state().site.config.default_expiry_years)
                     .isoformat(),
                     "signoff_required": "yes", "project_class": "service_improvement",
                     "taken_by_name": user.display_name if user else ""})
        return data
    simple = {k: getattr(current, k) for k in ("status", "given_by", "capacity", "age_band",
                                               "method", "identification", "project_class")}
    data.update({k: v for k, v in simple.items() if v})
    for key in ("granted", "expires", "reconsent_due"):
        value = getattr(current, key)
        data[key] = value.isoformat() if value else ""
    data["signoff_required"] = "yes" if current.signoff_required else "no"
    data["ethics_ref"] = current.ethics_ref or ""
    data["notes"] = current.notes or ""
    if current.taken_by:
        data["taken_by_name"] = current.taken_by.name or ""
        data["taken_by_role"] = current.taken_by.role or ""
        if current.taken_by.involved_in_care is not None:
            data["taken_by_involved"] = "yes" if current.taken_by.involved_in_care else "no"
    for use in current.uses:
        data.add("uses", use)
    for item in current.media:
        data.add("media", item)
    return data


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_date(form_: Form, name: str, label: str, required: bool = True) -> dt.date | None:
    """A date typed as 2027-03-01 (what date boxes send) or 1/3/2027 (storykit.dates)."""
    value = form_.get(name)
    if not value:
        if required:
            form_.error(name, f"Enter {label}.")
        return None
    try:
        return dates.parse_date(value, day_first=True)
    except dates.DateError as exc:
        form_.error(name, f"Enter {label} as a real date: {exc}.")
        return None


def _choice(form_: Form, name: str, allowed, message: str) -> str:
    value = form_.get(name)
    if value not in allowed:
        form_.error(name, message)
    return value


def read_version(form_: Form, story: Story) -> ConsentVersion | None:
    """A new consent version from the form (None, with errors, when it is not valid)."""
    site = state().site
    status = _choice(form_, "status", ("active", "pending"), "Say whether the storyteller "
                     "has agreed.")
    given_by = _choice(form_, "given_by", GIVEN_BY, "Say who gave consent.")
    capacity = _choice(form_, "capacity", CAPACITY, "Say whether the storyteller could decide "
                       "for themselves.")
    age_band = _choice(form_, "age_band", AGE_BANDS, "Choose the storyteller's age group.")
    method = _choice(form_, "method", METHODS, "Say how consent was given.")
    identification = _choice(form_, "identification", IDENTIFICATION,
                             "Choose how the storyteller wants to be named.")
    project = _choice(form_, "project_class", PROJECT_CLASSES, "Choose what kind of work "
                      "this is.")
    signoff = _choice(form_, "signoff_required", ("yes", "no"), "Say whether the storyteller "
                      "wants to check the final text.")
    granted = parse_date(form_, "granted", "the date consent was given")
    expires = parse_date(form_, "expires", "the date consent ends")
    reconsent = parse_date(form_, "reconsent_due", "the date to ask again",
                           required=age_band in AGE_BANDS and age_band != "adult")
    uses = form_.getlist("uses")
    media = form_.getlist("media")
    _check(form_, status, given_by, capacity, uses, media, granted, expires, reconsent,
           project, site.config.use_names)
    taken_by = _taken_by(form_)
    if not form_.ok:
        return None
    current = story.current_consent
    carried = {} if current is None else {
        "signed_off": current.signed_off, "signed_off_revision": current.signed_off_revision,
        "evidence": current.evidence, "contact": current.contact}
    fields = {
        "version": 1, "recorded": dt.datetime.now(dt.UTC), "status": status,
        "given_by": given_by, "capacity": capacity, "age_band": age_band,
        "reconsent_due": reconsent if age_band != "adult" else None, "method": method,
        "taken_by": taken_by, "granted": granted, "expires": expires,
        "uses": [u for u in site.config.use_names if u in uses],
        "media": [m for m in MEDIA if m in media], "identification": identification,
        "signoff_required": signoff == "yes", "project_class": project,
        "ethics_ref": form_.get("ethics_ref") or None, "notes": form_.get("notes") or None,
        **{k: v for k, v in carried.items() if v is not None},
    }
    return ConsentVersion.from_dict({k: v for k, v in fields.items() if v is not None})


def _check(form_: Form, status: str, given_by: str, capacity: str, uses: list[str],
           media: list[str], granted, expires, reconsent, project: str,
           site_uses: tuple[str, ...]) -> None:
    if any(u not in site_uses for u in uses):
        form_.error("uses", "Choose uses from the list.")
    elif status == "active" and not uses:
        form_.error("uses", "Tick at least one use the storyteller agreed to.")
    if any(m not in MEDIA for m in media):
        form_.error("media", "Choose from the list.")
    elif status == "active" and not media:
        form_.error("media", "Tick at least one thing the storyteller agreed we may show.")
    if granted and expires and expires <= granted:
        form_.error("expires", "The end date must be after the date consent was given.")
    if reconsent and granted and reconsent <= granted:
        form_.error("reconsent_due", "The date to ask again must be after the date consent "
                                     "was given.")
    if capacity == "assessed_lacks" and given_by == "self":
        form_.error("capacity", "Someone assessed as not able to decide cannot consent for "
                                "themselves. Choose who gave consent for them.")
    if project == "research" and not form_.get("ethics_ref"):
        form_.error("ethics_ref", "Research needs ethics approval: enter its reference.")
    for name, label, limit in (("ethics_ref", "The reference", 200),
                               ("taken_by_name", "The name", 200),
                               ("taken_by_role", "The job title", 200),
                               ("notes", "The notes", 5000)):
        value = form_.get(name)
        if len(value) > limit or (name != "notes" and "\n" in value):
            form_.error(name, f"{label} must be {'one line of ' if name != 'notes' else ''}"
                              f"{limit:,} characters or fewer.")


def _taken_by(form_: Form) -> dict | None:
    involved = form_.get("taken_by_involved")
    if involved not in ("", "yes", "no"):
        form_.error("taken_by_involved", "Answer yes or no.")
    taken = {"name": form_.get("taken_by_name") or None, "role": form_.get("taken_by_role")
             or None, "involved_in_care": None if not involved else involved == "yes"}
    taken = {k: v for k, v in taken.items() if v is not None}
    return taken or None


# --- sign-off ---------------------------------------------------------------------------------

@bp.route("/<story_id>/consent/sign-off", methods=["POST"])
def sign_off(story_id: str):
    """Record that the storyteller checked the text: a new version with the date and the
    story revision they saw. (The sign-off page, storykit.web.views.signoff, is where staff
    ask them and record answers with who took them; this stays for forms and scripts.)"""
    story = editable(story_id, "sign_off", RECORD_CONSENT)
    posted = Form(request.form)
    current = story.current_consent
    if current is None:
        posted.error("signed_off", "Record the storyteller's consent first.")
        return _page(story, Form(defaults(story)), signoff=posted), 422
    when = parse_date(posted, "signed_off", "the date they checked it")
    found = lifecycle.signoff_request_refusals(story)
    if found:  # only the final words of an approved story can be signed off
        posted.error("signed_off", "You cannot record a sign-off now: "
                     + "; ".join(r.message for r in found) + ".")
    if when and when > dt.date.today():
        posted.error("signed_off", "The date cannot be in the future.")
    if when and when < current.granted:
        posted.error("signed_off", "The date cannot be before consent was given.")
    if not posted.get("story_etag") or not posted.get("consent_etag"):
        posted.error("signed_off", "This page was out of date. Open it again.")
    if not posted.ok:
        return _page(story, Form(defaults(story)), signoff=posted), 422
    if posted.get("story_etag") != story.etag or posted.get("consent_etag") != story.consent_etag:
        posted.error("signed_off", "The story or its consent changed after you opened this "
                                   "page. Check that the storyteller saw the latest text, "
                                   "then record the sign-off again.")
        return _page(story, Form(defaults(story)), signoff=posted), 409
    version = ConsentVersion.from_dict({**current.to_dict(), "signed_off": when,
                                        "signed_off_revision": story.revision})
    return _record_signoff(story, posted, version)


def _record_signoff(story: Story, posted: Form, version: ConsentVersion):
    user = current_user()
    assert user is not None
    try:
        saved = lifecycle.record_consent(
            state().site, story.id, version, by=user.name, base_etag=story.consent_etag,
            ip=client_ip(), log=audit_log(),
            detail=f"version {len(story.consent) + 1}: sign-off of revision {story.revision}")
    except ConflictError:
        posted.error("signed_off", "Someone else recorded a consent version meanwhile. Check "
                                   "it, then record the sign-off again.")
        fresh = state().index.story(story.id)
        return _page(fresh, Form(defaults(fresh)), signoff=posted), 409
    except GoneError:
        return gone(story, "sign_off")
    except (NotSavedError, LockTimeout, ValidationError) as exc:
        posted.error("signed_off", f"The sign-off was not recorded: {exc}")
        return _page(story, Form(defaults(story)), signoff=posted), 503
    state().index.put(saved)
    flash(f"The sign-off of version {story.revision} of the story was recorded.")
    return redirect(url_for("consent.form", story_id=story.id), 303)


# --- withdrawal -----------------------------------------------------------------------------------

@bp.route("/<story_id>/consent/withdraw", methods=["GET", "POST"])
def withdraw(story_id: str):
    """Withdraw consent (as easy as giving it), then show where the story went."""
    story = editable(story_id, "withdraw_consent", WITHDRAW_CONSENT)
    posted = Form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("consent/withdraw.html", story=story, form=posted,
                               scopes=words.SCOPES)
    scope = _choice(posted, "scope", WITHDRAWAL_SCOPES, "Choose what should happen to the "
                                                        "story.")
    reason = clean(posted.get("reason"))
    if not reason:
        posted.error("reason", "Write what the storyteller asked for, in a few words.")
    elif len(reason) > 2000:
        posted.error("reason", "Keep it to 2,000 characters or fewer.")
    if not posted.ok:
        return render_template("consent/withdraw.html", story=story, form=posted,
                               scopes=words.SCOPES), 422
    user = current_user()
    assert user is not None
    site = state().site
    try:
        withdrawn = site.withdraw(story.id, scope, reason, by=user.name, ip=client_ip())
    except (NotSavedError, LockTimeout) as exc:
        posted.error("scope", f"The withdrawal was not recorded: {exc}. Try again.")
        return render_template("consent/withdraw.html", story=story, form=posted,
                               scopes=words.SCOPES), 503
    state().index.put(withdrawn)
    from ...copies import story_copies
    from ..takedown import with_names
    from ..words import people

    live = with_names([c for c in story_copies(site, story.id) if c.live], people())
    letter = _erased_letter(withdrawn, story) if scope == "delete_everything" else None
    return render_template("consent/withdrawn.html", story=withdrawn, scope=scope, live=live,
                           use_label=site.config.label, today=dt.date.today().isoformat(),
                           confirm=None, letter=letter,
                           website=status_for(withdrawn) if builds_enabled() else None)


def _erased_letter(story: Story, before: Story) -> tuple[str | None, str | None]:
    """The confirmation letter made now, while the storyteller's details are still known
    (they are erased with everything else): ``(data: address of the PDF, None)``, or
    ``(None, why not)``. Nothing is kept on the server."""
    import base64
    import tempfile
    from pathlib import Path

    from ...letters import withdrawal_letter, write_letter

    user = current_user()
    site = state().site
    try:
        made = withdrawal_letter(site, story, before=before)
        with tempfile.TemporaryDirectory(prefix="storykit-letter-") as tmp:
            path = write_letter(site, made, Path(tmp) / "letter.pdf",
                                by=user.name if user else None)
            data = base64.b64encode(path.read_bytes()).decode("ascii")
    except Exception as exc:  # noqa: BLE001 - the withdrawal is done; say why no letter
        from ...jobs import failure_words

        return None, failure_words(exc)
    return f"data:application/pdf;base64,{data}", None


@bp.route("/<story_id>/consent/confirm-withdrawal", methods=["POST"])
def confirm_withdrawal(story_id: str):
    """Record the day the storyteller was told their withdrawal was done (a new version)."""
    story = viewable(story_id, "confirm_withdrawal")
    if not can(current_user(), CONFIRM_WITHDRAWAL, story):
        deny(403, "confirm_withdrawal", story.id)
    current = story.current_consent
    posted = Form(request.form)
    when = parse_date(posted, "confirmed", "the day you told them")
    if current is None or current.withdrawal is None:
        posted.error("confirmed", "There is no withdrawal to confirm.")
    elif when and (when > dt.date.today() or (current.withdrawal.requested
                                              and when < current.withdrawal.requested)):
        posted.error("confirmed", "The day must be between the withdrawal and today.")
    if not posted.get("consent_etag"):
        posted.error("confirmed", "This page was out of date. Open it again.")
    if not posted.ok or current is None or current.withdrawal is None:
        return _page(story, Form(defaults(story)), confirm=posted), 422
    withdrawal = {**current.to_dict()["withdrawal"], "confirmed": when}
    version = ConsentVersion.from_dict({**current.to_dict(), "withdrawal": withdrawal})
    user = current_user()
    assert user is not None
    try:
        saved = state().site.store.add_consent(story.id, version, by=user.name,
                                               base_etag=posted.get("consent_etag"))
    except ConflictError:
        posted.error("confirmed", "Someone else recorded a consent version meanwhile. Check "
                                  "it, then try again.")
        fresh = state().index.story(story.id)
        return _page(fresh, Form(defaults(fresh)), confirm=posted), 409
    except (NotSavedError, LockTimeout, ValidationError, GoneError) as exc:
        posted.error("confirmed", f"It was not recorded: {exc}")
        return _page(story, Form(defaults(story)), confirm=posted), 503
    state().index.put(saved)
    record(audit.CONSENT_CHANGED, story_id=saved.id, etag=saved.consent_etag,
           detail=f"version {saved.current_consent.version}: withdrawal confirmed")
    flash("It was recorded that the storyteller was told.")
    return redirect(url_for("consent.form", story_id=story.id), 303)


# --- evidence ---------------------------------------------------------------------------------

@bp.route("/<story_id>/evidence/<name>")
def evidence(story_id: str, name: str):
    """A signed consent form, as a download (never shown in a page)."""
    story = viewable(story_id, "evidence")
    if not can(current_user(), VIEW_EVIDENCE, story):
        deny(403, "evidence", story.id)
    listed = {v.evidence for v in story.consent if v.evidence}
    if not EVIDENCE_NAME.match(name) or f"evidence/{name}" not in listed:
        deny(404, "evidence (not in the consent record)", story.id)
    folder = state().site.store.folder(story.id).resolve()
    path = folder / "evidence" / name
    if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(folder):
        abort(404)
    kind = sniff(path)
    if kind not in ("pdf", "jpeg", "png"):
        abort(404)
    record("consent.evidence_viewed", story_id=story.id, detail=name)
    ext = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}[kind]
    return send_file(path, mimetype=MEDIA_TYPES[kind], as_attachment=True,
                     download_name=f"signed-consent-{story.id}.{ext}", conditional=False,
                     etag=False)
