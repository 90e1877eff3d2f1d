""""You said, we did" (the storykit_yousaid plugin, through public hooks only): a section of the
public website per service listing done outcomes with the published stories behind them, in
the feed and the search index; a withdrawn story goes at the next build while the outcome
stays (through the site-build job a worker runs, as the app does); an outcome done queues
that build; and the A3 notice-board poster, tagged, with alternative text on every picture."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
from conftest import BASIC_TOML, ON, consent_version, on_day, story_front, write_story
from pdfcheck import assert_accessible, read, structure, texts
from storykit_web.build import build_site
from test_publishing import drain

from storykit.outcomes import outcome_log, record_outcome, update_outcome
from storykit.site import Site

TOML = BASIC_TOML + 'contact_email = "stories@example.nhs.test"\nbase_url = "https://stories.example.nhs.test/"\n'
BOARD_MARKER = "Quillwordboard"
A3 = (841.89, 1190.55)


def write_two(root: Path) -> Path:
    """A published public story and a board-only one (its text and title carry a marker)."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    write_story(root, "st-public", story_front(status="published", slug="night-feeds"))
    write_story(root, "st-board", story_front(
        status="published", slug="board-story", title=f"The {BOARD_MARKER} ward",
        summary=f"Summary {BOARD_MARKER}", quotes=[f"Quote {BOARD_MARKER}"]),
        body=f"The board-only text {BOARD_MARKER}.\n",
        consent=[consent_version(uses=["board"])])
    return root


def build(root: Path):
    with on_day(ON):
        return build_site(Site.open(root), root / "out")


def settle(root: Path) -> None:
    """Story files last changed a minute ago (the quick no-change check trusts only files
    older than two seconds)."""
    when = time.time() - 60
    for path in (root / "stories").rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


def search_entries(out: Path) -> list[dict]:
    text = (out / "search-index.js").read_text(encoding="utf-8")
    return json.loads(text.strip()[len("window.STORYKIT_SEARCH = "):-1])["stories"]


@pytest.fixture
def site(make_site, database_env, test_day) -> Site:
    return Site.open(write_two(make_site()))


def test_done_outcomes_are_listed_by_service_with_only_the_public_stories(site):
    made = record_outcome(site, {"title": "Every bed now has a buzzer card", "status": "done"},
                          ["st-public", "st-board"], by="jo")
    record_outcome(site, {"title": "Still being planned"}, ["st-public"], by="jo")
    report = build(site.root)
    out = site.root / "out"
    page = (out / "you-said-we-did" / "maternity.html").read_text(encoding="utf-8")
    assert "Every bed now has a buzzer card" in page and "Done on 1 March 2027" in page
    assert 'href="../stories/night-feeds.html"' in page
    assert "Read the story: Night feeds on the postnatal ward" in page
    assert "Still being planned" not in page  # only done outcomes
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in out.rglob("*") if p.is_file())
    assert BOARD_MARKER not in everything
    assert 'href="you-said-we-did/index.html">You said, we did</a>' in \
        (out / "index.html").read_text(encoding="utf-8")  # the home page links to it
    index = (out / "you-said-we-did" / "index.html").read_text(encoding="utf-8")
    assert 'href="../you-said-we-did/maternity.html"' in index
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert "You said, we did: Maternity" in feed
    assert "https://stories.example.nhs.test/you-said-we-did/maternity.html" in feed
    found = [e for e in search_entries(out) if e["u"] == "you-said-we-did/maternity.html"]
    assert found and "buzzer" in found[0]["w"]
    assert report.problems == []
    assert outcome_log(site).get(made.id).story_ids == ("st-public", "st-board")


def test_a_withdrawn_story_leaves_every_outcome_at_the_next_site_build_while_they_stay(site):
    """Through the app's own path: an outcome done queues a site build (as publishing does),
    a worker runs it into the publish folder, and a withdrawal queues the next one."""
    from storykit.jobs import DONE
    from storykit.publishing import publish_folder

    first = record_outcome(site, {"title": "Every bed now has a buzzer card",
                                  "status": "done"}, ["st-public", "st-board"], by="jo")
    second = record_outcome(site, {"title": "Quieter night rounds"}, ["st-public"], by="jo")
    update_outcome(site, second.id, {"status": "done"}, by="jo")
    builds = drain(site)
    assert [j.kind for j in builds] == ["site-build"] and builds[0].state == DONE
    out = publish_folder(site)
    page = (out / "you-said-we-did" / "maternity.html").read_text(encoding="utf-8")
    assert page.count('href="../stories/night-feeds.html"') == 2  # each outcome links it
    assert (out / "stories" / "night-feeds.html").is_file()
    site.withdraw("st-public", "stop_future_use", "Please stop", by="jo")
    builds = drain(site)
    assert [j.kind for j in builds] == ["site-build"] and builds[0].state == DONE
    page = (out / "you-said-we-did" / "maternity.html").read_text(encoding="utf-8")
    assert "Every bed now has a buzzer card" in page and "Quieter night rounds" in page
    assert "night-feeds" not in page and "Night feeds" not in page
    assert page.count("The stories behind this change are not published.") == 2
    assert not (out / "stories" / "night-feeds.html").exists()
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in out.rglob("*") if p.is_file())
    assert "Night feeds" not in everything and BOARD_MARKER not in everything
    assert {o.id: o.story_ids for o in outcome_log(site).list()} == {
        first.id: ("st-public", "st-board"), second.id: ("st-public",)}  # the outcomes stay


