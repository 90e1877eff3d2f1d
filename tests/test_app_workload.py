"""Heavy work people can send the app (issue 12, hardening item 2): the editor's live check
and preview of a 252 KB story of 4,000 lines of 30 nested list markers took 6.6 s and
answered 3 MB, and 16 of them at once made an anonymous sign-in page take 45 s.

Now each piece of work is short (storykit.markup refuses, in words, text that would take
long) and a few run at a time (storykit.web.workload); the rest are told, in words, to try
again, and the editor's script does. The attack is replayed against the real app served by
waitress, as ``storykit serve`` serves it, while sign-in is timed. All names are fictional.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from app_support import PASSWORD, make_world
from editor_support import editor_data, post_form, text
from heavy_checks import ATTACK, PACKED

from storykit.web.workload import Busy, Workload

STORYKIT = str(Path(sys.executable).parent / "storykit")


# --- the slots, the waiting line and the budget ---------------------------------------------------

def take(work: Workload, who: str, wait: float = 0.0) -> None:
    """Take a slot and give it back at once (or raise Busy)."""
    with work.slot(who, wait):
        pass


class Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_person_holds_one_slot_and_the_rest_are_turned_away_at_once():
    work = Workload(slots=2, queue=0, budget=60)
    with work.slot("ann"):
        with pytest.raises(Busy, match="Your last check is still running") as again:
            take(work, "ann")
        assert again.value.retry_after == 1
        with work.slot("bob"):
            started = time.perf_counter()
            with pytest.raises(Busy, match="Many people are checking stories") as full:
                take(work, "cat", wait=5)  # no room in the (empty) waiting line
            assert time.perf_counter() - started < 0.5 and full.value.retry_after == 2
    with work.slot("ann"), work.slot("cat"):  # slots come back after use, and after errors
        pass
    with pytest.raises(ZeroDivisionError), work.slot("ann"):
        1 / 0
    with work.slot("ann"):
        pass


def test_a_page_waits_a_little_for_a_slot_and_no_longer():
    work = Workload(slots=1, queue=1, budget=60)
    freed = threading.Event()

    def hold():
        with work.slot("ann"):
            freed.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(Busy):
        take(work, "bob", wait=0.2)
    assert 0.15 < time.perf_counter() - started < 1
    threading.Timer(0.1, freed.set).start()
    with work.slot("bob", wait=3):  # the slot is given to the one waiting
        pass
    holder.join()


def test_each_person_has_a_budget_of_work_per_minute():
    clock = Clock()
    work = Workload(slots=2, queue=0, budget=10, clock=clock)
    for _ in range(4):
        with work.slot("ann"):
            clock.now += 3  # three seconds of work each
    with pytest.raises(Busy, match="a lot of checks in the last minute") as spent:
        take(work, "ann")
    assert 1 <= spent.value.retry_after <= 60
    with work.slot("bob"):  # someone else is not held up
        pass
    clock.now += spent.value.retry_after
    with work.slot("ann"):
        pass


# --- the live check: words, and nothing lost ------------------------------------------------------

@pytest.fixture
def world(tmp_path):
    return make_world(tmp_path / "site")


def test_the_attack_text_is_refused_quickly_in_words_and_kept_in_the_form(world):
    ann = world.client("ann")
    story = world.site.store.get("st-draft1")
    before = (world.root / "stories" / "st-draft1" / "story.md").read_bytes()
    started = time.perf_counter()
    response = post_form(ann, "/stories/st-draft1/check", editor_data(story, body=ATTACK),
                         page="/stories/st-draft1/edit")
    assert time.perf_counter() - started < 3  # 6.6 s before; about 0.1 s here
    result = response.get_json()
    assert response.status_code == 200 and len(response.data) < 20_000  # 3 MB before
    assert result["ok"] is False and result["preview"] is None
    assert ("the text has 4,000 paragraphs, headings and other parts; at most 2,000 are "
            "allowed, so split it into two stories") in result["notes"]
    # saving or previewing it says the same by the box, with every character still there
    page = post_form(ann, "/stories/st-draft1/edit",
                     editor_data(story, body=PACKED, action="preview"),
                     page="/stories/st-draft1/edit")
    assert page.status_code == 422
    assert ("The story cannot be shown as it is: the text has 120,000 list items and quote "
            "marks") in text(page) and "use fewer lists or quotes" in text(page)
    assert PACKED in text(page).replace("\r\n", "\n")
    assert (world.root / "stories" / "st-draft1" / "story.md").read_bytes() == before


def test_a_text_full_of_findings_is_checked_quickly_and_listed_in_part(world):
    """12,000 phone numbers in 234 KB took 8.6 s and answered 6.2 MB: every finding was
    compared with every other and all were listed. Now the first 100 are, and the rest are
    counted in words."""
    ann = world.client("ann")
    story = world.site.store.get("st-draft1")
    body = "\n\n".join(["Call 07700 900123 or 07700 900124 now. " * 40] * 150)
    started = time.perf_counter()
    response = post_form(ann, "/stories/st-draft1/check", editor_data(story, body=body),
                         page="/stories/st-draft1/edit")
    assert time.perf_counter() - started < 8
    details = response.get_json()["details"]
    assert len(response.data) < 1_000_000 and details.count('class="finding ') == 100
    assert "There are 11,900 more like these. Deal with these first" in details
    page = post_form(ann, "/stories/st-draft1/edit",
                     editor_data(story, body=body, action="preview"),
                     page="/stories/st-draft1/edit")
    assert text(page).count('class="finding ') == 100 and "11,900 more like these" in text(page)


def test_a_busy_app_answers_429_in_words_and_the_page_keeps_the_text(world):
    ann = world.client("ann")
    story = world.site.store.get("st-draft1")
    workload = world.app.extensions["storykit"].workload
    workload.slots = 0  # as if others held every slot
    response = post_form(ann, "/stories/st-draft1/check",
                         editor_data(story, body="We waited for the porter."),
                         page="/stories/st-draft1/edit")
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert "your text is kept" in response.get_json()["message"]
    page = post_form(ann, "/stories/st-draft1/edit",
                     editor_data(story, body="We waited for the porter.", action="preview"),
                     page="/stories/st-draft1/edit")
    assert page.status_code == 200
    assert "We waited for the porter." in text(page)
    assert "Many people are checking stories right now" in text(page)
    assert "Nothing found" not in text(page)  # the checks did not run: it must not say so
    workload.slots = 2
    assert post_form(ann, "/stories/st-draft1/check", editor_data(story),
                     page="/stories/st-draft1/edit").status_code == 200


# --- the attack, against the app as `storykit serve` runs it --------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def serve(tmp_path):
    """``storykit serve`` in a process of its own, on a free port (cookies over plain http:
    development mode); yields its address and the site's world."""
    world = make_world(tmp_path / "site")
    port = free_port()
    env = {**os.environ, "STORYKIT_ENV": "development"}
    server = subprocess.Popen([STORYKIT, "--site", str(world.root), "serve", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if get(base + "/sign-in")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"storykit serve did not start: {server.stderr.read()}")
        yield base, world
    finally:
        server.terminate()
        server.wait(timeout=30)


def _sign_in_waits(base: str, count: int) -> list[float]:
    """How long the sign-in page takes, ``count`` times, 50 ms apart."""
    waits = []
    for _ in range(count):
        started = time.perf_counter()
        status, page = get(base + "/sign-in")
        waits.append(time.perf_counter() - started)
        assert status == 200 and b"Sign in" in page
        time.sleep(0.05)
    return waits


def test_sixteen_heavy_checks_at_once_leave_sign_in_fast(serve, tmp_path):
    base, world = serve
    forms = tmp_path / "forms.json"
    forms.write_text(json.dumps({
        name: [story_id, {k: v for k, v in editor_data(world.site.store.get(story_id)).items()
                          if k != "body"}]
        for name, story_id in (("ann", "st-draft1"), ("bob", "st-bobdraft"))}))
    idle = sorted(_sign_in_waits(base, 20))  # the same page on this machine, nobody attacking
    attacker = subprocess.Popen([sys.executable, str(Path(__file__).with_name("heavy_checks.py")),
                                 base, PASSWORD, str(forms)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert attacker.stdout.readline().strip() == "ready", attacker.stderr.read()
        waits = _sign_in_waits(base, 40)  # an anonymous visitor opens it meanwhile
        out, err = attacker.communicate("stop\n", timeout=180)
    finally:
        attacker.kill()
    summary = json.loads(out.strip().splitlines()[-1])
    waits.sort()
    p95 = waits[int(len(waits) * 0.95) - 1]
    idle_p95 = idle[int(len(idle) * 0.95) - 1]
    print(f"sign-in: median {waits[len(waits) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
          f"(idle p95 {idle_p95 * 1000:.0f} ms); the attack: {summary}")
    # fast means: within 0.3 s, or (on a machine busy with other work) within a few times
    # what the page takes here with nobody attacking; heavy checks holding it up take seconds
    limit = max(0.3, 4 * idle_p95)
    assert p95 < limit, f"sign-in p95 {p95:.3f} s (limit {limit:.3f} s), median " \
                        f"{waits[len(waits) // 2]:.3f} s"
    assert summary["threads"] == 16 and set(summary["statuses"]) <= {"200", "429"}, summary
    assert summary["statuses"].get("200") and summary["statuses"].get("429"), summary
    assert summary["429 without Retry-After"] == 0
    assert summary["largest answer"] < 1_000_000  # 3 MB before
    assert summary["slowest 200"] < 10


# --- the editor's script, when the app is busy ------------------------------------------------------

def test_the_editor_says_when_the_app_is_busy_and_checks_again_by_itself(tmp_path):
    """In Chromium: a live check turned away shows the app's words under the preview (no
    axe violations), and the script asks again after Retry-After, with the text unchanged."""
    from app_support import audit_page, launch_chromium, served, sign_in_page
    from playwright.sync_api import expect, sync_playwright

    world = make_world(tmp_path / "site")
    workload = world.app.extensions["storykit"].workload
    with served(world.app) as base, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))  # the script's own
            sign_in_page(page, base, "ann")
            page.goto(f"{base}/stories/st-draft1/edit")
            workload.slots = 0  # every slot taken by others
            body = page.locator("#body")
            body.fill("")
            body.press_sequentially("The porter walked us all the way to the eye clinic.")
            notes = page.locator("#preview-notes")
            expect(notes).to_contain_text("Many people are checking stories right now")
            expect(notes).to_contain_text("your text is kept")
            problems = audit_page(page, "editor, while the app is busy")
            workload.slots = 2  # room again: the script's next try (Retry-After: 2) works
            frame = page.frame_locator("#preview-frame")
            expect(frame.locator(".story__body")).to_contain_text("all the way to the eye clinic")
            expect(notes).not_to_contain_text("Many people")
            assert body.input_value() == "The porter walked us all the way to the eye clinic."
            assert problems == [], problems
            assert errors == [], errors
        finally:
            chromium.close()
