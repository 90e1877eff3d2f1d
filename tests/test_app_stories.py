"""The browser app's story pages: lists, one story's page, and status changes with their role
checks, stale-page conflicts, withdrawals and audit entries. CSRF protection is on."""

from __future__ import annotations

import re

import pytest
from app_support import STORIES, TITLES, act, etag_of_page, make_world, post, write_world_story
from conftest import ON, consent_text, consent_version, story_front, write_story

from storykit import audit


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


def text(response) -> str:
    return response.get_data(as_text=True)


# --- lists -------------------------------------------------------------------------------------

def test_dashboard_lists_only_my_stories_with_consent_verdicts(world):
    page = text(world.client("ann").get("/"))
    for story_id, (_status, owner) in STORIES.items():
        assert (TITLES[story_id] in page) == (owner == "ann"), story_id
    # the approved story's consent covers the board and the public website today
    row = page[page.index(TITLES["st-approved1"]):].split("</tr>")[0]
    assert row.count('class="yes"') == 2
    # a draft cannot go anywhere yet, and the page says why
    row = page[page.index(TITLES["st-draft1"]):].split("</tr>")[0]
    assert 'class="no"' in row and "the story is a draft: it must be approved first" in row


def test_dashboard_verdict_says_no_when_consent_does_not_cover_the_use(world):
    write_story(world.root, "st-approved1", story_front(title=TITLES["st-approved1"],
                slug="approved1", status="approved"),
                consent=[consent_version(uses=["board"])])
    page = text(world.client("ann").get("/"))
    row = page[page.index(TITLES["st-approved1"]):].split("</tr>")[0]
    assert row.count('class="yes"') == 1
    assert "the consent does not cover Public website" in row and "public_website" not in row


def test_dashboard_shows_queues_for_reviewers_and_publishers(world):
    assert "Waiting for your review (2)" in text(world.client("rita").get("/"))
    val = text(world.client("val").get("/"))
    # Val reviews, but her own story in review is not in her queue
    assert "Waiting for your review (1)" in val
    assert "Approved, waiting to publish (1)" in text(world.client("pete").get("/"))
    assert "waiting for your review" not in text(world.client("ann").get("/")).lower()


def test_story_list_shows_what_each_role_may_see(world):
    def titles(who):
        page = text(world.client(who).get("/stories"))
        return {sid for sid in STORIES if TITLES[sid] in page}

    assert titles("ann") == {"st-draft1", "st-review1", "st-approved1", "st-published1"}
    assert titles("bob") == {"st-bobdraft"}
    assert titles("rita") == {"st-review1", "st-approved1", "st-published1", "st-valreview"}
    assert titles("pete") == {"st-approved1", "st-published1"}
    assert titles("ada") == set(STORIES)


def test_story_list_filters_by_status_and_ignores_unknown_ones(world):
    client = world.client("ada")
    page = text(client.get("/stories?status=draft"))
    assert TITLES["st-draft1"] in page and TITLES["st-approved1"] not in page
    everything = text(client.get("/stories?status=<script>"))
    assert TITLES["st-approved1"] in everything and "<script>" not in everything


def test_story_list_pages_through_many_stories(world):
    for n in range(60):
        write_world_story(world.root, f"st-many{n:02d}", "draft", title=f"Many {n:02d}")
    client = world.client("ada")
    first, second = text(client.get("/stories")), text(client.get("/stories?page=2"))
    assert "Page 1 of 2" in first and "Next page" in first
    assert "Page 2 of 2" in second and "Previous page" in second
    shown = set(re.findall(r"Many \d\d", first)) | set(re.findall(r"Many \d\d", second))
    assert len(shown) == 60
    for bad in ("0", "-1", "x", "99999999999"):
        assert client.get(f"/stories?page={bad}").status_code == 200


def test_lists_see_stories_written_outside_the_app(world):
    client = world.client("ada")
    assert "Brand new from the command line" not in text(client.get("/stories"))
    write_world_story(world.root, "st-fresh1", "draft", title="Brand new from the command line")
    assert "Brand new from the command line" in text(client.get("/stories"))


def test_unreadable_story_files_are_counted_for_admins(world):
    folder = world.root / "stories" / "st-broken1"
    folder.mkdir()
    (folder / "story.md").write_text("---\ntitle: [unclosed\n", encoding="utf-8")
    assert "1 story file has problems" in text(world.client("ada").get("/"))
    assert "problems" not in text(world.client("ann").get("/"))
    broken = world.client("ada").get("/stories/st-broken1")
    assert broken.status_code == 422 and "storykit check" in text(broken)
    assert world.client("ann").get("/stories/st-broken1").status_code == 404


