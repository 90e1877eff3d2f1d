"""Admin pages: people (add, roles, deactivate, set a password), who works on which story, and
the audit log with filters."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ... import audit
from ...audit import AuditFilter
from ...dates import DateError, parse_date
from .. import access, accounts
from ..accounts import ROLES, AccountError, User
from ..auth import current_user, login_user, record, roles_required
from ..forms import Form, check_new_password
from ..listing import page_number
from ..state import audit_log, db, state
from .stories import _page, viewable

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 100


def _role_options() -> list[tuple[str, str, str]]:
    return [(role, role.capitalize(), help_text) for role, help_text in ROLES.items()]


def _user_or_404(name: str) -> User:
    user = accounts.by_name(db(), name)
    if user is None:
        abort(404)
    return user


# --- people ------------------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    """Everyone's accounts, and a form to add one."""
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        added = _add_user(form)
        if added is not None:
            flash(f"{added.display_name} can now sign in as {added.name}. Tell them their "
                  "password in person or by phone, and ask them to change it.")
            return redirect(url_for("admin.users"), 303)
    status = 422 if form.errors else 200
    return render_template("admin/users.html", form=form, users=accounts.all_users(db()),
                           role_options=_role_options()), status


def _add_user(form: Form) -> User | None:
    name = form.get("name")
    roles = form.getlist("roles")
    for problem, fld in ((accounts.name_problem(name), "name"),
                         (accounts.display_name_problem(form.get("display_name")), "display_name"),
                         (accounts.roles_problem(roles), "roles")):
        if problem:
            form.error(fld, problem)
    check_new_password(form, "password", "confirm", name)
    if not form.ok:
        return None
    try:
        user = accounts.add_user(db(), state().hasher, name, form.raw("password"), roles,
                                 form.get("display_name"))
    except AccountError as exc:
        form.error(exc.field or "name", str(exc))
        return None
    record(audit.USER_ADDED, detail=f"user {user.name} roles {','.join(sorted(user.roles))}")
    return user


@bp.route("/users/<name>")
@roles_required("admin")
def user(name: str):
    return _user_page(_user_or_404(name))


def _user_page(person: User, form: Form | None = None, password_form: Form | None = None,
               status: int = 200):
    index = state().index
    stories = [(index.get(sid), sid, kind) for sid, kind in sorted(person.access.items())]
    from ..alerts import email_of

    return render_template("admin/user.html", person=person, form=form,
                           password_form=password_form, stories=stories,
                           role_options=_role_options(),
                           notice_email=email_of(db(), person.id) or ""), status


@bp.route("/users/<name>/roles", methods=["POST"])
@roles_required("admin")
def roles(name: str):
    """Replace someone's roles. Their sessions end, so the change applies at once."""
    person = _user_or_404(name)
    form = Form(request.form)
    new_roles = form.getlist("roles")
    try:
        updated = accounts.set_roles(db(), person, new_roles)
    except AccountError as exc:
        form.error("roles", str(exc))
        return _user_page(person, form=form, status=422)
    record(audit.USER_ROLES, detail=f"user {person.name}: {','.join(sorted(person.roles))} -> "
                                    f"{','.join(sorted(updated.roles))}")
    _keep_own_session(updated)
    flash(f"{updated.display_name}'s roles were changed. They must sign in again.")
    return redirect(url_for("admin.user", name=updated.name), 303)


def _keep_own_session(updated: User) -> None:
    """An admin who changes their own account gets a fresh session instead of being signed
    out (everyone else's sessions for that account end)."""
    me = current_user()
    if me is not None and me.id == updated.id and updated.active:
        login_user(updated)


@bp.route("/users/<name>/active", methods=["POST"])
@roles_required("admin")
def active(name: str):
    """Deactivate (sign-in stops, sessions end) or reactivate an account."""
    person = _user_or_404(name)
    make_active = request.form.get("active") == "1"
    try:
        updated = accounts.set_active(db(), person, make_active)
    except AccountError as exc:
        form = Form(request.form)
        form.error("active", str(exc))
        return _user_page(person, form=form, status=422)
    record(audit.USER_ACTIVE, detail=f"user {person.name} "
                                     f"{'reactivated' if make_active else 'deactivated'}")
    flash(f"{updated.display_name} was {'reactivated' if make_active else 'deactivated'}.")
    return redirect(url_for("admin.user", name=updated.name), 303)


