"""Consent changes and review (issue 12, Build 3): widening an approved or published story's
consent (more uses or media, a more identifying name) sends it back to review, audited, and
the people working on it see why; narrowing applies at once. From the browser app's consent
form and from ``storykit consent change`` alike. All details are fictional.
"""

from __future__ import annotations

import html

import pytest
from app_support import act, make_world, post

from storykit import audit, lifecycle

pytestmark = pytest.mark.usefixtures("test_day")



@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


@pytest.fixture
def cli(world, run_storykit, monkeypatch):
    """``storykit ARGS`` on the world's site, as the login jo.cli."""
    monkeypatch.setenv("STORYKIT_USER", "jo.cli")
    return lambda *args, **kw: run_storykit(world.root, *args, **kw)


def consent_form(world, story_id: str, **changes) -> dict:
    """The app's consent form as the current version fills it in, with ``changes``."""
    story = world.site.store.get(story_id)
    c = story.current_consent
    data = {"consent_etag": story.consent_etag, "status": c.status, "given_by": c.given_by,
            "capacity": c.capacity, "age_band": c.age_band, "method": c.method,
            "taken_by_name": "", "taken_by_role": "", "taken_by_involved": "",
            "granted": c.granted.isoformat(), "expires": c.expires.isoformat(),
            "uses": list(c.uses), "media": list(c.media), "identification": c.identification,
            "signoff_required": "yes" if c.signoff_required else "no",
            "project_class": "service_improvement", "ethics_ref": "", "notes": ""}
    data.update(changes)
    return data


def record(client, world, story_id: str, **changes):
    page = f"/stories/{story_id}/consent"
    return post(client, page, consent_form(world, story_id, **changes), page=page,
                content_type="multipart/form-data")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- widening ----------------------------------------------------------------------------------

def test_widening_an_approved_storys_consent_in_the_app_sends_it_back_to_review(world, cli):
    """The issue's reproduction: an advocate added press and social media to an approved
    story's consent; it stayed approved and `storykit list` allowed both."""
    ann = world.client("ann")
    uses = list(world.site.store.get("st-approved1").current_consent.uses)
    response = record(ann, world, "st-approved1", uses=uses + ["press", "social_media"])
    assert response.status_code == 303
    story = world.site.store.get("st-approved1")
    assert story.status == "in_review"
    listed = cli("list", "--use", "press")
    assert "st-approved1" in listed.out and "press: allowed" not in listed.out
    # the people involved see why: the writer, and the reviewer on the story page
    for who in ("ann", "rita"):
        page = text(world.client(who).get("/stories/st-approved1"))
        assert "Back in review: the consent was widened" in page
        assert "It now also covers: Social media, Press and media." in page
    # audited: the consent version with what widened, and the status change with why
    [change] = world.audit(audit.CONSENT_CHANGED)
    assert change.detail == "version 2: active; uses +social_media, uses +press"
    [status] = world.audit(audit.STATUS_CHANGED)
    assert (status.actor, status.detail) == (
        "ann", "approved -> in_review (consent widened: uses +social_media, uses +press)")
    # and it can be approved again by a reviewer, then published
    assert act(world.client("rita"), "st-approved1", "approve").status_code == 303
    assert act(world.client("pete"), "st-approved1", "publish").status_code == 303


@pytest.mark.parametrize(("changes", "words"), [
    ({"media": ["text", "quotes", "photo", "video"]}, "It now also lets us show: video."),
    ({"identification": "full_name"}, "The storyteller may now be named by their full name."),
])
def test_more_media_or_a_more_identifying_name_is_widening_too(world, changes, words):
    world.reset_story("st-published1")
    response = record(world.client("ann"), world, "st-published1", **changes)
    assert response.status_code == 303
    assert world.site.store.get("st-published1").status == "in_review"
    assert words in text(world.client("ann").get("/stories/st-published1"))