# --- one story's page ---------------------------------------------------------------------------

def test_story_page_shows_status_and_consent_but_not_the_storyteller(world):
    page = text(world.client("ann").get("/stories/st-approved1"))
    assert TITLES["st-approved1"] in page
    assert "Approved" in page and "version 1" in page
    assert "Public website" in page and "Trust board" in page
    assert "Aisha Rahman" not in page  # the storyteller's name is private


def test_story_page_offers_only_the_buttons_the_user_may_press(world):
    def buttons(who, story_id):
        page = text(world.client(who).get(f"/stories/{story_id}"))
        return set(re.findall(r'action="/stories/[^/]+/([a-z-]+)"', page))

    assert buttons("ann", "st-draft1") == {"submit"}
    assert buttons("rita", "st-review1") == {"request-changes", "approve"}
    assert buttons("ann", "st-review1") == set()
    assert buttons("val", "st-valreview") == set()  # never her own
    assert buttons("pete", "st-approved1") == {"publish"}
    assert buttons("pete", "st-published1") == {"unpublish"}
    assert buttons("ada", "st-draft1") == set()


def test_other_peoples_drafts_are_404_and_audited(world):
    client = world.client("bob")
    for story_id in ("st-draft1", "st-review1", "st-noowner"):
        response = client.get(f"/stories/{story_id}")
        assert response.status_code == 404
        assert TITLES[story_id] not in text(response)
    denied = world.audit(audit.DENIED)
    assert {(e.actor, e.story_id, e.detail) for e in denied} >= {
        ("bob", "st-draft1", "view"), ("bob", "st-review1", "view"), ("bob", "st-noowner", "view")}
    # a story that does not exist looks exactly the same
    missing = client.get("/stories/st-nothere")
    assert missing.status_code == 404
    assert text(missing) == text(client.get("/stories/st-draft1"))


def test_odd_story_ids_are_404(world):
    client = world.client("ada")
    for bad in ("..%2F..%2Fetc%2Fpasswd", "ST-DRAFT1", "a", "st-draft1%00", "-rf", "x" * 300):
        assert client.get(f"/stories/{bad}").status_code == 404, bad


# --- status changes -----------------------------------------------------------------------------

def test_the_whole_journey_from_draft_to_published_and_back(world):
    ann, rita, pete = world.client("ann"), world.client("rita"), world.client("pete")
    assert act(ann, "st-draft1", "submit").status_code == 303
    assert world.site.store.get("st-draft1").status == "in_review"
    assert act(rita, "st-draft1", "approve").status_code == 303
    assert act(pete, "st-draft1", "publish").status_code == 303
    assert world.site.store.get("st-draft1").status == "published"
    assert act(pete, "st-draft1", "unpublish").status_code == 303
    assert world.site.store.get("st-draft1").status == "approved"
    changes = [(e.actor, e.detail) for e in reversed(world.audit(audit.STATUS_CHANGED))]
    assert changes == [("ann", "draft -> in_review"), ("rita", "in_review -> approved"),
                       ("pete", "approved -> published"), ("pete", "published -> approved")]
    for entry in world.audit(audit.STATUS_CHANGED):
        assert entry.story_id == "st-draft1" and len(entry.etag) >= 16 and entry.ip


def test_asking_for_changes_needs_a_note_the_writer_can_read(world):
    rita, ann = world.client("rita"), world.client("ann")
    empty = act(rita, "st-review1", "request_changes", {"reason": "   "})
    assert empty.status_code == 422
    assert "Say what needs to change" in text(empty)
    assert 'aria-describedby="reason-hint reason-error"' in text(empty)
    assert world.site.store.get("st-review1").status == "in_review"
    too_long = act(rita, "st-review1", "request_changes", {"reason": "x" * 2001})
    assert too_long.status_code == 422
    note = "Please take out the ward number. <script>alert(1)</script>"
    assert act(rita, "st-review1", "request_changes", {"reason": note}).status_code == 303
    page = text(ann.get("/stories/st-review1"))
    assert "Please take out the ward number. &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    # the note is not story text for the audit log either
    assert all("ward number" not in (e.detail or "") for e in world.audit())


