"""The story editor: starting a story, editing every field, the preview in a chosen theme,
word count and reading age (offline), privacy checks with one-click fixes, autosave, stale
saves (409 with a three-way merge), withdrawals meanwhile (410), a full disk (503 with the
text kept), XSS payloads in every field, and CSRF on every form. CSRF protection is on."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import socket

import pytest
from app_support import csrf_token, make_world, post
from conftest import BODY, consent_version, story_front, write_story
from editor_support import (
    NHS_NUMBER,
    editor_data,
    executable_parts,
    post_form,
    save,
    srcdoc_of,
    text,
)

from storykit import audit
from storykit.web import access
from storykit.web.merge import merge_stories, merge_text
from storykit.web.readability import measure, measure_markdown, syllables


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


@pytest.fixture
def ann(world):
    return world.client("ann")


def story_file(world, story_id="st-draft1") -> bytes:
    return (world.root / "stories" / story_id / "story.md").read_bytes()


# --- starting a story ---------------------------------------------------------------------------

def test_an_advocate_starts_a_story_and_owns_it(world, ann):
    response = post(ann, "/stories/new", {"title": "Help at the blood test clinic",
                                          "teller_name": "Priya Example",
                                          "teller_role": "carer"}, page="/stories/new")
    assert response.status_code == 303
    story_id = response.headers["Location"].split("/")[2]
    story = world.site.store.get(story_id)
    assert (story.title, story.slug, story.status) == ("Help at the blood test clinic",
                                                       "help-at-the-blood-test-clinic", "draft")
    assert (story.storyteller.name, story.storyteller.role) == ("Priya Example", "carer")
    assert world.app.extensions["storykit"].db().value(
        "SELECT access FROM story_access WHERE story_id = :id", {"id": story_id}) == "owner"
    entry = world.audit(audit.STORY_CREATED)[0]
    assert (entry.actor, entry.story_id) == ("ann", story_id)
    assert "blood" not in (entry.detail or "")
    # the editor opens, and the new story is on Ann's dashboard at once
    assert ann.get(response.headers["Location"]).status_code == 200
    assert "Help at the blood test clinic" in text(ann.get("/"))


def test_the_same_title_twice_gets_a_second_slug_never_an_overwrite(world, ann):
    data = {"title": "Parking", "teller_name": "Sam Example", "teller_role": "patient"}
    first = post(ann, "/stories/new", data, page="/stories/new").headers["Location"]
    second = post(ann, "/stories/new", data, page="/stories/new").headers["Location"]
    slugs = {world.site.store.get(url.split("/")[2]).slug for url in (first, second)}
    assert slugs == {"parking", "parking-2"}


@pytest.mark.parametrize("data, field", [
    ({"title": "", "teller_name": "Sam", "teller_role": "patient"}, "title"),
    ({"title": "Two\nlines", "teller_name": "Sam", "teller_role": "patient"}, "title"),
    ({"title": "x" * 201, "teller_name": "Sam", "teller_role": "patient"}, "title"),
    ({"title": "Fine", "teller_name": "", "teller_role": "patient"}, "teller_name"),
    ({"title": "Fine", "teller_name": "Sam", "teller_role": "wizard"}, "teller_role"),
])
def test_a_new_story_with_bad_details_is_422_and_nothing_is_made(world, ann, data, field):
    before = sorted(p.name for p in (world.root / "stories").iterdir())
    response = post(ann, "/stories/new", data, page="/stories/new")
    assert response.status_code == 422
    assert f'href="#{field}"' in text(response)
    assert sorted(p.name for p in (world.root / "stories").iterdir()) == before


def test_only_advocates_start_stories(world):
    for who in ("rita", "pete", "ada"):
        client = world.client(who)
        assert client.get("/stories/new").status_code == 403
        assert post(client, "/stories/new", {"title": "X", "teller_name": "Y",
                                             "teller_role": "patient"}, page="/").status_code == 403


# --- editing ---------------------------------------------------------------------------------------

def test_every_field_is_saved_through_the_store(world, ann):
    response = save(ann, world, "st-draft1", **{
        "title": "A new title", "summary": "Short summary.", "body": "First line.\n\nSecond.",
        "service": "Maternity", "tags": "feeding, nights, Feeding", "content_warning": "Loss.",
        "quotes": "One quote.\n\n  Two quote.  ", "changes": "Buzzers\nLeaflets\n\n",
        "asks": "Listen", "speaker_notes": "Slowly.", "teller_name": "Aisha Example",
        "teller_pseudonym": "Leila", "teller_role": "parent",
        "people-0-name": "Dr Helen Marsh", "people-0-render_as": "the consultant",
        "people-1-name": "", "people-1-render_as": "", "people-5-name": "Sister Jo Bloggs",
        "people-5-render_as": "the ward sister"})
    assert response.status_code == 303
    story = world.site.store.get("st-draft1")
    assert story.title == "A new title" and story.summary == "Short summary."
    assert story.body == "First line.\n\nSecond.\n"
    assert story.tags == ["feeding", "nights"]
    assert story.quotes == ["One quote.", "Two quote."]
    assert story.changes == ["Buzzers", "Leaflets"] and story.asks == ["Listen"]
    assert (story.storyteller.name, story.storyteller.pseudonym, story.storyteller.role) == \
        ("Aisha Example", "Leila", "parent")
    assert [(p.name, p.render_as) for p in story.people] == [
        ("Dr Helen Marsh", "the consultant"), ("Sister Jo Bloggs", "the ward sister")]
    assert story.revision == 4 and story.status == "draft"
    entry = world.audit(audit.STORY_SAVED)[0]
    assert entry.detail == "revision 4: saved" and entry.etag == story.etag


def test_opening_and_saving_without_changes_changes_nothing(world, ann):
    before = story_file(world)
    assert save(ann, world, "st-draft1").status_code == 303
    assert story_file(world) == before
    assert not world.audit(audit.STORY_SAVED)


def test_windows_line_endings_and_control_characters_are_normalised(world, ann):
    save(ann, world, "st-draft1", body="One\r\ntwo\x00\x07 three\r\n", title="Tab\x1b[31m title")
    story = world.site.store.get("st-draft1")
    assert story.body == "One\ntwo three\n" and story.title == "Tab[31m title"


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"summary": "s" * 1001}, "summary"),
    ({"teller_name": ""}, "teller_name"),
    ({"teller_role": "nobody"}, "teller_role"),
    ({"tags": ", ".join(f"t{i}" for i in range(31))}, "tags"),
    ({"tags": "x" * 61}, "tags"),
    ({"quotes": "q" * 1001}, "quotes"),
    ({"changes": "\n".join(f"c{i}" for i in range(31))}, "changes"),
    ({"people-0-name": "Dr Who", "people-0-render_as": ""}, "people-0-render_as"),
    ({"people-0-name": "", "people-0-render_as": "the doctor"}, "people-0-name"),
    ({"body": "*a " * 12_000}, "body"),
    ({"body": ">" * 100_000}, "body"),
])
def test_bad_fields_are_422_with_the_text_kept_and_nothing_saved(world, ann, changes, field):
    before = story_file(world)
    response = save(ann, world, "st-draft1", **changes)
    page = text(response)
    assert response.status_code == 422
    assert f'href="#{field}"' in page and "There is a problem" in page
    assert story_file(world) == before
    if "body" not in changes:  # what was typed is still in the form
        assert "On our second night" in page


def test_a_missing_base_etag_is_refused(world, ann):
    story = world.site.store.get("st-draft1")
    data = editor_data(story, title="Changed")
    del data["base_etag"]
    response = post_form(ann, "/stories/st-draft1/edit", data, page="/stories/st-draft1/edit")
    assert response.status_code == 422 and "out of date" in text(response)
    assert world.site.store.get("st-draft1").title != "Changed"


def test_a_story_in_review_cannot_be_edited(world, ann):
    assert ann.get("/stories/st-review1/edit").status_code == 403
    assert save(ann, world, "st-review1", title="Sneaky").status_code == 403
    assert world.site.store.get("st-review1").title != "Sneaky"


def test_other_peoples_stories_are_404_for_every_editor_route(world):
    bob = world.client("bob")
    before = story_file(world)
    story = world.site.store.get("st-draft1")
    for url in ("/stories/st-draft1/edit", "/stories/st-draft1/preview"):
        assert bob.get(url).status_code == 404
    for url in ("edit", "check", "autosave", "fix"):
        response = post_form(bob, f"/stories/st-draft1/{url}", editor_data(story), page="/")
        assert response.status_code == 404, url
    assert story_file(world) == before
    assert len(world.audit(audit.DENIED)) >= 6


# --- preview -------------------------------------------------------------------------------------

def test_the_editor_shows_a_draft_preview_in_the_sites_theme(world, ann):
    page = text(ann.get("/stories/st-draft1/edit"))
    inner = srcdoc_of(page)
    assert "DRAFT - not for distribution" in inner
    assert "/stories/themes/nhs/preview.css" in inner
    # the consent asks for a pseudonym: the preview shows what readers will see
    assert "Leila" in inner and "Aisha Rahman" not in inner
    assert "the night midwife" in inner and "Carol Pegg" not in inner
    assert "<style" not in inner and "sha256-" not in inner
    css = ann.get("/stories/themes/nhs/preview.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "#005EB8" in text(css)


def test_the_preview_uses_the_chosen_theme(world, ann):
    inner = srcdoc_of(text(ann.get("/stories/st-draft1/edit?theme=high-contrast")))
    assert "/stories/themes/high-contrast/preview.css" in inner
    assert 'class="theme-high-contrast"' in inner
    # an unknown theme falls back to the site's theme; its style sheet is a 404
    assert "/themes/nhs/" in srcdoc_of(text(ann.get("/stories/st-draft1/edit?theme=../x")))
    assert ann.get("/stories/themes/nope/preview.css").status_code == 404


def test_the_preview_button_shows_unsaved_text_and_saves_nothing(world, ann):
    before = story_file(world)
    response = save(ann, world, "st-draft1", action="preview",
                    body="A **brand new** paragraph about the night staff.")
    assert response.status_code == 200
    inner = srcdoc_of(text(response))
    assert "<strong>brand new</strong>" in inner
    assert "brand new" in text(response)  # still in the form's text box
    assert story_file(world) == before


def test_the_preview_page_shows_the_saved_story_to_anyone_who_may_view_it(world):
    for who in ("ann", "ada"):
        page = text(world.client(who).get("/stories/st-draft1/preview?theme=large-print"))
        assert "DRAFT - not for distribution" in srcdoc_of(page)
        assert "large-print" in srcdoc_of(page)
    assert world.client("rita").get("/stories/st-review1/preview").status_code == 200


def test_without_consent_the_preview_names_nobody(world, ann):
    (world.root / "stories" / "st-draft1" / "consent.yml").unlink()
    page = text(ann.get("/stories/st-draft1/edit"))
    inner = srcdoc_of(page)
    assert "No consent is recorded yet" in page
    assert "Aisha" not in inner and "Leila" not in inner and "a patient" in inner.lower()


SENTENCES = [line for line in BODY.splitlines() if len(line) > 40]


def test_a_withdrawn_story_has_no_preview_only_words_saying_why(world):
    """After a withdrawal the preview shows none of the story's text, for anyone, in any
    style: it says in words that the story may no longer be used. The people who take its
    copies down are pointed to its text for that; others are not."""
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.",
                        by="ada")
    when = world.site.store.get("st-approved1").current_consent.withdrawal.requested
    for who in ("ann", "pete", "ada"):
        for theme in ("nhs", "large-print"):
            response = world.client(who).get(f"/stories/st-approved1/preview?theme={theme}")
            page = text(response)
            assert response.status_code == 200, who
            assert "This story can no longer be used for anything: the storyteller " \
                   f"withdrew their consent on {when.day} {when:%B %Y}" in page, who
            assert "srcdoc" not in page and "<iframe" not in page, who
            assert not any(s in page for s in SENTENCES), who
            assert "Read the story's text for the takedown" in page, who
    # the editor stays closed: a withdrawn story is never changed
    assert world.client("ann").get("/stories/st-approved1/edit").status_code == 410


def test_a_story_whose_consent_ended_has_no_preview_in_the_editor_or_for_review(world, ann):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    ended = consent_version(granted=yesterday - dt.timedelta(days=400), expires=yesterday)
    for story_id, status in (("st-draft1", "draft"), ("st-review1", "in_review")):
        write_story(world.root, story_id, story_front(
            title=story_id, slug=story_id.removeprefix("st-"), status=status),
            consent=[ended])
    said = f"the consent ended on {yesterday.day} {yesterday:%B %Y}"
    for who, url in (("ann", "/stories/st-draft1/preview"), ("ann", "/stories/st-draft1/edit"),
                     ("rita", "/stories/st-review1/preview"), ("rita", "/review/st-review1")):
        response = world.client(who).get(url)
        page = text(response).replace("&#39;", "\u2019").replace("'", "\u2019")
        assert response.status_code == 200, url
        assert "This story can no longer be used for anything" in page and said in page, url
        assert not re.search(r'srcdoc="[^"]', page), url  # an empty frame at most
        # the preview shows none of it; the editor's own boxes still hold the text to change
        if not url.endswith("/edit"):
            assert not any(s in page for s in SENTENCES), url
    # the live check, as the editor asks for it while typing
    story = world.site.store.get("st-draft1")
    response = post_form(ann, "/stories/st-draft1/check", editor_data(story),
                         page="/stories/st-draft1/edit")
    result = response.get_json()
    assert response.status_code == 200 and result["preview"] is None
    assert "can no longer be used for anything" in result["notes"]
    # a reviewer does not take copies down: no way to the text
    assert "for the takedown" not in text(world.client("rita").get("/stories/st-review1/preview"))


def test_the_live_check_returns_preview_counts_and_findings(world, ann):
    story = world.site.store.get("st-draft1")
    data = editor_data(story, body=f"We waited. My NHS number is {NHS_NUMBER}.",
                       quotes="First quote.\n\nCall me on 07700 900123.", theme="large-print")
    response = post_form(ann, "/stories/st-draft1/check", data, page="/stories/st-draft1/edit")
    result = response.get_json()
    assert response.status_code == 200 and result["ok"]
    assert "9 words" in result["summary"]
    assert "large-print" in result["preview"] and "NHS number" in result["preview"]
    details = result["details"]
    # each finding in plain words with the sentence it is in (the writer's own text)
    assert "<strong>2 must be dealt with</strong>" in details
    assert f"My NHS number is <mark>{NHS_NUMBER}</mark>." in details
    assert "An NHS number in the story text." in details and "line" not in details
    assert 'data-fix-box="body"' in details
    # the phone number in quote 2 is fixed in the quotes box, at its place in that box
    box_start = data["quotes"].index("07700")
    assert f'data-fix-box="quotes" data-start="{box_start}"' in details
    assert story_file(world) == story_file(world)  # nothing saved (read twice: no change)


def test_the_preview_keeps_the_pages_ids_and_classes_its_own(world, ann):
    """A story cannot pose as the preview page's skip link or landmark (issue 12, item 6)."""
    from browser_support import tags_of

    story = world.site.store.get("st-draft1")
    body = ('<div id="sk-main" class="skip-link">Fake</div>\n\n'
            "Words[^1].\n{: #sk-quotes .main-wrapper }\n\n[^1]: A note.")
    result = post_form(ann, "/stories/st-draft1/check", editor_data(story, body=body),
                       page="/stories/st-draft1/edit").get_json()
    tags = tags_of(result["preview"])
    ids = [attrs["id"] for _tag, attrs in tags if attrs.get("id")]
    classes = [c for _tag, attrs in tags for c in (attrs.get("class") or "").split()]
    assert ids.count("sk-main") == 1 and len(ids) == len(set(ids))
    assert classes.count("skip-link") == 1 and classes.count("main-wrapper") == 1
    assert "in-story-sk-main" in ids


