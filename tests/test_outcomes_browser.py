"""Closing the loop in real headless Chromium, as one journey: the app served by waitress with a
worker running beside it (as ``storykit serve`` runs one), email going to a real SMTP server on
loopback, and the publish folder served over HTTP by a separate server.

A team member records an outcome on stories (one on the public website, two for the board
only), writes the storytellers' letters (standard print, Easy Read and large print, as each
prefers) and downloads them; the storyteller of the public story types the code from their
letter into the public code page in a browser of their own (no account, no session) and
answers; the team hears of it by email and on the home page; a response by phone is recorded
by staff; the outcome is marked done, which queues a site build the worker runs; the public
"You said, we did" page then shows the outcome as done with a link to the public story and no
word of the board-only ones. axe-core finds no WCAG 2.2 A/AA violations on any of the pages.

All names and details are fictional."""

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
from conftest import ON, consent_version, on_day, story_front, wait_for, write_story
from pack_support import CONTACT
from playwright.sync_api import expect
from pypdf import PdfReader
from test_email import email_toml, smtp_server
from test_publishing_browser import public  # noqa: F401 - the served publish folder

from storykit.jobs import DONE, Jobs
from storykit.outcomes import outcome_log
from storykit.taskqueue import Worker
from storykit.web.access import grant
from storykit.web.alerts import set_email

BOARD_MARKER = "Quillwordboard"
TITLE = "Every bed now has a card saying which buzzer to press"
PUBLIC_TITLE = "A kind word in the discharge lounge"
#: The storytellers' contact details: a postal address and no email, so each gets a letter.
POST_ONLY = {k: v for k, v in CONTACT.items() if k != "email"}
PEOPLE = {  # story -> (storyteller, format, title)
    "st-published1": ("Aisha Rahman", "standard", PUBLIC_TITLE),
    "st-boardonly": ("Ben Example", "easy_read", f"The {BOARD_MARKER} ward at night"),
    "st-boardtwo": ("Cara Example", "large_print", f"A {BOARD_MARKER} night in the unit"),
}
SAID = "Thank you. That card would have helped us on the first night."
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


@pytest.fixture(scope="module")
def inbox():
    with smtp_server() as found:
        yield found


@pytest.fixture(scope="module")
def world(public, inbox):
    root, url = public
    with on_day(ON):
        world = make_world(root, email_toml(inbox.port) + f'\n[publish]\npublic_url = "{url}"\n')
        conn = world.app.extensions["storykit"].db()
        for story_id, (name, style, title) in PEOPLE.items():
            public_story = story_id == "st-published1"
            write_story(root, story_id, story_front(
                title=title, slug=story_id.removeprefix("st-"),
                status="published" if public_story else "approved",
                **({} if public_story else {"summary": f"A summary {BOARD_MARKER}"})),
                body="My mother pressed the buzzer.\n" if public_story else
                f"Board-only text {BOARD_MARKER}.\n",
                consent=[consent_version(
                    **({} if public_story else {"uses": ["board"]}),
                    contact=dict(POST_ONLY, name=name, preferred_format=style))])
            grant(conn, story_id, world.users["ann"], "owner", "test")
        for who in ("ann", "ada"):
            set_email(conn, world.users[who].id, f"{who}@trust.example.org")
        worker = Worker(world.site, 1).start()
        yield world
        worker.stop()


def pdf_words(path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)


