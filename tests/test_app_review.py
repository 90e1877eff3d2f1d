"""The review page (issue 12, Build 2): the reviewer reads the story as it will read, in the
site's theme, with its findings beside it (each in its sentence), the consent in words, and
approves or asks for changes on the same page. Then the same journey in real headless
Chromium, axe-core clean. All names and details are fictional.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    base,
    browser,
    make_world,
    post,
    sign_in_page,
)
from conftest import consent_version, story_front, write_story

pytestmark = pytest.mark.usefixtures("test_day")

PHONE = "07700 900123"
BODY = ("On our second night the midwife sat with me while the baby fed. She showed me how "
        "to hold him.\n\n"
        f"If the ward wants to ask me more, ring me on {PHONE} any evening.\n\n"
        "## What would have helped\n\nBeing told which buzzer to press, and that it was fine "
        "to press it.\n")


def with_a_phone_number(root) -> None:
    write_story(root, "st-review1", story_front(
        title="Night feeds on the postnatal ward", slug="review1", status="in_review"),
        body=BODY, consent=[consent_version(expires=dt.date(2099, 1, 1))])


@pytest.fixture
def world(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine)
    with_a_phone_number(world.root)
    return world


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_reviewer_sees_the_text_findings_consent_and_both_buttons_on_one_page(world):
    page = text(world.client("rita").get("/review/st-review1"))
    # the story as it will read, in the theme (the public web page, marked as a draft)
    frame = re.search(r'<iframe[^>]*data-fit-content[^>]*srcdoc="([^"]*)"',
                      world.client("rita").get("/review/st-review1").get_data(as_text=True))
    assert frame, "the story's page is on the review page"
    shown = html.unescape(frame.group(1))
    assert "She showed me how to hold him." in shown and "What would have helped" in shown
    assert "Leila, patient (not their real name)" in shown  # the consent's naming applies
    # the finding beside it, in plain words and in its sentence
    assert "Must be dealt with:</strong> A phone number in the story text." in page
    assert f"ring me on <mark>{PHONE}</mark> any evening." in page
    assert "line 3" not in page and "position" not in page
    # the consent in words, with no codes or ISO dates
    assert "It covers: Trust board, Staff training, Clinical teams, Public website." in page
    assert "The storyteller is named by a made-up name (Leila)." in page
    assert "The storyteller checked the final text on 20 September 2026." in page
    outside = re.sub(r"<iframe.*?</iframe>", "", page, flags=re.S)
    assert "public_website" not in outside and "2026-09-20" not in outside
    # the decision, on the same page
    assert 'action="/stories/st-review1/approve"' in page
    assert 'action="/stories/st-review1/request-changes"' in page
    assert 'action="/review/st-review1/dismiss"' in page


def test_approving_from_the_review_page_is_refused_in_words_while_a_finding_blocks(world):
    rita = world.client("rita")
    story = world.site.store.get("st-review1")
    refused = post(rita, "/stories/st-review1/approve", {"etag": story.etag, "from": "review"},
                   page="/review/st-review1")
    assert refused.status_code == 422
    page = text(refused)
    assert "<h1>Review: Night feeds on the postnatal ward</h1>" in page  # the same page
    assert ("It has a finding that must be fixed, or dismissed by a reviewer, first: a phone "
            "number.") in page
    assert world.site.store.get("st-review1").status == "in_review"
    no_note = post(rita, "/stories/st-review1/request-changes",
                   {"etag": story.etag, "from": "review", "reason": ""},
                   page="/review/st-review1")
    assert no_note.status_code == 422 and "Say what needs to change" in text(no_note)
    asked = post(rita, "/stories/st-review1/request-changes",
                 {"etag": story.etag, "from": "review", "reason": "Take out the number."},
                 page="/review/st-review1")
    assert asked.status_code == 303
    assert world.site.store.get("st-review1").status == "changes_requested"


def test_only_reviewers_who_may_decide_get_the_buttons(world):
    own = text(world.client("ann").get("/review/st-review1"))  # the writer: reads, no buttons
    assert "Night feeds" in own and "/approve" not in own and "Dismiss: it may stay" not in own
    assert world.client("pete").get("/review/st-review1").status_code == 404
    assert world.client("bob").get("/review/st-review1").status_code == 404
    assert world.client().get("/review/st-review1").status_code in (302, 303)
    queue = text(world.client("rita").get("/review"))
    assert 'href="/review/st-review1"' in queue  # the queue leads to the review page


def test_a_consent_widened_while_in_review_is_explained_on_the_review_page(world):
    from storykit import lifecycle
    from storykit.model import ConsentVersion

    story = world.site.store.get("st-approved1")
    wider = story.current_consent.to_dict() | {"uses": [*story.current_consent.uses, "press"]}
    lifecycle.record_consent(world.site, "st-approved1", ConsentVersion.from_dict(wider),
                             by="ann", base_etag=story.consent_etag)
    page = text(world.client("rita").get("/review/st-approved1"))
    assert "Back in review: the consent was widened" in page
    assert "It now also covers: Press and media." in page


# --- in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world_module(tmp_path_factory):
    world = make_world(tmp_path_factory.mktemp("review") / "site")
    with_a_phone_number(world.root)
    return world


@pytest.fixture(scope="module")
def served_world(world_module):
    from app_support import served

    with served(world_module.app) as url:
        yield url


def test_the_reviewer_reads_the_text_and_findings_and_approves_from_one_page(
        browser, served_world, world_module):
    world = world_module
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_page(page, served_world, "rita")
    page.goto(f"{served_world}/review")
    page.get_by_role("link", name="Night feeds on the postnatal ward").click()
    page.wait_for_url(re.compile(r".*/review/st-review1$"))
    problems = audit_page(page, "review page with a finding")
    # the text is read on the page itself: the frame grows to the story's full height
    frame = page.frame_locator("iframe[data-fit-content]")
    assert "She showed me how to hold him." in frame.locator("body").inner_text()
    height = page.evaluate("document.querySelector('iframe[data-fit-content]')"
                           ".getBoundingClientRect().height")
    inner = page.evaluate("document.querySelector('iframe[data-fit-content]')"
                          ".contentDocument.documentElement.scrollHeight")
    assert height >= inner, "the story scrolls inside a box instead of reading on the page"
    finding = page.locator(".finding--blocking")
    assert finding.count() == 1
    assert PHONE in finding.locator("mark").inner_text()
    # the number is the ward's public line: the reviewer says so, then approves
    page.get_by_label("Why may it stay?").fill("It is the ward's public number.")
    page.get_by_role("button", name=re.compile("Dismiss: it may stay")).click()
    page.wait_for_load_state()
    assert "The finding was dismissed by rita" in page.content()
    problems += audit_page(page, "review page after a dismissal")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r".*/stories/st-review1$"))
    assert "The story was approved." in page.content()
    assert world.site.store.get("st-review1").status == "approved"
    page.context.close()
    assert not problems, "\n".join(problems)
