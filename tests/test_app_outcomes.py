"""The browser app's outcome pages: record what was decided because of stories, change it,
filter and track it (overdue ones say so in words), see it on each story's page, record a
storyteller's response, and write their letters; each form field's bad input, and who may see
what (the story rules), on both database engines. CSRF protection is on."""

from __future__ import annotations

import re

import pytest
from app_support import TITLES, make_world, post
from conftest import consent_version, story_front, write_story
from pack_support import CONTACT

from storykit.outcomes import outcome_log, record_outcome


@pytest.fixture
def world(tmp_path, engine, test_day):
    world = make_world(tmp_path / "site", engine=engine)
    # Ann's approved story: its storyteller may be written to, in large print
    write_story(world.root, "st-approved1", story_front(
        title=TITLES["st-approved1"], slug="approved1", status="approved"),
        consent=[consent_version(contact=CONTACT)])
    return world


def text(response) -> str:
    return response.get_data(as_text=True)


def add(client, **over):
    data = {"title": "A card by each bed saying which buzzer to press",
            "stories": "approved1, st-published1", "status": "agreed", "owner": "Ward manager",
            "due": "30/4/2027", "why": "", "reason": "", "service": "", "meeting": "",
            "meeting_date": "", "pack_id": ""}
    data.update(over)
    return post(client, "/outcomes/new", data, page="/outcomes/new")


def outcome_id(response) -> str:
    return re.search(r"/outcomes/(oc-[a-z0-9]+)", response.headers["Location"]).group(1)


def test_an_outcome_is_recorded_changed_and_shown_on_its_stories(world):
    client = world.client("ann")
    response = add(client)
    assert response.status_code == 303
    oid = outcome_id(response)
    page = text(client.get(f"/outcomes/{oid}"))
    assert "A card by each bed saying which buzzer to press" in page
    assert TITLES["st-approved1"] in page and TITLES["st-published1"] in page
    assert "30 April 2027" in page and "Agreed" in page
    story = text(client.get("/stories/st-approved1"))
    assert "What we did because of this story" in story and "A card by each bed" in story
    # changed to done: dated today, shown as done on the list
    edit = f"/outcomes/{oid}/edit"
    response = post(client, edit, {"title": "A card by each bed", "stories": "st-approved1, "
                                   "st-published1", "status": "done", "owner": "Ward manager",
                                   "due": "2027-04-30"}, page=edit)
    assert response.status_code == 303
    listing = text(client.get("/outcomes?status=done"))
    assert "A card by each bed" in listing and "Done 1 March 2027" in listing
    assert outcome_log(world.site).get(oid).status == "done"


def test_overdue_outcomes_stand_out_in_words(world):
    client = world.client("ann")
    add(client, due="2027-02-01", title="Late one")
    add(client, due="2027-06-01", title="Not yet due")
    page = text(client.get("/outcomes"))
    assert "1 outcome is overdue." in page
    row = page[page.index("Late one"):].split("</tr>")[0]
    assert "Overdue" in row and "was due 1 February 2027" in row
    row = page[page.index("Not yet due"):].split("</tr>")[0]
    assert "Overdue" not in row
    only = text(client.get("/outcomes?overdue=1"))
    assert "Late one" in only and "Not yet due" not in only
    # unknown filter values are ignored, never echoed
    assert "Late one" in text(client.get("/outcomes?status=<script>&service=<b>"))
    assert "<script>" not in text(client.get("/outcomes?status=<script>"))


@pytest.mark.parametrize("field, value, words", [
    ("title", "", "Say what was decided or done."),
    ("title", "x" * 201, "200 characters or fewer"),
    ("title", "bad\x00", "cannot be kept"),
    ("why", "w" * 2001, "2000 characters or fewer"),
    ("stories", "", "Choose at least one story"),
    ("stories", "no-such-story", "No story with the id"),
    ("stories", "st-bobdraft", "No story with the id"),  # Bob's draft: Ann may not see it
    ("owner", "o" * 101, "100 characters or fewer"),
    ("due", "31/2/2027", "not a real date"),
    ("due", "next week", "Due date"),
    ("status", "finished", "Choose how far it has got"),
    ("reason", "r" * 1001, "1000 characters or fewer"),
    ("service", "s" * 101, "100 characters or fewer"),
    ("meeting", "m" * 201, "200 characters or fewer"),
    ("meeting_date", "2027-13-01", "not a real date"),
    ("pack_id", "pk-nothere", "No pack"),
])
def test_each_field_says_what_is_wrong_and_nothing_is_saved(world, field, value, words):
    client = world.client("ann")
    response = add(client, **{field: value})
    assert response.status_code == 422
    page = text(response)
    assert words in page
    assert f'href="#{field}"' in page  # the summary links to the field
    assert f'id="{field}-error"' in page
    assert outcome_log(world.site).list() == []