def test_widening_a_published_story_on_the_command_line_takes_it_off_the_site(world, cli):
    done = cli("consent", "change", "st-published1", "--add-use", "press")
    assert done.code == 0, done.err
    assert "back in review" in done.out and "it now also covers: Press and media." in done.out
    story = world.site.store.get("st-published1")
    assert story.status == "in_review" and "press" in story.current_consent.uses
    assert not world.site.decide(story, "public_website").allowed  # not published any more
    [status] = world.audit(audit.STATUS_CHANGED)
    assert (status.actor, status.ip) == ("jo.cli", "command line")


def test_a_draft_keeps_its_status_when_consent_widens(world, cli):
    assert cli("consent", "change", "st-draft1", "--add-use", "press").code == 0
    assert world.site.store.get("st-draft1").status == "draft"
    assert world.audit(audit.STATUS_CHANGED) == []


# --- narrowing -----------------------------------------------------------------------------------

def test_narrowing_applies_at_once_without_a_new_review(world, cli):
    story = world.site.store.get("st-published1")
    assert world.site.decide(story, "public_website").allowed
    done = cli("consent", "change", "st-published1", "--remove-use", "public_website",
               "--identification", "anonymous")
    assert done.code == 0 and "It narrows the consent: that applies at once" in done.out
    story = world.site.store.get("st-published1")
    assert story.status == "published"  # no review needed to be safer
    assert not world.site.decide(story, "public_website").allowed
    assert world.site.decide(story, "board").view.storyteller == "a patient"
    [change] = world.audit(audit.CONSENT_CHANGED)
    assert change.detail == ("version 2: active; uses -public_website, named pseudonym -> "
                             "anonymous")


def test_narrowing_in_the_app_keeps_the_status(world):
    response = record(world.client("ann"), world, "st-published1", uses=["board"],
                      media=["text"])
    assert response.status_code == 303
    story = world.site.store.get("st-published1")
    assert story.status == "published" and story.current_consent.uses == ["board"]
    assert "Back in review" not in text(world.client("ann").get("/stories/st-published1"))


def test_what_changed_is_worked_out_from_the_versions():
    from conftest import consent_version

    from storykit.model import ConsentVersion

    old = ConsentVersion.from_dict(consent_version())
    new = ConsentVersion.from_dict(consent_version(uses=["board", "press"], media=["text"],
                                                   identification="first_name"))
    change = lifecycle.consent_change(old, new)
    assert change.widened and change.narrowed  # both at once: review first, and at once
    assert change.uses_added == ("press",) and "public_website" in change.uses_removed
    assert change.media_removed == ("quotes", "photo") and change.more_identifying
    first = lifecycle.consent_change(None, new)
    assert first.widened and not first.narrowed
    same = lifecycle.consent_change(old, old)
    assert not same.widened and not same.narrowed
    assert same.summary() == "no change to uses, media or naming"


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "code", "words"), [
    (("--add-use", "billboards"), 2, "unknown use 'billboards'"),
    (("--add-media", "hologram"), 2, "'hologram' is not one of"),
    ((), 2, "say what changes"),
    (("--expires", "2020-01-01"), 2, "the end date must be after consent was given"),
    (("--expires", "31/02/2027"), 2, "--expires"),
    (("--identification", "nickname"), 2, "'nickname' is not one of"),
])
def test_a_wrong_consent_change_is_refused_and_changes_nothing(world, cli, args, code, words):
    before = (world.root / "stories" / "st-approved1" / "consent.yml").read_bytes()
    done = cli("consent", "change", "st-approved1", *args)
    assert done.code == code and words in done.err, done.err
    assert (world.root / "stories" / "st-approved1" / "consent.yml").read_bytes() == before


def test_a_withdrawn_or_missing_consent_cannot_be_changed(world, cli):
    world.site.withdraw("st-approved1", "stop_future_use", "Moved away", by="ada")
    done = cli("consent", "change", "st-approved1", "--add-use", "press")
    assert done.code == 1 and "it was withdrawn" in done.err
    (world.root / "stories" / "st-draft1" / "consent.yml").unlink()
    done = cli("consent", "change", "st-draft1", "--add-use", "press")
    assert done.code == 1 and "has no consent to change" in done.err
