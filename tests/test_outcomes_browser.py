"""Closing the loop in real headless Chromium: a team member records an outcome on two stories
(one on the public website, one for the board only), writes the storytellers' letters (large
print and Easy Read, as each prefers), records a storyteller's response and marks the outcome
done; the public "You said, we did" page then shows it with a link to the public story and no
word of the board-only one. axe-core finds no WCAG 2.2 A/AA violations on any of the pages."""

from __future__ import annotations

import re

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    base,
    browser,
    make_world,
    sign_in_page,
)
from browser_support import serve_folder
from conftest import ON, consent_version, on_day, story_front, write_story
from pack_support import CONTACT
from pypdf import PdfReader

from storykit.site import Site
from storykit.web.access import grant

BOARD_MARKER = "Quillwordboard"
TITLE = "Every bed now has a card saying which buzzer to press"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with on_day(ON):
        world = make_world(tmp_path_factory.mktemp("outcomes-browser") / "site")
        write_story(world.root, "st-published1", story_front(
            title="A kind word in the discharge lounge", slug="published1",
            status="published"), consent=[consent_version(contact=CONTACT)])
        write_story(world.root, "st-boardonly", story_front(
            title=f"The {BOARD_MARKER} ward at night", slug="boardonly", status="approved",
            summary=f"A summary {BOARD_MARKER}"), body=f"Board-only text {BOARD_MARKER}.\n",
            consent=[consent_version(uses=["board"], contact=dict(
                CONTACT, name="Ben Example", preferred_format="easy_read"))])
        conn = world.app.extensions["storykit"].db()
        grant(conn, "st-boardonly", world.users["ann"], "owner", "test")
        yield world


def pdf_words(path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)


def test_an_outcome_goes_from_two_stories_to_the_public_you_said_we_did_page(
        browser, base, world):
    problems: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_page(page, base, "ann")
    # a form sent empty says what is wrong, field by field
    page.goto(f"{base}/outcomes/new")
    problems += audit_page(page, "new outcome")
    page.get_by_role("button", name="Record the outcome").click()
    page.wait_for_load_state()
    assert "Say what was decided or done." in page.content()
    problems += audit_page(page, "new outcome with errors")
    # recorded on two stories
    page.fill("#title", TITLE)
    page.fill("#stories", "published1, st-boardonly")
    page.fill("#owner", "Ward manager")
    page.fill("#due", "30/4/2027")
    page.select_option("#status", "agreed")
    page.get_by_role("button", name="Record the outcome").click()
    page.wait_for_url(re.compile(r".*/outcomes/oc-[a-z0-9]+$"))
    outcome_url = page.url
    assert TITLE in page.content() and "30 April 2027" in page.content()
    problems += audit_page(page, "an outcome")
    # the letters, each in the storyteller's format
    page.get_by_role("button", name="Write the letters to the storytellers").click()
    page.wait_for_load_state()
    text = page.content()
    assert "A large print letter for" in text and "An Easy Read letter for" in text
    folder = world.site.instance / "letters" / "outcomes"
    oid = outcome_url.rsplit("/", 1)[1]
    large = pdf_words(folder / f"{oid}-st-published1.pdf")
    easy = pdf_words(folder / f"{oid}-st-boardonly.pdf")
    assert TITLE in large and "Dear Aisha Rahman" in large and "Tell us what you think" in large
    assert "What we did after your story" in easy and "Dear Ben Example" in easy
    assert "We have agreed to do this." in easy
    problems += audit_page(page, "an outcome after the letters")
    # a storyteller's response, recorded by staff
    page.select_option("#story", "st-published1")
    page.check("#how-phone")
    page.fill("#text", "Thank you. That card will help the next family.")
    page.get_by_role("button", name="Save their response").click()
    page.wait_for_load_state()
    assert "That card will help the next family." in page.content()
    # done
    page.goto(f"{outcome_url}/edit")
    problems += audit_page(page, "change an outcome")
    page.select_option("#status", "done")
    page.get_by_role("button", name="Save the outcome").click()
    page.wait_for_url(outcome_url)
    page.goto(f"{base}/outcomes")
    assert "Done 1 March 2027" in page.content()
    problems += audit_page(page, "outcomes")
    page.goto(f"{base}/outcomes/measures")
    assert "1 outcome recorded" in page.content()
    problems += audit_page(page, "outcome measures")
    page.goto(f"{base}/stories/st-published1")
    assert "What we did because of this story" in page.content() and TITLE in page.content()
    problems += audit_page(page, "a story with its outcomes")
    # the public website
    from storykit_web.build import build_site

    with on_day(ON):
        build_site(Site.open(world.root), world.root / "out")
    with serve_folder(world.root / "out") as site_url:
        page.goto(f"{site_url}you-said-we-did/maternity.html")
        content = page.content()
        assert TITLE in content and "Done on 1 March 2027" in content
        assert BOARD_MARKER not in content
        problems += audit_page(page, "You said, we did")
        page.get_by_role("link", name="Read the story: A kind word in the discharge lounge").click()
        page.wait_for_load_state()
        assert page.url.endswith("/stories/published1.html")
        page.goto(f"{site_url}you-said-we-did/index.html")
        problems += audit_page(page, "You said, we did: every service")
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in (world.root / "out").rglob("*") if p.is_file())
    assert BOARD_MARKER not in everything
    page.context.close()
    assert not problems, "\n".join(problems)
