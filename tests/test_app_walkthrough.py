"""An advocate's whole journey in real headless Chromium (Debian's, driven by Playwright),
against the app served by waitress on 127.0.0.1: sign in, start a story, type it, watch the
preview, fix a privacy finding, upload a photo with alt text, record consent, reload and find
everything saved. axe-core finds no WCAG 2.2 A/AA violations on any page of the editor,
preview (also inside the preview's own page), pictures, consent, history, difference and
conflict pages, with and without form errors, and none of them scrolls sideways at 320 CSS
pixels. Also: an autosave conflict is shown and overwrites nothing, leaving with unsaved
changes warns, and the editor works with JavaScript off."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    base,
    browser,
    served,
    sign_in_page,
)
from editor_support import NHS_NUMBER, gps_jpeg, make_editor_world
from playwright.sync_api import Page, expect

from storykit import audit

TIMEOUT = 15_000


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_editor_world(tmp_path_factory.mktemp("walk") / "site",
                             STORYKIT_AUTOSAVE_SECONDS=1)


def new_page(browser, **options) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def check_preview_document(browser, base: str, page: Page, name: str,
                           problems: list[str]) -> None:
    """axe inside the preview: its page loaded on its own at the app's address (the sandboxed
    frame runs no script, so axe cannot run in it there)."""
    srcdoc = page.locator("#preview-frame, .preview-frame").first.get_attribute("srcdoc")
    assert srcdoc and "DRAFT - not for distribution" in srcdoc
    cookies = page.context.cookies()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.add_cookies(cookies)
    alone = context.new_page()
    alone.route(f"{base}/preview-under-test", lambda route: route.fulfill(
        body=srcdoc, content_type="text/html; charset=utf-8"))
    alone.goto(f"{base}/preview-under-test")
    alone.wait_for_load_state("networkidle")
    colour = alone.evaluate("getComputedStyle(document.querySelector('.site-header'))"
                            ".backgroundColor")
    if colour in ("rgba(0, 0, 0, 0)", "transparent"):
        problems.append(f"{name}: the theme's style sheet did not load in the preview")
    problems += audit_page(alone, f"{name} (inside the preview)")
    context.close()


def test_an_advocate_writes_a_story_with_a_photo_and_consent(browser, base, world, tmp_path):
    problems: list[str] = []
    page = new_page(browser)
    sign_in_page(page, base, "ann")
    page.get_by_role("link", name="Start a new story").click()
    problems += audit_page(page, "new story")
    page.get_by_role("button", name="Start the story").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += audit_page(page, "new story with errors")
    page.fill("#title", "Finding my way to the eye clinic")
    page.fill("#teller_name", "Morgan Example")
    page.get_by_label("A carer").check()
    page.get_by_role("button", name="Start the story").click()
    page.wait_for_url(re.compile(r".*/stories/st-[a-z0-9]+/edit$"))
    story_id = page.url.split("/")[-2]
    expect(page.locator(".notice")).to_contain_text("The story was started")

    # type the story: the preview, word count and checks follow
    body = page.locator("#body")
    body.fill("")
    body.press_sequentially("Morgan drove me to the clinic. The signs were hard to read. ")
    body.press("End")
    body.type("A porter walked us all the way there. ")
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator(".story__body")).to_contain_text("A porter walked us all the way")
    expect(frame.locator(".draft-banner")).to_contain_text("DRAFT - not for distribution")
    expect(page.locator("#check-summary")).to_contain_text("20 words")
    # the formatting toolbar works from the keyboard
    body.press("Control+a")
    page.get_by_role("button", name="Bold").focus()
    page.keyboard.press("Enter")
    assert body.input_value().startswith("**Morgan drove me")
    # no consent yet: the preview hides the storyteller's name
    expect(frame.locator(".story__body strong")).to_contain_text("[name removed] drove me")
    # a privacy finding, fixed with one click in the box
    body.press("Control+End")
    body.type(f" My NHS number is {NHS_NUMBER}.")
    fix = page.get_by_role("button", name=re.compile(r"Replace with “\[NHS number removed\]”"))
    expect(fix).to_be_visible()
    problems += audit_page(page, "editor with a finding and the preview")
    check_preview_document(browser, base, page, "editor preview", problems)
    fix.click()
    assert NHS_NUMBER not in body.input_value()
    assert "[NHS number removed]" in body.input_value()
    # autosave keeps the draft without pressing anything
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at", timeout=20_000)
    page.fill("#summary", "The way to the eye clinic was hard to find.")
    page.fill("#people-0-name", "Morgan")
    page.fill("#people-0-render_as", "my son")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Your changes were saved.",
                                                timeout=30_000)  # may wait for an autosave
    saved = world.site.store.get(story_id)
    assert "**Morgan drove me" in saved.body and "[NHS number removed]" in saved.body
    assert saved.summary == "The way to the eye clinic was hard to find."
    problems += audit_page(page, "editor")

    # a photo with alt text
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(gps_jpeg((1200, 800)))
    page.get_by_role("link", name="Pictures").click()
    problems += audit_page(page, "pictures")
    page.get_by_role("button", name="Add the picture").click()
    problems += audit_page(page, "pictures with errors")
    page.set_input_files("#picture", str(photo))
    page.fill("#alt", "A long hospital corridor with a yellow sign for the eye clinic")
    page.get_by_label("A photo (of a real person or place)").check()
    page.get_by_role("button", name="Add the picture").click()
    expect(page.locator(".notice")).to_contain_text("The picture was added.")
    shown = page.get_by_alt_text("A long hospital corridor with a yellow sign for the eye clinic")
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.naturalWidth") == 800 or \
        shown.evaluate("img => img.naturalWidth") > 0
    problems += audit_page(page, "pictures with one")

    # consent
    page.get_by_role("link", name="Consent").click()
    problems += audit_page(page, "consent form")
    page.get_by_role("button", name="Record consent").click()
    problems += audit_page(page, "consent form with errors")
    page.get_by_label("Trust board").check()
    page.get_by_label("Staff training").check()
    page.get_by_label("The story itself").check()
    page.get_by_label("Photos").check()
    page.get_by_label("Their first name only").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator(".notice")).to_contain_text("Consent version 1 was recorded.")
    problems += audit_page(page, "consent with a version")
    page.get_by_role("link", name="Withdraw consent").click()
    problems += audit_page(page, "withdraw consent")

    # reload everything: it was all saved
    page.goto(f"{base}/stories/{story_id}/edit")
    assert "**Morgan drove me" in page.locator("#body").input_value()
    assert page.locator("#summary").input_value() == "The way to the eye clinic was hard to find."
    assert page.locator("#people-0-render_as").input_value() == "my son"
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator(".story__figure img")).to_have_attribute(
        "alt", "A long hospital corridor with a yellow sign for the eye clinic")
    expect(frame.locator(".story__body")).to_contain_text("My son drove me")  # name swapped
    page.goto(f"{base}/stories/{story_id}/images")
    expect(page.locator(".picture__image")).to_have_count(1)
    page.goto(f"{base}/stories/{story_id}/consent")
    expect(page.locator("main")).to_contain_text("Consent version 1")
    story = world.site.store.get(story_id)
    assert story.current_consent.uses == ["staff_training", "board"]
    assert story.current_consent.identification == "first_name"

    # history, a difference, the preview page
    page.get_by_role("link", name="History").click()
    problems += audit_page(page, "history")
    page.get_by_role("button", name="Show the changes").click()
    expect(page.locator("h1")).to_contain_text("What changed between versions")
    problems += audit_page(page, "difference")
    page.get_by_role("link", name="Preview").first.click()
    problems += audit_page(page, "preview page")
    page.select_option("#theme", "high-contrast")
    page.get_by_role("button", name="Show in this style").click()
    problems += audit_page(page, "preview page, high contrast")
    check_preview_document(browser, base, page, "preview page, high contrast", problems)
    page.goto(f"{base}/stories/{story_id}")
    problems += audit_page(page, "story page with its links")
    page.context.close()
    assert not problems, "\n".join(problems)
    actions = {e.action for e in world.audit() if e.story_id == story_id}
    assert {audit.STORY_CREATED, audit.STORY_SAVED, audit.CONSENT_CHANGED} <= actions


def test_the_conflict_page_in_the_browser(browser, base, world):
    problems: list[str] = []
    page = new_page(browser)
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-draft1/edit")
    store = world.site.store
    store.save(store.get("st-draft1").copy(title="Changed in another tab"), by="ann")
    page.fill("#title", "Changed here")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("h1")).to_have_text("Someone else changed this story")
    assert page.locator("#title").input_value() == "Changed here"
    problems += audit_page(page, "conflict page")
    # the not-saved page and the preview with errors look right too
    page.fill("#title", "")
    page.get_by_role("button", name="Preview").click()
    problems += audit_page(page, "editor with errors")
    page.context.close()
    world.reset_story("st-draft1")
    assert not problems, "\n".join(problems)


def test_an_autosave_conflict_is_shown_and_overwrites_nothing(browser, base, world):
    world.reset_story("st-draft1")
    page = new_page(browser)
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-draft1/edit")
    store = world.site.store
    store.save(store.get("st-draft1").copy(summary="Saved by someone else."), by="val")
    before = (world.root / "stories" / "st-draft1" / "story.md").read_bytes()
    page.locator("#body").press("End")
    page.locator("#body").type(" A sentence typed here.")
    alert = page.locator("#autosave-alert")
    expect(alert).to_contain_text("Someone else changed this story", timeout=20_000)
    expect(alert).to_be_visible()
    assert (world.root / "stories" / "st-draft1" / "story.md").read_bytes() == before
    assert "A sentence typed here." in page.locator("#body").input_value()
    problems: list[str] = []
    problems += audit_page(page, "editor with an autosave conflict")
    assert not problems, "\n".join(problems)
    page.context.close()
    world.reset_story("st-draft1")


def test_leaving_with_unsaved_changes_warns(browser, base, world):
    world.reset_story("st-draft1")
    page = new_page(browser)
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-draft1/edit")
    page.locator("#title").type(" (draft)")
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    page.context.close()
    world.reset_story("st-draft1")


def test_the_editor_works_without_javascript(browser, base, world):
    world.reset_story("st-draft1")
    page = new_page(browser, java_script_enabled=False)
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-draft1/edit")
    assert page.locator(".toolbar").is_hidden()
    page.fill("#body", "Typed with no script. The preview button still works.")
    page.get_by_role("button", name="Preview").click()
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator(".story__body")).to_contain_text("Typed with no script.")
    assert "Typed with no script." in page.locator("#body").input_value()
    assert "Typed with no script" not in world.site.store.get("st-draft1").body
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Your changes were saved.",
                                                timeout=30_000)  # may wait for an autosave
    assert world.site.store.get("st-draft1").body.startswith("Typed with no script.")
    # a privacy fix is a plain form too
    page.fill("#body", f"My number is {NHS_NUMBER}.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name=re.compile("Replace with")).first.click()
    expect(page.locator(".notice")).to_contain_text("Replaced it in the story text.")
    assert NHS_NUMBER not in world.site.store.get("st-draft1").body
    page.context.close()
    world.reset_story("st-draft1")


def test_withdrawal_pages_in_the_browser(browser, base, world):
    world.site.distributions.record(story_id="st-approved1", consent_version=1, use="board",
                                    format="pdf", sha256="0" * 64,
                                    path="/packs/board-pack.pdf", created_by="pete")
    problems: list[str] = []
    page = new_page(browser)
    page.on("dialog", lambda dialog: dialog.accept())  # "Withdraw consent? ..." confirmation
    sign_in_page(page, base, "ann")
    page.goto(f"{base}/stories/st-approved1/consent/withdraw")
    page.get_by_role("button", name="Withdraw consent").click()
    problems += audit_page(page, "withdraw with errors")
    page.get_by_label("Stop using it from now on").check()
    page.fill("#reason", "Asked by phone")
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.locator("h1")).to_have_text("Consent withdrawn")
    # the copy in words (what, who, when, which use), never its path on the server
    expect(page.locator("main")).to_contain_text("PDF made with storykit render, made on")
    expect(page.locator("main")).not_to_contain_text("/packs/board-pack.pdf")
    problems += audit_page(page, "consent withdrawn, takedown list")
    page.fill("#confirmed", "2099-01-01")
    page.get_by_role("button", name="Record that they were told").click()
    problems += audit_page(page, "confirming the withdrawal, with errors")
    page.fill("#confirmed", dt.date.today().isoformat())
    page.get_by_role("button", name="Record that they were told").click()
    expect(page.locator("main")).to_contain_text("that their story was withdrawn")
    problems += audit_page(page, "consent page of a withdrawn story")
    page.context.close()
    world.reset_story("st-approved1")
    assert not problems, "\n".join(problems)
