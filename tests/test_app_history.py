"""A story's history in the app: every kept version with who saved it and when, and a
readable difference between any two, marked with words (Added / Removed) and signs, not
colour alone. Only people who may view the story see it."""

from __future__ import annotations

import re

import pytest
from app_support import make_world
from editor_support import executable_parts, save, text

from storykit.web.diffs import compare, line_diff


@pytest.fixture
def world(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine)
    ann = world.client("ann")
    save(ann, world, "st-draft1", title="A second title")
    save(ann, world, "st-draft1", body="A new first line.\n\nBeing told at the start which "
                                       "buzzer to press.")
    return world


def versions(world):
    return world.site.store.revisions("st-draft1")


def test_the_history_lists_every_version_with_who_and_when(world):
    page = text(world.client("ann").get("/stories/st-draft1/history"))
    kept = versions(world)
    assert len(kept) == 3
    rows = re.findall(r'<th scope="row">Version (\d+)</th>', page)
    assert rows == ["3", "2", "1"]  # newest first
    assert page.count("<td data-label=\"By\">Ann Example</td>") == 2
    assert "(UTC)" in page and "What changed" in page
    # the compare form offers every version, the last two chosen
    assert page.count(f'<option value="{kept[-1].etag}"') == 2
    assert f'<option value="{kept[-2].etag}" selected' in page


def test_the_difference_shows_changes_with_words_and_signs(world):
    kept = versions(world)
    page = text(world.client("ann").get(
        f"/stories/st-draft1/diff?from={kept[0].etag}&to={kept[-1].etag}"))
    assert "What changed between versions 1 and 3" in page
    assert '<h3 id="diff-title">Title</h3>' in page and '<h3 id="diff-body">The story</h3>' in page
    assert re.search(r'<del><span class="visually-hidden">Removed: </span>Waiting times on the '
                     r"childrens ward</del>", page)
    assert '<ins><span class="visually-hidden">Added: </span>A second title</ins>' in page
    assert re.search(r'<span class="diff__sign" aria-hidden="true">\+</span><ins class='
                     r'"diff__text"><span class="visually-hidden">Added: </span>A new first line'
                     r"\.</ins>", page)
    assert "Removed (only in “Version 1”)" in page and "Added (only in “Version 3”)" in page
    # the order of the two versions does not matter
    swapped = text(world.client("ann").get(
        f"/stories/st-draft1/diff?from={kept[-1].etag}&to={kept[0].etag}"))
    assert "What changed between versions 1 and 3" in swapped


def test_a_status_change_shows_no_change_of_words(world):
    from app_support import act

    act(world.client("ann"), "st-draft1", "submit")
    kept = versions(world)
    page = text(world.client("ann").get(
        f"/stories/st-draft1/diff?from={kept[-2].etag}&to={kept[-1].etag}"))
    assert '<h3 id="diff-status">Status</h3>' in page
    assert "Removed: </span>Draft</del>" in page and "Added: </span>Waiting for review" in page
    assert 'id="diff-body"' not in page and 'id="diff-title"' not in page


def test_unknown_versions_go_back_to_the_history(world):
    response = world.client("ann").get("/stories/st-draft1/diff?from=nope&to=../../x")
    assert response.status_code == 303 and response.headers["Location"].endswith("/history")


def test_a_hand_edited_version_storykit_cannot_read_is_compared_as_text(world):
    kept = versions(world)
    kept[0].path.write_text("not a story at all\nsecond line\n")
    page = text(world.client("ann").get(
        f"/stories/st-draft1/diff?from={kept[0].etag}&to={kept[-1].etag}"))
    assert "changed by hand" in page and "not a story at all" in page


def test_only_people_who_may_view_the_story_see_its_history(world):
    kept = versions(world)
    url = f"/stories/st-draft1/diff?from={kept[0].etag}&to={kept[-1].etag}"
    for who in ("bob", "rita", "pete"):
        assert world.client(who).get("/stories/st-draft1/history").status_code == 404
        assert world.client(who).get(url).status_code == 404
    assert world.client("ada").get(url).status_code == 200


def test_history_pages_escape_everything(world):
    save(world.client("ann"), world, "st-draft1", title="<script>alert(1)</script>",
         body='<img src=x onerror="alert(1)"> and [x](javascript:alert(1))')
    kept = versions(world)
    ann = world.client("ann")
    for url in ("/stories/st-draft1/history",
                f"/stories/st-draft1/diff?from={kept[0].etag}&to={kept[-1].etag}"):
        page = text(ann.get(url))
        assert not executable_parts(page), url
        assert "&lt;script&gt;" in page or url.endswith("history")


def test_line_diffs_leave_out_long_unchanged_stretches():
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 10", "line ten")
    lines = line_diff(old, new)
    kinds = [line.kind for line in lines]
    assert kinds.count("removed") == 1 and kinds.count("added") == 1
    assert kinds[0] == "gap" and kinds[-1] == "gap" and kinds.count("same") == 4
    assert line_diff("same", "same") == []


def test_differences_of_long_repetitive_versions_take_bounded_time():
    """Two versions of 9,000 equal lines (a story anyone can save) took difflib 17 s, holding
    a thread of the app; past EXACT_WORK lines x lines it skips too-common lines."""
    import time

    old = "a\n" * 9_000
    new = "b\n" + "a\n" * 4_500 + "c\n" + "a\n" * 4_499
    cycle = "\n".join(f"x{i % 3}" for i in range(9_000))
    started = time.perf_counter()
    lines = line_diff(old, new)
    line_diff(cycle, "\n".join(f"x{(i + 1) % 3}" for i in range(9_000)))
    assert time.perf_counter() - started < 3
    assert ("added", "b") in [(line.kind, line.text) for line in lines]
    assert ("added", "c") in [(line.kind, line.text) for line in lines]
    # small texts keep the exact, tidiest difference
    assert [(x.kind, x.text) for x in line_diff("a\n\nb\n\nc", "a\n\nB\n\nc")] == [
        ("same", "a"), ("same", ""), ("removed", "b"), ("added", "B"), ("same", ""),
        ("same", "c")]


def test_compare_names_fields_in_plain_words():
    from conftest import build_story

    a = build_story()
    b = a.copy(tags=["nights"], people=[], quotes=["New quote."])
    labels = [c.label for c in compare(a, b)]
    assert labels == ["Tags", "People named in the story", "Pull quotes"]
