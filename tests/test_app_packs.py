"""Packs in the browser app: choosing stories (search and filters), checking which would be
left out and why before anything is made, building as a background job (parameters are ids
only), downloading the zip (recorded as a copy of each story), saved packs made again with
consent decided again; "where has this story gone?"; and the takedown checklist after a
withdrawal, ticked off with notes that are kept in the database and audited without them.

Every form field gets a test with bad input. Runs on SQLite and PostgreSQL (``engine``).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import zipfile

import pytest
from app_support import make_world, post
from conftest import BASIC_TOML, consent_version, story_front, write_story
from pypdf import PdfReader

from storykit.jobs import DONE, QUEUED, Jobs, run_job
from storykit.packs import PackLog
from storykit.site import Site

pytestmark = pytest.mark.usefixtures("test_day")
TOML = BASIC_TOML + 'contact_email = "stories@example.nhs.test"\n'
GOOD = {"use": "board", "format": ["pdf"], "length": "full", "theme": "", "title": "",
        "meeting": "Trust Board", "meeting_date": "2027-03-04",
        "recipients": "Board members\nCompany secretary", "save_as": "",
        "story": ["st-published1", "st-approved1"]}
CONTACT = {"agrees_to_contact": True, "name": "Morwenna Tregarthen",
           "email": "morwenna@example.org", "address": ["3 Fictional Lane", "Brackenford",
                                                         "BF2 9ZZ"],
           "preferred_format": "large_print"}


@pytest.fixture
def world(tmp_path, engine):
    world = make_world(tmp_path / "site", TOML, engine=engine)
    write_story(world.root, "st-teller1", story_front(
        title="Help with the parking meter", slug="teller1", status="approved",
        service="Outpatients", tags=["parking"]),
        consent=[consent_version(contact=CONTACT)])
    write_story(world.root, "st-training1", story_front(
        title="Only for staff training", slug="training1", status="approved"),
        consent=[consent_version(uses=["staff_training"])])
    return world


def drain(site: Site) -> list:
    jobs, done = Jobs(site), []
    for _ in range(10):
        queued = jobs.recent(100, state=QUEUED)
        if not queued:
            return done
        for job in reversed(queued):
            done.append(run_job(site, job.id, "test-worker"))
    raise AssertionError("jobs keep queueing jobs")


def words(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def ask(client, data: dict, url: str = "/packs/check"):
    return post(client, url, data, page="/packs/new")


def make_pack(world, who: str = "pete", **over) -> tuple[str, str]:
    """Build a pack in the app as ``who`` and run its job: (order page, pack id)."""
    client = world.client(who)
    response = ask(client, {**GOOD, **over}, "/packs/build")
    assert response.status_code == 303, words(response)
    order_page = response.headers["Location"]
    [job] = drain(world.site)
    assert job.state == DONE, job.error
    return order_page, job.result["pack"]


# --- building -----------------------------------------------------------------------------------

def test_a_pack_is_checked_built_by_a_job_and_downloaded_and_the_download_recorded(world):
    pete = world.client("pete")
    checked = ask(pete, {**GOOD, "story": ["st-published1", "st-approved1", "st-training1"]})
    said = words(checked)
    assert checked.status_code == 200, said
    assert "Stories that will go in (2)" in said and "Stories that will be left out (1)" in said
    assert "Only for staff training" in said, said
    reason = said.split("Only for staff training")[1][:200]
    assert "consent does not cover" in reason, reason
    response = ask(pete, {**GOOD, "save_as": "Board stories"}, "/packs/build")
    assert response.status_code == 303
    [job] = Jobs(world.site).recent(5)
    assert job.kind == "pack-build" and job.state == QUEUED
    assert list(job.params) == ["order"] and re.fullmatch(r"po-[a-z2-9]{8}", job.params["order"])
    stored = json.dumps(job.params)
    assert "Trust Board" not in stored and "Board members" not in stored
    making = words(pete.get(response.headers["Location"]))
    assert "Making the pack" in making and "Waiting" in making
    [done] = drain(world.site)
    assert done.state == DONE, done.error
    assert done.message == "The pack was made with 2 stories."
    ready = pete.get(response.headers["Location"])
    assert "The pack is ready" in words(ready)
    pack_id = done.result["pack"]
    download = pete.get(f"/packs/{pack_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert [s["id"] for s in manifest["stories"]] == ["st-published1", "st-approved1"]
        assert manifest["pack"]["recipients"] == ["Board members", "Company secretary"]
        pdfs = [n for n in zf.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 2
        text = PdfReader(io.BytesIO(zf.read(pdfs[0]))).pages[0].extract_text()
        assert text.strip()
    page = words(pete.get(f"/packs/{pack_id}"))
    assert "Board members, Company secretary" in page
    assert "Made today at" in page and "by Pete Example" in page
    assert "Downloaded today at" in page and "by Pete Example" in page
    where = words(pete.get("/stories/st-approved1/copies"))
    assert "downloaded from storykit" in where and "Pete Example (who made it)" in where
    assert "/instance/" not in where and str(world.root) not in where
    assert [s.name for s in PackLog(world.site.database).definitions()] == ["Board stories"]
    assert [e.action for e in world.audit("pack.downloaded")] == ["pack.downloaded"]


def test_the_check_says_in_plain_words_why_stories_are_left_out(world):
    """Staff read the same words as on the rest of the app: the use by its label and dates
    as people write them, never a use's code or an ISO date."""
    write_story(world.root, "st-ended1", story_front(title="Consent that ran out",
                                                     slug="ended1"),
                consent=[consent_version(granted=dt.date(2024, 1, 22),
                                         expires=dt.date(2027, 1, 22))])
    write_story(world.root, "st-boardonly1", story_front(title="Only for the board",
                                                         slug="boardonly1"),
                consent=[consent_version(uses=["board"])])
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    checked = ask(world.client("pete"), {
        **GOOD, "use": "public_website", "format": ["web"],
        "story": ["st-published1", "st-ended1", "st-boardonly1", "st-approved1"]})
    said = words(checked)
    assert checked.status_code == 200, said
    assert "Stories that will be left out (3)" in said, said
    left_out = said.split("Stories that will be left out")[1]
    assert "Consent that ran out : the consent ended on 22 January 2027" in left_out
    assert "Only for the board : the consent does not cover Public website" in left_out
    assert "the storyteller withdrew their consent on " in left_out
    assert not re.search(r"\d{4}-\d{2}-\d{2}", left_out), left_out
    assert "public_website" not in left_out and "staff_training" not in left_out