def test_the_live_check_with_form_errors_still_checks_the_story_text(world, ann):
    story = world.site.store.get("st-draft1")
    data = editor_data(story, title="", body=f"Number {NHS_NUMBER}.")
    result = post_form(ann, "/stories/st-draft1/check", data,
                       page="/stories/st-draft1/edit").get_json()
    assert not result["ok"] and result["preview"] is None
    assert f"Number <mark>{NHS_NUMBER}</mark>." in result["details"]


# --- word count and reading age ------------------------------------------------------------------

def test_reading_age_works_with_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the reading age tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    easy = measure("We waited a long time. Nobody told us why. Then a nurse came to see us. "
                   "She sat down and told us what would happen. We felt much better.")
    hard = measure("Notwithstanding considerable organisational difficulties experienced "
                   "throughout the rehabilitation pathway, multidisciplinary communication "
                   "remained fundamentally inadequate regarding medication reconciliation.")
    assert easy.words == 29 and easy.reading_age <= 11 and easy.on_target
    assert hard.reading_age > 14 and not hard.on_target
    assert "shorter sentences" in hard.sentence
    assert measure("Too short.").reading_age is None
    assert "Write a few sentences" in measure("Too short.").sentence


def test_syllables_and_markdown_are_counted_sensibly():
    assert [syllables(w) for w in ("cat", "made", "table", "hospital", "rehabilitation")] == \
        [1, 1, 2, 3, 6]
    counted = measure_markdown("## Heading\n\n**Bold** words and a [link](https://example.org).")
    assert counted.words == 6  # the link address and the ## are not words