@bp.route("/users/<name>/password", methods=["POST"])
@roles_required("admin")
def password(name: str):
    """Set a new password for someone who forgot theirs; their sessions end."""
    person = _user_or_404(name)
    form = Form(request.form)
    check_new_password(form, "new_password", "confirm", person.name)
    if not form.ok:
        return _user_page(person, password_form=form, status=422)
    updated = accounts.set_password(db(), state().hasher, person, form.raw("new_password"))
    record(audit.USER_PASSWORD_SET, detail=f"user {person.name}")
    _keep_own_session(updated)
    flash(f"A new password was set for {person.display_name}. Tell them in person or by phone.")
    return redirect(url_for("admin.user", name=person.name), 303)


@bp.route("/users/<name>/email", methods=["POST"])
@roles_required("admin")
def email(name: str):
    """The address notices go to (storykit.web.alerts); empty: no email for them."""
    from ...mail import MailError
    from ..alerts import set_email

    person = _user_or_404(name)
    form = Form(request.form)
    try:
        set_email(db(), person.id, form.get("email"))
    except MailError:
        form.error("email", "Enter an email address like name@example.nhs.uk, or leave it "
                            "empty.")
        return _user_page(person, form=form, status=422)
    record("user.email", detail=f"user {person.name}: {'set' if form.get('email') else 'removed'}")
    flash("Their email for notices was saved." if form.get("email") else
          "They will get no email notices.")
    return redirect(url_for("admin.user", name=person.name), 303)


# --- who works on which story ------------------------------------------------------------------

@bp.route("/stories/<story_id>/access", methods=["POST"])
@roles_required("admin")
def grant_access(story_id: str):
    """Share a story with someone, or make them its owner."""
    story = viewable(story_id, "share")
    form = Form(request.form)
    person = accounts.by_name(db(), form.get("user")) if form.get("user") else None
    kind = form.get("access")
    if person is None:
        form.error("user", "Choose the person to give access to.")
    if kind not in ("owner", "shared"):
        form.error("access", "Choose what they can do.")
    if form.ok and person is not None:
        try:
            access.grant(db(), story.id, person, kind, current_user().name)  # type: ignore[union-attr]
        except AccountError as exc:
            form.error(exc.field if exc.field in ("user", "access") else "user", str(exc))
    if not form.ok or person is None:
        return _page(story, share_form=form), 422
    record(audit.ACCESS_GRANTED, story_id=story.id, etag=story.etag,
           detail=f"user {person.name} as {kind}")
    flash(f"{person.display_name} now has access to this story.")
    return redirect(url_for("stories.show", story_id=story.id), 303)


@bp.route("/stories/<story_id>/access/remove", methods=["POST"])
@roles_required("admin")
def remove_access(story_id: str):
    story = viewable(story_id, "share")
    person = _user_or_404(request.form.get("user", ""))
    if access.revoke(db(), story.id, person):
        record(audit.ACCESS_REMOVED, story_id=story.id, detail=f"user {person.name}")
        flash(f"{person.display_name} no longer has access to this story.")
    back = request.form.get("back")
    if back == "user":
        return redirect(url_for("admin.user", name=person.name), 303)
    return redirect(url_for("stories.show", story_id=story.id), 303)


# --- the audit log -----------------------------------------------------------------------------

@bp.route("/audit", endpoint="audit")
@roles_required("admin")
def audit_page():
    """The audit log, newest first, filtered by person, action, story and dates."""
    form = Form(request.args)
    flt = AuditFilter(actor=form.get("user") or None, action=form.get("action") or None,
                      story_id=form.get("story") or None,
                      since=_date(form, "since"), until=_date(form, "until"))
    if flt.since and flt.until and flt.since > flt.until:
        form.error("until", "The end date must be the same as or after the start date.")
    log = audit_log()
    total = log.count(flt) if form.ok else 0
    pages = max(1, -(-total // AUDIT_PAGE))
    page = min(page_number(), pages)
    entries = log.query(flt, limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE) if form.ok else []
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, entries=entries, total=total,
                           page=page, pages=pages, args=args,
                           actions=[("", "Any action")] + [(a, a) for a in log.actions()]), \
        (200 if form.ok else 422)


def _date(form: Form, name: str) -> dt.date | None:
    raw = form.get(name)
    if not raw:
        return None
    try:
        return parse_date(raw)
    except DateError as exc:
        form.error(name, f"Enter a date like 2027-03-01 (year, month, day): {exc}.")
        return None
