"""The storyteller's side in real headless Chromium, served by waitress on 127.0.0.1: staff
ask for sign-off, the storyteller (a fresh browser context: no account, no session) reads the
words and asks for changes, staff edit and ask again, the storyteller agrees, publishing is
then allowed, the used link no longer works, and an edit after sign-off needs a new one.
axe-core finds no WCAG 2.2 A/AA violation on any storyteller page, at 320 px wide and at
200% zoom, and none of those pages scrolls sideways.

All names and details are fictional."""

from __future__ import annotations

import re

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    axe_violations,
    base,
    browser,
    describe,
    make_world,
    sign_in_page,
)
from playwright.sync_api import Page, expect
from storyteller_support import REAL_NAME, STORY, add_teller_story

SIGNOFF = f"/stories/{STORY}/sign-off"
COMMENT = "Please say it was the second night, not the first."


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("teller") / "site")
    add_teller_story(w)
    return w


def staff(browser, base: str, who: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_page(page, base, who)
    return page


def storyteller(browser) -> Page:
    """A fresh browser context: no cookies, no account, a phone-sized screen."""
    return browser.new_context(viewport={"width": 390, "height": 800}).new_page()


def check_page(page: Page, name: str) -> list[str]:
    """axe at 320 px wide (1280 at 400% zoom) and at 640 px (1280 at 200% zoom), with no
    sideways scrolling at either; one h1 and a title."""
    problems = []
    page.wait_for_load_state()
    size = page.viewport_size
    for width, label in ((320, "320 px wide"), (640, "200% zoom")):
        page.set_viewport_size({"width": width, "height": 700})
        violations = axe_violations(page)
        if violations:
            problems.append(f"{name} at {label}: {describe(violations)}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{name} at {label}: {overflow}px sideways scrolling")
    page.set_viewport_size(size)
    if not page.title() or page.locator("h1").count() != 1:
        problems.append(f"{name}: needs a title and exactly one h1")
    return problems


def follow(page: Page, link: str) -> None:
    """Open the link and press "Show me", as the storyteller would."""
    page.goto(link)
    page.get_by_role("button", name="Show me").click()
    page.wait_for_load_state()


def make_link(page: Page, base: str) -> str:
    page.goto(base + SIGNOFF)
    page.get_by_role("button", name="Make a link for the storyteller").click()
    page.wait_for_load_state()
    return page.locator("#link-address").input_value()


def press(page: Page, base: str, story_page: str, button: str) -> None:
    page.goto(base + story_page)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_sign_off_from_request_to_publishing(browser, base, world):
    problems: list[str] = []
    ann = staff(browser, base, "ann")
    link = make_link(ann, base)
    assert re.fullmatch(re.escape(base) + r"/s/[A-Za-z0-9_-]{40,}", link)

    # the storyteller opens it on their phone: no account
    teller = storyteller(browser)
    teller.goto(link)
    expect(teller.locator("h1")).to_have_text("A message about your story")
    problems += check_page(teller, "the link's first page")
    teller.get_by_role("button", name="Show me").click()
    expect(teller.locator("h1")).to_have_text("Please check the words of your story")
    assert "/s/answer" in teller.url and link.rsplit("/", 1)[1] not in teller.url
    content = teller.content()
    assert "Leila" in content and REAL_NAME not in content and "<script" not in content
    problems += check_page(teller, "the request")
    teller.get_by_label("I would like changes").check()
    teller.get_by_role("button", name="Send my answer").click()  # no comment yet
    expect(teller.locator(".error-summary")).to_contain_text("Tell us what you would like")
    problems += check_page(teller, "the request with an error")
    teller.get_by_label("I would like changes").check()
    teller.get_by_label("What would you like changed?").fill(COMMENT)
    teller.get_by_role("button", name="Send my answer").click()
    expect(teller.locator("h1")).to_have_text("Thank you")
    problems += check_page(teller, "thank you")
    assert world.site.store.get(STORY).status == "changes_requested"

    # staff see the answer on their home page (no email here), then on the sign-off page
    ann.goto(base + "/")
    expect(ann.locator("#answers")).to_have_text("What storytellers told you (1)")
    problems += audit_page(ann, "home page with a storyteller's answer")
    ann.get_by_role("link", name="Night feeds on the postnatal ward").first.click()
    ann.wait_for_load_state()
    assert ann.url == base + SIGNOFF
    expect(ann.locator("main")).to_contain_text(COMMENT)
    # they edit the words and send the story through review again
    ann.goto(base + f"/stories/{STORY}/edit")
    body = ann.locator("#body")
    body.fill(body.input_value().replace("On our second night", "On our second night, late,"))
    ann.get_by_role("button", name="Save", exact=True).click()
    ann.wait_for_load_state()
    assert world.site.store.get(STORY).revision == 4
    press(ann, base, f"/stories/{STORY}", "Send for review")
    rita = staff(browser, base, "rita")
    press(rita, base, f"/stories/{STORY}", "Approve")
    assert world.site.store.get(STORY).status == "approved"

    # publishing waits for the storyteller
    pete = staff(browser, base, "pete")
    press(pete, base, f"/stories/{STORY}", "Publish")
    expect(pete.locator("main")).to_contain_text("has not signed it off yet")
    assert world.site.store.get(STORY).status == "approved"

    # a new request; the old link no longer works
    second = make_link(ann, base)
    again = storyteller(browser)
    again.goto(link)
    expect(again.locator("h1")).to_have_text("This link does not work")
    problems += check_page(again, "a used link")
    follow(again, second)
    expect(again.locator("main")).to_contain_text("On our second night, late,")
    again.get_by_label("Yes, I agree").check()
    again.get_by_role("button", name="Send my answer").click()
    expect(again.locator("h1")).to_have_text("Thank you")
    consent = world.site.store.get(STORY).current_consent
    assert consent.signed_off_revision == 4

    # now it may be published; the link is spent
    press(pete, base, f"/stories/{STORY}", "Publish")
    assert world.site.store.get(STORY).status == "published"
    again.goto(second)
    expect(again.locator("h1")).to_have_text("This link does not work")

    # an edit of the words after sign-off needs a new one before it is published again
    press(pete, base, f"/stories/{STORY}", "Take down")
    story = world.site.store.get(STORY)
    world.site.store.save(story.copy(body=story.body + "\nA line added later.\n"), by="ann")
    press(pete, base, f"/stories/{STORY}", "Publish")
    expect(pete.locator("main")).to_contain_text("must check it again")
    assert world.site.store.get(STORY).status == "approved"
    for page in (ann, teller, rita, pete, again):
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_code_page_and_refusals_have_no_violations(browser, base):
    page = storyteller(browser)
    problems = []
    page.goto(base + "/s/code")
    problems += check_page(page, "type your code")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += check_page(page, "type your code: empty")
    page.get_by_label("Your code").fill("ZZZZ-ZZZZ")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_contain_text("does not work")
    problems += check_page(page, "type your code: wrong")
    page.goto(base + "/s/" + "A" * 43)
    expect(page.locator("h1")).to_have_text("This link does not work")
    problems += check_page(page, "a link that does not work")
    page.goto(base + "/s/answer")
    problems += check_page(page, "the request without a link")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_the_consent_page_has_no_violations_and_takes_an_answer(browser, base, world):
    add_teller_story(world, "st-teller8")
    ann = staff(browser, base, "ann")
    problems = []
    ann.goto(base + "/stories/st-teller8/consent/link")
    problems += audit_page(ann, "consent link page")
    ann.get_by_role("button", name="Make a consent link for the storyteller").click()
    ann.wait_for_load_state()
    link = ann.locator("#link-address").input_value()
    teller = storyteller(browser)
    follow(teller, link)
    expect(teller.locator("h1")).to_have_text("Your consent for your story")
    problems += check_page(teller, "the consent page")
    teller.get_by_label("Stop using my story", exact=True).check()
    teller.get_by_role("button", name="Send my answer").click()
    expect(teller.locator(".error-summary")).to_contain_text("what should happen")
    problems += check_page(teller, "the consent page with an error")
    teller.get_by_label("Change what I agreed to").check()
    teller.get_by_label("Public website", exact=True).uncheck()
    teller.get_by_label("No name at all").check()
    for words in ("My whole story, in my words", "Short quotes from my story"):
        teller.get_by_label(words).uncheck()
    teller.get_by_role("button", name="Send my answer").click()
    expect(teller.locator(".error-summary")).to_contain_text("without any of your words")
    problems += check_page(teller, "the consent page with a media error")
    expect(teller.get_by_label("Photos", exact=True)).to_be_checked()  # kept as they left it
    teller.get_by_label("Short quotes from my story").check()
    teller.get_by_label("Photos", exact=True).uncheck()
    teller.get_by_role("button", name="Send my answer").click()
    expect(teller.locator("h1")).to_have_text("Thank you")
    consent = world.site.store.get("st-teller8").current_consent
    assert "public_website" not in consent.uses and consent.identification == "anonymous"
    assert consent.media == ["quotes"] and consent.method == "e_signature"
    for page in (ann, teller):
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_staff_sign_off_page_has_no_violations(browser, base, world):
    add_teller_story(world, "st-teller9")
    page = staff(browser, base, "ann")
    problems = []
    page.goto(base + "/stories/st-teller9/sign-off")
    problems += audit_page(page, "sign-off page")
    page.get_by_role("button", name="Record their answer").click()
    page.wait_for_load_state()
    problems += audit_page(page, "sign-off page with errors")
    page.goto(base + "/stories/st-teller9/sign-off")
    page.get_by_role("button", name="Make a link for the storyteller").click()
    page.wait_for_load_state()
    problems += audit_page(page, "sign-off page with a new link")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_the_outcome_page_has_no_violations_and_takes_an_answer(browser, base, world):
    from storykit.links import Links
    from storykit.outcomes import outcome_log, record_outcome

    add_teller_story(world, "st-teller9")
    made = record_outcome(world.site, {"title": "A card by each bed saying which buzzer to "
                                                "press", "why": "Families could not find help "
                                                                "at night.", "status": "done"},
                          ["st-teller9"], by="ann")
    issued = Links(world.site).issue("outcome", "st-teller9", by="ann", etag=made.id,
                                     replace=False)
    teller = storyteller(browser)
    problems = []
    follow(teller, base + "/s/" + issued.token)
    expect(teller.locator("h1")).to_have_text("What we did after hearing your story")
    problems += check_page(teller, "the outcome page")
    teller.get_by_label("Tell us what you think").fill("x" * 2001)
    teller.get_by_role("button", name="Send").click()
    expect(teller.locator(".error-summary")).to_contain_text("2,000 characters")
    problems += check_page(teller, "the outcome page with an error")
    teller.get_by_label("Tell us what you think").fill("The card is a good idea.")
    teller.get_by_role("button", name="Send").click()
    expect(teller.locator("h1")).to_have_text("Thank you")
    problems += check_page(teller, "thanks after the outcome page")
    assert [r.text for r in outcome_log(world.site).responses(made.id)] == [
        "The card is a good idea."]
    teller.context.close()
    assert not problems, "\n".join(problems)