def test_the_editor_shows_word_count_and_reading_age(world, ann):
    page = text(ann.get("/stories/st-draft1/edit"))
    assert "51 words. Reading age about" in page and "(aim for 9 to 11)" in page


# --- privacy checks and one-click fixes ---------------------------------------------------------------

def test_findings_show_in_words_in_their_sentence_most_serious_first_with_a_fix(world, ann):
    save(ann, world, "st-draft1", body="Intro.\n\nRing the unit, ask for Midwife Carol Pegg. "
                                        f"My NHS number is {NHS_NUMBER} as you know.")
    page = text(ann.get("/stories/st-draft1/edit"))
    findings = page[page.index('<div id="check-details">'):page.index("About the storyteller")]
    assert "line 3" not in findings and "position" not in findings
    blocking = findings.index("Must be dealt with:</strong> An NHS number in the story text.")
    advice = findings.index("Worth a look:</strong> A name listed under people in the story")
    assert blocking < advice  # ordered by severity, not by place in the text
    assert f"My NHS number is <mark>{NHS_NUMBER}</mark> as you know" in findings
    assert "Replace with “[NHS number removed]”" in page
    assert "Replace with “the night midwife”" in page


def test_a_fix_button_replaces_the_text_in_the_saved_story(world, ann):
    save(ann, world, "st-draft1", body=f"My NHS number is {NHS_NUMBER}.",
         quotes="Ring me on 07700 900123 any time.")
    story = world.site.store.get("st-draft1")
    page = text(ann.get("/stories/st-draft1/edit"))
    fix_forms = page.count('action="/stories/st-draft1/fix"')
    assert fix_forms >= 2
    response = post_form(ann, "/stories/st-draft1/fix", {
        "base_etag": story.etag, "field": "quotes[0]", "start": "11", "end": "23",
        "kind": "phone"}, page="/stories/st-draft1/edit")
    assert response.status_code == 303
    fixed = world.site.store.get("st-draft1")
    assert fixed.quotes == ["Ring me on [phone number removed] any time."]
    assert NHS_NUMBER in fixed.body  # only the one finding was fixed
    assert world.audit(audit.STORY_SAVED)[0].detail.endswith("privacy fix (phone)")
    assert "07700" not in json.dumps([e.detail for e in world.audit()])


