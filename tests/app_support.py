"""Helpers for the browser app's tests: a small site with people in every role, signing in
with CSRF protection ON (tokens are read from the pages, as a browser would), serving the app
with waitress on 127.0.0.1 in a thread, and headless Chromium with axe-core.

All names and story details are fictional.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from browser_support import AXE_TAGS, CHROMIUM_ARGS, axe_violations  # noqa: F401
from browser_support import CHROMIUM as _CHROMIUM
from browser_support import describe as _describe
from conftest import BASIC_TOML, consent_version, story_front, write_story
from database_support import Engine
from flask import Flask
from flask.testing import FlaskClient

from storykit.site import Site
from storykit.web import accounts, create_app
from storykit.web.access import grant

#: Cheap argon2 settings so tests sign in quickly. The production cost is tested on its own
#: (test_app_security.py::test_password_hashes_use_the_production_cost).
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSWORD = "harbour lantern pebble"
ROLES = {
    "ann": ("advocate",),          # owns the stories below
    "bob": ("advocate",),          # another advocate: owns nothing of Ann's
    "rita": ("reviewer",),
    "pete": ("publisher",),
    "ada": ("admin",),
    "val": ("advocate", "reviewer"),  # writes and reviews: never her own story
}
#: Stories by id: (status, owner). All have consent for board and the public website.
STORIES = {
    "st-draft1": ("draft", "ann"),
    "st-review1": ("in_review", "ann"),
    "st-approved1": ("approved", "ann"),
    "st-published1": ("published", "ann"),
    "st-bobdraft": ("draft", "bob"),
    "st-valreview": ("in_review", "val"),
    "st-noowner": ("draft", None),
}
TITLES = {
    "st-draft1": "Waiting times on the childrens ward",
    "st-review1": "Night feeds on the postnatal ward",
    "st-approved1": "Finding the stroke unit at night",
    "st-published1": "A kind word in the discharge lounge",
    "st-bobdraft": "A private draft about the pharmacy",
    "st-valreview": "Parking at the outpatient clinic",
    "st-noowner": "A story from the command line",
}


def write_world_story(root: Path, story_id: str, status: str, **front: Any) -> None:
    """Write one of the test stories (consent covers the board and the public website, signed
    off at revision 3, so an approved story may be published)."""
    slug = story_id.removeprefix("st-")
    write_story(root, story_id, story_front(title=front.pop("title", TITLES.get(story_id, slug)),
                                            slug=slug, status=status, **front),
                consent=[consent_version()])


@dataclass
class World:
    """A site on disk, its app, and the people who use it."""

    root: Path
    site: Site
    app: Flask
    users: dict[str, accounts.User] = field(default_factory=dict)

    def client(self, who: str | None = None) -> FlaskClient:
        """A test client, signed in as ``who`` (None: anonymous)."""
        client = self.app.test_client()
        if who is not None:
            sign_in(client, who)
        return client

    def reset_story(self, story_id: str) -> None:
        status, _owner = STORIES[story_id]
        write_world_story(self.root, story_id, status)

    def audit(self, action: str | None = None) -> list:
        from storykit.audit import AuditFilter

        log = self.app.extensions["storykit"].audit()
        return log.query(AuditFilter(action=action), limit=1000)


def make_world(root: Path, toml: str = BASIC_TOML, engine: Engine | None = None,
               **overrides: Any) -> World:
    """A fresh site with every test story and user, and an app for it (CSRF on), on a fresh
    database of ``engine`` (default: SQLite), named in its storykit.toml."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storykit.toml").write_text(toml + (engine.toml() if engine else ""),
                                        encoding="utf-8")
    for story_id, (status, _owner) in STORIES.items():
        write_world_story(root, story_id, status)
    site = Site.open(root)
    settings = {"STORYKIT_ARGON2": FAST_HASH, "STORYKIT_INDEX_TTL": 0, **overrides}
    app = create_app(site, **settings)
    world = World(root, site, app)
    conn = app.extensions["storykit"].db()
    hasher = app.extensions["storykit"].hasher
    for name, roles in ROLES.items():
        world.users[name] = accounts.add_user(conn, hasher, name, PASSWORD, list(roles),
                                              f"{name.capitalize()} Example")
    for story_id, (_status, owner) in STORIES.items():
        if owner:
            grant(conn, story_id, world.users[owner], "owner", "test")
    return world