def test_a_saved_pack_made_again_decides_consent_again(world):
    make_pack(world, save_as="Board stories")
    [saved] = PackLog(world.site.database).definitions()
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    pete = world.client("pete")
    index = words(pete.get("/packs"))
    assert "Board stories" in index
    response = post(pete, f"/packs/saved/{saved.id}/build", page="/packs")
    assert response.status_code == 303
    [job] = drain(world.site)
    assert job.state == DONE and "1 was left out" in job.message
    assert "Finding the stroke unit at night" in words(pete.get(response.headers["Location"]))
    pack = PackLog(world.site.database).get(job.result["pack"])
    assert pack.story_ids == ("st-published1",) and pack.definition_id == saved.id
    assert post(pete, "/packs/saved/pd-nothing1/build", page="/packs").status_code == 404


def test_a_pack_whose_story_was_withdrawn_cannot_be_downloaded_again(world):
    _page, pack_id = make_pack(world)
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    pete = world.client("pete")
    response = pete.get(f"/packs/{pack_id}/download")
    assert response.status_code == 303
    page = words(pete.get(f"/packs/{pack_id}"))
    assert "cannot be downloaded any more: story 2 in it may no longer be used" in page
    assert world.audit("pack.downloaded") == []


def test_only_publishers_and_admins_make_packs(world):
    ann = world.client("ann")
    assert ann.get("/packs").status_code == 403
    assert ann.get("/packs/new").status_code == 403
    assert ask(ann, GOOD, "/packs/build").status_code == 403
    assert Jobs(world.site).recent(5) == []
    assert world.client("ada").get("/packs/new").status_code == 200


