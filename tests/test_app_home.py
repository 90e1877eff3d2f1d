"""The home page of each role (its queues, their counts and empty states, only stories the
person may see), the counts in the main menu, the story page's order (status, next step,
website, then the consent folded away), words instead of codes, and the demo site's
accounts. Browser checks (axe-core in headless Chromium) for every dashboard with every queue
filled in, and the story page with its consent unfolded. CSRF protection is on."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from app_support import (  # noqa: F401 - base, browser: shared fixtures
    TITLES,
    act,
    audit_page,
    base,
    browser,
    make_world,
    sign_in,
    sign_in_page,
)
from click.testing import CliRunner
from conftest import consent_version, story_front, write_story

from storykit.cli import cli
from storykit.dates import nice_date
from storykit.jobs import FAILED, Jobs
from storykit.site import Site
from storykit.web import create_app
from storykit.web.demo import DEMO_ACCOUNTS, OWNER

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
SOON = TODAY + dt.timedelta(days=30)
LATER = TODAY + dt.timedelta(days=200)
ENDED = TODAY - dt.timedelta(days=10)
#: Where a copy was written on the server: never shown to anyone.
SERVER_PATH = "/srv/storykit/exports/board-pptx/board-stories.pptx"


def text(response) -> str:
    return response.get_data(as_text=True)


def words(page: str) -> str:
    """The page's text, as read (tags taken out, spaces squeezed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace(" .", ".")


