"""Signing in and out, the first-admin page, and changing your password."""

from __future__ import annotations

import hmac
import os

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ... import audit
from .. import accounts, settings, throttle
from ..accounts import AccountError
from ..auth import client_ip, current_user, login_user, logout_user, public, record, safe_next
from ..errors import error_page
from ..forms import Form, check_new_password
from ..state import db, state

bp = Blueprint("auth", __name__)

WRONG = "Your user name or password is wrong."


def _too_many(wait: int):
    minutes = max(1, (wait + 59) // 60)
    body, status = error_page(
        429, heading="Too many tries",
        message=f"There were too many tries to sign in. Wait {minutes} minutes and try again.")
    return body, status, {"Retry-After": str(wait)}


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    """Sign in with a user name and password (throttled per name and per address)."""
    if current_user() is not None and request.method == "GET":
        return redirect(url_for("home.dashboard"))
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("auth/sign_in.html", form=form, ended=session.pop("ended", False))
    name = form.require("name", "Enter your user name.")
    password = form.raw("password")
    if not password:
        form.error("password", "Enter your password.")
    if not form.ok:
        return render_template("auth/sign_in.html", form=form), 422
    conn, st, ip = db(), state(), client_ip()
    attempt = throttle.reserve(conn, st.limits, name, ip)  # counted before the check
    if attempt.wait:
        record(audit.LOGIN_THROTTLED, detail=f"name {name[:64]}")
        return _too_many(attempt.wait)
    user = accounts.authenticate(conn, st.hasher, name, password)
    if user is None:
        record(audit.LOGIN_FAILED, detail=f"name {name[:64]}")
        form.error("name", WRONG)
        return render_template("auth/sign_in.html", form=form), 401
    throttle.clear_account(conn, name)
    login_user(user)
    record(audit.LOGIN)
    return redirect(safe_next(request.args.get("next")) or url_for("home.dashboard"), 303)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session here and on every other device."""
    record(audit.LOGOUT)
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"), 303)


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """Make the first admin. Needs the one-time code that ``storykit serve`` prints (it is
    also in ``instance/setup_token``), so a stranger who finds the site cannot claim it."""
    conn, st = db(), state()
    if accounts.count_users(conn) > 0:
        abort(404)
    instance = st.site.instance
    if settings.read_setup_token(instance) is None:
        settings.new_setup_token(instance)
        current_app.logger.warning("storykit: a first-admin setup code was written to %s",
                                   instance / settings.SETUP_FILE)
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("auth/setup.html", form=form)
    attempt = throttle.reserve(conn, st.limits, "#setup", client_ip())
    if attempt.wait:
        return _too_many(attempt.wait)
    _check_setup_form(form, instance)
    if "code" not in form.errors:
        throttle.release(conn, attempt)  # only a wrong code counts
    if not form.ok:
        return render_template("auth/setup.html", form=form), 422
    return _make_first_admin(form, instance)


def _check_setup_form(form: Form, instance) -> None:
    code = form.get("code")
    expected = settings.read_setup_token(instance) or ""
    if not code:
        form.error("code", "Enter the setup code.")
    elif not hmac.compare_digest(code.encode(), expected.encode()):
        form.error("code", "The setup code is wrong. Copy it again from where storykit "
                           "serve printed it.")
    _check_new_account(form)


def _check_new_account(form: Form) -> None:
    name = form.get("name")
    for problem, fld in ((accounts.name_problem(name), "name"),
                         (accounts.display_name_problem(form.get("display_name")),
                          "display_name")):
        if problem:
            form.error(fld, problem)
    check_new_password(form, "password", "confirm", name)


def _make_first_admin(form: Form, instance):
    token = instance / settings.SETUP_FILE
    claimed = token.with_name(token.name + ".claimed")
    try:
        os.rename(token, claimed)  # only one request can claim the code
    except FileNotFoundError:
        abort(404)
    try:
        user = accounts.add_user(db(), state().hasher, form.get("name"), form.raw("password"),
                                 ["admin"], form.get("display_name"))
    except AccountError as exc:
        os.rename(claimed, token)
        form.error(exc.field or "name", str(exc))
        return render_template("auth/setup.html", form=form), 422
    claimed.unlink(missing_ok=True)
    state().has_users = True
    login_user(user)
    record(audit.SETUP, detail=f"user {user.name}")
    flash("Your admin account is ready. Add the people who will use storykit.")
    return redirect(url_for("admin.users"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change your own password; every other session of yours ends."""
    user = current_user()
    assert user is not None
    form = Form(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template("auth/password.html", form=form)
    conn, st, ip = db(), state(), client_ip()
    attempt = throttle.reserve(conn, st.limits, user.name, ip)
    if attempt.wait:
        return _too_many(attempt.wait)
    if accounts.check_password(conn, st.hasher, user, form.raw("current_password")):
        throttle.release(conn, attempt)
    else:
        form.error("current_password", "Your current password is wrong.")
    check_new_password(form, "new_password", "confirm", user.name)
    if not form.ok:
        return render_template("auth/password.html", form=form), 422
    fresh = accounts.set_password(conn, st.hasher, user, form.raw("new_password"))
    login_user(fresh)
    record(audit.PASSWORD_CHANGED)
    flash("Your password has been changed. You have been signed out everywhere else.")
    return redirect(url_for("home.dashboard"), 303)