def test_a_fix_on_a_stale_page_or_a_changed_text_replaces_nothing(world, ann):
    save(ann, world, "st-draft1", body=f"My NHS number is {NHS_NUMBER}.")
    story = world.site.store.get("st-draft1")
    fix = {"base_etag": story.etag, "field": "body", "start": "17", "end": "29",
           "kind": "nhs_number"}
    stale = dict(fix, base_etag="0" * 20)
    moved = dict(fix, start="16")
    for data in (stale, moved, dict(fix, kind="email"), dict(fix, field="title")):
        before = story_file(world)
        response = post_form(ann, "/stories/st-draft1/fix", data, page="/stories/st-draft1/edit")
        assert response.status_code == 409, data
        assert story_file(world) == before
    assert post_form(ann, "/stories/st-draft1/fix", fix,
                     page="/stories/st-draft1/edit").status_code == 303


# --- autosave -------------------------------------------------------------------------------------

def autosave(client, world, story_id="st-draft1", etag=None, **changes):
    story = world.site.store.get(story_id)
    data = editor_data(story, **changes)
    if etag is not None:
        data["base_etag"] = etag
    return post_form(client, f"/stories/{story_id}/autosave", data,
                     page=f"/stories/{story_id}/edit")


def test_autosave_saves_the_draft_and_returns_the_new_etag(world, ann):
    response = autosave(ann, world, summary="Saved while typing.")
    result = response.get_json()
    story = world.site.store.get("st-draft1")
    assert response.status_code == 200 and result["saved"]
    assert result["etag"] == story.etag and story.summary == "Saved while typing."
    assert world.audit(audit.STORY_SAVED)[0].detail == f"revision {story.revision}: autosaved"
    # nothing new to save: no new revision
    again = autosave(ann, world, summary="Saved while typing.")
    assert again.get_json()["message"] == "No changes to save."
    assert world.site.store.get("st-draft1").revision == story.revision


