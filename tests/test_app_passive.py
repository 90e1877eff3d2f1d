"""Passive checks in the spirit of an OWASP ZAP baseline scan, as assertions on every route:
security headers, cookie flags, no inline script or style, no stack traces, no-store. Plus
oversized requests (413 before buffering) and error pages."""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request

import flask
import pytest
from app_support import csrf_token, make_world, post, served, sign_in
from test_app_matrix import MATRIX

from storykit import hookimpl

REQUIRED_CSP = ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                "form-action 'self'")


@pytest.fixture(scope="module")
def world(tmp_path_factory, engine):
    return make_world(tmp_path_factory.mktemp("passive") / "site", engine=engine)


def check_passive(response, where: str) -> None:
    """What a ZAP baseline scan would flag, for one response."""
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for directive in REQUIRED_CSP:  # 'none' is stricter still (the storyteller's pages)
        assert directive in csp or directive.replace("'self'", "'none'") in csp, \
            f"{where}: CSP lacks {directive}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("X-Frame-Options") == "DENY", where
    assert h.get("Referrer-Policy") == "same-origin", where
    assert "camera=()" in h.get("Permissions-Policy", ""), where
    assert "max-age=31536000" in h.get("Strict-Transport-Security", ""), where
    assert h.get("Cache-Control") == "no-store", where
    for cookie in h.getlist("Set-Cookie"):
        for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
            assert flag in cookie, f"{where}: cookie without {flag}"
    if h.get("Content-Type", "").startswith("text/html") and response.status_code not in (
            301, 302, 303, 307, 308):  # a redirect's body is Werkzeug's stub, never shown
        check_html(response.get_data(as_text=True), where)


def check_html(page: str, where: str) -> None:
    assert "Traceback" not in page and 'File "' not in page, f"{where}: stack trace"
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page), f"{where}: inline script"
    assert not re.search(r"<style[\s>]", page), f"{where}: inline <style>"
    assert not re.search(r"\sstyle\s*=", page), f"{where}: style attribute"
    assert not re.search(r"\son[a-z]+\s*=", page), f"{where}: event handler attribute"
    assert re.search(r'<html lang="[a-z]{2}', page), f"{where}: no lang"
    assert re.search(r"<title>[^<]+ - ", page), f"{where}: no title"
    assert "javascript:" not in page.lower(), where


@pytest.mark.parametrize("who", ["anon", "ann", "rita", "pete", "ada"])
def test_every_route_passes_the_passive_checks(world, who):
    client = world.app.test_client()
    if who != "anon":
        sign_in(client, who)
    for (endpoint, method), (url, data, _expected, story_id) in MATRIX.items():
        if endpoint == "auth.sign_out":
            continue  # would end this client's session for the routes after it
        if method == "GET":
            response = client.get(url)
        else:
            etag = world.site.store.get(story_id).etag if story_id else ""
            form = {k: (v.replace("{etag}", etag) if isinstance(v, str) else v)
                    for k, v in data.items() if "{" not in str(v) or "{etag}" in str(v)}
            response = client.post(url, data={"csrf_token": csrf_token(
                client, "/" if who != "anon" else "/sign-in"), **form})
        check_passive(response, f"{who} {method} {url} -> {response.status_code}")
        if story_id:
            world.reset_story(story_id)


