"""The app in real headless Chromium, served by waitress on 127.0.0.1: axe-core finds no
WCAG 2.2 A/AA violations on any page (signed in and out, with and without errors), every page
reflows at 320 CSS pixels wide (1280 at 400% zoom), the skip link works from the keyboard, and
a form posted from another site changes nothing."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Callable

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    FAST_HASH,
    audit_page,
    base,
    browser,
    make_world,
    served,
    sign_in_page,
)
from conftest import BASIC_TOML
from playwright.sync_api import Page

from storykit.site import Site
from storykit.web import create_app


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("browser") / "site")


def new_page(browser, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    return context.new_page()


def _submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).first.click()
    page.wait_for_load_state()


#: (name, who, steps): steps drive the page to the state to check.
SCENES: list[tuple[str, str | None, Callable[[Page, str], None]]] = [
    ("sign in", None, lambda p, b: p.goto(f"{b}/sign-in")),
    ("sign in with errors", None, lambda p, b: (p.goto(f"{b}/sign-in"),
                                                _submit(p, "Sign in"))),
    ("page not found (signed out)", None, lambda p, b: p.goto(f"{b}/nothing-here")),
    ("dashboard: advocate", "ann", lambda p, b: p.goto(f"{b}/")),
    ("dashboard: reviewer", "rita", lambda p, b: p.goto(f"{b}/")),
    ("dashboard: publisher", "pete", lambda p, b: p.goto(f"{b}/")),
    ("dashboard: admin", "ada", lambda p, b: p.goto(f"{b}/")),
    ("dashboard: nothing yet", "bob", lambda p, b: p.goto(f"{b}/")),
    ("all stories", "ada", lambda p, b: p.goto(f"{b}/stories")),
    ("all stories filtered", "ada", lambda p, b: p.goto(f"{b}/stories?status=draft")),
    ("story: owner's draft", "ann", lambda p, b: p.goto(f"{b}/stories/st-draft1")),
    ("story: to review", "rita", lambda p, b: p.goto(f"{b}/stories/st-review1")),
    ("story: ask for changes without a note", "rita",
     lambda p, b: (p.goto(f"{b}/stories/st-review1"), _submit(p, "Ask for changes"))),
    ("story: to publish", "pete", lambda p, b: p.goto(f"{b}/stories/st-approved1")),
    ("story: admin with access forms", "ada", lambda p, b: p.goto(f"{b}/stories/st-draft1")),
    ("story: admin share errors", "ada",
     lambda p, b: (p.goto(f"{b}/stories/st-draft1"), _submit(p, "Give access"))),
    ("review queue", "rita", lambda p, b: p.goto(f"{b}/review")),
    ("review page", "rita", lambda p, b: p.goto(f"{b}/review/st-review1")),
    ("review page: ask for changes without a note", "rita",
     lambda p, b: (p.goto(f"{b}/review/st-review1"), _submit(p, "Ask for changes"))),
    ("review page: the writer's view", "ann", lambda p, b: p.goto(f"{b}/review/st-review1")),
    ("publishing queue", "pete", lambda p, b: p.goto(f"{b}/publishing")),
    ("jobs", "pete", lambda p, b: p.goto(f"{b}/jobs")),
    ("the public website's state", "pete", lambda p, b: p.goto(f"{b}/publishing/website")),
    ("a story's website state", "pete",
     lambda p, b: p.goto(f"{b}/stories/st-published1/website")),
    ("change password", "ann", lambda p, b: p.goto(f"{b}/account/password")),
    ("change password with errors", "ann",
     lambda p, b: (p.goto(f"{b}/account/password"), _submit(p, "Change password"))),
    ("users", "ada", lambda p, b: p.goto(f"{b}/admin/users")),
    ("users: add with errors", "ada",
     lambda p, b: (p.goto(f"{b}/admin/users"), _submit(p, "Add user"))),
    ("user page", "ada", lambda p, b: p.goto(f"{b}/admin/users/ann")),
    ("user page: password errors", "ada",
     lambda p, b: (p.goto(f"{b}/admin/users/bob"), _submit(p, "Set password"))),
    ("audit log", "ada", lambda p, b: p.goto(f"{b}/admin/audit")),
    ("audit log: bad date", "ada", lambda p, b: p.goto(f"{b}/admin/audit?since=2027-13-45")),
    ("forbidden", "ann", lambda p, b: p.goto(f"{b}/admin/users")),
    ("page not found (signed in)", "bob", lambda p, b: p.goto(f"{b}/stories/st-draft1")),
]


@pytest.mark.parametrize("who", sorted({w or "anon" for _n, w, _s in SCENES}))
def test_every_page_has_no_axe_violations_and_reflows(browser, base, who):
    page = new_page(browser)
    if who != "anon":
        sign_in_page(page, base, who)
    problems = []
    for name, scene_who, steps in SCENES:
        if (scene_who or "anon") != who:
            continue
        steps(page, base)
        problems += audit_page(page, name)
    page.context.close()
    assert not problems, "\n".join(problems)


def test_error_pages_for_stale_withdrawn_and_throttled_have_no_violations(browser, base, world):
    problems = []
    # 409: a page loaded before someone else changed the story
    page = new_page(browser)
    sign_in_page(page, base, "rita")
    page.goto(f"{base}/stories/st-valreview")
    from app_support import write_world_story

    write_world_story(world.root, "st-valreview", "in_review", summary="Changed meanwhile.")
    _submit(page, "Approve")
    assert "Someone else changed this story" in page.content()
    problems += audit_page(page, "409 stale page")
    # 410: withdrawn while the publisher's page was open
    page2 = new_page(browser)
    sign_in_page(page2, base, "pete")
    page2.goto(f"{base}/stories/st-published1")
    world.site.withdraw("st-published1", "stop_future_use", "Changed my mind", by="ada")
    _submit(page2, "Take down")
    assert "This story was withdrawn" in page2.content()
    problems += audit_page(page2, "410 withdrawn")
    # 400: the form's session is gone (cookies cleared), so its token no longer matches
    page3 = new_page(browser)
    sign_in_page(page3, base, "ann")
    page3.goto(f"{base}/account/password")
    page3.context.clear_cookies()
    _submit(page3, "Change password")
    problems += audit_page(page3, "400 or sign-in after lost session")
    # 429: too many wrong passwords
    page4 = new_page(browser)
    for _ in range(6):
        page4.goto(f"{base}/sign-in")
        page4.fill("#name", "val")
        page4.fill("#password", "not the right one")
        _submit(page4, "Sign in")
    assert "Too many tries" in page4.content()
    problems += audit_page(page4, "429 throttled")
    for p in (page, page2, page3, page4):
        p.context.close()
    assert not problems, "\n".join(problems)


def test_the_first_admin_page_has_no_violations(browser, tmp_path):
    root = tmp_path / "fresh"
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    app = create_app(Site.open(root), STORYKIT_ARGON2=FAST_HASH)
    with served(app) as url:
        page = new_page(browser)
        page.goto(f"{url}/")
        assert page.url.endswith("/setup")
        problems = audit_page(page, "setup")
        _submit(page, "Make the admin account")
        problems += audit_page(page, "setup with errors")
        # and it works: the code from the instance folder makes the first admin
        page.fill("#code", (root / "instance" / "setup_token").read_text())
        page.fill("#name", "ada")
        page.fill("#display_name", "Ada Example")
        page.fill("#password", "correct stable lantern")
        page.fill("#confirm", "correct stable lantern")
        _submit(page, "Make the admin account")
        assert page.url.endswith("/admin/users")
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_error_summary_takes_focus_and_links_to_fields(browser, base):
    page = new_page(browser)
    page.goto(f"{base}/sign-in")
    _submit(page, "Sign in")
    assert page.evaluate("document.activeElement.className") == "error-summary"
    page.get_by_role("link", name="Enter your user name.").click()
    assert page.evaluate("document.activeElement.id") == "name"
    page.context.close()


def test_the_skip_link_is_first_and_moves_focus_to_the_main_content(browser, base):
    page = new_page(browser)
    sign_in_page(page, base, "ann")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.textContent, "
                            "document.activeElement.getBoundingClientRect().left]")
    assert focused[0] == "Skip to main content" and focused[1] >= 0  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.context.close()


def test_the_app_works_without_javascript(browser, base, world):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-draft1")
    _submit(page, "Send for review")
    assert "The story was sent for review." in page.content()
    assert world.site.store.get("st-draft1").status == "in_review"
    world.reset_story("st-draft1")
    context.close()


class _EvilHandler(http.server.BaseHTTPRequestHandler):
    html = b""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        return None


def test_a_form_posted_from_another_site_changes_nothing(browser, base, world):
    """A signed-in advocate visits a hostile page on another site (localhost is a different
    site from 127.0.0.1) that auto-submits a form to the app."""
    etag = world.site.store.get("st-draft1").etag
    port = base.rsplit(":", 1)[1]
    _EvilHandler.html = (
        f'<html lang="en"><body><form id="f" method="post" '
        f'action="http://127.0.0.1:{port}/stories/st-draft1/submit">'
        f'<input name="etag" value="{etag}"></form>'
        '<script>document.getElementById("f").submit()</script></body></html>').encode()
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EvilHandler)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        page = new_page(browser)
        sign_in_page(page, base, "ann")
        page.goto(f"http://localhost:{evil.server_address[1]}/")
        page.wait_for_url(re.compile(rf"http://127\.0\.0\.1:{port}/.*"))
        page.wait_for_load_state()
        assert "sent for review" not in page.content()
        assert world.site.store.get("st-draft1").status == "draft"
        page.context.close()
    finally:
        evil.shutdown()