def section(page: str, key: str) -> str:
    """One queue's section of the home page ('' when it is not there)."""
    found = re.search(rf'<section aria-labelledby="{key}">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


def add_story(world, story_id: str, title: str, status: str, owner: str | None, **consent):
    from storykit.web.access import grant

    write_story(world.root, story_id, story_front(title=title, slug=story_id[3:], status=status),
                consent=[consent_version(**consent)])
    if owner:
        grant(world.app.extensions["storykit"].db(), story_id, world.users[owner], "owner",
              "test")


def fail_a_job(world, error: str = "The website could not be built: the disk is full.") -> int:
    jobs = Jobs(world.site)
    job, _ = jobs.add("site-build", {}, by="pete")
    jobs.claim(job.id, "w1")
    assert jobs.finish(job.id, "w1", state=FAILED, message="Failed.", error=error)
    return job.id


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


@pytest.fixture
def full(tmp_path, engine):
    """The test world with every queue filled: consent ending soon, consent ended on a live
    story, a withdrawn story with a pack and a download still out there, a failed job."""
    w = make_world(tmp_path / "site", engine=engine)
    fill(w)
    return w


def fill(w) -> None:
    add_story(w, "st-soon1", "The lift that never came", "approved", "ann", expires=SOON)
    add_story(w, "st-later1", "A long wait for a wheelchair", "published", "ann",
              expires=LATER)
    add_story(w, "st-ended1", "Visiting hours on the stroke ward", "published", "ann",
              expires=ENDED, granted=ENDED - dt.timedelta(days=400))
    add_story(w, "st-gone1", "The night shift on ward nine", "published", "ann")
    add_story(w, "st-bobsoon", "Bob's story ending soon", "draft", "bob", expires=SOON)
    log = w.site.distributions
    log.record(story_id="st-gone1", consent_version=1, use="board", format="pdf",
               sha256="0" * 64, path=SERVER_PATH.replace("pptx", "pdf"), created_by="ann",
               job="download-1")
    w.site.withdraw("st-gone1", "stop_future_use", "The storyteller asked us to stop.",
                    by="ann")
    fail_a_job(w)


# --- each role's queues ------------------------------------------------------------------------

def test_an_advocate_sees_her_stories_on_their_way_with_the_next_step(world):
    page = text(world.client("ann").get("/"))
    drafts = section(page, "drafts")
    assert "Your stories on their way (3)" in drafts
    for sid in ("st-draft1", "st-review1", "st-approved1"):
        assert TITLES[sid] in drafts
    assert TITLES["st-published1"] not in drafts  # live: in its own queue
    assert TITLES["st-published1"] in section(page, "live")
    row = drafts[drafts.index(TITLES["st-draft1"]):].split("</tr>")[0]
    assert "Draft" in row and "Finish it and send it for review" in row
    # no one else's story, and no queue that is not hers
    for sid in ("st-bobdraft", "st-valreview", "st-noowner"):
        assert TITLES[sid] not in page
    for key in ("review", "publish", "failed"):
        assert not section(page, key)


def test_every_queue_says_so_in_words_when_it_is_empty(world):
    from app_support import FAST_HASH, PASSWORD

    from storykit.web import accounts
    from storykit.web.passwords import Hasher

    st = world.app.extensions["storykit"]
    accounts.add_user(st.db(), Hasher(FAST_HASH), "nia", PASSWORD,
                      ["advocate", "reviewer", "publisher", "admin"], "Nia Example")
    for sid in ("st-review1", "st-valreview"):
        write_story(world.root, sid, story_front(title=TITLES[sid], slug=sid[3:],
                                                  status="changes_requested"),
                    consent=[consent_version()])
    for sid in ("st-approved1", "st-published1"):
        write_story(world.root, sid, story_front(title=TITLES[sid], slug=sid[3:],
                                                  status="draft"), consent=[consent_version()])
    page = words(text(world.client("nia").get("/")))
    for empty in ("You have no stories on their way. Start a new story",
                  "Nothing is waiting for your review.", "No approved stories are waiting.",
                  "No stories are live yet.", "No consent ends in the next 60 days.",
                  "No story's consent has ended", "No background jobs have failed."):
        assert empty in page, empty


def test_a_long_queue_shows_ten_and_links_to_the_whole_list(world):
    for n in range(12):
        write_story(world.root, f"st-many{n:02d}", story_front(title=f"Many {n:02d}",
                    slug=f"many{n:02d}", status="in_review"), consent=[consent_version()])
    review = section(text(world.client("rita").get("/")), "review")
    assert "Waiting for your review (14)" in review
    assert review.count("<li>") == 10
    assert '<a href="/review">Everything waiting for your review (14)</a>' in review


def test_the_quick_review_queue_agrees_with_the_rule_book(world):
    from storykit.web import accounts
    from storykit.web.access import APPROVE, can
    from storykit.web.listing import visible
    from storykit.web.queues import review_queue

    snap = world.app.extensions["storykit"].index.snapshot()
    conn = world.app.extensions["storykit"].db()
    for name in world.users:
        user = accounts.by_name(conn, name)
        slow = [s.id for s in visible(user, snap, ("in_review",)) if can(user, APPROVE, s)]
        assert [s.id for s in review_queue(user, snap)] == slow, name
    accounts.set_active(conn, accounts.by_name(conn, "rita"), False)
    assert review_queue(accounts.by_name(conn, "rita"), snap) == []


def test_a_reviewer_sees_what_waits_for_review_but_never_her_own(world):
    rita = text(world.client("rita").get("/"))
    review = section(rita, "review")
    assert "Waiting for your review (2)" in review
    assert 'href="/review/st-review1"' in review
    assert not section(rita, "drafts") and not section(rita, "publish")
    val = section(text(world.client("val").get("/")), "review")
    assert TITLES["st-review1"] in val and TITLES["st-valreview"] not in val


def test_a_publisher_sees_approved_live_and_failed_jobs(full):
    page = text(full.client("pete").get("/"))
    publish = section(page, "publish")
    assert "Approved, waiting to publish (2)" in publish
    assert TITLES["st-approved1"] in publish and "ready to publish" in publish
    live = section(page, "live")
    assert TITLES["st-published1"] in live and "A long wait for a wheelchair" in live
    # consent ended: not listed as live, but as a story to deal with
    assert "Visiting hours on the stroke ward" not in live
    failed = section(page, "failed")
    assert "Failed jobs (1)" in failed and "the disk is full" in failed
    assert "Site build" in words(failed) or "site" in words(failed).lower()
    assert not section(page, "drafts") and not section(page, "review")


def test_consent_ending_soon_is_listed_in_words_for_the_stories_one_may_see(full):
    ann = section(text(full.client("ann").get("/")), "expiring")
    assert "Consent ending in the next 60 days (1)" in ann
    assert "The lift that never came" in ann
    assert f"consent ends on {nice_date(SOON)} (in 30 days)" in ann
    assert "A long wait for a wheelchair" not in ann  # 200 days away
    assert "Bob&#39;s story ending soon" not in ann and "Bob's story" not in ann
    assert "Bob" in section(text(full.client("bob").get("/")), "expiring")
    assert not section(text(full.client("rita").get("/")), "expiring")


def test_ended_and_withdrawn_stories_show_their_copies_as_what_and_who(full):
    for who in ("ann", "pete", "ada"):
        page = text(full.client(who).get("/"))
        found = words(section(page, "takedown"))
        assert "Consent ended or withdrawn (2)" in found, who
        assert "Visiting hours on the stroke ward" in found
        assert f"Consent ended on {nice_date(ENDED)} (10 days ago)" in found
        assert "The night shift on ward nine" in found
        assert "The storyteller withdrew their consent. 1 copy is still out there" in found
        day = f"{TODAY.day} {TODAY:%B}"
        assert f"PDF downloaded from storykit, {day}, downloaded by Ann Example, for " \
               "trust board" in found, found
        assert SERVER_PATH.replace("pptx", "pdf") not in page and "/srv/" not in page
    # Bob works on none of them
    assert "The night shift on ward nine" not in text(full.client("bob").get("/"))


def test_a_pack_copy_is_described_as_what_and_who(make_site, tmp_path, test_day):
    from pack_support import USE, write_mixed

    from storykit.copies import story_copies
    from storykit.findings import dismiss, story_findings
    from storykit.packs import PackDefinition, build_pack
    from storykit.web.words import copy_words

    site = Site.open(write_mixed(make_site()))
    while blocking := story_findings(site, site.store.get("st-allowed")).blocking:
        story = site.store.get("st-allowed")  # names the storyteller on purpose
        dismiss(site, story, blocking[0].ref, "Outputs use the consented name.", by="rita",
                etag=story.etag)
    build_pack(site, PackDefinition(use=USE, formats=("pptx",), stories=("st-allowed",),
                                    title="Commissioners pack", meeting="ICB quality group",
                                    meeting_date=dt.date(2027, 3, 10),
                                    recipients=("Quality group members",)),
               tmp_path / "p.zip", by="Amy Patel")
    made = dt.datetime.now(dt.UTC).date()
    day = f"{made.day} {made:%B}" if made.year == TODAY.year else nice_date(made)
    assert copy_words(story_copies(site, "st-allowed")[0]) == (
        f"Commissioners pack (PowerPoint slides), {day}, made by Amy Patel, for ICB quality "
        "group on 10 March 2027 (recipients: Quality group members)")


# --- counts in the menu -------------------------------------------------------------------------

def _menu(page: str) -> str:
    return page[page.index('aria-label="Main menu"'):page.index("</nav>",
                                                                 page.index("Main menu"))]


def test_the_menu_counts_what_waits_and_screen_readers_hear_what_the_number_is(world):
    rita = world.client("rita")
    menu = _menu(text(rita.get("/stories")))
    assert 'Review <span class="nav__count">(2<span class="visually-hidden"> waiting' \
           '</span>)</span>' in menu
    assert act(rita, "st-review1", "approve").status_code == 303
    assert "(1<span" in _menu(text(rita.get("/stories")))
    pete = world.client("pete")
    assert "Publishing" in _menu(text(pete.get("/"))) and "(2<span" in _menu(text(pete.get("/")))
    # no failed jobs: no number by Jobs; one: "Jobs (1 failed)"
    assert "failed" not in _menu(text(pete.get("/")))
    fail_a_job(world)
    assert 'Jobs <span class="nav__count">(1<span class="visually-hidden"> failed' in \
        _menu(text(pete.get("/")))
    ann = _menu(text(world.client("ann").get("/")))
    assert "nav__count" not in ann and "Review" not in ann


# --- the story page --------------------------------------------------------------------------

def _order(page: str, *marks: str) -> list[int]:
    return [page.index(m) for m in marks]


def test_the_story_page_leads_with_status_next_step_and_the_website(world):
    page = text(world.client("ann").get("/stories/st-draft1"))
    at = _order(page, "<h1>", 'class="story-status"', "Next step", 'id="website"',
                '<details class="consent-detail">', "Where it can be used today",
                "About the story")
    assert at == sorted(at), at
    step = page[page.index("Next step"):page.index('id="website"')]
    assert "Finish writing the story, then send it for review." in step
    assert 'href="/stories/st-draft1/edit"' in step and ">Send for review</button>" in step
    # the consent table is folded away inside <details>
    details = page[page.index("<details"):page.index("</details>")]
    assert "<summary>" in details and "Can be used for" in details


@pytest.mark.parametrize(("who", "story", "sentence", "primary"), [
    ("rita", "st-review1", "Read the story, then approve it or ask for changes.", None),
    ("pete", "st-approved1", "Publish it to put it on the website.", "Publish"),
    ("ann", "st-approved1", "waiting for a publisher", None),
    ("ann", "st-review1", "It is waiting for a reviewer.", None),
    ("pete", "st-published1", "It is live.", None),
])
def test_the_next_step_is_for_the_person_looking(world, who, story, sentence, primary):
    page = text(world.client(who).get(f"/stories/{story}"))
    step = page[page.index("Next step"):page.index('id="website"')]
    assert sentence in step
    if primary:
        assert f'<button class="button" type="submit">{primary}</button>' in step


def test_the_live_link_is_near_the_top_when_the_story_is_on_the_website(world):
    from storykit.publishing import website_status  # noqa: F401 - the status the page reads

    page = text(world.client("pete").get("/stories/st-published1"))
    assert page.index('id="website"') < page.index("<details")


# --- words, not codes ------------------------------------------------------------------------

def test_consent_reasons_use_labels_and_dates_in_words(full):
    page = text(full.client("ann").get("/stories/st-ended1"))
    found = words(page)
    assert f"the consent ended on {nice_date(ENDED)}" in found
    assert "public_website" not in found and "covers:" not in found
    assert ENDED.isoformat() not in found
    assert "the consent does not cover Commissioners" in found
    dashboard = words(text(full.client("ann").get("/")))
    assert "the story is a draft: it must be approved first" in dashboard
    assert "not_approved" not in dashboard and "not approved or published" not in dashboard
    # the publisher's queue says why consent holds a story back, in words
    write_story(full.root, "st-approved1", story_front(title=TITLES["st-approved1"],
                slug="approved1", status="approved"),
                consent=[consent_version(uses=["board"])])
    publish = words(section(text(full.client("pete").get("/")), "publish"))
    assert "consent does not let it go on the website yet (the consent does not cover " \
           "Public website)" in publish


def test_people_are_named_by_their_display_names(world):
    rita = world.client("rita")
    assert act(rita, "st-review1", "request_changes",
               {"reason": "Say which ward, please."}).status_code == 303
    page = text(world.client("ann").get("/stories/st-review1"))
    note = page[page.index("Notes from reviewers"):]
    assert "Rita Example" in note and ">rita," not in note
    assert not re.search(r"\d{4}-\d{2}-\d{2}", words(note[:400]))
    # the history names who saved each version, and has no "Story number" column
    history = text(world.client("ann").get("/stories/st-review1/history"))
    assert "Story number" not in history


# --- the demo site ---------------------------------------------------------------------------

@pytest.fixture
def demo(tmp_path):
    """A copy of the repository's demo site, with its database made and demo accounts
    added the way ./dev demo does it."""
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO / "storykit.toml", root / "storykit.toml")
    shutil.copytree(REPO / "stories", root / "stories")
    runner = CliRunner()
    assert runner.invoke(cli, ["--site", str(root), "db", "upgrade"]).exit_code == 0
    done = runner.invoke(cli, ["--site", str(root), "user", "demo"])
    assert done.exit_code == 0, done.output
    assert "added amy (advocate)" in done.output
    return root


