"""Outcomes (storykit.outcomes, storykit outcome ...): what a team decided or did because of
stories, linked to the stories and the meeting or pack where they were heard, tracked to
done, on both database engines; storytellers told by letter in the format they prefer, and
their responses kept for the team."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import ON, consent_version, story_front, write_story
from pack_support import CONTACT, TOML
from pypdf import PdfReader

from storykit.outcomes import (
    Filter,
    OutcomeError,
    migrate_changes,
    outcome_log,
    record_outcome,
    record_response,
    update_outcome,
)
from storykit.site import Site

EASY = dict(CONTACT, name="Ben Example", preferred_format="easy_read")
PLAIN = dict(CONTACT, name="Cara Example", preferred_format="standard")


def write_three(root: Path) -> Path:
    """Three stories: two whose storytellers can be written to (large print and Easy Read),
    one whose storyteller asked not to be contacted. One has an old ``changes`` list."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    write_story(root, "st-night", story_front(
        changes=["A card by each bed saying which buzzer to press",
                 "Night staff introduce themselves at the start of each shift"]),
        consent=[consent_version(contact=CONTACT)])
    write_story(root, "st-nurses", story_front(title="Nurses every morning",
                                               slug="nurses-every-morning",
                                               service="Community"),
                consent=[consent_version(contact=EASY)])
    write_story(root, "st-quiet", story_front(title="A quiet ward", slug="a-quiet-ward"),
                consent=[consent_version(contact={"agrees_to_contact": False})])
    return root


@pytest.fixture
def world(make_site, database_env, test_day) -> Site:
    return Site.open(write_three(make_site()))


# --- records on both engines -------------------------------------------------------------------

def test_an_outcome_links_stories_and_is_tracked_to_done(world):
    made = record_outcome(world, {"title": "  A card by each bed  ", "why": "Two stories said "
                                  "nobody knew which buzzer to press.", "owner": "Ward manager",
                                  "due": "2027-04-30", "meeting": "Trust Board",
                                  "meeting_date": "2027-02-04"},
                          ["night-feeds", "st-nurses", "st-night"], by="jo")
    assert made.id.startswith("oc-") and made.title == "A card by each bed"
    assert made.story_ids == ("st-night", "st-nurses")  # slugs found, each story once
    assert made.status == "proposed" and made.service == "Maternity"  # the first story's
    assert made.due == dt.date(2027, 4, 30) and made.heard_words == "Trust Board on 4 February 2027"
    log = outcome_log(world)
    assert log.get(made.id) == made
    assert [o.id for o in log.for_story("st-nurses")] == [made.id]
    assert log.for_story("st-quiet") == []
    done = update_outcome(world, made.id, {"status": "done"}, by="sam")
    assert done.done_on == ON and done.updated_by == "sam"
    back = update_outcome(world, made.id, {"status": "in_progress"}, by="sam")
    assert back.done_on is None
    entries = [(e.action, e.detail) for e in world.audit.query(limit=1000)]
    assert ("outcome.added", f"{made.id} proposed") in entries
    assert not any("buzzer" in (d or "") or "card" in (d or "") for _, d in entries)


def test_overdue_outcomes_are_found_and_say_so_in_words(world):
    late = record_outcome(world, {"title": "Late one", "due": "2027-02-01",
                                  "status": "agreed"}, ["st-night"], by="jo")
    record_outcome(world, {"title": "Not yet due", "due": "2027-06-01"}, ["st-night"], by="jo")
    record_outcome(world, {"title": "Done late", "due": "2027-01-01", "status": "done"},
                   ["st-night"], by="jo")
    found = outcome_log(world).list(Filter(overdue_on=ON))
    assert [o.id for o in found] == [late.id]
    assert late.due_words(ON) == "Overdue: was due 1 February 2027 (28 days ago)"


def test_bad_outcomes_are_refused_by_field_and_nothing_is_saved(world):
    cases = [
        ({"title": ""}, ["st-night"], "title", "Say what was decided"),
        ({"title": "x" * 201}, ["st-night"], "title", "200 characters"),
        ({"title": "two\nlines"}, ["st-night"], "title", "one line"),
        ({"title": "nul\x00"}, ["st-night"], "title", "cannot be kept"),
        ({"title": "ok", "why": "w" * 2001}, ["st-night"], "why", "2000"),
        ({"title": "ok", "due": "31/02/2027"}, ["st-night"], "due", "not a real date"),
        ({"title": "ok", "due": "soon"}, ["st-night"], "due", "year-month-day"),
        ({"title": "ok", "due": "9999-99-99"}, ["st-night"], "due", "Due date"),
        ({"title": "ok", "status": "finished"}, ["st-night"], "status", "Choose how far"),
        ({"title": "ok", "status": "not_taken"}, ["st-night"], "reason", "Say why"),
        ({"title": "ok", "pack_id": "pk-nothere"}, ["st-night"], "pack_id", "No pack"),
        ({"title": "ok"}, [], "stories", "at least one story"),
        ({"title": "ok"}, ["no-such-story"], "stories", "no-such-story"),
        ({"title": "ok"}, ["../etc/passwd"], "stories", "No story"),
    ]
    for values, stories, field, words in cases:
        with pytest.raises(OutcomeError) as info:
            record_outcome(world, values, stories, by="jo")
        assert field in info.value.problems, (values, info.value.problems)
        assert words in info.value.problems[field], (values, info.value.problems)
    assert outcome_log(world).list() == []