def test_only_changes_the_public_would_see_queue_a_site_build(site):
    from storykit.jobs import QUEUED, Jobs

    def queued() -> int:
        return len(Jobs(site).recent(50, state=QUEUED, kind="site-build"))

    made = record_outcome(site, {"title": "Quieter night rounds"}, ["st-public"], by="jo")
    update_outcome(site, made.id, {"owner": "Ward manager", "status": "agreed"}, by="jo")
    assert queued() == 0  # not done: nothing public changed
    update_outcome(site, made.id, {"status": "done"}, by="jo")
    assert queued() == 1
    drain(site)
    update_outcome(site, made.id, {"why": "Families asked", "owner": "Matron"}, by="jo")
    assert queued() == 0  # the team's words only
    update_outcome(site, made.id, {"title": "Quieter night rounds on every ward"}, by="jo")
    assert queued() == 1
    drain(site)
    update_outcome(site, made.id, {"status": "in_progress"}, by="jo")  # off the website
    assert queued() == 1


def test_an_outcome_change_alone_updates_the_pages_and_unchanged_builds_stay_quick(site):
    made = record_outcome(site, {"title": "Quieter night rounds", "status": "done"},
                          ["st-public"], by="jo")
    settle(site.root)
    build(site.root)
    assert build(site.root).unchanged  # nothing changed: nothing loaded
    update_outcome(site, made.id, {"title": "Quieter night rounds on every ward"}, by="jo")
    report = build(site.root)
    assert not report.unchanged and report.rendered == 0  # no story page made again
    out = site.root / "out"
    assert "on every ward" in (out / "you-said-we-did" / "maternity.html").read_text()
    entry = next(e for e in search_entries(out) if e["u"] == "you-said-we-did/maternity.html")
    assert "ward" in entry["w"].split() and "quieter" in entry["w"].split()
    update_outcome(site, made.id, {"status": "in_progress"}, by="jo")
    build(site.root)
    assert not (out / "you-said-we-did").exists() or \
        not any((out / "you-said-we-did").iterdir())  # no done outcome: the pages go
    assert "Quieter night rounds" not in (out / "feed.xml").read_text()


# --- the poster ------------------------------------------------------------------------------

def test_the_poster_is_a_tagged_a3_page_with_alt_text(site, tmp_path, run_storykit):
    for n in range(8):  # more than fit: the newest six are shown, the rest counted
        record_outcome(site, {"title": f"Change number {n} on the ward", "status": "done"},
                       ["st-public", "st-board"], by="jo")
    out = tmp_path / "poster.pdf"
    r = run_storykit(site.root, "yousaid", "poster", "--service", "Maternity", "-o", str(out))
    assert r.code == 0, r.err
    reader = read(out)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (841.9, 1190.6)
    assert_accessible(reader, title="You said, we did: Maternity")
    counts, figures = structure(reader)
    assert len(figures) == 6 and all(str(f["/Alt"]) == "A green tick" for f in figures)
    words = " ".join(texts(reader))
    assert "You said, we did" in words and "Change number" in words
    assert "2 more changes" in words and "Night feeds on the postnatal ward" in words
    assert BOARD_MARKER not in words
    assert "stories.example.nhs.test/you-said-we-did/maternity.html" in words


@pytest.mark.parametrize("args, words", [
    (("--service", "Maternity", "-o", "poster.txt"), "must end in .pdf"),
    (("--service", "Maternity", "-o", "nowhere/poster.pdf"), "does not exist"),
    (("--service", "Cardiology", "-o", "poster.pdf"), "no done outcomes for the service"),
    (("-o", "poster.pdf"), "Missing option '--service'"),
    (("--service", "Maternity", "-o", "exists.pdf"), "already exists"),
])
def test_bad_poster_commands_say_what_is_wrong(site, tmp_path, run_storykit, monkeypatch,
                                               args, words):
    record_outcome(site, {"title": "A change", "status": "done"}, ["st-public"], by="jo")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exists.pdf").write_bytes(b"%PDF- mine")
    r = run_storykit(site.root, "yousaid", "poster", *args)
    assert r.code != 0 and words in r.err, r.err
    assert (tmp_path / "exists.pdf").read_bytes() == b"%PDF- mine"


def test_a_plugin_page_with_a_bad_path_stops_the_build(site):
    from storykit.kit import SitePageError, WebPage

    for path in ("stories/x.html", "../x.html", "x.html", "a/b/c.html", "UP/x.html"):
        with pytest.raises(SitePageError):
            WebPage(path=path, title="T").checked()
    assert WebPage(path="you-said-we-did/x.html", title="T").checked()
    assert dt.date  # the module's imports are used