def test_the_demo_has_an_account_for_each_role_that_can_sign_in(demo):
    from app_support import FAST_HASH

    app = create_app(Site.open(demo), STORYKIT_INDEX_TTL=0, STORYKIT_ARGON2=FAST_HASH)
    assert {a.role for a in DEMO_ACCOUNTS} == {"advocate", "reviewer", "publisher", "admin"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for account in DEMO_ACCOUNTS:
        assert f"`{account.name}`" in readme and account.password in readme
        client = app.test_client()
        sign_in(client, account.name, account.password)
        page = text(client.get("/"))
        assert f"Signed in as {account.display_name}" in page
    amy = app.test_client()
    sign_in(amy, OWNER, DEMO_ACCOUNTS[0].password)
    home = text(amy.get("/"))
    # the advocate owns the demo stories: every state is there to walk through
    for status in ("Draft", "Changes asked for", "Waiting for review", "Approved"):
        assert status in section(home, "drafts"), status
    # the demo's dates stand on today: the story whose consent ends soon is still ending
    assert "The ramp at the back door" in section(home, "expiring")
    assert "The ramp at the back door" not in section(home, "takedown")
    assert "Dad&#39;s last weeks at home" in section(home, "takedown")
    assert "Tuesdays at the day unit" in text(amy.get("/stories?status=withdrawn"))
    assert "Please say roughly when this happened" in text(amy.get("/stories/st-8cv3wz"))
    rob = app.test_client()
    sign_in(rob, "rob", DEMO_ACCOUNTS[1].password)
    assert "Hearing my granddaughter again" in section(text(rob.get("/")), "review")


def test_the_demo_stands_on_the_day_it_is_opened_even_years_later(demo, monkeypatch):
    """Opened on 1 June 2030, the demo still has one story whose consent ends within the
    warning window, the story whose consent ended and the withdrawn one, and every other
    story's consent in force: its dates moved with the day, not fixed in the files."""
    from storykit import dates
    from storykit.expiry import story_endings

    later = dt.date(2030, 6, 1)
    result = CliRunner().invoke(cli, ["--site", str(demo), "user", "demo", "--today",
                                      "2030-06-01"])
    assert result.exit_code == 0, result.output
    assert "The demo stories' dates now stand on 1 June 2030." in result.output
    monkeypatch.setattr(dates, "FIXED_TODAY", later)
    site = Site.open(demo)
    loaded = site.store.load_all()
    assert not loaded.problems and len(loaded.stories) == 15
    by_id = {s.id: s for s in loaded.stories}
    soon = {s.id for s in by_id.values() if any(
        not e.ended for e in story_endings(s, within=60, on=later))}
    ended = {s.id for s in by_id.values() if any(
        e.ended for e in story_endings(s, within=0, on=later))}
    assert soon == {"st-t5jw3n"}
    assert ended == {"st-x8gj4s"}
    withdrawn = {s.id for s in by_id.values() if s.current_consent
                 and s.current_consent.status == "withdrawn"}
    assert withdrawn == {"st-m2ck7r"}
    for story in by_id.values():
        consent = story.current_consent
        if story.id in ended | withdrawn or consent is None:
            continue
        assert consent.granted <= later <= consent.expires, story.id
        assert story.created is None or story.created <= later, story.id
    # the dashboard says so as well, and a second run on the same day moves nothing
    from app_support import FAST_HASH

    app = create_app(site, STORYKIT_INDEX_TTL=0, STORYKIT_ARGON2=FAST_HASH)
    amy = app.test_client()
    sign_in(amy, OWNER, DEMO_ACCOUNTS[0].password)
    home = text(amy.get("/"))
    assert "The ramp at the back door" in section(home, "expiring")
    assert "Dad&#39;s last weeks at home" in section(home, "takedown")
    before = (demo / "stories" / "st-t5jw3n" / "consent.yml").read_bytes()
    again = CliRunner().invoke(cli, ["--site", str(demo), "user", "demo", "--today",
                                     "2030-06-01"])
    assert again.exit_code == 0 and "dates now stand" not in again.output
    assert (demo / "stories" / "st-t5jw3n" / "consent.yml").read_bytes() == before


@pytest.mark.parametrize("bad", ["tomorrow", "2030-02-30", "01/06/2030", ""])
def test_a_demo_day_that_is_not_a_date_is_refused_and_nothing_moves(demo, bad):
    before = (demo / "stories" / "st-t5jw3n" / "consent.yml").read_bytes()
    result = CliRunner().invoke(cli, ["--site", str(demo), "user", "demo", "--today", bad])
    assert result.exit_code == 2 and "--today" in result.output
    assert (demo / "stories" / "st-t5jw3n" / "consent.yml").read_bytes() == before


def test_demo_accounts_are_added_once_and_never_on_a_site_with_its_own(demo):
    runner = CliRunner()
    again = runner.invoke(cli, ["--site", str(demo), "user", "demo"])
    assert again.exit_code == 0 and "already there" in again.output
    added = runner.invoke(cli, ["--site", str(demo), "user", "add", "jo", "--role", "admin",
                                "--password-stdin"], input="copper kettle morning\n")
    assert added.exit_code == 0, added.output
    refused = runner.invoke(cli, ["--site", str(demo), "user", "demo"])
    assert refused.exit_code == 1
    assert "has accounts of its own" in refused.output


# --- in a real browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world_for_browser(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("home") / "site")
    fill(w)
    return w


@pytest.fixture(scope="module")
def served_world(world_for_browser):
    from app_support import served

    with served(world_for_browser.app) as url:
        yield url


@pytest.mark.parametrize("who", ["ann", "rita", "pete", "ada", "val", "bob"])
def test_every_dashboard_has_no_axe_violations_with_every_queue_filled(browser, served_world,
                                                                       who):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_page(page, served_world, who)
    page.goto(f"{served_world}/")
    problems = audit_page(page, f"home: {who}")
    page.context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("who", "story"), [("ann", "st-draft1"), ("pete", "st-ended1"),
                                            ("ann", "st-gone1"), ("rita", "st-review1")])
def test_the_story_page_with_its_consent_unfolded_has_no_axe_violations(browser, served_world,
                                                                       who, story):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_page(page, served_world, who)
    page.goto(f"{served_world}/stories/{story}")
    problems = audit_page(page, f"story page: {who}, {story}")
    page.get_by_text("The consent in full").click()
    assert page.locator("details.consent-detail").get_attribute("open") is not None
    problems += audit_page(page, f"story page, consent open: {who}, {story}")
    page.context.close()
    assert not problems, "\n".join(problems)