def test_an_autosave_conflict_is_reported_and_never_overwrites(world, ann):
    old = world.site.store.get("st-draft1").etag
    save(world.client("ann"), world, "st-draft1", summary="Saved in another tab.")
    before = story_file(world)
    response = autosave(ann, world, etag=old, summary="Typed in the first tab.")
    assert response.status_code == 409
    result = response.get_json()
    assert result["conflict"] and not result["saved"] and "not saved" in result["message"]
    assert story_file(world) == before


def test_autosave_of_a_withdrawn_story_is_410_and_invalid_text_is_422(world, ann):
    assert autosave(ann, world, title="").status_code == 422
    old = world.site.store.get("st-draft1").etag
    world.site.withdraw("st-draft1", "stop_future_use", "Asked by phone", by="ada")
    before = story_file(world)
    assert autosave(ann, world, etag=old, summary="Too late").status_code == 410
    assert story_file(world) == before


# --- stale saves: 409 and the three-way merge -------------------------------------------------------

def test_edits_to_different_parts_are_combined_on_the_conflict_page(world):
    first, second = world.client("ann"), world.client("ann")
    loaded = world.site.store.get("st-draft1")
    save(second, world, "st-draft1", summary="Their new summary.")
    mine = editor_data(loaded, body=loaded.body.replace("which buzzer", "which red buzzer"))
    response = post_form(first, "/stories/st-draft1/edit", mine, page="/stories/st-draft1/edit")
    page = text(response)
    assert response.status_code == 409
    assert "Someone else changed this story" in page and "fit together" in page
    assert "Their new summary." in page and "which red buzzer" in page
    now = world.site.store.get("st-draft1")
    assert now.summary == "Their new summary." and "red buzzer" not in now.body
    # the combined version saves against their version
    assert f'name="base_etag" id="base_etag" value="{now.etag}"' in page
    combined = editor_data(now, body=mine["body"])
    assert post_form(first, "/stories/st-draft1/edit", combined,
                     page="/stories/st-draft1/edit").status_code == 303
    saved = world.site.store.get("st-draft1")
    assert saved.summary == "Their new summary." and "which red buzzer" in saved.body