# --- forms with CSRF tokens --------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/sign-in") -> str:
    """The CSRF token a page's form carries (as a browser would see it)."""
    response = client.get(page)
    found = _TOKEN.search(response.get_data(as_text=True))
    assert found, f"no CSRF token on {page} (status {response.status_code})"
    return found.group(1)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, *,
         page: str = "/sign-in", **kwargs: Any):
    """POST ``data`` to ``url`` with a valid CSRF token read from ``page``."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})},
                       **kwargs)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD):
    response = post(client, "/sign-in", {"name": name, "password": password})
    assert response.status_code == 303, f"sign-in as {name} failed: {response.status_code}"
    return response


def etag_of_page(client: FlaskClient, story_id: str) -> str:
    """The etag the story page's forms carry."""
    text = client.get(f"/stories/{story_id}").get_data(as_text=True)
    found = re.search(r'name="etag" value="([^"]+)"', text)
    assert found, f"no status form on the page of {story_id}"
    return found.group(1)


def act(client: FlaskClient, story_id: str, action: str, data: dict[str, Any] | None = None,
        etag: str | None = None):
    """Press a status button (``submit``, ``approve``, ...) on a story's page."""
    page = f"/stories/{story_id}"
    etag = etag or etag_of_page(client, story_id)
    return post(client, f"{page}/{action.replace('_', '-')}", {"etag": etag, **(data or {})},
                page=page)


# --- serving for real --------------------------------------------------------------------------

@contextlib.contextmanager
def served(app: Flask, **adjustments: Any) -> Iterator[str]:
    """Serve ``app`` with waitress on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    from waitress.server import create_server

    from storykit.web.commands import server_body_limit

    settings = {"threads": 4, "ident": "storykit",
                "max_request_body_size": server_body_limit(app.config),
                **adjustments}
    server = create_server(app, host="127.0.0.1", port=0, **settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop_server(server, thread)


def stop_server(server, thread: threading.Thread) -> None:
    """Stop waitress cleanly: let running requests finish, then close every socket from
    inside its loop (the loop ends when it has none left)."""
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=10)

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:  # the loop already ended and closed its trigger: close what is left here
        close_all()
    thread.join(timeout=10)


# --- Chromium and axe ----------------------------------------------------------------------------

CHROMIUM = str(_CHROMIUM)
MISSING = ("Chromium is missing: run the README's test command (it installs Debian's chromium "
           "and the test extras) before these tests.")


def launch_chromium(playwright):
    """Headless Debian Chromium (never Playwright's own browser download)."""
    if not _CHROMIUM.exists():
        raise AssertionError(MISSING)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def base(world):
    """The module's ``world`` app, served by waitress on 127.0.0.1 (import this fixture)."""
    with served(world.app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for the module (import this fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def describe(violations: list[dict[str, Any]]) -> str:
    return _describe(violations).replace("\n", "; ")


def sign_in_page(page, base: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the real form in the browser, then wait for the dashboard."""
    page.goto(f"{base}/sign-in")
    page.fill("#name", name)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


def audit_page(page, name: str) -> list[str]:
    """axe at desktop width, then the reflow check at 320 px (400% zoom), then one title
    and one h1; the problems as sentences."""
    problems = []
    page.wait_for_load_state()  # a click that navigates returns before the new page is parsed
    violations = axe_violations(page)
    if violations:
        problems.append(f"{name}: {describe(violations)}")
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{name}: {overflow}px sideways scrolling at 320px wide (400% zoom)")
    page.set_viewport_size(size)
    if not page.title() or page.locator("h1").count() != 1:
        problems.append(f"{name}: needs a title and exactly one h1")
    return problems