@pytest.mark.parametrize(("who", "story_id", "action", "status"), [
    ("val", "st-valreview", "approve", 403),            # a reviewer never approves her own story
    ("val", "st-valreview", "request_changes", 403),
    ("ann", "st-review1", "approve", 403),              # advocates do not review
    ("rita", "st-approved1", "publish", 403),           # reviewers do not publish
    ("pete", "st-review1", "publish", 404),             # publishers do not see stories in review
    ("bob", "st-draft1", "submit", 404),                # not his story
    ("ada", "st-draft1", "submit", 403),                # admins look but do not write
    ("rita", "st-review1", "submit", 403),              # already in review
    ("pete", "st-published1", "publish", 403),          # already published
])
def test_status_changes_are_refused_and_audited(world, who, story_id, action, status):
    client = world.client(who)
    # the current etag, as someone else's page would show it
    response = act(client, story_id, action, {"reason": "A note"},
                   etag=world.site.store.get(story_id).etag)
    assert response.status_code == status
    assert world.site.store.get(story_id).status == STORIES[story_id][0]
    denied = world.audit(audit.DENIED)
    assert any(e.actor == who and e.story_id == story_id and e.detail == action for e in denied)


def test_a_stale_page_gets_409_and_nothing_is_saved(world):
    rita = world.client("rita")
    old_etag = etag_of_page(rita, "st-review1")
    assert act(world.client("val"), "st-review1", "request_changes",
               {"reason": "Shorter, please."}).status_code == 303
    write_world_story(world.root, "st-review1", "in_review", summary="Edited meanwhile.")
    before = (world.root / "stories" / "st-review1" / "story.md").read_bytes()
    response = act(rita, "st-review1", "approve", etag=old_etag)
    assert response.status_code == 409
    assert "Someone else changed this story" in text(response)
    assert (world.root / "stories" / "st-review1" / "story.md").read_bytes() == before


def test_a_missing_etag_is_a_bad_request(world):
    response = post(world.client("ann"), "/stories/st-draft1/submit", {}, page="/stories/st-draft1")
    assert response.status_code == 400
    assert world.site.store.get("st-draft1").status == "draft"


def test_a_withdrawn_story_cannot_be_republished_even_from_an_old_page(world):
    pete = world.client("pete")
    old_etag = etag_of_page(pete, "st-published1")
    world.site.withdraw("st-published1", "stop_future_use", "Changed my mind", by="ada")
    response = act(pete, "st-published1", "unpublish", etag=old_etag)
    assert response.status_code == 410
    assert "withdrew their consent" in text(response)
    assert world.site.store.get("st-published1").status == "withdrawn"
    assert act(pete, "st-published1", "publish", etag=old_etag).status_code == 410
    assert any(e.detail == "publish (withdrawn)" for e in world.audit(audit.DENIED))


def test_the_store_refuses_a_withdrawn_story_even_if_the_page_check_is_raced(world):
    """GoneError from the store itself: consent.yml says withdrawn (e.g. written by another
    process a moment ago) while story.md still says in review."""
    from storykit.errors import GoneError
    from storykit.web import workflow

    st = world.app.extensions["storykit"]
    story = st.index.story("st-review1")
    withdrawn = consent_version(version=2, status="withdrawn",
                                withdrawal={"requested": ON, "scope": "stop_future_use",
                                            "reason": "No longer happy"})
    (world.root / "stories" / "st-review1" / "consent.yml").write_text(
        consent_text([consent_version(), withdrawn]), encoding="utf-8")
    with pytest.raises(GoneError), world.app.test_request_context():
        workflow.change_status(st.site, st.db(), st.audit(), world.users["rita"], story,
                               "approve", story.etag)
    assert world.site.store.get("st-review1").status == "in_review"
    # and through the page: 410, not a save
    response = act(world.client("rita"), "st-review1", "approve", etag=story.etag)
    assert response.status_code == 410


def test_a_withdrawal_landing_between_page_load_and_save_is_410_not_409(world):
    """The store sees a changed file (ConflictError); the page explains it was withdrawn."""
    from storykit.web import workflow

    st = world.app.extensions["storykit"]
    story = st.index.story("st-approved1")
    world.site.withdraw("st-approved1", "stop_future_use", "No longer happy", by="ada")
    from storykit.errors import ConflictError

    with pytest.raises(ConflictError), world.app.test_request_context():
        workflow.change_status(st.site, st.db(), st.audit(), world.users["pete"], story,
                               "publish", story.etag)
    assert world.site.store.get("st-approved1").status == "withdrawn"


def test_publishing_needs_consent_for_the_public_website(world):
    write_story(world.root, "st-approved1", story_front(title=TITLES["st-approved1"],
                slug="approved1", status="approved"),
                consent=[consent_version(uses=["board", "staff_training"])])
    response = act(world.client("pete"), "st-approved1", "publish")
    assert response.status_code == 422
    assert "The consent does not cover Public website." in text(response)
    assert world.site.store.get("st-approved1").status == "approved"


def test_withdrawal_from_the_command_line_is_audited(world):
    from click.testing import CliRunner

    from storykit.cli import cli

    result = CliRunner().invoke(cli, ["--site", str(world.root), "consent", "withdraw",
                                      "st-draft1", "--scope", "stop_future_use",
                                      "--reason", "Storyteller phoned: Aisha Rahman"],
                                env={"STORYKIT_USER": "jo.cli"})
    assert result.exit_code == 0, result.output
    entries = world.audit(audit.CONSENT_WITHDRAWN)
    assert [(e.actor, e.story_id) for e in entries] == [("jo.cli", "st-draft1")]
    assert "scope stop_future_use" in entries[0].detail
    assert all("Aisha" not in (e.detail or "") for e in world.audit())


def test_with_a_ttl_a_background_scan_picks_up_outside_edits(tmp_path, engine):
    """Production mode: lists come from a snapshot a background thread keeps fresh."""
    import time

    world = make_world(tmp_path / "site", engine=engine, STORYKIT_INDEX_TTL=0.2)
    client = world.client("ada")
    assert "Written in an editor meanwhile" not in text(client.get("/stories"))
    write_world_story(world.root, "st-fresh2", "draft", title="Written in an editor meanwhile")
    deadline = time.monotonic() + 10
    while "Written in an editor meanwhile" not in text(client.get("/stories")):
        assert time.monotonic() < deadline, "the background scan never saw the new story"
        time.sleep(0.1)
    index = world.app.extensions["storykit"].index
    assert index._thread is not None and index._thread.is_alive()
    # a story removed outside the app disappears too
    import shutil

    shutil.rmtree(world.root / "stories" / "st-fresh2")
    while "Written in an editor meanwhile" in text(client.get("/stories")):
        assert time.monotonic() < deadline + 10, "the removed story never went away"
        time.sleep(0.1)


def test_a_status_change_shows_in_lists_at_once_even_with_a_long_ttl(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_INDEX_TTL=3600)
    rita = world.client("rita")
    assert TITLES["st-review1"] in text(rita.get("/review"))
    assert act(rita, "st-review1", "approve").status_code == 303
    assert TITLES["st-review1"] not in text(rita.get("/review"))
    assert TITLES["st-review1"] in text(world.client("pete").get("/publishing"))


def test_fast_lists_agree_with_the_rule_book_for_everyone(world):
    """listing.visible looks only at likely stories; it must still equal asking can() of
    every story, for every user and every status filter, newest first."""
    from storykit.model import STORY_STATUSES
    from storykit.web.access import VIEW, can
    from storykit.web.listing import mine, visible

    for n in range(40):  # more stories, in every status, some shared
        status = STORY_STATUSES[n % len(STORY_STATUSES)]
        write_world_story(world.root, f"st-extra{n:02d}", status, title=f"Extra {n}",
                          updated=f"2026-0{1 + n % 9}-1{n % 10}")
    st = world.app.extensions["storykit"]
    conn = st.db()
    from storykit.web import accounts
    from storykit.web.access import grant

    for n in range(0, 40, 3):
        grant(conn, f"st-extra{n:02d}", world.users["val"], "shared", "test")
    # a deactivated publisher and a reviewer who is also an admin (who sees everything)
    accounts.add_user(conn, st.hasher, "gone", "harbour lantern pebble", ["publisher"],
                      "Gone Example")
    grant(conn, "st-extra03", accounts.by_name(conn, "gone"), "shared", "test")
    accounts.set_active(conn, accounts.by_name(conn, "gone"), False)
    accounts.add_user(conn, st.hasher, "both", "harbour lantern pebble",
                      ["reviewer", "admin"], "Both Example")
    snap = st.index.snapshot()
    for name in [*world.users, "gone", "both"]:
        user = accounts.by_name(conn, name)
        for statuses in (None, *((s,) for s in STORY_STATUSES), ("draft", "approved")):
            expected = [snap.stories[i] for i in snap.order if can(user, VIEW, snap.stories[i])
                        and (statuses is None or snap.stories[i].status in statuses)]
            assert visible(user, snap, statuses) == expected, (name, statuses)
        assert mine(user, snap) == [snap.stories[i] for i in snap.order if i in user.access]