def test_overlapping_edits_show_both_and_keep_my_text_in_the_form(world):
    first, second = world.client("ann"), world.client("ann")
    loaded = world.site.store.get("st-draft1")
    save(second, world, "st-draft1", title="Their title")
    response = post_form(first, "/stories/st-draft1/edit", editor_data(loaded, title="My title"),
                         page="/stories/st-draft1/edit")
    page = text(response)
    assert response.status_code == 409
    assert "You both changed the same part" in page and "(title)" in page
    assert 'name="title" value="My title"' in page  # my text, kept in the form
    assert "Their title" in page  # and theirs shown
    assert "<del" in page and "Removed: " in page and "Added: " in page
    assert world.site.store.get("st-draft1").title == "Their title"
    kept = list((world.root / "instance" / "conflicts" / "st-draft1").iterdir())
    assert kept and "My title" in kept[0].read_text()


def test_a_save_to_a_story_withdrawn_meanwhile_is_410_and_not_resurrected(world, ann):
    loaded = world.site.store.get("st-draft1")
    world.site.withdraw("st-draft1", "stop_future_use", "Changed their mind", by="ada")
    response = post_form(ann, "/stories/st-draft1/edit", editor_data(loaded, title="Back!"),
                         page="/stories/st-draft1/preview")
    assert response.status_code == 410 and "withdrawn" in text(response)
    story = world.site.store.get("st-draft1")
    assert story.status == "withdrawn" and story.title != "Back!"
    assert access.is_withdrawn(story)
    assert any("(withdrawn)" in (e.detail or "") for e in world.audit(audit.DENIED))


