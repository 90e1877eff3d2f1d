"""Packs (storykit.packs, storykit pack): one zip for one use, holding only the stories
consent allows today, with a manifest whose hashes are those of the files in the zip, a
consent notice (also the first page or slide), and a record of who it was for and built by,
on both database engines."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from conftest import ON
from pack_support import (  # noqa: F401 - cli and mixed are fixtures
    ALLOWED,
    HIDDEN,
    MARKERS,
    QUOTES,
    REFUSED,
    USE,
    YESTERDAY,
    cli,
    mixed,
    write_allowed,
    write_mixed,
    zip_texts,
)
from pptx import Presentation
from pypdf import PdfReader

from storykit.copies import story_copies
from storykit.dates import nice_date
from storykit.packs import (
    PackDefinition,
    PackError,
    PackLog,
    build_pack,
    delete_kept_packs,
    pack_folder,
    rebuild_pack,
)
from storykit.render import render
from storykit.site import Site

FORMATS = ("pdf", "booklet", "slides", "slides-pdf", "handout", "pptx")


def definition(**over) -> PackDefinition:
    values = dict(use=USE, formats=("booklet",), stories=(*ALLOWED, *REFUSED),
                  title="Commissioners pack", meeting="ICB quality group",
                  meeting_date=dt.date(2027, 3, 10),
                  recipients=("Quality group members", "Jo Example (ICB)"))
    values.update(over)
    return PackDefinition(**values)


# --- the must-show: a commissioners' pack from a mixed set -------------------------------------

def test_a_commissioners_pack_holds_only_the_allowed_stories_and_no_hidden_name(
        mixed, tmp_path, test_day, database_env):
    out = tmp_path / "commissioners.zip"
    result = build_pack(mixed, definition(formats=(*FORMATS, "web")), out, by="Amy Patel")
    assert [v.id for v in result.views] == list(ALLOWED)
    refused = {r.story_id: r for r in result.refused}
    assert set(refused) == set(REFUSED) and all(r.named for r in refused.values())
    assert refused["st-boardonly"].codes == ("use_not_granted",)
    assert refused["st-expired"].codes == ("expired",)
    assert "expired" in refused["st-expired"].reasons[0]
    assert refused["st-gone"].codes[0] == "withdrawn"
    assert "not_approved" in refused["st-draft"].codes
    assert refused["st-nosign"].codes == ("signoff_missing",)

    texts = zip_texts(out, tmp_path / "unzipped")
    manifest = json.loads((tmp_path / "unzipped" / "manifest.json").read_text())
    # the manifest lists exactly the allowed stories, and every other file with its hash
    assert [s["id"] for s in manifest["stories"]] == list(ALLOWED)
    assert {s["consent_version"] for s in manifest["stories"]} == {1}
    assert {s["consent_expires"] for s in manifest["stories"]} == {"2029-09-02"}
    listed = {f["file"]: f for f in manifest["files"]}
    assert set(listed) == set(texts) - {"manifest.json"}
    for name, entry in listed.items():
        data = (tmp_path / "unzipped" / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["size"] == len(data), name
        assert set(entry["stories"]) <= set(ALLOWED)
    assert {f["format"] for f in manifest["files"]} >= {*FORMATS, "web", "notice"}
    pack = manifest["pack"]
    assert (pack["use"], pack["built_by"], pack["meeting"], pack["meeting_date"]) == (
        USE, "Amy Patel", "ICB quality group", "2027-03-10")
    assert pack["recipients"] == ["Quality group members", "Jo Example (ICB)"]
    assert pack["decided_for"] == ON.isoformat() and pack["id"] == result.pack.id
    # no name the consent hides, and nothing of a refused story, anywhere in the zip
    for name, text in texts.items():
        for hidden in HIDDEN:
            assert hidden not in text, f"{hidden} in {name}"
        for marker in MARKERS.values():
            assert marker not in text, f"{marker} in {name}"
    assert any("the night midwife" in t for t in texts.values())  # the reduced alt text
    # recorded: the pack, its recipients and stories, each artefact with its hash
    record = PackLog(mixed.database).get(result.pack.id)
    assert record.recipients == ("Quality group members", "Jo Example (ICB)")
    assert record.story_ids == ALLOWED and record.refused == len(REFUSED)
    assert record.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    entries = mixed.distributions.for_pack(result.pack.id)
    assert {d.story_id for d in entries} == set(ALLOWED)
    for d in entries:
        name = d.path.split(":", 1)[1]
        assert d.path.startswith(result.pack.id + ":") and d.sha256 == listed[name]["sha256"]
        assert d.created_by == "Amy Patel" and d.use == USE
    assert not mixed.distributions.for_story("st-expired")


def test_the_consent_notice_is_in_the_zip_and_first_in_every_format_that_has_pages(
        mixed, tmp_path, test_day):
    out = tmp_path / "p.zip"
    build_pack(mixed, definition(formats=FORMATS, length="summary"), out)
    texts = zip_texts(out, tmp_path / "u")
    notice = texts["consent-notice.txt"]
    assert "for: Commissioners" in notice and "Do not use this pack after 2 September 2029" \
        in notice and "do not copy this pack or pass it on" in notice
    assert "ICB quality group on 10 March 2027" in notice
    assert "Quality group members" in notice and "2029-09-02" not in notice
    first_pages = {
        "pdf": PdfReader(tmp_path / "u" / "pdf" / "night-feeds.pdf").pages[0],
        "booklet": PdfReader(tmp_path / "u" / "booklet" / f"booklet-{USE}.pdf").pages[0],
        "slides-pdf": PdfReader(next((tmp_path / "u" / "slides-pdf").glob("*.pdf"))).pages[0],
    }
    for fmt, page in first_pages.items():
        text = " ".join(page.extract_text().split())
        assert text.startswith("About this pack"), fmt
        assert "2 September 2029" in text and "pass it on" in text, fmt
    deck = Presentation(next((tmp_path / "u" / "pptx").glob("*.pptx")))
    first = deck.slides[0]
    assert first.shapes.title.text_frame.text == "About this pack"
    words = " ".join(s.text_frame.text for s in first.shapes if s.has_text_frame)
    assert "Commissioners only" in words and "Do not use after 2 September 2029" in words
    html = (next((tmp_path / "u" / "slides").glob("*.html"))).read_text()
    assert html.index("About this pack") < html.index("Night feeds on the postnatal ward")


def test_a_story_that_expired_yesterday_is_refused_today_in_render_pack_and_expiring(
        mixed, tmp_path, test_day, cli):
    expired = mixed.store.get("st-expired")
    assert expired.current_consent.expires == YESTERDAY
    rendered = render(mixed, [expired], USE, "pdf", tmp_path / "r")
    assert rendered.refused[0].codes == ["expired"] and not rendered.artefacts
    code, _out, err = cli(mixed.root, "render", "st-expired", "--use", USE, "--format", "pdf",
                          "--out", tmp_path / "r2")
    assert code == 1 and "consent expired" in err
    code, out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf", "st-allowed",
                         "st-expired", "-o", tmp_path / "p.zip")
    assert code == 1 and "left out st-expired" in err and "consent expired" in err
    assert "written without st-expired" in err and (tmp_path / "p.zip").is_file()
    code, out, _err = cli(mixed.root, "consent", "expiring")
    assert code == 0
    assert "Consent has ended (1)" in out and "st-expired" in out
    assert f"consent ended on {YESTERDAY.day} February 2027 (1 day ago)" in out
    code, out, _err = cli(mixed.root, "consent", "expiring", "--json")
    (item,) = json.loads(out)["stories"]
    assert (item["id"], item["ended"], item["days"]) == ("st-expired", True, -1)


def test_summary_decks_fit_a_meeting(mixed, tmp_path, test_day, make_site):
    """At most six slides a story counting the notice and cover: a four-story summary deck
    is at most 24 slides in every deck format."""
    site = Site.open(write_mixed(make_site("four")))
    for n in range(2, 4):  # two more allowed stories, with three quotes and a picture
        write_allowed(site.root, f"st-more0{n}", f"more-{n}", quotes=QUOTES)
    stories = ("st-allowed", "st-anonym", "st-more02", "st-more03")
    out = tmp_path / "four.zip"
    result = build_pack(site, definition(formats=("slides", "slides-pdf", "pptx", "handout"),
                                         stories=stories, length="summary"), out)
    assert len(result.views) == 4
    zip_texts(out, tmp_path / "u")
    deck = Presentation(next((tmp_path / "u" / "pptx").glob("*.pptx")))
    slides = PdfReader(next((tmp_path / "u" / "slides-pdf").glob("*.pdf"))).pages
    html = next((tmp_path / "u" / "slides").glob("*.html")).read_text()
    assert len(deck.slides) <= 24 and len(slides) == len(deck.slides)
    assert html.count('aria-roledescription="slide"') == len(deck.slides)
    full = build_pack(site, definition(formats=("pptx",), stories=stories),
                      tmp_path / "full.zip")
    zip_texts(tmp_path / "full.zip", tmp_path / "f")
    assert len(Presentation(next((tmp_path / "f" / "pptx").glob("*.pptx"))).slides) > \
        len(deck.slides)
    assert full.pack.length == "full"
    titles = [s.shapes.title.text_frame.text for s in deck.slides]
    assert titles[0] == "About this pack" and "A photo from this story" not in titles
    assert not any(t.startswith("A picture from") for t in titles)


# --- filters, refusals and what is recorded ----------------------------------------------------

def test_filters_pick_stories_and_their_refusals_are_not_failures(mixed, tmp_path, test_day,
                                                                 cli):
    code, out, err = cli(mixed.root, "pack", "--use", USE, "--format", "booklet", "--service",
                         "maternity", "-o", tmp_path / "m.zip", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [s["id"] for s in result["stories"]] == ["st-allowed"]
    left = {r["id"]: r for r in result["refused"]}
    assert set(left) == set(REFUSED) and not any(r["named"] for r in left.values())
    code, out, _ = cli(mixed.root, "pack", "--use", USE, "--format", "booklet", "--tag",
                       "Night Staff", "-o", tmp_path / "t.zip", "--json")
    assert code == 0 and [s["id"] for s in json.loads(out)["stories"]] == ["st-allowed"]


def test_nothing_is_written_or_recorded_when_no_story_is_left(mixed, tmp_path, test_day, cli):
    code, _out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf", "st-expired",
                          "st-gone", "-o", tmp_path / "none.zip")
    assert code == 1 and "no stories are left for Commissioners" in err
    assert "st-expired" in err and not (tmp_path / "none.zip").exists()
    assert PackLog(mixed.database).count() == 0 and mixed.distributions.all() == []
    code, _out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf", "--service",
                          "Cardiology", "-o", tmp_path / "none.zip")
    assert code == 1 and "no stories match: service Cardiology" in err


@pytest.mark.parametrize(("args", "message"), [
    (("--use", "astronauts", "--format", "pdf", "st-allowed"), "unknown use 'astronauts'"),
    (("--use", USE, "--format", "telegram", "st-allowed"), "unknown format 'telegram'"),
    (("--use", USE, "--format", "card", "st-allowed"), "card format is made only for social"),
    (("--use", USE, "--format", "pdf", "st-nothere"), "no story 'st-nothere'"),
    (("--use", USE, "--format", "pdf"), "choose the stories"),
    (("--use", USE, "--format", "pdf", "--format", "pdf", "st-allowed"), "listed twice"),
    (("--use", USE, "--format", "pdf", "--meeting-date", "2027-02-30", "st-allowed"),
     "not a real date"),
    (("--use", USE, "--format", "pdf", "--length", "short", "st-allowed"), "'short'"),
    (("--use", USE, "--format", "pdf", "--title", "A\nB", "st-allowed"), "line breaks"),
    (("--use", USE, "--format", "pdf", "--recipient", "", "st-allowed"), "recipient is empty"),
    (("--use", USE, "--format", "pdf", "--theme", "nope", "st-allowed"), "nope"),
])
def test_bad_pack_arguments_are_refused_before_anything_is_made(mixed, tmp_path, test_day,
                                                               cli, args, message):
    code, _out, err = cli(mixed.root, "pack", *args, "-o", tmp_path / "p.zip")
    assert code != 0 and message in err
    assert not (tmp_path / "p.zip").exists() and PackLog(mixed.database).count() == 0


def test_bad_output_places_are_refused(mixed, tmp_path, test_day, cli):
    folder = tmp_path / "a-folder.zip"
    folder.mkdir()
    cases = [
        (folder, "is a folder"),
        (tmp_path / "pack.pdf", "ending in .zip"),
        (tmp_path / "missing" / "p.zip", "does not exist"),
        (mixed.root / "stories" / "st-allowed" / "p.zip", "inside the stories folder"),
    ]
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases.append((locked / "p.zip", "cannot write in the folder"))
    for out, message in cases:
        code, _out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf",
                              "st-allowed", "-o", out)
        assert code == 1 and message in err, (out, err)
    existing = tmp_path / "old.zip"
    existing.write_bytes(b"keep me")
    code, _out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf", "st-allowed",
                          "-o", existing)
    assert code == 1 and "already exists" in err and "--force" in err
    assert existing.read_bytes() == b"keep me" and PackLog(mixed.database).count() == 0
    code, out, _err = cli(mixed.root, "pack", "--use", USE, "--format", "pdf", "st-allowed",
                          "-o", existing, "--force")
    assert code == 0 and zipfile.is_zipfile(existing)


def test_an_unwritable_folder_is_refused(mixed, tmp_path, test_day, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path
                        else real_access(path, mode))
    with pytest.raises(PackError, match="cannot write in the folder"):
        build_pack(mixed, definition(stories=("st-allowed",)), tmp_path / "p.zip")


def test_a_pack_that_cannot_be_recorded_is_not_left_behind(mixed, tmp_path, test_day,
                                                          monkeypatch):
    def broken(self, record):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PackLog, "add", broken)
    out = tmp_path / "p.zip"
    with pytest.raises(RuntimeError):
        build_pack(mixed, definition(stories=("st-allowed",)), out)
    assert not out.exists() and mixed.distributions.all() == []


def test_progress_counts_every_job_and_the_zip(mixed, tmp_path, test_day):
    seen = []
    build_pack(mixed, definition(formats=("pdf", "booklet")), tmp_path / "p.zip",
               progress=lambda done, total, step: seen.append((done, total, step)))
    # two stories as pdf (a job each), one booklet, in the order they finish; then the zip
    assert [(done, total) for done, total, _step in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(step for _done, _total, step in seen[:3]) == ["booklet", "pdf", "pdf"]
    assert seen[-1][2] == "zip"


def test_the_command_is_quiet_off_a_terminal_and_says_what_it_made(mixed, tmp_path,
                                                                   test_day, cli):
    code, out, err = cli(mixed.root, "pack", "--use", USE, "--format", "pptx", "--format",
                         "pdf", "--length", "summary", "st-allowed", "st-anonym",
                         "--meeting", "ICB quality group", "--recipient", "Members",
                         "-o", tmp_path / "p.zip")
    assert code == 0, err
    assert "\r" not in out + err and "[####" not in out + err  # no progress bar in a pipe
    assert "written to" in out and "st-allowed" in out and "st-anonym" in out
    assert "pdf has one length only, so made in full" in err


def test_the_progress_bar_draws_on_a_terminal_only():
    import io

    from storykit.progress import terminal_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    bar = terminal_progress("Making the pack", stream=screen)
    bar(1, 4, "pdf")
    bar(4, 4, "zip")
    bar.close()
    assert "Making the pack [" in screen.getvalue() and "4 of 4 zip" in screen.getvalue()
    assert terminal_progress("x", stream=io.StringIO()) is None
    assert terminal_progress("x", stream=screen, quiet=True) is None


# --- the record: list, show, rebuild, saved; copies --------------------------------------------

def test_packs_are_listed_shown_and_rebuilt_with_consent_checked_again(
        mixed, tmp_path, monkeypatch, cli, database_env):
    from storykit import dates

    monkeypatch.setattr(dates, "FIXED_TODAY", ON)
    code, out, err = cli(mixed.root, "pack", "--use", USE, "--format", "booklet",
                         "st-allowed", "st-anonym", "--meeting", "ICB quality group",
                         "--meeting-date", "2027-03-10", "--recipient", "Members",
                         "--save", "ICB spring", "-o", tmp_path / "a.zip", "--json")
    assert code == 0, err
    first = json.loads(out)["pack"]["id"]
    code, out, _ = cli(mixed.root, "packs", "list")
    assert first in out and nice_date(dt.datetime.now(dt.UTC).date()) in out
    assert "2 stories" in out and "built by" in out
    code, out, _ = cli(mixed.root, "packs", "show", first)
    assert "ICB quality group on 10 March 2027" in out and "Members" in out
    assert "booklet/booklet-commissioners.pdf" in out and "st-anonym" in out
    code, out, _ = cli(mixed.root, "packs", "show", first, "--json")
    shown = json.loads(out)
    assert [s["id"] for s in shown["stories"]] == list(ALLOWED)
    assert shown["files"][0]["stories"] == list(ALLOWED)
    code, out, _ = cli(mixed.root, "packs", "saved")
    assert "ICB spring" in out and "booklet" in out
    # months later the anonymous story's consent has ended: a rebuild leaves it out
    monkeypatch.setattr(dates, "FIXED_TODAY", dt.date(2029, 9, 3))
    code, out, err = cli(mixed.root, "packs", "rebuild", "ICB spring", "-o",
                         tmp_path / "b.zip", "--json")
    assert code == 1 and "no stories are left" in err and "consent expired" in err
    assert not (tmp_path / "b.zip").exists()
    monkeypatch.setattr(dates, "FIXED_TODAY", dt.date(2028, 1, 1))
    code, out, err = cli(mixed.root, "packs", "rebuild", first, "-o", tmp_path / "c.zip")
    assert code == 0, err
    records = PackLog(mixed.database).all()
    assert len(records) == 2 and records[0].rebuilt_from == first
    assert records[0].decided_for == dt.date(2028, 1, 1) and records[0].id != first
    code, _out, err = cli(mixed.root, "packs", "show", "pk-unknown1")
    assert code == 1 and "no pack 'pk-unknown1'" in err
    code, _out, err = cli(mixed.root, "packs", "rebuild", "no such pack", "-o",
                          tmp_path / "d.zip")
    assert code == 1 and "no saved pack called 'no such pack'" in err


def test_where_has_this_story_gone(mixed, tmp_path, test_day, cli):
    build_pack(mixed, definition(formats=("pptx", "booklet"), stories=("st-allowed",)),
               tmp_path / "p.zip", by="Amy Patel")
    render(mixed, [mixed.store.get("st-allowed")], USE, "pdf", tmp_path / "r", by="jo")
    copies = story_copies(mixed, "st-allowed")
    assert [c.kind for c in copies] == ["pack", "render"]
    pack = copies[0]
    assert pack.formats == ("pptx", "booklet") and pack.made_by == "Amy Patel"
    built = nice_date(dt.datetime.now(dt.UTC).date())  # when it was made, by the clock
    assert pack.sentence == (f"Commissioners pack (PowerPoint slides, booklet (PDF)), made on "
                             f"{built} by Amy Patel for ICB quality group on 10 March 2027 "
                             "(recipients: Quality group members, Jo Example (ICB)). Consent "
                             "version 1.")
    code, out, _ = cli(mixed.root, "copies", "night-feeds")
    assert code == 0 and "2 copies on record, 2 still out there" in out
    assert str(tmp_path) not in out  # what and who, never a path on the server
    code, out, _ = cli(mixed.root, "copies", "st-allowed", "--json")
    data = json.loads(out)
    assert data["copies"][0]["pack"]["recipients"][0] == "Quality group members"
    assert data["copies"][1]["kind"] == "render" and "path" not in data["copies"][1]
    code, _out, err = cli(mixed.root, "copies", "st-nothere")
    assert code == 1 and "st-nothere" in err


def test_packs_storykit_keeps_go_when_the_storyteller_asks_to_delete_everything(
        mixed, tmp_path, test_day):
    kept = pack_folder(mixed)
    kept.mkdir(parents=True)
    inside = build_pack(mixed, definition(stories=("st-allowed",)), kept / "a.zip")
    outside = build_pack(mixed, definition(stories=("st-allowed",)), tmp_path / "b.zip")
    other = build_pack(mixed, definition(stories=("st-anonym",)), kept / "c.zip")
    mixed.withdraw("st-allowed", "delete_everything", "Please delete it all", by="tester")
    assert not (kept / "a.zip").exists() and (kept / "c.zip").exists()
    assert (tmp_path / "b.zip").exists()  # the user's own file: on the takedown list
    log = PackLog(mixed.database)
    assert log.get(inside.pack.id).location is None
    assert log.get(outside.pack.id).location == str(tmp_path / "b.zip")
    assert log.get(other.pack.id).location == str(kept / "c.zip")
    assert delete_kept_packs(mixed, "st-allowed") == []


def test_a_rebuild_of_a_withdrawn_named_story_still_reports_it(mixed, tmp_path, test_day):
    first = build_pack(mixed, definition(stories=("st-allowed", "st-anonym")),
                       tmp_path / "a.zip")
    mixed.withdraw("st-anonym", "stop_future_use", "Changed my mind", by="tester")
    again = rebuild_pack(mixed, first.pack.id, tmp_path / "b.zip")
    assert [v.id for v in again.views] == ["st-allowed"]
    assert [(r.story_id, r.named, r.codes[0]) for r in again.refused] == [
        ("st-anonym", True, "withdrawn")]


def test_definitions_are_checked_and_read_back(tmp_path):
    d = definition(stories=("st-allowed",))
    assert PackDefinition.from_json(d.to_json()) == d
    with pytest.raises(PackError, match="unknown pack settings: colour"):
        PackDefinition.from_dict({"use": USE, "formats": ["pdf"], "colour": "red"})
    with pytest.raises(PackError, match="cannot be read"):
        PackDefinition.from_json("{not json")
    with pytest.raises(PackError, match="meeting date"):
        PackDefinition.from_dict({"use": USE, "formats": ["pdf"], "stories": ["x"],
                                  "meeting_date": "10/03/2027"})
    assert "choose at least one format" in PackDefinition(use=USE, formats=(),
                                                         stories=("x",)).problems()
    assert any("at most 50 recipients" in p for p in PackDefinition(
        use=USE, formats=("pdf",), stories=("x",), recipients=("r",) * 51).problems())


def test_render_takes_a_length_for_decks_only(mixed, tmp_path, test_day, cli):
    code, _out, err = cli(mixed.root, "render", "st-allowed", "st-anonym", "--use", USE,
                          "--format", "pptx", "--length", "summary", "--out", tmp_path / "d")
    assert code == 0, err
    deck = Presentation(next((tmp_path / "d").glob("*.pptx")))
    assert len(deck.slides) <= 12 and deck.slides[0].shapes.title.text_frame.text == \
        "Test stories"
    code, _out, err = cli(mixed.root, "render", "st-allowed", "--use", USE, "--format", "pdf",
                          "--length", "summary", "--out", tmp_path / "p")
    assert code == 1 and "the pdf format has no 'summary' length" in err
    assert "summary works with: handout, pptx, slides, slides-pdf" in err
    assert not (tmp_path / "p").exists()
    code, _out, err = cli(mixed.root, "render", "st-allowed", "--use", USE, "--format", "pptx",
                          "--length", "tiny", "--out", tmp_path / "t")
    assert code == 2 and "'tiny'" in err