def test_static_files_are_cacheable_and_still_carry_the_headers(world):
    response = world.app.test_client().get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(("method", "url", "status"), [
    ("GET", "/no/such/page", 404),
    ("GET", "/stories/st-nothere", 404),
    ("DELETE", "/stories", 405),
    ("GET", "/sign-out", 405),
    ("POST", "/sign-in", 400),  # no CSRF token
])
def test_error_pages_are_plain_and_safe(world, method, url, status):
    client = world.client("ann")
    response = client.open(url, method=method)
    assert response.status_code == status
    check_passive(response, f"{method} {url}")
    assert "Go to the start page" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_a_reference_not_a_stack_trace(tmp_path, caplog, engine):
    boom = flask.Blueprint("boom", __name__)

    storyteller = "Aisha " + "Rahman, ward 7"

    @boom.route("/boom")
    def explode():
        raise RuntimeError(f"secret detail: {storyteller}")

    class BoomPlugin:
        @hookimpl
        def register_blueprints(self, site):
            return [boom]

    from app_support import STORIES, write_world_story  # noqa: F401 - the world's stories

    from storykit.site import Site
    from storykit.web import create_app

    world = make_world(tmp_path / "site", engine=engine)
    site = Site.open(world.root)
    site.plugins.register(BoomPlugin(), "boom-test")
    app = create_app(site, STORYKIT_ARGON2={"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
    client = app.test_client()
    sign_in(client, "ann")
    with caplog.at_level("ERROR", logger="storykit.web"):
        response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    check_passive(response, "GET /boom")
    assert "Aisha" not in page and "RuntimeError" not in page
    reference = re.search(r"Reference: <strong>([0-9a-f]{8})</strong>", page).group(1)
    assert reference in caplog.text and "RuntimeError" in caplog.text
    assert "in explode" in caplog.text  # where it happened...
    assert "Aisha" not in caplog.text   # ...but not the message, which may quote a story


# --- oversized requests ------------------------------------------------------------------------

def test_a_body_over_the_limit_gets_a_clear_413_page(world):
    client = world.app.test_client()
    token = csrf_token(client)
    big = "x" * (world.app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/sign-in", data={"csrf_token": token, "name": big, "password": "p"})
    assert response.status_code == 413
    assert "too big to send" in response.get_data(as_text=True)
    check_passive(response, "413")


def test_a_form_field_over_the_memory_limit_is_413(world):
    client = world.client("rita")
    token = csrf_token(client, "/stories/st-review1")
    response = client.post("/stories/st-review1/request-changes", content_type="multipart/form-data",
                           data={"csrf_token": token, "etag": "x",
                                 "reason": "y" * (600 * 1024)})
    assert response.status_code == 413
    assert world.site.store.get("st-review1").status == "in_review"


def test_waitress_refuses_a_lying_content_length_before_reading_the_body(world):
    with served(world.app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            start = time.monotonic()
            sock.sendall(b"POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 1000000000\r\n\r\nname=a")
            answer = sock.recv(4096).decode("latin-1")
            elapsed = time.monotonic() - start
    assert answer.startswith("HTTP/1.1 413"), answer[:80]
    assert elapsed < 2


def test_a_moderately_oversized_post_gets_the_apps_413_page_over_http(world):
    with served(world.app) as base:
        body = b"name=" + b"x" * (6 * 1024 * 1024)
        request = urllib.request.Request(f"{base}/sign-in", data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=20)  # noqa: S310 - loopback only
        page = caught.value.read().decode()
    assert caught.value.code == 413
    assert "too big to send" in page
    assert caught.value.headers["Server"] == "storykit"


def test_post_without_token_over_real_http_changes_nothing(world):
    """An admin's own session cookie, sent by a forged form without the token: 400."""
    from storykit.web import accounts

    admin = world.app.test_client()
    sign_in(admin, "ada")
    cookie = admin.get_cookie(world.app.config["SESSION_COOKIE_NAME"])
    with served(world.app) as base:
        request = urllib.request.Request(
            f"{base}/admin/users", method="POST",
            data=b"name=mallory&display_name=M&roles=admin&password=x&confirm=x",
            headers={"Cookie": f"{cookie.key}={cookie.value}",
                     "Content-Type": "application/x-www-form-urlencoded"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only
        page = caught.value.read().decode()
    assert caught.value.code == 400
    assert "did not come from this site" in page
    assert accounts.by_name(world.app.extensions["storykit"].db(), "mallory") is None


def test_the_csrf_suite_is_really_on(world):
    assert world.app.config.get("WTF_CSRF_ENABLED", True) is True
    assert post(world.app.test_client(), "/sign-in", {"name": "ann", "password": "x"}
                ).status_code == 401


def test_hook_register_blueprints(tmp_path, engine):
    """A plugin's blueprint is served by the app, behind the same sign-in, headers and CSRF
    checks as the app's own pages; ``@public`` opens a route to anonymous visitors."""
    from storykit.site import Site
    from storykit.web import create_app
    from storykit.web.auth import current_user, public

    extra = flask.Blueprint("actions", __name__, url_prefix="/action-log")

    @extra.route("")
    def actions():
        return f"Actions for {current_user().name}"

    @extra.route("/about")
    @public
    def about():
        return "About the action log"

    @extra.route("/note", methods=["POST"])
    def note():
        return "saved"

    class ActionLogPlugin:
        @hookimpl
        def register_blueprints(self, site):
            return [extra]

    world = make_world(tmp_path / "site", engine=engine)
    site = Site.open(world.root)
    site.plugins.register(ActionLogPlugin(), "action-log-test")
    app = create_app(site, STORYKIT_ARGON2={"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
    anon = app.test_client()
    assert anon.get("/action-log").headers["Location"].startswith("/sign-in")
    public_page = anon.get("/action-log/about")
    assert public_page.status_code == 200 and public_page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in public_page.headers["Content-Security-Policy"]
    client = app.test_client()
    sign_in(client, "ann")
    assert client.get("/action-log").get_data(as_text=True) == "Actions for ann"
    assert client.post("/action-log/note").status_code == 400  # no CSRF token
    assert post(client, "/action-log/note", {}, page="/").get_data(as_text=True) == "saved"