def test_a_full_disk_shows_not_saved_and_keeps_the_text(world, ann, monkeypatch):
    before = story_file(world)
    real_write = os.write

    def disk_full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").split("/")[-1].startswith(".tmp-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full)
    response = save(ann, world, "st-draft1", body="Words I must not lose.")
    monkeypatch.undo()
    page = text(response)
    assert response.status_code == 503
    assert "Your changes were not saved" in page and "the disk is full" in page
    assert "Words I must not lose." in page
    assert story_file(world) == before
    leftovers = [p for p in (world.root / "stories" / "st-draft1").iterdir()
                 if p.name.startswith(".tmp-")]
    assert not leftovers


def test_merge_rules():
    from conftest import build_story

    base = build_story()
    a = base.copy(body=base.body.replace("second night", "third night"), title="A")
    b = base.copy(body=base.body.replace("fine to press", "fine to ring"))
    merged = merge_stories(base, a, b)
    assert merged.clean and merged.story.title == "A"
    assert "third night" in merged.story.body and "fine to ring" in merged.story.body
    c = base.copy(title="C")
    assert merge_stories(base, a, c).conflicts == ["title"]
    assert merge_text("a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nc\nD\n") == "a\nB\nc\nD\n"
    assert merge_text("a\nb\n", "a\nB\n", "a\nb\nc\n") is None  # next to each other
    assert merge_text("one", "two", "three") is None
    assert merge_text("s", "s", "t") == "t"


# --- XSS in every field -------------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<form action="https://evil.example"><button>Go</button></form>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "[click](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](jav&#x61;script:alert(1))",
    '[d](java&#x09;script:alert(1)) [e](data:text/html,<script>alert(1)</script>)',
    '<a href="javascript:alert(1)" style="background:url(file:///etc/passwd)">x</a>',
    "\"><script>alert(1)</script>",
]


