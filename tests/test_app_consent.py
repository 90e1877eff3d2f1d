"""Consent capture in the app: the guided form (every field, sensible defaults, plain checks),
new versions appended with the earlier text untouched, stale pages (409 with the answers
kept), the signed form as private evidence, sign-off of a revision, withdrawal with the
takedown list, and audit entries without any story text. CSRF protection is on."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from app_support import csrf_token
from editor_support import (
    SVG,
    gps_jpeg,
    make_editor_world,
    pdf_bytes,
    picture,
    post_form,
    save,
    text,
)
from PIL import Image

from storykit import audit
from storykit.web.uploads import EVIDENCE_NAME

TOML = """\
[site]
title = "Test stories"
organisation = "Example NHS Trust"

[consent]
default_expiry_years = 2

[uses.ward_posters]
label = "Ward posters"
"""
PAGE = "/stories/st-draft1/consent"


@pytest.fixture
def world(tmp_path, engine):
    return make_editor_world(tmp_path / "site", TOML, engine=engine)


@pytest.fixture
def ann(world):
    return world.client("ann")


def consent_file(world, story_id="st-draft1"):
    return world.root / "stories" / story_id / "consent.yml"


def answers(world, story_id="st-draft1", **changes):
    """A complete, valid form for a new version."""
    story = world.site.store.get(story_id)
    data = {"consent_etag": story.consent_etag or "none", "status": "active",
            "given_by": "self", "capacity": "presumed", "age_band": "adult",
            "method": "written", "taken_by_name": "Jo Example",
            "taken_by_role": "Patient experience officer", "taken_by_involved": "no",
            "granted": "2026-10-01", "expires": "2028-10-01",
            "uses": ["board", "ward_posters"], "media": ["text", "quotes"],
            "identification": "first_name", "signoff_required": "yes",
            "project_class": "service_improvement", "ethics_ref": "", "notes": ""}
    data.update(changes)
    return data


def record(client, data, story_id="st-draft1", **kwargs):
    page = f"/stories/{story_id}/consent"
    return post_form(client, page, data, page=page, content_type="multipart/form-data",
                     **kwargs)


def test_a_new_version_is_appended_and_the_old_text_is_untouched(world, ann):
    before = consent_file(world).read_bytes()
    response = record(ann, answers(world))
    assert response.status_code == 303
    after = consent_file(world).read_bytes()
    assert after.startswith(before)
    story = world.site.store.get("st-draft1")
    current = story.current_consent
    assert (current.version, current.status, current.recorded_by) == (2, "active", "ann")
    assert current.uses == ["board", "ward_posters"] and current.media == ["text", "quotes"]
    assert (current.identification, current.granted, current.expires) == (
        "first_name", dt.date(2026, 10, 1), dt.date(2028, 10, 1))
    assert (current.taken_by.name, current.taken_by.involved_in_care) == ("Jo Example", False)
    # the sign-off of the text carries over: the words did not change
    assert (current.signed_off, current.signed_off_revision) == (dt.date(2026, 9, 20), 3)
    entry = world.audit(audit.CONSENT_CHANGED)[0]
    assert (entry.actor, entry.story_id) == ("ann", "st-draft1")
    # what changed, as codes (never anyone's words)
    assert entry.detail == ("version 2: active; uses +ward_posters, uses -staff_training, "
                            "uses -clinical_teams, uses -public_website, media -photo, "
                            "named pseudonym -> first_name")
    assert "Consent version 2 was recorded." in text(ann.get(PAGE))


def test_the_storytellers_contact_details_carry_over_to_a_new_version(world, ann):
    from storykit.model import ConsentVersion

    base = world.site.store.get("st-draft1").current_consent
    contact = {"agrees_to_contact": True, "email": "reader@example.org",
               "address": ["3 Sample Street", "BF3 1AA"], "preferred_format": "easy_read"}
    world.site.store.add_consent("st-draft1", ConsentVersion.from_dict(
        {**base.to_dict(), "contact": contact}), by="test")
    assert record(ann, answers(world)).status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    assert current.version == 3 and current.contact is not None
    assert (current.contact.email, current.contact.address, current.contact.preferred_format) \
        == ("reader@example.org", ["3 Sample Street", "BF3 1AA"], "easy_read")


def test_the_first_version_has_sensible_defaults_and_nothing_ticked(world, ann):
    consent_file(world).unlink()
    page = text(ann.get(PAGE))
    today = dt.date.today()
    expiry = today.replace(year=today.year + 2) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year + 2, day=28)
    assert f'name="expires" value="{expiry.isoformat()}"' in page
    assert f'name="granted" value="{today.isoformat()}"' in page
    assert 'name="consent_etag" value="none"' in page
    assert 'name="uses" value="board"' in page and 'value="ward_posters"' in page
    assert 'name="uses" value="board" checked' not in page  # consent is never pre-ticked
    assert 'id="given_by" name="given_by" value="self" checked' in page
    assert 'value="Ann Example"' in page  # who took consent: the person recording it
    assert record(ann, answers(world, consent_etag="none")).status_code == 303
    assert world.site.store.get("st-draft1").current_consent.version == 1


def test_every_consent_field_has_a_question_and_help(world, ann):
    page = text(ann.get(PAGE))
    for name in ("status", "given_by", "capacity", "age_band", "reconsent_due", "method",
                 "taken_by_name", "taken_by_role", "taken_by_involved", "evidence",
                 "granted", "expires", "uses", "media", "identification",
                 "signoff_required", "project_class", "ethics_ref", "notes"):
        assert f'id="{name}"' in page, name
    # the storyteller checks the final words: nothing to sign off while it is a draft
    assert 'id="signed_off"' not in page and "Once the story is approved" in page
    for words in ("Has the storyteller agreed?", "Who gave consent?",
                  "Could the storyteller decide for themselves?", "How was consent given?",
                  "Where can the story be used?", "How does the storyteller want to be named?",
                  "Outside the organisation", "only the story's owner and admins"):
        assert words in page, words


@pytest.mark.parametrize("changes, field", [
    ({"status": "maybe"}, "status"),
    ({"identification": ""}, "identification"),
    ({"uses": []}, "uses"),
    ({"uses": ["board", "the_moon"]}, "uses"),
    ({"media": []}, "media"),
    ({"media": ["smell"]}, "media"),
    ({"granted": "2026-13-45"}, "granted"),
    ({"expires": "2026-09-01"}, "expires"),
    ({"expires": ""}, "expires"),
    ({"age_band": "13_15", "reconsent_due": ""}, "reconsent_due"),
    ({"age_band": "13_15", "reconsent_due": "2020-01-01"}, "reconsent_due"),
    ({"capacity": "assessed_lacks"}, "capacity"),
    ({"project_class": "research"}, "ethics_ref"),
    ({"taken_by_involved": "perhaps"}, "taken_by_involved"),
    ({"taken_by_name": "x" * 201}, "taken_by_name"),
    ({"notes": "n" * 5001}, "notes"),
    ({"consent_etag": ""}, "status"),
])
def test_bad_answers_are_422_with_the_answers_kept(world, ann, changes, field):
    before = consent_file(world).read_bytes()
    response = record(ann, answers(world, **changes))
    page = text(response)
    assert response.status_code == 422
    assert f'href="#{field}"' in page
    assert 'value="Jo Example"' in page or field == "taken_by_name"
    assert consent_file(world).read_bytes() == before


def test_dates_may_be_written_the_british_way(world, ann):
    assert record(ann, answers(world, granted="1/10/2026", expires="30/9/2028")).status_code == 303
    assert world.site.store.get("st-draft1").current_consent.expires == dt.date(2028, 9, 30)


#: Dates that overflow Python's dates, or sums done with them (issue 12, hardening item 4).
OVERFLOWING = ["1/1/99999999999999999999", "99999999999999999999-01-01", "31/12/9999",
               "9999-12-31", "0001-01-01", "1/1/1", "\u0661/\u0661/\u0662\u0660\u0662\u0667",
               "1" * 5000]


@pytest.mark.parametrize("value", OVERFLOWING, ids=range(len(OVERFLOWING)))
def test_a_date_that_would_overflow_is_422_with_the_answers_kept(world, ann, value):
    before = consent_file(world).read_bytes()
    for field in ("granted", "expires", "reconsent_due"):
        data = answers(world, **{field: value})
        if field == "reconsent_due":
            data.update(age_band="13_15", given_by="parent_with_pr")
        response = record(ann, data)
        page = text(response)
        assert response.status_code == 422, field
        assert f'href="#{field}"' in page and "as a real date" in page
        assert 'value="Jo Example"' in page
    assert consent_file(world).read_bytes() == before


@pytest.mark.parametrize("value", OVERFLOWING[:6])
def test_sign_off_and_withdrawal_dates_that_would_overflow_are_422(world, ann, value):
    story = world.site.store.get("st-draft1")
    before = consent_file(world).read_bytes()
    response = post_form(ann, f"{PAGE}/sign-off", {
        "signed_off": value, "story_etag": story.etag, "consent_etag": story.consent_etag},
        page=PAGE)
    assert response.status_code == 422 and "as a real date" in text(response)
    assert consent_file(world).read_bytes() == before
    post_form(ann, f"{PAGE}/withdraw", {"scope": "stop_future_use", "reason": "By letter"},
              page=f"{PAGE}/withdraw")
    story = world.site.store.get("st-draft1")
    response = post_form(ann, f"{PAGE}/confirm-withdrawal",
                         {"confirmed": value, "consent_etag": story.consent_etag}, page=PAGE)
    assert response.status_code == 422 and "as a real date" in text(response)


def test_a_child_gets_a_date_to_ask_again(world, ann):
    data = answers(world, age_band="13_15", given_by="parent_with_pr",
                   reconsent_due="2031-05-01")
    assert record(ann, data).status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    assert (current.age_band, current.reconsent_due) == ("13_15", dt.date(2031, 5, 1))


def test_a_stale_consent_page_is_409_with_the_answers_kept(world, ann):
    stale = answers(world, notes="My careful note")
    assert record(world.client("ann"), answers(world)).status_code == 303
    before = consent_file(world).read_bytes()
    response = record(ann, stale)
    page = text(response)
    assert response.status_code == 409
    assert "Someone else recorded a consent version" in page and "My careful note" in page
    assert consent_file(world).read_bytes() == before
    fresh = world.site.store.get("st-draft1").consent_etag
    assert f'name="consent_etag" value="{fresh}"' in page
    # a first version recorded by someone else meanwhile is a conflict too
    consent_file(world).unlink()
    first = answers(world, consent_etag="none")
    assert record(world.client("ann"), first).status_code == 303
    assert record(ann, first).status_code == 409


def test_the_signed_form_is_kept_privately_as_evidence(world, ann):
    data = answers(world, evidence=(io.BytesIO(pdf_bytes()), "../../Signed form.pdf"))
    assert record(ann, data).status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    name = current.evidence.removeprefix("evidence/")
    assert EVIDENCE_NAME.match(name) and name.endswith(".pdf")
    path = world.root / "stories" / "st-draft1" / current.evidence
    assert path.read_bytes() == pdf_bytes() and path.stat().st_mode & 0o077 == 0
    url = f"/stories/st-draft1/evidence/{name}"
    got = ann.get(url)
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert world.client("ada").get(url).status_code == 200  # admins may
    assert world.client("bob").get(url).status_code == 404
    anonymous = world.client().get(url)
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["Location"]
    assert world.audit("consent.evidence_viewed")
    # the next version keeps pointing at it until a new form replaces it
    assert record(ann, answers(world, notes="More uses later")).status_code == 303
    assert world.site.store.get("st-draft1").current_consent.evidence == current.evidence


def test_evidence_is_only_for_the_owner_and_admins(world):
    rita = world.client("rita")  # a reviewer may see the story in review, not its evidence
    ann = world.client("ann")
    def data():
        return answers(world, "st-review1", evidence=(io.BytesIO(pdf_bytes()), "form.pdf"))

    # stories in review cannot have consent recorded by a reviewer...
    assert record(rita, data(), "st-review1").status_code == 403
    # ...but their owner may, and the reviewer still cannot download the form
    assert record(ann, data(), "st-review1").status_code == 303
    name = world.site.store.get("st-review1").current_consent.evidence.split("/")[-1]
    assert rita.get(f"/stories/st-review1/evidence/{name}").status_code == 403
    assert ann.get(f"/stories/st-review1/evidence/{name}").status_code == 200


def test_a_photo_of_the_form_loses_its_gps_and_other_files_are_refused(world, ann):
    data = answers(world, evidence=(io.BytesIO(gps_jpeg((400, 300))), "form.jpg"))
    assert record(ann, data).status_code == 303
    path = world.root / "stories" / "st-draft1" / world.site.store.get(
        "st-draft1").current_consent.evidence
    with Image.open(path) as im:
        assert len(im.getexif()) == 0 and im.size == (300, 400)
    assert b"GPS" not in path.read_bytes()
    before = consent_file(world).read_bytes()
    for bad, name in ((SVG, "form.svg"), (b"<html>hi</html>", "form.pdf"),
                      (pdf_bytes()[:-20], "cut.pdf"), (picture(fmt="GIF"), "form.gif"),
                      (picture(fmt="WEBP"), "form.webp")):
        response = record(ann, answers(world, evidence=(io.BytesIO(bad), name)))
        assert response.status_code == 422, name
        assert 'href="#evidence"' in text(response)
    assert consent_file(world).read_bytes() == before
    assert len(list((path.parent).iterdir())) == 1


def _approve(world, story_id: str):
    story = world.site.store.get(story_id)
    return world.site.store.save(story.copy(status="approved"), by="rita")


def test_sign_off_records_the_revision_the_storyteller_checked(world, ann):
    save(ann, world, "st-draft1", summary="A changed summary.")  # revision 4 now
    story = world.site.store.get("st-draft1")
    today = dt.date.today().isoformat()
    data = {"signed_off": today, "story_etag": story.etag, "consent_etag": story.consent_etag}
    early = post_form(ann, f"{PAGE}/sign-off", data, page=PAGE)  # still a draft
    assert early.status_code == 422 and "once it is approved" in text(early)
    story = _approve(world, "st-draft1")
    page = text(ann.get(PAGE))
    assert "The words changed after they checked them" in page
    assert "Ask the storyteller to check the words" in page
    response = post_form(ann, f"{PAGE}/sign-off", {
        "signed_off": today, "story_etag": story.etag, "consent_etag": story.consent_etag},
        page=PAGE)
    assert response.status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    assert (current.version, current.signed_off, current.signed_off_revision) == (
        2, dt.date.today(), 4)
    assert world.audit(audit.CONSENT_CHANGED)[0].detail == "version 2: sign-off of revision 4"


def test_sign_off_of_text_that_changed_meanwhile_is_refused(world, ann):
    story = world.site.store.get("st-draft1")
    save(world.client("ann"), world, "st-draft1", summary="Changed after the page loaded.")
    _approve(world, "st-draft1")
    before = consent_file(world).read_bytes()
    data = {"signed_off": dt.date.today().isoformat(), "story_etag": story.etag,
            "consent_etag": story.consent_etag}
    response = post_form(ann, f"{PAGE}/sign-off", data, page=PAGE)
    assert response.status_code == 409 and "saw the latest text" in text(response)
    story = world.site.store.get("st-draft1")
    for bad in ({"signed_off": "2099-01-01"}, {"signed_off": "2020-01-01"},
                {"signed_off": "not a date"}, {"story_etag": ""}):
        data = {"signed_off": dt.date.today().isoformat(), "story_etag": story.etag,
                "consent_etag": story.consent_etag, **bad}
        assert post_form(ann, f"{PAGE}/sign-off", data, page=PAGE).status_code == 422, bad
    assert consent_file(world).read_bytes() == before


def test_withdrawal_shows_the_takedown_list_and_locks_the_story(world, ann):
    world.site.distributions.record(story_id="st-draft1", consent_version=1, use="board",
                                    format="pdf", sha256="0" * 64, path="/packs/board.pdf",
                                    created_by="pete")
    page = text(ann.get(f"{PAGE}/withdraw"))
    assert "Stop using it from now on" in page and "Delete everything" in page
    response = post_form(ann, f"{PAGE}/withdraw", {"scope": "stop_future_use",
                                                   "reason": "Asked by phone to stop"},
                         page=f"{PAGE}/withdraw")
    page = text(response)
    assert response.status_code == 200
    assert "Consent withdrawn" in page and "PDF made with storykit render" in page
    assert "for trust board" in page and "Open the takedown checklist" in page
    assert "/packs/board.pdf" not in page  # copies in words: what and who, never a path
    story = world.site.store.get("st-draft1")
    assert story.status == "withdrawn" and story.current_consent.status == "withdrawn"
    entry = world.audit(audit.CONSENT_WITHDRAWN)[0]
    assert entry.detail == "version 2, scope stop_future_use" and "phone" not in entry.detail
    # nothing more can be recorded or changed
    assert record(ann, answers(world)).status_code == 410
    assert ann.get("/stories/st-draft1/edit").status_code == 410
    assert ann.get(f"{PAGE}/withdraw").status_code == 410


def test_withdrawing_everything_deletes_evidence_and_says_so(world, ann):
    record(ann, answers(world, evidence=(io.BytesIO(pdf_bytes()), "form.pdf")))
    response = post_form(ann, f"{PAGE}/withdraw", {"scope": "delete_everything",
                                                   "reason": "Delete it all"},
                         page=f"{PAGE}/withdraw")
    assert response.status_code == 200 and "were deleted" in text(response)
    assert "There is no record of the story being sent anywhere" in text(response)
    assert not (world.root / "stories" / "st-draft1" / "evidence").exists()


def test_deleting_everything_leaves_no_byte_of_the_story_its_notes_or_its_slug(tmp_path):
    """A story goes the whole way through the app (a title-derived slug, saves, a conflict
    copy, consent with notes and a signed form, a reviewer's note, publishing, the parse
    cache and a web build), then its storyteller asks for everything to be deleted. After
    the withdrawal and the next build (which takes the page down), no file under the site
    folder, its instance folder included, holds any of its words (issue 12, item 3)."""
    import subprocess

    from app_support import STORIES, act, post
    from editor_support import editor_data
    from storykit_web.build import build_site

    from storykit.checks import check_site
    from storykit.site import Site

    world = make_editor_world(tmp_path / "site", TOML.replace(
        "[consent]", 'base_url = "https://stories.example.nhs.uk/"\n\n[consent]'))
    root = world.root
    ann, rita = world.client("ann"), world.client("rita")
    title, teller = "Marigold Quillfeather at the fracture clinic", "Marigold Quillfeather"
    created = post(ann, "/stories/new", {"title": title, "teller_name": teller,
                                         "teller_role": "patient"}, page="/stories/new")
    sid = created.headers["Location"].split("/")[2]
    story = world.site.store.get(sid)
    assert story.slug == "marigold-quillfeather-at-the-fracture-clinic"
    edit = f"/stories/{sid}/edit"
    words = editor_data(story, body="The Zorbulent plaster was far too tight.\n",
                        summary="Quillfeather's evening in the plaster room.")
    assert post_form(ann, edit, words, page=edit).status_code == 303
    stale = editor_data(story, body="Zorbulent, written in a second tab.\n")
    assert post_form(ann, edit, stale, page=edit).status_code == 409  # a conflict copy is kept
    page = f"/stories/{sid}/consent"
    consent = answers(world, sid, uses=["public_website", "board"], media=["text"],
                      identification="full_name", signoff_required="no",
                      notes="Quillfeather's neighbour from Wobblethorpe helped her sign.",
                      evidence=(io.BytesIO(pdf_bytes("Signed: Marigold Quillfeather")),
                                "form.pdf"))
    assert record(ann, consent, story_id=sid).status_code == 303
    assert act(ann, sid, "submit").status_code == 303
    note = "Please take out the Wobblethorpe detail."
    assert act(rita, sid, "request_changes", {"reason": note}).status_code == 303
    assert "Wobblethorpe" in text(ann.get(f"/stories/{sid}"))
    for who, action in ((ann, "submit"), (rita, "approve"), (world.client("pete"), "publish")):
        assert act(who, sid, action).status_code == 303, action
    assert check_site(Site.open(root)).stories == len(STORIES) + 1  # fills the parse cache
    out = root / "build" / "site"
    build_site(Site.open(root), out)
    assert (out / "stories" / f"{story.slug}.html").is_file()
    secrets = ["Quillfeather", "quillfeather", "Marigold", "marigold", "fracture clinic",
               "fracture-clinic", "Zorbulent", "Wobblethorpe", "plaster room"]

    def holding(word: str) -> list[str]:
        found = subprocess.run(["grep", "-rlaF", word, str(root)], capture_output=True,
                               text=True, check=False).stdout
        return sorted(p.replace(str(root), ".") for p in found.split())

    assert all(holding(word) for word in secrets)  # every word is somewhere before

    response = post_form(ann, f"{page}/withdraw", {
        "scope": "delete_everything", "reason": "Ms Quillfeather phoned from Wobblethorpe"},
        page=f"{page}/withdraw")
    assert response.status_code == 200
    assert "Wobblethorpe" not in text(ann.get(f"/stories/{sid}"))  # the note is gone at once
    report = build_site(Site.open(root), out)  # the takedown
    assert f"stories/{story.slug}.html" in report.removed
    left = {word: holding(word) for word in secrets}
    assert left == {word: [] for word in secrets}, left
    erased = world.site.store.get(sid)
    assert (erased.status, erased.slug, erased.title) == ("withdrawn", sid, "Withdrawn story")
    assert [d.path for d in world.site.distributions.for_story(sid)] == [
        "(erased at the storyteller's request)"]  # what went where stays, not the address


def test_deleting_everything_from_the_command_line_erases_the_apps_notes_too(world):
    """The app removes its own notes through the after_withdraw hook, so the core needs to
    know nothing of them and the command line erases them as the app does."""
    from app_support import act

    from storykit.cli import main
    from storykit.web import workflow

    rita = world.client("rita")
    note = "Take out the Wobblethorpe detail."
    assert act(rita, "st-review1", "request_changes", {"reason": note}).status_code == 303
    assert act(rita, "st-valreview", "request_changes", {"reason": "Another"}).status_code == 303
    with pytest.raises(SystemExit) as done:
        main(["--site", str(world.root), "consent", "withdraw", "st-review1", "--scope",
              "delete_everything", "--reason", "By phone"])
    assert done.value.code in (0, None)
    conn = world.app.extensions["storykit"].db()
    assert workflow.notes(conn, "st-review1") == []
    assert [n["text"] for n in workflow.notes(conn, "st-valreview")] == ["Another"]  # others stay
    for path in (world.root / "instance").glob("storykit.db*"):
        assert b"Wobblethorpe" not in path.read_bytes(), path
    # stopping future use keeps the record, notes included
    with pytest.raises(SystemExit):
        main(["--site", str(world.root), "consent", "withdraw", "st-valreview", "--scope",
              "stop_future_use", "--reason", "By letter"])
    assert workflow.notes(conn, "st-valreview")


@pytest.mark.parametrize("data, field", [({"scope": "burn_it"}, "scope"),
                                         ({"scope": "stop_future_use", "reason": ""}, "reason")])
def test_a_withdrawal_needs_a_scope_and_a_reason(world, ann, data, field):
    response = post_form(ann, f"{PAGE}/withdraw", data, page=f"{PAGE}/withdraw")
    assert response.status_code == 422 and f'href="#{field}"' in text(response)
    assert world.site.store.get("st-draft1").status == "draft"


def test_who_may_record_and_withdraw(world):
    data = answers(world)
    for who, status in (("bob", 404), ("rita", 404), ("pete", 404), ("ada", 403)):
        assert record(world.client(who), data).status_code == status, who
    # admins may withdraw; reviewers see stories in review but may not touch their consent
    ada = world.client("ada")
    assert ada.get(f"{PAGE}/withdraw").status_code == 200
    assert world.client("rita").get("/stories/st-review1/consent").status_code == 200
    assert world.client("rita").get("/stories/st-review1/consent/withdraw").status_code == 403


def test_the_history_of_versions_is_shown(world, ann):
    record(ann, answers(world, status="pending"))
    page = text(ann.get(PAGE))
    table = page[page.index("All versions"):]
    assert table.index("Version 2") < table.index("Version 1")
    assert "Not yet" in table and "Trust board, Ward posters" in table


def test_consent_forms_need_this_sessions_csrf_token(world, ann):
    before = consent_file(world).read_bytes()
    foreign = csrf_token(world.client("bob"), "/")
    for url in (PAGE, f"{PAGE}/sign-off", f"{PAGE}/withdraw", f"{PAGE}/confirm-withdrawal"):
        for token in (None, foreign):
            data = answers(world, scope="delete_everything", reason="forged")
            if token:
                data["csrf_token"] = token
            assert ann.post(url, data=data).status_code == 400, url
    assert consent_file(world).read_bytes() == before
    assert world.site.store.get("st-draft1").status == "draft"


def test_no_story_text_or_consent_notes_reach_the_audit_log(world, ann):
    record(ann, answers(world, notes="Aisha said only the board", taken_by_name="Jo Example"))
    post_form(ann, f"{PAGE}/withdraw", {"scope": "stop_future_use",
                                        "reason": "Aisha phoned on Tuesday"},
              page=f"{PAGE}/withdraw")
    for entry in world.audit():
        for value in (entry.detail or "", entry.actor, entry.action):
            for secret in ("Aisha", "Tuesday", "board\" ", "Jo Example", "Rahman"):
                assert secret not in value


def test_xss_in_consent_answers_is_stored_raw_and_shown_escaped(world, ann):
    from editor_support import executable_parts
    from test_app_editor import PAYLOADS

    line = '<script>alert(1)</script>" onfocus="alert(2)'
    data = answers(world, notes=" ".join(PAYLOADS), taken_by_name=line, taken_by_role=line,
                   ethics_ref=line, project_class="research")
    assert record(ann, data).status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    assert current.taken_by.name == line and current.notes == " ".join(PAYLOADS)
    for url in (PAGE, f"{PAGE}/withdraw", "/stories/st-draft1", "/stories/st-draft1/edit"):
        assert not executable_parts(text(ann.get(url))), url
    bad = record(ann, answers(world, notes=" ".join(PAYLOADS), granted="<script>"))
    assert bad.status_code == 422 and not executable_parts(text(bad))


def test_telling_the_storyteller_the_withdrawal_is_done_is_recorded(world, ann):
    response = post_form(ann, f"{PAGE}/withdraw", {"scope": "stop_future_use",
                                                   "reason": "Asked by letter"},
                         page=f"{PAGE}/withdraw")
    assert "Record that they were told" in text(response)
    story = world.site.store.get("st-draft1")
    url = f"{PAGE}/confirm-withdrawal"
    for bad in ("2099-01-01", "2000-01-01", "soon"):
        data = {"confirmed": bad, "consent_etag": story.consent_etag}
        assert post_form(ann, url, data, page=PAGE).status_code == 422, bad
    stale = {"confirmed": dt.date.today().isoformat(), "consent_etag": "0" * 20}
    assert post_form(ann, url, stale, page=PAGE).status_code == 409
    ok = {"confirmed": dt.date.today().isoformat(), "consent_etag": story.consent_etag}
    assert post_form(ann, url, ok, page=PAGE).status_code == 303
    current = world.site.store.get("st-draft1").current_consent
    assert (current.version, current.status) == (3, "withdrawn")
    assert current.withdrawal.confirmed == dt.date.today()
    assert current.withdrawal.reason == "Asked by letter"
    assert world.audit(audit.CONSENT_CHANGED)[0].detail == "version 3: withdrawal confirmed"
    assert "that their story was withdrawn" in text(ann.get(PAGE))
    # only once withdrawn, and only the owner or an admin
    assert post_form(world.client("bob"), url, ok, page="/").status_code == 404
    other = post_form(ann, "/stories/st-review1/consent/confirm-withdrawal", ok, page="/")
    assert other.status_code == 403