def download(page, link_name: str, folder):
    """Click a download link, as a person would, and keep the file."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_an_outcome_goes_from_stories_to_letters_an_answer_and_you_said_we_did(
        browser, base, world, public, inbox, tmp_path):
    _root, site_url = public
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
    # recorded on the stories: one public, two for the board only
    page.fill("#title", TITLE)
    page.fill("#stories", "published1, st-boardonly, boardtwo")
    page.fill("#owner", "Ada Example")
    page.fill("#due", "30/4/2027")
    page.select_option("#status", "agreed")
    page.get_by_role("button", name="Record the outcome").click()
    page.wait_for_url(re.compile(r".*/outcomes/oc-[a-z0-9]+$"))
    outcome_url = page.url
    oid = outcome_url.rsplit("/", 1)[1]
    assert TITLE in page.content() and "30 April 2027" in page.content()
    problems += audit_page(page, "an outcome")

    # the storytellers' letters, each in the format they asked for, downloaded and read
    page.get_by_role("button", name="Write the letters to the storytellers").click()
    page.wait_for_load_state()
    text = page.content()
    assert f"A standard print letter for \u201c{PUBLIC_TITLE}\u201d is ready." in text
    assert "An Easy Read letter for" in text and "A large print letter for" in text
    problems += audit_page(page, "an outcome after the letters")
    letters = {story_id: pdf_words(download(page, f"Download the letter about \u201c{title}\u201d "
                                            "(PDF)", tmp_path))
               for story_id, (_name, _style, title) in PEOPLE.items()}
    standard, easy, large = (letters[s] for s in PEOPLE)
    assert TITLE in standard and "Dear Aisha Rahman" in standard
    assert "Tell us what you think" in standard
    assert "https://stories.example.org/s/code" in standard  # the app's public address
    assert "What we did after your story" in easy and "Dear Ben Example" in easy
    assert "We have agreed to do this." in easy
    assert TITLE in large and "Dear Cara Example" in large
    assert all(CODE.search(words) for words in letters.values())
    code = CODE.search(standard).group(1)

    # the storyteller types the code from their letter, in a browser of their own
    teller = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
    teller.goto(f"{base}/s/code")
    teller.get_by_label("Your code").fill(code.lower().replace("-", " "))
    teller.get_by_role("button", name="Continue").click()
    expect(teller.locator("h1")).to_have_text("What we did after hearing your story")
    content = teller.content()
    assert TITLE in content and "We have agreed to do this." in content
    assert PUBLIC_TITLE not in content and "Aisha" not in content and BOARD_MARKER not in content
    problems += audit_page(teller, "the storyteller's outcome page")
    teller.get_by_label("Tell us what you think").fill(SAID)
    teller.get_by_role("button", name="Send").click()
    expect(teller.locator("h1")).to_have_text("Thank you")
    problems += audit_page(teller, "thanks after the outcome page")
    teller.goto(f"{base}/s/code")  # the code works once
    teller.get_by_label("Your code").fill(code)
    teller.get_by_role("button", name="Continue").click()
    expect(teller.locator("h1")).to_have_text("This link does not work")
    teller.context.close()

    # the team hears of it: an email (the worker sends it) and the home page
    staff = wait_for(lambda: inbox.to("ann@trust.example.org"), "the email to Ann")
    assert [m["Subject"] for m in staff] == ["A storyteller answered about an outcome"]
    assert inbox.to("ada@trust.example.org"), "the owner is told too"
    raw = staff[0].as_string()
    assert SAID not in raw and "card" not in raw and "Aisha" not in raw and TITLE not in raw
    link = re.search(r"https://stories\.example\.org(/outcomes/\S+)",
                     staff[0].get_payload(decode=True).decode()).group(1)
    assert link == f"/outcomes/{oid}#responses"
    page.goto(f"{base}/")
    expect(page.locator("#answered")).to_have_text("What storytellers said about our decisions (1)")
    problems += audit_page(page, "home: a storyteller answered")
    page.get_by_role("link", name=f"A storyteller answered about \u201c{TITLE}\u201d").click()
    page.wait_for_load_state()
    assert page.url == f"{base}{link}"
    assert SAID in page.content() and "through their link" in page.content()

    # a storyteller's response by phone, recorded by staff
    page.select_option("#story", "st-boardonly")
    page.check("#how-phone")
    page.fill("#text", "Thank you. That card will help the next family.")
    page.get_by_role("button", name="Save their response").click()
    page.wait_for_load_state()
    assert "That card will help the next family." in page.content()
    assert [r.how for r in outcome_log(world.site).responses(oid)] == ["link", "phone"]

    # done: a site build is queued, and the worker runs it
    page.goto(f"{outcome_url}/edit")
    problems += audit_page(page, "change an outcome")
    page.select_option("#status", "done")
    page.get_by_role("button", name="Save the outcome").click()
    page.wait_for_url(outcome_url)
    build = wait_for(lambda: next((j for j in Jobs(world.site).recent(10, kind="site-build")
                                   if j.finished), None), "the site build", timeout=120)
    assert build.state == DONE, build.error
    page.goto(f"{base}/outcomes")
    assert "Done 1 March 2027" in page.content()
    problems += audit_page(page, "outcomes")
    page.goto(f"{base}/outcomes/measures")
    assert "1 outcome recorded" in page.content()
    problems += audit_page(page, "outcome measures")
    page.goto(f"{base}/stories/st-published1")
    assert "What we did because of this story" in page.content() and TITLE in page.content()
    problems += audit_page(page, "a story with its outcomes")

    # the public website, as its web server serves it
    page.goto(f"{site_url}you-said-we-did/maternity.html")
    content = page.content()
    assert TITLE in content and "Done on 1 March 2027" in content
    assert BOARD_MARKER not in content
    problems += audit_page(page, "You said, we did")
    page.get_by_role("link", name=f"Read the story: {PUBLIC_TITLE}").click()
    page.wait_for_load_state()
    assert page.url == f"{site_url}stories/published1.html"
    page.goto(f"{site_url}you-said-we-did/index.html")
    problems += audit_page(page, "You said, we did: every service")
    folder = world.root / "build" / "site"
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in folder.rglob("*") if p.is_file())
    assert BOARD_MARKER not in everything and SAID not in everything
    page.context.close()
    assert not problems, "\n".join(problems)