def test_xss_payloads_in_every_field_are_stored_raw_and_never_run(world, ann):
    payload = " ".join(PAYLOADS)
    line = PAYLOADS[0] + ' " onmouseover="alert(1)'
    response = save(ann, world, "st-draft1", title=line, summary=payload, body=payload,
                    service=line, tags=line.replace(",", ""),
                    content_warning=" ".join(PAYLOADS[:4]),
                    quotes=payload, changes=payload, asks=payload, speaker_notes=payload,
                    teller_name=line, teller_pseudonym=line,
                    **{"people-0-name": line, "people-0-render_as": line})
    assert response.status_code == 303, text(response)[:2000]
    story = world.site.store.get("st-draft1")
    assert story.title == line and story.body == payload + "\n"  # stored raw
    assert story.quotes == [payload] and story.storyteller.pseudonym == line
    for url in ("/stories/st-draft1/edit", "/stories/st-draft1", "/stories/st-draft1/preview",
                "/stories/st-draft1/preview?theme=high-contrast", "/stories/st-draft1/history",
                "/stories/st-draft1/consent", "/stories/st-draft1/images", "/",
                "/stories"):
        page = text(ann.get(url))
        assert not executable_parts(page), (url, executable_parts(page))
    # the no-JS preview of unsaved text, the live check and the conflict page too
    preview = save(ann, world, "st-draft1", action="preview", body=payload + " more")
    assert not executable_parts(text(preview))
    data = editor_data(story, body=payload + " again")
    check = post_form(ann, "/stories/st-draft1/check", data, page="/stories/st-draft1/edit")
    assert not executable_parts(check.get_json()["preview"])
    assert not executable_parts(check.get_json()["details"])
    stale = dict(data, base_etag="0" * 20)
    conflict = post_form(ann, "/stories/st-draft1/edit", stale, page="/stories/st-draft1/edit")
    assert conflict.status_code == 409 and not executable_parts(text(conflict))
    history = world.site.store.revisions("st-draft1")
    diff = ann.get(f"/stories/st-draft1/diff?from={history[0].etag}&to={history[-1].etag}")
    assert not executable_parts(text(diff))


# --- CSRF on every form --------------------------------------------------------------------------------

EDITOR_POSTS = ["/stories/new", "/stories/st-draft1/edit", "/stories/st-draft1/check",
                "/stories/st-draft1/autosave", "/stories/st-draft1/fix"]


@pytest.mark.parametrize("url", EDITOR_POSTS)
def test_editor_forms_need_this_sessions_csrf_token(world, url):
    story = world.site.store.get("st-draft1")
    data = editor_data(story, title="Forged", teller_name="X", teller_role="patient")
    before = story_file(world)
    stories_before = len(list((world.root / "stories").iterdir()))
    ann = world.client("ann")
    foreign = csrf_token(world.client("bob"), "/")
    for token in (None, foreign, "x" * 40):
        form = dict(data) if token is None else dict(data, csrf_token=token)
        assert ann.post(url, data=form).status_code == 400
    # a form posted from another site is refused before the token is even checked
    cross = ann.post(url, data=dict(data, csrf_token=csrf_token(ann, "/")),
                     headers={"Origin": "https://evil.example"})
    assert cross.status_code == 400
    assert story_file(world) == before
    assert len(list((world.root / "stories").iterdir())) == stories_before


def test_saves_keep_the_list_order_exactly_as_a_full_sort_would(world):
    """The index moves a saved story to its place by binary search (a full sort of 10,000
    stories took milliseconds per save): the order must still be exactly the sorted one."""
    import datetime as dt
    import random

    from storykit.web.index import _ordered

    index = world.app.extensions["storykit"].index
    snap = index.snapshot()
    rng = random.Random(5)
    ids = list(snap.stories)
    for n in range(300):
        story = index.snapshot().stories[rng.choice(ids)]
        changed = story.copy(updated=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(5)),
                             title=rng.choice(["A", "b", "Zed", story.title]))
        if n % 50 == 0:  # a story the index has not seen yet
            changed = changed.copy(id=f"st-new{n:03d}")
            ids.append(changed.id)
        index.put(changed)
        now = index.snapshot()
        assert now.order == _ordered(now.stories)


def test_the_sites_other_story_checks_show_in_the_editor(world, ann):
    (world.root / "stories" / "st-draft1" / "consent.yml").unlink()
    page = text(ann.get("/stories/st-draft1/edit"))
    checks = page[page.index('<div id="check-details">'):page.index("About the storyteller")]
    assert "Other things to check" in checks and "No consent recorded yet." in checks
    assert "privacy" not in checks.split("Other things to check")[1].lower()