def test_an_outcome_heard_in_a_pack_takes_its_meeting(world, tmp_path):
    from storykit.packs import PackDefinition, build_pack

    result = build_pack(world, PackDefinition(
        use="board", formats=("booklet",), stories=("st-night",), title="Board pack",
        meeting="Trust Board", meeting_date=dt.date(2027, 2, 4)), tmp_path / "b.zip", by="jo")
    made = record_outcome(world, {"title": "Buzzer cards", "pack_id": result.pack.id},
                          ["st-night"], by="jo")
    assert (made.meeting, made.meeting_date, made.pack_id) == (
        "Trust Board", dt.date(2027, 2, 4), result.pack.id)


def test_the_old_changes_lists_become_outcomes_once(world):
    stories = [world.store.get("st-night"), world.store.get("st-nurses")]
    made, kept = migrate_changes(world, stories, by="jo")
    assert [o.title for o in made] == ["A card by each bed saying which buzzer to press",
                                       "Night staff introduce themselves at the start of "
                                       "each shift"]
    assert {o.status for o in made} == {"agreed"} and kept == 0
    again, kept = migrate_changes(world, stories, by="jo")
    assert again == [] and kept == 2
    assert world.store.get("st-night").changes  # the file keeps its list


def test_responses_are_kept_for_the_team_not_the_audit_log(world):
    made = record_outcome(world, {"title": "Buzzer cards"}, ["st-night", "st-nurses"], by="jo")
    said = "Thank you. My daughter will be glad to hear about the buzzer card."
    response = record_response(world, made.id, "st-nurses", text=said, how="phone",
                                received_on="2027-02-27", by="jo")
    assert outcome_log(world).responses(made.id) == [response]
    assert response.how_words == "By phone"
    assert not any("daughter" in (e.detail or "") for e in world.audit.query(limit=1000))
    for story, text, how, when, field in [
            ("st-quiet", said, "phone", None, "story"), ("st-night", "", "phone", None, "text"),
            ("st-night", "x" * 2001, "phone", None, "text"),
            ("st-night", said, "pigeon", None, "how"),
            ("st-night", said, "phone", "2099-01-01", "received_on"),
            ("st-night", said, "phone", "tomorrow", "received_on")]:
        with pytest.raises(OutcomeError) as info:
            record_response(world, made.id, story, text=text, how=how, received_on=when,
                            by="jo")
        assert field in info.value.problems
    world.withdraw("st-nurses", "delete_everything", "Please delete it", by="jo")
    assert outcome_log(world).responses(made.id) == []
    assert outcome_log(world).get(made.id).story_ids == ("st-night", "st-nurses")


# --- letters -----------------------------------------------------------------------------------

def pdf_text(path: Path) -> str:
    return " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(path).pages)


def test_each_storyteller_is_told_in_the_format_they_prefer(world, tmp_path):
    from storykit.letters import easy_read_problems, sentences
    from storykit.outcomes.letters import outcome_letter
    from storykit.outcomes.telling import tell_storytellers

    made = record_outcome(world, {"title": "Every bed now has a card saying which buzzer to "
                                           "press", "status": "done", "meeting": "Trust Board",
                                  "meeting_date": "2027-02-04"},
                          ["st-night", "st-nurses", "st-quiet"], by="jo")
    out = tmp_path / "letters"
    out.mkdir()
    told = {t.story_id: t for t in tell_storytellers(world, made.id, out, by="jo")}
    assert told["st-night"].style == "large_print" and told["st-nurses"].style == "easy_read"
    assert told["st-quiet"].path is None and "asked not to be contacted" in told["st-quiet"].why_not
    large = pdf_text(told["st-night"].path)
    assert "Every bed now has a card saying which buzzer to press" in large
    assert "This was done on 1 March 2027" in large and "Trust Board" in large
    assert "Dear Aisha Rahman" in large and "Tell us what you think" in large
    easy = pdf_text(told["st-nurses"].path)
    assert "What we did after your story" in easy and "done" in easy
    letter = outcome_letter(world, made, world.store.get("st-nurses"))
    assert not easy_read_problems(letter.easy_subject, [p.text for p in letter.easy_read])
    assert all(len(s.split()) <= 15 for p in letter.easy_read for s in sentences(p.text))
    messages = outcome_log(world).messages(made.id)
    assert [(m.story_id, m.channel, m.style) for m in messages] == [
        ("st-night", "letter", "large_print"), ("st-nurses", "letter", "easy_read")]
    assert not any("buzzer" in (e.detail or "") for e in world.audit.query(limit=1000))


