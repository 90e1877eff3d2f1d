"""The publication set: the one door through which a builder (the web site) gets stories,
decided for today by the core, and through which it records what it published."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import BASIC_TOML, ON, consent_version, story_front, write_story

from storykit import Site, StorykitError
from storykit.db import IntegrityError
from storykit.kit import PublishedPage, publication_set

#: Decisions are made as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")


@pytest.fixture
def site(tmp_path) -> Site:
    root = tmp_path / "site"
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    write_story(root, "st-public1", story_front(slug="public", status="published"))
    write_story(root, "st-ending1", story_front(slug="ending", status="published"),
                consent=[consent_version(expires=ON + dt.timedelta(days=10))])
    write_story(root, "st-approv1", story_front(slug="approved", status="approved"))
    write_story(root, "st-board01", story_front(slug="board", status="published"),
                consent=[consent_version(uses=["board"])])
    write_story(root, "st-nosign1", story_front(slug="unsigned", status="published"),
                consent=[consent_version(signed_off=None, signed_off_revision=None)])
    return Site.open(root)


def test_only_published_stories_allowed_today_are_in_the_set(site):
    found = publication_set(site, "public_website")
    assert [p.id for p in found.stories] == ["st-ending1", "st-public1"]
    assert found.on == ON and found.use == "public_website"
    view = found.get("st-public1").view
    assert view.storyteller == "Leila" and view.speaker_notes is None and not view.draft
    # the decisions hold at most until the day the consent of st-ending1 ends
    assert found.valid_from <= ON <= found.valid_until <= ON + dt.timedelta(days=10)


def test_only_the_stories_asked_for_and_a_missing_one_is_left_out(site):
    found = publication_set(site, "public_website", ids={"st-public1", "st-gone001"})
    assert [p.id for p in found.stories] == ["st-public1"]
    assert found.among == {"st-public1", "st-gone001"}
    (site.root / "stories" / "st-public1" / "story.md").write_text("---\nnot: [valid\n")
    with pytest.raises(StorykitError):
        publication_set(Site.open(site.root), "public_website", ids={"st-public1"})


def test_a_slug_used_twice_keeps_the_first_story_and_says_why(site):
    write_story(site.root, "st-zzclash", story_front(slug="public", status="published"))
    found = publication_set(Site.open(site.root), "public_website")
    assert "st-zzclash" not in {p.id for p in found.stories}
    assert "story st-zzclash is not published: its slug 'public' is used by story " \
           "st-public1" in found.problems


def test_an_unknown_use_is_a_clear_error(site):
    with pytest.raises(StorykitError, match="unknown use 'twitter'"):
        publication_set(site, "twitter")


def page(story_id: str, sha: str = "a" * 64) -> PublishedPage:
    return PublishedPage(story_id, f"/srv/site/stories/{story_id}.html", sha,
                         f"https://example.org/{story_id}.html")


def test_recording_keeps_the_log_in_step_with_what_is_live(site):
    found = publication_set(site, "public_website")
    assert found.record([page("st-public1"), page("st-ending1")], format="web", job="site-build",
                        folder="/srv/site", by="tester") == (2, 0)
    assert found.record([page("st-public1"), page("st-ending1")], format="web", job="site-build",
                        folder="/srv/site") == (0, 0)  # nothing changed: nothing recorded
    assert found.record([page("st-public1", "b" * 64)], format="web", job="site-build",
                        folder="/srv/site") == (1, 2)  # one changed, one gone
    log = site.distributions.all()
    assert [(d.story_id, d.sha256[0], d.use, d.consent_version, d.url)
            for d in log if d.removed_at is None] == [
        ("st-public1", "b", "public_website", 1, "https://example.org/st-public1.html")]
    assert [d.created_by for d in log][:2] == ["tester", "tester"]


def test_a_story_outside_the_set_cannot_be_recorded(site):
    found = publication_set(site, "public_website")
    for outsider in ("st-board01", "st-approv1", "st-nosign1", "st-nobody1"):
        with pytest.raises(StorykitError, match=f"story {outsider} may not be published"):
            found.record([page("st-public1"), page(outsider)], format="web", job="site-build",
                         folder="/srv/site")
    assert site.distributions.all() == []


def test_recording_is_all_or_nothing(site):
    """A page the log cannot hold (no digest) stops the whole record: the entry it would
    have replaced is still live, and no other page of the batch was logged."""
    found = publication_set(site, "public_website")
    found.record([page("st-public1")], format="web", job="site-build", folder="/srv/site")
    broken = PublishedPage("st-ending1", "/srv/site/stories/st-ending1.html", None, None)
    with pytest.raises(IntegrityError):
        found.record([page("st-public1", "b" * 64), broken], format="web", job="site-build",
                     folder="/srv/site")
    assert [(d.story_id, d.sha256[0], d.removed_at) for d in site.distributions.all()] == [
        ("st-public1", "a", None)]


def test_findings_looked_for_on_every_core_hold_back_the_same_stories(site, monkeypatch):
    """On a big site the blocking findings are looked for in forked workers too: a story
    with an NHS number (999 test range) is still held back, with why, and the others are
    in the set in id order, as when one process looks."""
    import storykit.publication as publication

    root = site.root
    for n in range(6):
        write_story(root, f"st-many{n:02d}", story_front(slug=f"many-{n}", status="published"),
                    body=f"A night on the ward, part {n}.\n")
    write_story(root, "st-many99", story_front(slug="many-99", status="published"),
                body="My NHS number is 999 000 0018, in case the ward needs it.\n")
    one = publication_set(Site.open(root), "public_website")
    monkeypatch.setattr(publication, "PARALLEL_FINDINGS_MIN", 2)
    monkeypatch.setattr(publication.os, "cpu_count", lambda: 2)
    # other tests in this process may have left threads of their own: count only ours
    monkeypatch.setattr(publication.threading, "active_count", lambda: 1)
    many = publication_set(Site.open(root), "public_website")
    assert [p.id for p in many.stories] == [p.id for p in one.stories]
    assert "st-many99" not in [p.id for p in many.stories]
    assert "st-many03" in [p.id for p in many.stories]
    assert many.problems == one.problems
    assert any(p.startswith("story st-many99 is not published: it has a finding")
               for p in many.problems)
    assert "999 000 0018" not in " ".join(many.problems)


# --- a big cold site: stories checked where they are parsed -----------------------------------

def _many(root) -> None:
    """Stories enough for workers: clean ones, one holding an NHS number (999 test range),
    a draft with one, one that may not go on the web site, and a broken file."""
    for n in range(12):
        write_story(root, f"st-many{n:02d}", story_front(slug=f"many-{n}", status="published"),
                    body=f"A night on the ward, part {n}.\n")
    write_story(root, "st-many99", story_front(slug="many-99", status="published"),
                body="My NHS number is 999 000 0018, in case the ward needs it.\n")
    write_story(root, "st-draft99", story_front(slug="draft-99", status="draft"),
                body="My NHS number is 999 000 0018.\n")
    (root / "stories" / "st-many05" / "story.md").write_text(
        "---\ntitle: Broken\nslug: [unclosed\n---\nText.\n", encoding="utf-8")


def _in_workers(monkeypatch) -> dict:
    """Load the next cold site on two cores with workers for even a few stories; what the
    load's checks gave is kept in the dict returned."""
    import storykit.publication as publication
    from storykit import store as store_module

    monkeypatch.setattr(store_module, "PARALLEL_PARSE_MIN", 2)
    monkeypatch.setattr(store_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(publication.threading, "active_count", lambda: 1)
    seen: dict = {"found": {}, "checked_after": []}
    load_all = store_module.FileStore.load_all
    blocking = publication._blocking_problems

    def spying_load_all(self, each=None):
        result = load_all(self, each=each)
        seen["found"] = dict(result.found)
        return result

    def spying_blocking(site, stories):
        seen["checked_after"] += [s.id for s in stories]
        return blocking(site, stories)

    monkeypatch.setattr(store_module.FileStore, "load_all", spying_load_all)
    monkeypatch.setattr(publication, "_blocking_problems", spying_blocking)
    return seen


def _alone(root) -> tuple[list[str], list[str]]:
    import shutil

    from storykit import store as store_module

    old = store_module.PARALLEL_PARSE_MIN
    store_module.PARALLEL_PARSE_MIN = 10**9
    try:
        found = publication_set(Site.open(root), "public_website")
    finally:
        store_module.PARALLEL_PARSE_MIN = old
    shutil.rmtree(root / "instance" / "cache")  # the next load is cold again
    return [p.id for p in found.stories], found.problems


def test_a_cold_big_site_is_checked_where_it_is_parsed_with_the_same_decisions(site,
                                                                                monkeypatch):
    """Workers that parse a story also look for its blocking findings (only the answer comes
    back): the same stories are published, the same ones held back with the same reasons,
    each checked once, and a broken file is still named with its file and line."""
    root = site.root
    _many(root)
    ids, problems = _alone(root)
    seen = _in_workers(monkeypatch)
    found = publication_set(Site.open(root), "public_website")
    assert [p.id for p in found.stories] == ids and found.problems == problems
    assert "st-many99" not in ids and "st-many03" in ids and "st-draft99" not in ids
    assert any(p.startswith("story st-many99 is not published: it has a finding that must be")
               for p in problems)
    assert any(p.startswith(str(root / "stories" / "st-many05" / "story.md") + ":4: YAML")
               for p in problems), problems
    told = {i: r[2] for i, r in seen["found"].items() if r}  # (blocking, slug, ...) or False
    assert told["st-many99"][0].startswith("it has a finding")
    assert told["st-many03"][0] is None and seen["found"]["st-draft99"] is False
    decided = {i for i, r in seen["found"].items() if r is not False}
    assert not set(seen["checked_after"]) & decided
    assert set(seen["checked_after"]) | decided >= set(ids) | {"st-many99"}
    again = publication_set(Site.open(root), "public_website")  # from the cache: decided here
    assert [_published(p) for p in found.stories] == [_published(p) for p in again.stories]
    assert (found.valid_from, found.valid_until) == (again.valid_from, again.valid_until)


def _published(p) -> tuple:
    """What a build takes from a publishable story, its view included."""
    return p.id, p.slug, p.consent_version, p.source_key, p.pictures, p.view


def test_a_check_that_fails_in_a_worker_is_done_again_here(site, monkeypatch):
    import os

    import storykit.publication as publication

    root = site.root
    _many(root)
    ids, problems = _alone(root)
    seen = _in_workers(monkeypatch)
    here, check = os.getpid(), publication._blocking_problem

    def failing_in_workers(site, story):
        if os.getpid() != here:
            raise RuntimeError("a bug in a worker")
        return check(site, story)

    monkeypatch.setattr(publication, "_blocking_problem", failing_in_workers)
    found = publication_set(Site.open(root), "public_website")
    assert [p.id for p in found.stories] == ids and found.problems == problems
    assert "st-many99" in seen["checked_after"]  # the worker's story was checked here


def test_a_worker_that_dies_mid_parse_changes_no_decision(site, monkeypatch):
    import os

    from storykit import store as store_module

    root = site.root
    _many(root)
    ids, problems = _alone(root)
    _in_workers(monkeypatch)
    here, read = os.getpid(), store_module.FileStore._read

    def dying_in_workers(self, story_id, *paths):
        if os.getpid() != here:
            os._exit(3)
        return read(self, story_id, *paths)

    monkeypatch.setattr(store_module.FileStore, "_read", dying_in_workers)
    found = publication_set(Site.open(root), "public_website")
    assert [p.id for p in found.stories] == ids and found.problems == problems


def test_a_view_is_never_made_unless_the_decision_made_again_agrees(site, monkeypatch):
    """A story a load's worker decided about is decided again when its view is made: if the
    answer were different then (it cannot be, for the same story and day), no view."""
    from storykit.publication import Publishable

    story = site.store.get("st-public1")
    told = Publishable.decided_in_load(site, story, "public_website", ON, ("public", 1, "k"), ())
    assert told.view.storyteller == "Leila"
    wrong = Publishable.decided_in_load(site, story, "public_website", ON, ("public", 2, "k"), ())
    with pytest.raises(StorykitError, match="decision changed"):
        wrong.view
    board_only = site.store.get("st-board01")
    refused = Publishable.decided_in_load(site, board_only, "public_website", ON,
                                          ("board", 1, "k"), ())
    with pytest.raises(StorykitError, match="decision changed"):
        refused.view