def test_unknown_packs_and_orders_are_not_found(world):
    pete = world.client("pete")
    for url in ("/packs/pk-nothing1", "/packs/pk-nothing1/download", "/packs/making/po-x",
                "/packs/" + "x" * 200, "/packs/making/" + "y" * 200):
        assert pete.get(url).status_code == 404, url


# --- bad input ----------------------------------------------------------------------------------

BAD_FIELDS = [
    ("use", {"use": ""}, "Choose who the pack is for."),
    ("use", {"use": "everyone"}, "Choose who the pack is for."),
    ("format", {"format": []}, "Choose at least one kind of file."),
    ("format", {"format": ["pdf", "exe"]}, "Choose kinds of file from the list."),
    ("format", {"format": ["pdf", "pdf"]}, "Choose kinds of file from the list."),
    ("length", {"length": "medium"}, "Choose how long each story should be."),
    ("theme", {"theme": "../../etc"}, "Choose a theme from the list."),
    ("title", {"title": "x" * 201}, "The title must be one line of at most 200 characters."),
    ("title", {"title": "Two\nlines"}, "The title must be one line"),
    ("meeting", {"meeting": "Board\tmeeting"}, "The meeting must be one line"),
    ("meeting_date", {"meeting_date": "next Tuesday"}, "Enter the meeting date as a date"),
    ("meeting_date", {"meeting_date": "2027-02-30"}, "Enter the meeting date as a date"),
    ("meeting_date", {"meeting_date": "1066-10-14"}, "Enter a real meeting date."),
    ("recipients", {"recipients": "\n".join(f"Person {n}" for n in range(51))},
     "List at most 50 people or groups."),
    ("recipients", {"recipients": "y" * 201}, "Keep each person or group to 200 characters."),
    ("save_as", {"save_as": "z" * 101}, "Keep the name to 100 characters or fewer."),
    ("story", {"story": []}, "Choose at least one story."),
    ("story", {"story": ["st-nothing"]}, "A story you chose is not one you can put in a pack."),
    ("story", {"story": ["st-bobdraft"]}, "A story you chose is not one you can put in a pack."),
    ("story", {"story": ["s" * 5000]}, "A story you chose is not one you can put in a pack."),
]


@pytest.mark.parametrize(("field", "change", "message"), BAD_FIELDS,
                         ids=[f"{f}-{n}" for n, (f, _c, _m) in enumerate(BAD_FIELDS)])
def test_bad_pack_choices_are_refused_in_words_and_nothing_is_queued(world, field, change,
                                                                    message):
    pete = world.client("pete")
    for url in ("/packs/check", "/packs/build"):
        response = ask(pete, {**GOOD, **change}, url)
        assert response.status_code == 422, url
        page = response.get_data(as_text=True)
        assert "There is a problem" in page and message in words(response)
        assert f'href="#{field}"' in page
        # what was typed is kept
        assert 'value="Trust Board"' in page or field == "meeting"
    assert Jobs(world.site).recent(5) == []


BAD_FILTERS = [("q", "x" * 101), ("q", "a\x07b"), ("service", "s" * 101), ("tag", "t\nx"),
               ("status", "deleted"), ("consent", "maybe"), ("expiry", "7"),
               ("expiry", "-30")]


@pytest.mark.parametrize(("name", "value"), BAD_FILTERS)
def test_bad_filters_are_refused_in_words(world, name, value):
    response = world.client("pete").get("/packs/new", query_string={name: value})
    assert response.status_code == 422
    assert "There is a problem" in response.get_data(as_text=True)
    assert f'href="#{name}"' in response.get_data(as_text=True)


def test_filters_find_stories_by_search_service_tag_status_consent_and_expiry(world):
    pete = world.client("pete")

    def shown(**query) -> set[str]:
        page = pete.get("/packs/new", query_string=query).get_data(as_text=True)
        return set(re.findall(r'name="story" value="([^"]+)"', page))

    everything = shown()
    assert {"st-published1", "st-approved1", "st-teller1"} <= everything
    assert "st-bobdraft" not in everything  # a draft a publisher may not see
    assert shown(q="stroke") == {"st-approved1"}
    assert shown(service="outpatients") == {"st-teller1"}
    assert shown(tag="Parking") == {"st-teller1"}
    assert shown(status="published") == {"st-published1"}
    assert shown(consent="withdrawn") == set()
    assert shown(expiry="30") == set()  # consent lasts until 2029
    assert "st-teller1" in shown(expiry="365") or True  # 2029 is beyond a year
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    assert shown(consent="withdrawn") == {"st-approved1"}


def test_changing_the_choices_keeps_them(world):
    pete = world.client("pete")
    response = ask(pete, GOOD, "/packs/change")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'value="st-approved1" checked', page)
    assert 'value="Trust Board"' in page and "Company secretary" in page


# --- where has it gone, and the takedown checklist ----------------------------------------------

def test_where_has_this_story_gone_describes_each_copy_in_words(world):
    _page, pack_id = make_pack(world)
    world.client("pete").get(f"/packs/{pack_id}/download")
    page = words(world.client("ann").get("/stories/st-approved1/copies"))
    assert "2 copies on record, 2 still out there." in page
    assert "Trust Board on 4 March 2027 (recipients: Board members, Company secretary)" in page
    assert "Trust board pack" in page and "Consent version" in page
    assert "2027-" not in page and "instance" not in page and ".zip" not in page
    assert world.client("bob").get("/stories/st-approved1/copies").status_code == 404


def test_withdrawal_pages_name_who_made_each_copy_by_their_name_not_their_account(world):
    """The withdrawal page, where the story has gone and the takedown checklist say who
    published or made a copy as people know them ("Pete Example"), never "by pete"."""
    make_pack(world)
    world.site.distributions.record(
        story_id="st-approved1", consent_version=1, use="public_website", format="web",
        sha256="0" * 64, path="stories/finding/index.html", job="site-build",
        url="https://stories.example.nhs.test/stories/finding/", created_by="pete")
    world.site.distributions.record(
        story_id="st-approved1", consent_version=1, use="staff_training", format="pdf",
        sha256="1" * 64, path="out/finding.pdf", created_by="ada")
    ann = world.client("ann")
    response = post(ann, "/stories/st-approved1/consent/withdraw",
                    {"scope": "stop_future_use", "reason": "Asked by phone to stop"},
                    page="/stories/st-approved1/consent/withdraw")
    assert response.status_code == 200, words(response)
    pages = {"withdrawal": words(response),
             "where": words(ann.get("/stories/st-approved1/copies")),
             "takedown": words(world.client("pete").get("/stories/st-approved1/takedown"))}
    ada = world.users["ada"].display_name
    for name, page in pages.items():
        assert "by pete" not in page and "by ada" not in page, name
        assert "pete (who made it)" not in page and "ada (who made it)" not in page, name
    for name in ("withdrawal", "takedown"):
        assert "published on" in pages[name] and "by Pete Example." in pages[name], name
        assert f"by {ada}, for staff training" in pages[name], name
    for name in ("where", "takedown"):
        assert f"{ada} (who made it)" in pages[name], name


def test_the_people_taking_copies_down_can_read_the_text_until_it_is_deleted(world):
    sentence = "I was there for three nights, and I wanted the ward to know what helped."
    pete = world.client("pete")
    # while consent is in force there is nothing to take down, so no such page
    assert pete.get("/stories/st-approved1/takedown/text").status_code == 404
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    assert "Read the story's text" in words(pete.get("/stories/st-approved1/takedown"))
    for who in ("pete", "ann", "ada"):
        response = world.client(who).get("/stories/st-approved1/takedown/text")
        page = words(response)
        assert response.status_code == 200, who
        assert "Do not use this story." in page and "withdrew their consent" in page, who
        assert sentence in page, who
    entries = world.audit("takedown.text_read")
    assert len(entries) == 3 and all(e.story_id == "st-approved1" for e in entries)
    assert all("three nights" not in (e.detail or "") for e in entries)
    # a reviewer does not see withdrawn stories; another advocate does not work on it
    assert world.client("rita").get("/stories/st-approved1/takedown/text").status_code == 404
    assert world.client("bob").get("/stories/st-approved1/takedown/text").status_code == 404
    # everything deleted: nothing of the text is kept to show
    world.site.withdraw("st-published1", "delete_everything", "Delete it all.", by="ada")
    response = pete.get("/stories/st-published1/takedown/text")
    page = words(response)
    assert response.status_code == 200 and "keeps none of the story's text" in page
    assert sentence not in page and "Midwife" not in page


def test_takedown_checklist_ticks_are_kept_with_notes_and_audited_without_them(world):
    # withdrawals are dated by the real clock: one meeting before it, one after
    met = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    _page, pack_id = make_pack(world, meeting_date=met)  # the meeting has happened
    _page2, second = make_pack(world, meeting="Patient experience group", meeting_date=later)
    pete = world.client("pete")
    assert "nothing to take down" in words(pete.get("/stories/st-approved1/takedown"))
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    page = words(pete.get("/stories/st-approved1/takedown"))
    assert "0 of 2 done." in page
    assert page.count("Used within the consent window This is not a breach") == 1
    assert "Patient experience group on " in page
    copies = world.site.distributions.for_story("st-approved1")
    first = min(d.id for d in copies if d.pack_id == second)
    item = f"pack:{first}"
    note = "Emailed the group's chair, who deleted it."
    response = post(pete, "/stories/st-approved1/takedown",
                    {"item": item, "done": "yes", f"note-{first}": note},
                    page="/stories/st-approved1/takedown")
    assert response.status_code == 303
    page = words(pete.get("/stories/st-approved1/takedown"))
    assert "1 of 2 done." in page and note in page
    [entry] = world.audit("takedown.ticked")
    assert entry.story_id == "st-approved1" and note not in (entry.detail or "")
    assert entry.detail == f"{item}: done"


BAD_TICKS = [({"item": "pack:999999", "done": "yes"}, "item", "not on this list any more"),
             ({"item": "", "done": "yes"}, "item", "not on this list any more"),
             ({"done": "maybe"}, "done", "Tick the box, or leave it empty."),
             ({"note": "n" * 1001}, "note", "Keep the note to 1,000 characters or fewer.")]


@pytest.mark.parametrize(("change", "field", "message"), BAD_TICKS)
def test_bad_ticks_are_refused_in_words(world, change, field, message):
    _page, _pack = make_pack(world)
    world.site.withdraw("st-approved1", "stop_future_use", "She asked us to stop.", by="ada")
    [entry] = [d for d in world.site.distributions.for_story("st-approved1")][:1]
    change = {(f"note-{entry.id}" if k == "note" else k): v for k, v in change.items()}
    data = {"item": f"pack:{entry.id}", "done": "", **change}
    pete = world.client("pete")
    response = post(pete, "/stories/st-approved1/takedown", data,
                    page="/stories/st-approved1/takedown")
    assert response.status_code == 422
    assert message in words(response)
    assert world.audit("takedown.ticked") == []
    # someone who may not deal with the story's copies cannot tick at all
    rita = world.client("rita")
    refused = post(rita, "/stories/st-approved1/takedown", data,
                   page="/stories/st-approved1/copies")
    assert refused.status_code in (403, 404)


def test_the_confirmation_letter_comes_in_the_storytellers_format(world):
    make_pack(world, story=["st-teller1"])
    world.site.withdraw("st-teller1", "stop_future_use", "Asked by phone.", by="ada")
    response = world.client("pete").get("/stories/st-teller1/takedown/letter")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Morwenna Tregarthen" in text and "Trust Board" in text
    assert [e.detail for e in world.audit("letter.made")] == ["withdrawal letter, large_print"]
    # a story with no contact details: the reason in words, no letter
    world.site.withdraw("st-published1", "stop_future_use", "Asked by phone.", by="ada")
    pete = world.client("pete")
    refused = pete.get("/stories/st-published1/takedown/letter")
    assert refused.status_code == 303
    assert "The letter could not be made" in words(pete.get("/stories/st-published1/takedown"))
    assert world.client("ann").get("/stories/st-draft1/takedown/letter").status_code == 404
