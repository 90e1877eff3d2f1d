"""Helpers for tests that check pages the way people and validators see them.

- :func:`assert_valid_html`: the Nu HTML Checker (vnu.jar, from npm, run with Java);
- :func:`chromium`: Debian's Chromium driven by Playwright (never Playwright's own browser);
- :func:`axe_violations`: axe-core's WCAG 2.2 A/AA checks in that browser;
- :func:`serve_folder`: a built site over http on 127.0.0.1 (storykit's own preview server).

When a tool is missing the test FAILS (it is never skipped) and says how to install it:
``./dev test`` (the README's test command) installs all of them before running pytest.

    from browser_support import assert_valid_html, chromium, serve_folder, axe_violations
"""

from __future__ import annotations

import contextlib
import html.parser
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / ".cache" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SETUP = ("run the README's test command (./dev test), which installs Debian's chromium, a Java "
         "runtime, the Python test extras (pip install -e '.[test]') and the Nu HTML Checker "
         "(npm install --prefix .cache/node vnu-jar)")


# --- the Nu HTML Checker ---------------------------------------------------------------------

def vnu_command() -> list[str]:
    """The command that runs vnu.jar, or a test failure saying how to install it."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        missing = "Java" if java is None else f"the Nu HTML Checker ({VNU_JAR})"
        pytest.fail(f"{missing} is missing: {SETUP}", pytrace=False)
    return [java, "-jar", str(VNU_JAR)]


def assert_valid_html(*paths: Path) -> None:
    """Every HTML file in ``paths`` (files or folders) has zero Nu HTML Checker errors."""
    done = subprocess.run([*vnu_command(), "--errors-only", "--skip-non-html",
                           *map(str, paths)], capture_output=True, text=True, timeout=300)
    report = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"the Nu HTML Checker found errors:\n{report[:6000]}"


# --- a local server --------------------------------------------------------------------------

@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) with ``storykit build --serve``'s server;
    yields the base URL, ending in ``/``."""
    from storykit_web.serve import make_server

    server = make_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- Chromium and axe ------------------------------------------------------------------------

@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium (Playwright's ``Browser``)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium ({CHROMIUM}) is missing: {SETUP}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"Playwright is missing: {SETUP}", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0-2.2 A and AA violations on ``page`` as it is now."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.fail(f"axe-playwright-python is missing: {SETUP}", pytrace=False)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return list(results.response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as one readable line each (rule, help text, first element)."""
    return "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} x, e.g. "
                     f"{v['nodes'][0]['target']})" for v in violations)


def watch_console(page: Any) -> list[str]:
    """Collect the page's console errors (CSP violations, script errors) as they happen."""
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: messages.append(str(exc)))
    return messages


# --- what is in a page -----------------------------------------------------------------------

class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag in ``markup`` with its attributes (entities decoded), as a browser
    would read them."""
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags
