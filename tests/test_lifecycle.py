"""The story lifecycle in the core (storykit.lifecycle) and its commands: ``storykit submit |
approve | request-changes | publish | unpublish STORY --as NAME``.

Each forbidden change is tried on the command line as a person would, and must exit 1 with
the reasons in words, write nothing to the story file (its bytes are compared) and leave an
audit entry. The allowed ones leave the same audit entries as the browser app, with "command
line" as the address. All names and details are fictional.
"""

from __future__ import annotations

import datetime as dt

import pytest
from app_support import make_world
from conftest import consent_version, story_front, write_story

from storykit import audit, lifecycle
from storykit.lifecycle import Actor, Refused
from storykit.web import accounts

pytestmark = pytest.mark.usefixtures("test_day")

NHS_NUMBER = "999 000 0018"  # from the 999 test range, with a valid check digit



@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


@pytest.fixture
def cli(world, run_storykit):
    """``storykit ARGS`` on the world's site."""
    return lambda *args, **kw: run_storykit(world.root, *args, **kw)


def story_bytes(world, story_id: str) -> bytes:
    return (world.root / "stories" / story_id / "story.md").read_bytes()


def refused(cli, world, story_id: str, *args: str, stdin: str | None = None,
            code: int = 1) -> str:
    """Run a command that must be refused: exit ``code`` (2: wrong use of the command),
    nothing written; the error text."""
    before = story_bytes(world, story_id)
    done = cli(*args, stdin=stdin)
    assert done.code == code, (done.out, done.err)
    assert story_bytes(world, story_id) == before, "a refused change wrote the story file"
    return done.err


# --- the rules, in the core --------------------------------------------------------------------

def test_every_transition_leaves_from_and_goes_to_its_statuses():
    table = {t.name: (t.sources, t.target, t.role) for t in lifecycle.TRANSITIONS.values()}
    assert table == {
        "submit": (("draft", "changes_requested"), "in_review", "advocate"),
        "request_changes": (("in_review",), "changes_requested", "reviewer"),
        "approve": (("in_review",), "approved", "reviewer"),
        "publish": (("approved",), "published", "publisher"),
        "unpublish": (("published",), "approved", "publisher"),
    }
    assert lifecycle.transition("request-changes").name == "request_changes"
    with pytest.raises(Exception, match="no status change called 'archive-all'"):
        lifecycle.transition("archive-all")


def test_the_rules_answer_with_words_for_people_and_codes_for_programs(world):
    story = world.site.store.get("st-review1")
    rita = Actor("rita", "Rita Example", frozenset({"reviewer"}))
    owner = Actor("ann", "Ann Example", frozenset({"advocate", "reviewer"}),
                  frozenset({"st-review1"}))
    assert lifecycle.permitted(rita, story, "approve")
    reasons = lifecycle.rule_refusals(owner, story, "approve")
    assert [r.code for r in reasons] == ["own_story"]
    assert reasons[0].message == ("Ann Example owns or works on this story, so someone else "
                                  "must approve it")
    publisher = Actor("pete", "Pete Example", frozenset({"publisher"}))
    assert [r.code for r in lifecycle.rule_refusals(publisher, story, "publish")] == [
        "wrong_status"]
    gone = Actor("rita", "Rita Example", frozenset({"reviewer"}), active=False)
    assert [r.code for r in lifecycle.rule_refusals(gone, story, "approve")] == ["inactive"]
    assert [t.name for t in lifecycle.available(rita, story)] == ["request_changes", "approve"]
    assert lifecycle.available(owner, story) == []


def test_a_change_saves_with_the_etag_seen_audits_and_tells_plugins(world):
    from storykit.errors import ConflictError

    site = world.site
    story = site.store.get("st-approved1")
    pete = Actor("pete", "Pete Example", frozenset({"publisher"}))
    with pytest.raises(ConflictError):
        lifecycle.change(site, pete, story, "publish", "0" * 20)
    assert site.store.get("st-approved1").status == "approved"
    saved = lifecycle.change(site, pete, story, "publish", story.etag, ip="test")
    assert saved.status == "published" and saved.etag != story.etag
    [entry] = site.audit.query(audit.AuditFilter(action=audit.STATUS_CHANGED))
    assert (entry.actor, entry.story_id, entry.detail, entry.ip) == (
        "pete", "st-approved1", "approved -> published", "test")
    # the page (or command) saw the old file: the save is refused, nothing overwritten
    with pytest.raises(ConflictError):
        lifecycle.change(site, pete, site.store.get("st-approved1").copy(etag=story.etag),
                         "unpublish", story.etag)


def test_taking_a_story_down_is_never_blocked_by_its_findings_or_consent(world, cli):
    write_story(world.root, "st-published1", story_front(
        title="Published", slug="published1", status="published"),
        body=f"My NHS number is {NHS_NUMBER}.\n", consent=[consent_version(uses=["board"])])
    done = cli("unpublish", "st-published1", "--as", "pete")
    assert done.code == 0, done.err
    assert world.site.store.get("st-published1").status == "approved"


# --- the commands: allowed changes -------------------------------------------------------------

def test_the_whole_lifecycle_on_the_command_line_with_the_apps_audit_entries(world, cli):
    steps = [("submit", "st-draft1", "ann", "in_review"),
             ("request-changes", "st-draft1", "rita", "changes_requested"),
             ("submit", "st-draft1", "ann", "in_review"),
             ("approve", "st-draft1", "rita", "approved"),
             ("publish", "st-draft1", "pete", "published"),
             ("unpublish", "st-draft1", "pete", "approved")]
    for command, story_id, who, status in steps:
        extra = ("--reason", "Please shorten the second paragraph.") \
            if command == "request-changes" else ()
        done = cli(command, story_id, "--as", who, *extra)
        assert done.code == 0, (command, done.err)
        assert world.site.store.get(story_id).status == status
    assert "The story was taken down. It is approved again." in done.out
    entries = world.audit(audit.STATUS_CHANGED)
    assert [(e.actor, e.detail, e.ip) for e in reversed(entries)] == [
        ("ann", "draft -> in_review", "command line"),
        ("rita", "in_review -> changes_requested", "command line"),
        ("ann", "changes_requested -> in_review", "command line"),
        ("rita", "in_review -> approved", "command line"),
        ("pete", "approved -> published", "command line"),
        ("pete", "published -> approved", "command line")]
    # the reviewer's note is where the app shows it, and never in the audit log
    page = world.client("ann").get("/stories/st-draft1").get_data(as_text=True)
    assert "Please shorten the second paragraph." in page
    assert all("shorten" not in (e.detail or "") for e in world.audit())


def test_the_reason_can_come_from_a_file_or_standard_input(world, cli, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("The ending needs a sentence about the night staff.\n", encoding="utf-8")
    assert cli("request-changes", "st-review1", "--as", "rita", "--reason-file",
               str(note)).code == 0
    world.reset_story("st-review1")
    done = cli("request-changes", "st-review1", "--as", "rita", "--reason-file", "-",
               stdin="Say which ward, please.\n")
    assert done.code == 0, done.err
    page = world.client("ann").get("/stories/st-review1").get_data(as_text=True)
    assert "Say which ward, please." in page and "night staff" in page


def test_a_slug_names_the_story_as_well_as_its_id(world, cli):
    assert cli("submit", "draft1", "--as", "ann").code == 0
    assert world.site.store.get("st-draft1").status == "in_review"


# --- the commands: every forbidden change --------------------------------------------------------

def test_publishing_without_public_website_consent_is_refused(world, cli):
    write_story(world.root, "st-approved1", story_front(
        title="Approved", slug="approved1", status="approved"),
        consent=[consent_version(uses=["board", "staff_training"])])
    err = refused(cli, world, "st-approved1", "publish", "st-approved1", "--as", "pete")
    assert "st-approved1 was not changed: you cannot publish it now." in err
    assert "The consent does not cover Public website." in err
    assert "public_website" not in err  # the use's label, not its code


def test_publishing_without_the_storytellers_sign_off_is_refused(world, cli):
    write_story(world.root, "st-approved1", story_front(
        title="Approved", slug="approved1", status="approved"),
        consent=[consent_version(signed_off=None, signed_off_revision=None)])
    err = refused(cli, world, "st-approved1", "publish", "st-approved1", "--as", "pete")
    assert ("The storyteller asked to check the final text and has not signed it off yet."
            in err)


def test_publishing_with_consent_that_ended_says_when_in_words(world, cli):
    write_story(world.root, "st-approved1", story_front(
        title="Approved", slug="approved1", status="approved"),
        consent=[consent_version(expires=dt.date(2027, 1, 31))])
    err = refused(cli, world, "st-approved1", "publish", "st-approved1", "--as", "pete")
    assert "The consent ended on 31 January 2027." in err and "2027-01-31" not in err


def test_publishing_a_draft_is_refused(world, cli):
    err = refused(cli, world, "st-draft1", "publish", "st-draft1", "--as", "pete")
    assert "The story is a draft: only a story that is approved can be changed this way." in err


def test_approving_ones_own_story_is_refused(world, cli):
    # Val writes and reviews: st-valreview is hers
    err = refused(cli, world, "st-valreview", "approve", "st-valreview", "--as", "val")
    assert "Val Example owns or works on this story, so someone else must approve it." in err
    err = refused(cli, world, "st-valreview", "request-changes", "st-valreview", "--as", "val",
                  "--reason", "Shorter.")
    assert "someone else must ask for changes to it." in err


def test_sharing_a_story_makes_it_ones_own_for_reviewing(world, cli):
    conn = world.app.extensions["storykit"].db()
    from storykit.web.access import grant

    grant(conn, "st-review1", world.users["rita"], "shared", "ada")
    err = refused(cli, world, "st-review1", "approve", "st-review1", "--as", "rita")
    assert "Rita Example owns or works on this story" in err


def test_an_unknown_account_is_refused(world, cli):
    err = refused(cli, world, "st-review1", "approve", "st-review1", "--as", "nobody.here")
    assert "there is no account called nobody.here" in err and "Nothing was changed." in err


def test_a_deactivated_account_is_refused(world, cli):
    conn = world.app.extensions["storykit"].db()
    accounts.set_active(conn, world.users["rita"], False)
    err = refused(cli, world, "st-review1", "approve", "st-review1", "--as", "rita")
    assert "The account rita is deactivated." in err


@pytest.mark.parametrize(("command", "story_id", "who", "role"), [
    ("submit", "st-draft1", "rita", "advocate"),
    ("approve", "st-review1", "ann", "reviewer"),
    ("request-changes", "st-review1", "pete", "reviewer"),
    ("publish", "st-approved1", "rita", "publisher"),
    ("unpublish", "st-published1", "ann", "publisher"),
    ("approve", "st-review1", "ada", "reviewer"),  # admins act only through their other roles
])
def test_the_wrong_role_is_refused(world, cli, command, story_id, who, role):
    extra = ("--reason", "Shorter.") if command == "request-changes" else ()
    err = refused(cli, world, story_id, command, story_id, "--as", who, *extra)
    article = "an" if role == "advocate" else "a"
    assert f"is not {article} {role}: only {article} {role} may" in err


def test_an_advocate_cannot_submit_someone_elses_story(world, cli):
    err = refused(cli, world, "st-bobdraft", "submit", "st-bobdraft", "--as", "ann")
    assert ("Only someone who owns the story, or has it shared with them, may send it for "
            "review." in err)


def test_asking_for_changes_needs_a_reason(world, cli, tmp_path):
    err = refused(cli, world, "st-review1", "request-changes", "st-review1", "--as", "rita",
                  code=2)
    assert "say why: --reason TEXT" in err
    err = refused(cli, world, "st-review1", "request-changes", "st-review1", "--as", "rita",
                  "--reason", "   ")
    assert "Say what needs to change, so the writer knows what to do." in err
    err = refused(cli, world, "st-review1", "request-changes", "st-review1", "--as", "rita",
                  "--reason", "x" * 2001)
    assert "2,000 characters or fewer" in err
    both = tmp_path / "both.txt"
    both.write_text("Shorter.", encoding="utf-8")
    err = refused(cli, world, "st-review1", "request-changes", "st-review1", "--as", "rita",
                  "--reason", "Shorter.", "--reason-file", str(both), code=2)
    assert "give the reason once" in err
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    err = refused(cli, world, "st-review1", "request-changes", "st-review1", "--as", "rita",
                  "--reason-file", str(latin), code=2)
    assert "not UTF-8 text" in err


def test_the_reason_file_must_exist(world, cli, tmp_path):
    before = story_bytes(world, "st-review1")
    done = cli("request-changes", "st-review1", "--as", "rita", "--reason-file",
               str(tmp_path / "missing.txt"))
    assert done.code == 2 and "missing.txt" in done.err
    assert story_bytes(world, "st-review1") == before


def test_a_withdrawn_story_never_changes_status(world, cli):
    world.site.withdraw("st-approved1", "stop_future_use", "Moved away", by="ada")
    err = refused(cli, world, "st-approved1", "unpublish", "st-approved1", "--as", "pete")
    assert "the storyteller withdrew their consent" in err.lower()


def test_an_unknown_story_or_command_fails_clearly(world, cli):
    done = cli("approve", "st-nothere", "--as", "rita")
    assert done.code == 1 and "st-nothere" in done.err
    done = cli("approve", "--as", "rita")
    assert done.code == 2 and "Missing argument 'STORY'" in done.err
    done = cli("approve", "st-review1")
    assert done.code == 2 and "Missing option '--as'" in done.err


def test_a_refusal_is_audited_with_codes_never_words(world, cli):
    refused(cli, world, "st-valreview", "approve", "st-valreview", "--as", "val")
    [entry] = world.audit(audit.DENIED)
    assert (entry.actor, entry.story_id, entry.detail, entry.ip) == (
        "val", "st-valreview", "approve refused: own_story", "command line")


def test_blocking_findings_stop_submit_approve_and_publish(world, cli):
    for story_id, status in (("st-draft1", "draft"), ("st-review1", "in_review"),
                             ("st-approved1", "approved")):
        write_story(world.root, story_id, story_front(
            title=story_id, slug=story_id.removeprefix("st-"), status=status),
            body=f"Ring me on 07700 900123. My NHS number is {NHS_NUMBER}.\n")
    for command, story_id, who in (("submit", "st-draft1", "ann"),
                                   ("approve", "st-review1", "rita"),
                                   ("publish", "st-approved1", "pete")):
        err = refused(cli, world, story_id, command, story_id, "--as", who)
        assert ("It has 2 findings that must be fixed, or dismissed by a reviewer, first: a "
                "phone number and an NHS number." in err), err
        assert "07700" not in err and "999 000" not in err


def test_status_changes_in_the_core_refuse_as_the_app_does(world):
    """The app's buttons and the commands ask the same rules: a refused publish in the app
    gives the same words as on the command line."""
    write_story(world.root, "st-approved1", story_front(
        title="Approved", slug="approved1", status="approved"),
        consent=[consent_version(uses=["board"])])
    from app_support import act

    page = act(world.client("pete"), "st-approved1", "publish").get_data(as_text=True)
    story = world.site.store.get("st-approved1")
    pete = Actor("pete", roles=frozenset({"publisher"}))
    with pytest.raises(Refused) as info:
        lifecycle.change(world.site, pete, story, "publish", story.etag)
    assert info.value.codes == ["consent_use_not_granted"]
    assert f"{info.value.messages[0][:1].upper()}{info.value.messages[0][1:]}." in page

