"""Packs in real headless Chromium against the app served by waitress, with a worker
running in the same process (as ``storykit serve`` runs one): a publisher finds stories,
chooses the pack, sees which story is left out and why, makes it, watches it being made
(app.js refreshes the job's progress and shows the pack when it is ready), downloads the zip
and it opens (pypdf reads the PDF, python-pptx the PowerPoint). Then the storyteller
withdraws: "where has this story gone?" and the takedown checklist, ticked off with a note.
axe-core finds no WCAG 2.2 A/AA violations on any of these pages.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    base,
    browser,
    make_world,
    sign_in_page,
)
from conftest import BASIC_TOML, consent_version, story_front, write_story
from playwright.sync_api import Page, expect
from pptx import Presentation
from pypdf import PdfReader

from storykit.taskqueue import Worker

TIMEOUT = 60_000
TRAINING = "Only for staff training"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("packs") / "site"
    world = make_world(root, BASIC_TOML)
    write_story(root, "st-training1", story_front(title=TRAINING, slug="training1",
                                                  status="approved", service="Outpatients"),
                consent=[consent_version(uses=["staff_training"])])
    worker = Worker(world.site, 1, periodic=False).start()
    yield world
    worker.stop()


def new_page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def test_a_pack_is_made_downloaded_and_opened_and_its_copies_taken_down(browser, base, world,
                                                                        tmp_path):
    problems: list[str] = []
    pete = new_page(browser)
    sign_in_page(pete, base, "pete")
    pete.get_by_role("link", name="Packs", exact=True).click()
    problems += audit_page(pete, "packs")
    pete.get_by_role("link", name="Make a new pack").click()
    problems += audit_page(pete, "make a pack")
    pete.fill("#q", "stroke")
    pete.get_by_role("button", name="Show stories").click()
    pete.wait_for_load_state()
    expect(pete.get_by_label("Finding the stroke unit at night")).to_be_visible()
    pete.get_by_label("Finding the stroke unit at night").check()
    pete.goto(f"{base}/packs/new")
    pete.get_by_label("Finding the stroke unit at night").check()
    pete.get_by_label("A kind word in the discharge lounge").check()
    pete.get_by_label(TRAINING).check()
    pete.select_option("#use", "board")
    pete.locator("input[name=format][value=pdf]").check()
    pete.locator("input[name=format][value=pptx]").check()
    pete.get_by_label("A short version for meetings").check()
    pete.fill("#meeting", "Trust Board")
    pete.fill("#meeting_date", "2027-03-04")
    pete.fill("#recipients", "Board members\nCompany secretary")
    pete.get_by_role("button", name="Check the stories").click()
    pete.wait_for_load_state()
    expect(pete.locator("h1")).to_have_text("Check the pack before it is made")
    expect(pete.locator("main")).to_contain_text("Stories that will be left out (1)")
    expect(pete.locator("main")).to_contain_text(TRAINING)
    problems += audit_page(pete, "check the pack")
    pete.get_by_role("button", name="Make the pack").click()
    pete.wait_for_load_state()
    expect(pete.locator("h1")).to_have_text("The pack is ready", timeout=TIMEOUT)
    problems += audit_page(pete, "the pack is ready")
    with pete.expect_download() as info:
        pete.get_by_role("link", name="Download the pack").click()
    zipped = tmp_path / "pack.zip"
    info.value.save_as(zipped)
    with zipfile.ZipFile(zipped) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = zf.namelist()
        pdf = next(n for n in names if n.endswith(".pdf"))
        pptx = next(n for n in names if n.endswith(".pptx"))
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(zf.read(pdf))).pages)
        deck = Presentation(io.BytesIO(zf.read(pptx)))
    assert {s["id"] for s in manifest["stories"]} == {"st-approved1", "st-published1"}
    assert manifest["pack"]["meeting"] == "Trust Board"
    assert "stroke unit" in text.lower() or "discharge lounge" in text.lower()
    assert 2 <= len(deck.slides) <= 13  # a summary deck: at most 6 a story, and the notice
    assert TRAINING not in text

    pete.get_by_role("link", name="About this pack").click()
    expect(pete.locator("main")).to_contain_text("Downloaded today")
    problems += audit_page(pete, "a pack")

    world.site.withdraw("st-approved1", "stop_future_use", "Asked by phone.", by="ada")
    pete.goto(f"{base}/stories/st-approved1/copies")
    expect(pete.locator("h1")).to_have_text("Where has this story gone?")
    expect(pete.locator("main")).to_contain_text("Board members, Company secretary")
    problems += audit_page(pete, "where has this story gone")
    pete.get_by_role("link", name="Open the takedown checklist").click()
    expect(pete.locator("main")).to_contain_text("0 of 2 done.")
    problems += audit_page(pete, "takedown checklist")
    first = pete.locator("section.checklist-item").first
    first.get_by_label("Done").check()
    first.get_by_label("Note").fill("Emailed the board secretary, who deleted it.")
    first.get_by_role("button", name="Save").click()
    pete.wait_for_load_state()
    expect(pete.locator("main")).to_contain_text("1 of 2 done.")
    expect(pete.locator("main")).to_contain_text("Emailed the board secretary")
    problems += audit_page(pete, "takedown checklist, one ticked")
    pete.get_by_role("link", name="Read the story's text").click()
    expect(pete.locator("main")).to_contain_text("Do not use this story.")
    problems += audit_page(pete, "the story's text, for the takedown")
    pete.goto(f"{base}/stories/st-approved1/preview")
    expect(pete.locator("main")).to_contain_text("This story can no longer be used")
    expect(pete.locator("iframe")).to_have_count(0)
    problems += audit_page(pete, "the preview of a withdrawn story")
    assert problems == []