def test_not_taken_needs_a_reason(world):
    response = add(world.client("ann"), status="not_taken")
    assert response.status_code == 422 and "Say why it was not taken" in text(response)
    assert 'id="reason-error"' in text(response)


def test_who_sees_and_changes_an_outcome_follows_the_story_rules(world):
    made = record_outcome(world.site, {"title": "Parking signs"}, ["st-draft1",
                                                                   "st-bobdraft"], by="ada")
    # Bob sees it through his draft, but not Ann's draft; he may not change it
    bob = world.client("bob")
    page = text(bob.get(f"/outcomes/{made.id}"))
    assert "Parking signs" in page and TITLES["st-draft1"] not in page
    assert "1 more story you cannot see" in page
    assert bob.get(f"/outcomes/{made.id}/edit").status_code == 403
    # Rita (reviewer) sees neither draft: the outcome does not exist for her
    rita = world.client("rita")
    assert rita.get(f"/outcomes/{made.id}").status_code == 404
    assert "Parking signs" not in text(rita.get("/outcomes"))
    assert world.client("ada").get(f"/outcomes/{made.id}/edit").status_code == 200
    assert world.client("ann").get("/outcomes/oc-nothere1").status_code == 404
    assert world.client().get("/outcomes").status_code in (302, 303)


def test_a_response_is_recorded_and_shown_to_the_team(world):
    client = world.client("ann")
    oid = outcome_id(add(client))
    url = f"/outcomes/{oid}/responses"
    said = "Thank you for telling me. The card will help the next family."
    response = post(client, url, {"story": "st-approved1", "how": "phone", "text": said,
                                  "received_on": "27/2/2027"}, page=f"/outcomes/{oid}")
    assert response.status_code == 303
    page = text(client.get(f"/outcomes/{oid}"))
    assert said in page and "by phone, 27 February 2027" in page
    # who recorded it, and who recorded the outcome, by the names people know them by
    assert "(recorded by Ann Example)" in page and "by Ann Example" in page
    assert "recorded by ann)" not in page
    assert not any(said in (e.detail or "") for e in world.audit())
    for field, data, words in [
            ("story", {"story": ""}, "Choose whose storyteller answered"),
            ("story", {"story": "st-draft1"}, "Choose one of the outcome"),
            ("text", {"text": ""}, "Write what they said"),
            ("text", {"text": "x" * 2001}, "2000 characters or fewer"),
            ("how", {"how": "pigeon"}, "Choose how they told you"),
            ("received_on", {"received_on": "2099-01-01"}, "cannot be in the future"),
            ("received_on", {"received_on": "yesterday"}, "year-month-day")]:
        values = {"story": "st-approved1", "how": "letter", "text": "Fine", "received_on": "",
                  **data}
        response = post(client, url, values, page=f"/outcomes/{oid}")
        assert response.status_code == 422, field
        assert words in text(response) and f'href="#{field}"' in text(response), field


def test_letters_are_written_for_the_storytellers_who_may_be_written_to(world):
    from pypdf import PdfReader

    client = world.client("ann")
    oid = outcome_id(add(client))
    response = post(client, f"/outcomes/{oid}/letters", page=f"/outcomes/{oid}")
    assert response.status_code == 303
    page = text(client.get(f"/outcomes/{oid}"))
    assert "A large print letter for" in page
    assert "No letter for" in page and "no contact details" in page
    assert "Storytellers told" in page and "Letter, large print" in page
    pdf = client.get(f"/outcomes/{oid}/letters/st-approved1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    import io

    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "buzzer" in words
    # Rita may not view the letters of Ann's story (it carries an address)
    assert world.client("pete").get(f"/outcomes/{oid}/letters/st-approved1.pdf").status_code == 404
    assert client.get(f"/outcomes/{oid}/letters/st-nothing.pdf").status_code == 404


def test_the_measures_page_has_charts_with_tables_and_summaries_and_a_csv(world):
    client = world.client("ann")
    add(client, status="done")
    page = text(client.get("/outcomes/measures"))
    for title in ("Stories heard", "Outcomes by how far they have got",
                  "Days from a story being heard to its outcome being done",
                  "Storytellers told"):
        assert title in page
    assert page.count('role="img"') == 4 and page.count("<table") == 4
    assert "1 outcome recorded, 1 done." in page
    assert "July to September 2026" in page  # the quarter the stories were made
    shown = re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # a random token may hold "Q1"
    assert "2027-Q1" not in shown and "Q1" not in shown
    assert text(client.get("/outcomes/measures?service=<script>")).count("<script>") == 0
    csv_response = client.get("/outcomes/measures.csv")
    assert csv_response.mimetype == "text/csv"
    assert text(csv_response).startswith("service,quarter,quarter_start,stories_heard")