def test_a_long_decision_falls_back_to_short_easy_read_words(world):
    from storykit.outcomes.letters import outcome_letter

    made = record_outcome(world, {"title": "We will change the way the night team hands over "
                                           "to the day team so that every mother is told who "
                                           "is looking after her", "status": "not_taken",
                                  "reason": "The ward is being rebuilt next year and the new "
                                            "one has a different way of working altogether"},
                          ["st-nurses"], by="jo")
    letter = outcome_letter(world, made, world.store.get("st-nurses"))
    texts = [p.text for p in letter.easy_read]
    assert "We decided to make a **change** because of your story." in texts
    assert "Ask us and we will tell you **why**." in texts
    assert any("rebuilt" in b.text for b in letter.body)


def test_letters_need_a_folder_that_exists(world, tmp_path):
    from storykit.outcomes.telling import tell_storytellers

    made = record_outcome(world, {"title": "Cards"}, ["st-night"], by="jo")
    with pytest.raises(OutcomeError, match="does not exist"):
        tell_storytellers(world, made.id, tmp_path / "nowhere", by="jo")
    with pytest.raises(OutcomeError, match="no outcome"):
        tell_storytellers(world, "oc-missing1", tmp_path, by="jo")


# --- the command line --------------------------------------------------------------------------

def test_the_command_line_adds_lists_updates_and_migrates(run_storykit, make_site, tmp_path,
                                                          test_day):
    root = write_three(make_site())
    r = run_storykit(root, "outcome", "add", "Buzzer cards by each bed", "--story",
                     "night-feeds", "--story", "st-nurses", "--owner", "Ward manager",
                     "--due", "2027-02-10", "--status", "agreed", "--json")
    assert r.code == 0, r.err
    made = json.loads(r.out)
    assert made["stories"] == ["st-night", "st-nurses"] and made["status"] == "agreed"
    r = run_storykit(root, "outcome", "list")
    assert r.code == 0 and "OVERDUE" in r.out and "Buzzer cards by each bed" in r.out
    r = run_storykit(root, "outcome", "list", "--overdue", "--json")
    assert [o["id"] for o in json.loads(r.out)] == [made["id"]]
    assert json.loads(r.out)[0]["overdue"] is True
    r = run_storykit(root, "outcome", "update", made["id"], "--status", "done")
    assert r.code == 0 and "Done" in r.out
    assert json.loads(run_storykit(root, "outcome", "list", "--status", "done",
                                   "--json").out)[0]["done_on"] == ON.isoformat()
    r = run_storykit(root, "outcome", "respond", made["id"], "--story", "st-night", "--text",
                     "Lovely to hear", "--how", "phone")
    assert r.code == 0
    r = run_storykit(root, "outcome", "show", made["id"])
    assert "Lovely to hear" in r.out and "by phone" in r.out
    r = run_storykit(root, "outcome", "from-changes")
    assert r.code == 0 and "Made 2 outcomes." in r.out
    r = run_storykit(root, "outcome", "from-changes")
    assert "Made 0 outcomes; 2 lines already had one." in r.out
    out = tmp_path / "letters"
    out.mkdir()
    r = run_storykit(root, "outcome", "letters", made["id"], "-o", str(out))
    assert r.code == 0, r.err
    assert "A large print letter for \u201cNight feeds on the postnatal ward\u201d is ready." in r.out
    assert "An Easy Read letter for \u201cNurses every morning\u201d is ready." in r.out
    assert (out / f"{made['id']}-st-nurses.pdf").is_file()


@pytest.mark.parametrize("args, words", [
    (("add", "Cards"), "Missing option '--story'"),
    (("add", "", "--story", "st-night"), "Say what was decided"),
    (("add", "Cards", "--story", "nope"), "No story with the id"),
    (("add", "Cards", "--story", "st-night", "--due", "2027-13-01"), "not a real date"),
    (("add", "Cards", "--story", "st-night", "--status", "finished"), "Invalid value"),
    (("add", "Cards", "--story", "st-night", "--status", "not_taken"), "Say why"),
    (("add", "Cards", "--story", "st-night", "--pack", "pk-nope"), "No pack"),
    (("update", "oc-missing1", "--status", "done"), "no outcome 'oc-missing1'"),
    (("update", "oc-missing1"), "say what to change"),
    (("list", "--story", "nope"), "no story with id or slug"),
    (("respond", "oc-missing1", "--story", "st-night", "--text", "x"), "no outcome"),
    (("letters", "oc-missing1", "-o", "."), "no outcome"),
    (("from-changes", "nope"), "no story"),
])
def test_bad_command_lines_say_what_is_wrong(run_storykit, make_site, args, words):
    root = write_three(make_site())
    r = run_storykit(root, "outcome", *args)
    assert r.code != 0
    assert words in r.err, r.err


