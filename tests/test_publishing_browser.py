"""Publish means live, in real headless Chromium against the app served by waitress, with a
worker running in the same process (as ``storykit serve`` runs one) and the publish folder
served over HTTP by a separate server (as a web server would serve it):

an advocate sends a story for review, a reviewer approves it, a publisher publishes it and,
within the job's run, the page shows "The story is live at ..." and the story's page is
served from the publish folder; staff record the storyteller's withdrawal and the page, its
feed entry and its search entry are gone with no command run; a story whose consent ran out
leaves the site after the daily sweep. axe-core finds no WCAG 2.2 A/AA violations on the
pages along the way, the jobs pages and the pages the website's state is shown on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    audit_page,
    base,
    browser,
    make_world,
    sign_in_page,
)
from browser_support import serve_folder
from conftest import BASIC_TOML, consent_version, story_front, wait_for, write_story
from playwright.sync_api import Page, expect

from storykit import dates
from storykit.jobs import DONE, Jobs
from storykit.taskqueue import Worker, add_sweep

TIMEOUT = 30_000
ENDING = "A story whose consent ends soon"
TITLE = "Waiting times on the childrens ward"


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """The publish folder served over HTTP on 127.0.0.1, as a web server would."""
    root = tmp_path_factory.mktemp("publish") / "site"
    folder = root / "build" / "site"
    folder.mkdir(parents=True)
    with serve_folder(folder) as url:
        yield root, url


@pytest.fixture(scope="module")
def world(public):
    root, url = public
    world = make_world(root, BASIC_TOML + f'\n[publish]\npublic_url = "{url}"\n')
    today = dt.date.today()
    write_story(root, "st-ending1", story_front(status="published", slug="ending",
                                                title=ENDING),
                consent=[consent_version(granted=today - dt.timedelta(days=30),
                                         expires=today + dt.timedelta(days=2))])
    worker = Worker(world.site, 1).start()
    yield world
    worker.stop()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def new_page(browser, **options) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def press(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def search_titles(url: str) -> list[str]:
    status, text = fetch(url + "search-index.js")
    assert status == 200
    return [e["t"] for e in json.loads(text.strip()[len("window.STORYKIT_SEARCH = "):-1])[
        "stories"]]


def feed_titles(url: str) -> list[str]:
    status, text = fetch(url + "feed.xml")
    assert status == 200
    return re.findall(r"<entry>.*?<title[^>]*>([^<]*)</title>", text, re.S)


def test_publish_goes_live_and_withdrawal_and_expiry_take_it_down(browser, base, world,
                                                                 public):
    _root, url = public
    problems: list[str] = []
    story_page = f"{url}stories/draft1.html"

    ann = new_page(browser)
    sign_in_page(ann, base, "ann")
    ann.goto(f"{base}/stories/st-draft1")
    problems += audit_page(ann, "story page: draft, not on the website")
    press(ann, "Send for review")
    expect(ann.locator(".notice")).to_contain_text("The story was sent for review.")

    rita = new_page(browser)
    sign_in_page(rita, base, "rita")
    rita.goto(f"{base}/stories/st-draft1")
    press(rita, "Approve")
    expect(rita.locator(".notice")).to_contain_text("The story was approved.")

    pete = new_page(browser)
    sign_in_page(pete, base, "pete")
    pete.goto(f"{base}/stories/st-draft1")
    problems += audit_page(pete, "story page: approved, to publish")
    press(pete, "Publish")
    expect(pete.locator(".notice")).to_contain_text("It is being put on the website now")
    status = pete.locator("#website-status")
    # the page follows the job by itself (app.js) and says so only once the page is there
    expect(status).to_contain_text(f"The story is live at {story_page}", timeout=TIMEOUT)
    code, text = fetch(story_page)
    assert code == 200 and TITLE in text
    assert TITLE in feed_titles(url) and TITLE in search_titles(url)
    expect(status.get_by_role("link", name=story_page)).to_have_attribute("href", story_page)
    problems += audit_page(pete, "story page: live on the website")

    pete.get_by_role("link", name="Jobs").click()
    expect(pete.locator("h1")).to_have_text("Jobs")
    expect(pete.locator("main")).to_contain_text("Update the public website")
    expect(pete.locator("main")).to_contain_text("Pete Example")
    problems += audit_page(pete, "jobs page")
    pete.get_by_role("link", name=re.compile("Update the public website")).first.click()
    expect(pete.locator("main")).to_contain_text("Done")
    problems += audit_page(pete, "one job's page")
    pete.goto(f"{base}/publishing")
    problems += audit_page(pete, "publishing page with the website's state")
    pete.goto(f"{base}/stories/st-draft1/website")
    problems += audit_page(pete, "the story's website page")

    # the storyteller withdraws; staff record it; no command is run anywhere
    ada = new_page(browser)
    sign_in_page(ada, base, "ada")
    ada.goto(f"{base}/stories/st-draft1/consent/withdraw")
    ada.get_by_label("Stop using it from now on", exact=False).check()
    ada.fill("#reason", "She would rather it was not online any more.")
    ada.once("dialog", lambda dialog: dialog.accept())  # "Withdraw consent for this story?"
    press(ada, "Withdraw consent")
    expect(ada.locator("h1")).to_have_text("Consent withdrawn")
    problems += audit_page(ada, "withdrawn, being taken off the website")
    expect(ada.locator("#website-status")).to_contain_text("The story is not on the website.",
                                                           timeout=TIMEOUT)
    assert fetch(story_page)[0] == 404
    assert TITLE not in feed_titles(url) and TITLE not in search_titles(url)
    problems += audit_page(ada, "withdrawn, taken off the website")

    # consent that runs out: the daily sweep takes the story off
    ending_page = f"{url}stories/ending.html"
    assert fetch(ending_page)[0] == 200
    before = dates.FIXED_TODAY
    dates.FIXED_TODAY = dt.date.today() + dt.timedelta(days=5)
    try:
        sweep = add_sweep(world.site)  # what the worker's scheduler does each day
        wait_for(lambda: fetch(ending_page)[0] == 404, "the expired story's page to go")
        assert Jobs(world.site).get(sweep.id).state == DONE
    finally:
        dates.FIXED_TODAY = before
    assert ENDING not in feed_titles(url) and ENDING not in search_titles(url)
    assert Jobs(world.site).get(sweep.id).result["expired"][0]["story"] == "st-ending1"

    for page in (ann, rita, pete, ada):
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_story_page_follows_a_publication_without_javascript(browser, base, world, public):
    _root, url = public
    page = new_page(browser, java_script_enabled=False)
    sign_in_page(page, base, "pete")
    page.goto(f"{base}/stories/st-approved1")
    press(page, "Publish")
    text = page.locator("#website-status").inner_text()
    assert "Being published" in text or "The story is live at" in text
    wait_for(lambda: fetch(f"{url}stories/approved1.html")[0] == 200, "the page")
    if "Check again" in text:
        page.get_by_role("link", name="Check again").click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text("On the website:")
    else:
        page.reload()
    expect(page.locator("#website-status")).to_contain_text(
        f"The story is live at {url}stories/approved1.html")
    page.context.close()


def test_a_failed_website_update_shows_try_again_without_violations(browser, base, world):
    from storykit.jobs import FAILED

    jobs = Jobs(world.site)
    job, _ = jobs.add("site-build", {"stories": ["st-published1"]}, by="pete")
    jobs.claim(job.id, "browser-test")
    jobs.finish(job.id, "browser-test", state=FAILED, message="It failed.",
                error="cannot write the website: the disk is full")
    page = new_page(browser)
    sign_in_page(page, base, "pete")
    page.goto(f"{base}/jobs")
    problems = audit_page(page, "jobs page with a failure")
    page.goto(f"{base}/jobs/{job.id}")
    problems += audit_page(page, "a failed job")
    press(page, "Try again")
    expect(page.locator(".notice")).to_contain_text(f"Job {job.id} will be tried again")
    problems += audit_page(page, "a job tried again")
    page.context.close()
    assert not problems, "\n".join(problems)