# --- a board's follow-up -----------------------------------------------------------------------

def test_a_board_pack_ends_with_what_happened_after_the_last_stories(world, tmp_path):
    from pptx import Presentation

    from storykit.packs import PackDefinition, build_pack

    earlier = build_pack(world, PackDefinition(
        use="board", formats=("booklet",), stories=("st-night",), title="February board",
        meeting="Trust Board", meeting_date=dt.date(2027, 2, 4)), tmp_path / "feb.zip", by="jo")
    record_outcome(world, {"title": "Buzzer cards by every bed", "status": "done",
                           "pack_id": earlier.pack.id}, ["st-night"], by="jo")
    record_outcome(world, {"title": "A quiet room for parents", "status": "agreed",
                           "due": "2027-02-20"}, ["st-night"], by="jo")
    record_outcome(world, {"title": "Not about the board's stories"}, ["st-nurses"], by="jo")
    result = build_pack(world, PackDefinition(
        use="board", formats=("booklet", "pptx"), stories=("st-nurses",),
        title="March board", meeting="Trust Board", meeting_date=dt.date(2027, 3, 4),
        follow_up=True), tmp_path / "mar.zip", by="jo")
    import zipfile

    with zipfile.ZipFile(result.path) as z:
        booklet = next(n for n in z.namelist() if n.endswith(".pdf"))
        deck = next(n for n in z.namelist() if n.endswith(".pptx"))
        z.extract(booklet, tmp_path / "x")
        z.extract(deck, tmp_path / "x")
    words = pdf_text(tmp_path / "x" / booklet)
    closing = words[words.index("What happened after the last stories"):]
    assert "Buzzer cards by every bed: done on 1 March 2027." in closing
    assert "A quiet room for parents: agreed, overdue since 20 February 2027." in closing
    assert "Not about the board's stories" not in closing
    slides = Presentation(tmp_path / "x" / deck).slides
    last = " ".join(s.text_frame.text for s in slides[len(slides) - 1].shapes
                    if s.has_text_frame)
    assert "What happened after the last stories" in last and "Buzzer cards" in last


# --- measures ----------------------------------------------------------------------------------

def test_measures_count_per_service_and_quarter(world, tmp_path):
    import csv
    import io

    from storykit.outcomes.measures import Quarter, measures, measures_csv
    from storykit.outcomes.telling import tell_storytellers
    from storykit.packs import PackDefinition, build_pack

    build_pack(world, PackDefinition(
        use="board", formats=("booklet",), stories=("st-night", "st-quiet"), title="Board",
        meeting="Trust Board", meeting_date=dt.date(2027, 2, 4)), tmp_path / "b.zip", by="jo")
    made = record_outcome(world, {"title": "Buzzer cards", "status": "done"},
                          ["st-night"], by="jo")  # done on 1 March: 25 days after 4 February
    record_outcome(world, {"title": "=HYPERLINK(\"x\")", "service": "=cmd"}, ["st-nurses"],
                   by="jo")
    out = tmp_path / "letters"
    out.mkdir()
    tell_storytellers(world, made.id, out, by="jo")
    tell_storytellers(world, made.id, out, by="jo", force=True)  # told twice: counted once
    rows = {(r.service, r.quarter.words): r for r in measures(world)}
    q1 = "January to March 2027"
    maternity = rows[("Maternity", q1)]  # heard and done in this quarter
    assert maternity.heard == 2 and maternity.median_days == 25
    # recorded and told now (the computer's clock, not the test's day)
    now = rows[("Maternity", Quarter.of(made.created_on).words)]
    assert now.outcomes["done"] == 1 and now.told == 1
    assert rows[("Community", "July to September 2026")].heard == 1  # created, never in a pack
    assert Quarter.of(dt.date(2027, 11, 30)).words == "October to December 2027"
    table = list(csv.DictReader(io.StringIO(measures_csv(measures(world)))))
    row = next(r for r in table if r["service"] == "Maternity" and r["quarter"] == q1)
    assert row["stories_heard"] == "2" and row["median_days_story_to_outcome_done"] == "25"
    row = next(r for r in table if r["service"] == "Maternity" and
               r["quarter"] == Quarter.of(made.created_on).words)
    assert row["outcomes_done"] == "1" and row["storytellers_told"] == "1"
    assert any(r["service"] == "'=cmd" for r in table)  # never a formula in a spreadsheet
