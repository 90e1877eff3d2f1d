"""The file store: ids, saving safely, conflicts, history, consent appends, crashes, full disks."""

from __future__ import annotations

import datetime as dt
import errno
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    BODY,
    ON,
    consent_version,
    lock_held_elsewhere,
    snapshot,
    story_front,
    write_story,
)

from storykit import fsio
from storykit import model as m
from storykit.errors import ConflictError, GoneError, NotFoundError, NotSavedError, ValidationError
from storykit.fsio import TEMP_PREFIX
from storykit.site import Site
from storykit.slugs import ID_RE
from storykit.store import SWEEP_STAMP
from storykit.storyfile import parse_consent, parse_story

SID = "st-test01"
#: The store contract holds on both engines: on PostgreSQL the story locks are advisory locks
#: and every change goes into the change feed (storykit.storylocks, storykit.changes).
pytestmark = pytest.mark.usefixtures("database_env")


@pytest.fixture
def store(site_root):
    write_story(site_root, SID)
    return Site.open(site_root).store


def temp_files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"{TEMP_PREFIX}*")]


# --- ids and creating ------------------------------------------------------------------------

def test_create_generates_ids_never_from_the_title(site):
    made = [site.store.create(title) for title in
            ("Night feeds", "../../etc/passwd", "st-example", "Ａ title in full width")]
    ids = [s.id for s in made]
    assert len(set(ids)) == 4
    assert all(ID_RE.match(i) and i.startswith("st-") for i in ids)
    assert "st-example" not in ids
    assert sorted(p.name for p in (site.root / "stories").iterdir()) == sorted(ids)
    assert [s.slug for s in made] == ["night-feeds", "etc-passwd", "st-example", "a-title-in-full-width"]


def test_a_new_story_is_a_valid_draft_with_its_first_revision_kept(site):
    story = site.store.create("Night feeds", storyteller="Aisha Rahman", role="carer",
                              today=dt.date(2027, 1, 2))
    again = parse_story(story.path.read_bytes(), "story.md", story.id)
    assert (again.title, again.slug, again.status, again.revision) == ("Night feeds", "night-feeds",
                                                                      "draft", 1)
    assert again.storyteller == m.Storyteller("Aisha Rahman", "carer")
    assert again.created == again.updated == dt.date(2027, 1, 2)
    assert [r.revision for r in site.store.revisions(story.id)] == [1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"title": "Line one\nline two"}, "title should be on one line"),
    ({"title": "x" * 201}, "title is longer than 200 characters"),
    ({"title": "Night feeds", "storyteller": "Aisha\nRahman"}, "storyteller.name should be on one line"),
    ({"title": "   "}, "a story needs a title"),
    ({"title": "Night feeds", "role": "nurse"}, "role must be one of"),
    ({"title": "Night feeds", "slug": "Night Feeds!"}, "may use only lower-case"),
    ({"title": "!!!"}, "the slug is empty"),
])
def test_create_refuses_bad_details_and_leaves_nothing_behind(site, kwargs, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        site.store.create(**kwargs)
    assert list((site.root / "stories").iterdir()) == []
    assert site.store.load_all().problems == []


def _create_in_child(root: str, slug: str, barrier, results) -> None:
    site = Site.open(root)
    barrier.wait()
    try:
        story = site.store.create("Same title", slug=slug)
        results.put(("created", story.id))
    except ConflictError as exc:
        results.put(("conflict", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        results.put(("error", repr(exc)))


def test_two_processes_creating_one_slug_one_wins(site_root):
    ctx = multiprocessing.get_context("fork")
    for _ in range(5):  # a few rounds, each a real race
        slug = f"same-slug-{random.randrange(10**6)}"
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_create_in_child, args=(str(site_root), slug, barrier, results))
                 for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=20) for _ in procs)
        for p in procs:
            p.join(10)
        assert [o[0] for o in outcomes] == ["conflict", "created"], outcomes
        assert f"the slug '{slug}' is already used by story {outcomes[1][1]}" in outcomes[0][1]
    loaded = Site.open(site_root).store.load_all()
    assert loaded.problems == [] and len(loaded.stories) == 5


def test_find_by_id_or_slug(store):
    assert store.find(SID).id == SID
    assert store.find("night-feeds").id == SID
    assert store.find("ＮＩＧＨＴ-ＦＥＥＤＳ").id == SID
    assert store.find("night\u200b-feeds").id == SID
    for ref in ("st-nothere", "no-such-story", "../st-test01", ""):
        with pytest.raises(NotFoundError):
            store.find(ref)


def test_load_all_reports_every_broken_file_and_keeps_the_rest(site_root):
    write_story(site_root, "st-good01")
    write_story(site_root, "st-bad001", story_front(slug="bad-one", status="publish"),
                consent=[consent_version(uses=["board", "bogus_use"])])
    (site_root / "stories" / "st-empty1").mkdir()
    (site_root / "stories" / "Not_An_Id").mkdir()
    write_story(site_root, "st-dup001")  # same slug as st-good01
    loaded = Site.open(site_root).store.load_all()
    assert [s.id for s in loaded.stories] == ["st-dup001", "st-good01"]
    text = "\n".join(str(p) for p in loaded.problems)
    assert "st-bad001/story.md:4: status: 'publish' is not a valid story status" in text
    assert "st-bad001/consent.yml:" in text and "'bogus_use' is not a valid use" in text
    assert "st-empty1: story.md is missing" in text
    assert "Not_An_Id: folder name is not a valid story id" in text
    assert "slug 'night-feeds' is also used by story st-dup001" in text


def test_edits_on_disk_are_seen_by_the_next_read(store, site_root):
    path = site_root / "stories" / SID / "story.md"
    assert store.load_all().stories[0].title == "Night feeds on the postnatal ward"
    path.write_text(path.read_text().replace("Night feeds", "Night milks"))  # same size
    assert store.get(SID).title == "Night milks on the postnatal ward"
    fresh = Site.open(site_root).store  # a new process, with the instance cache on disk
    assert fresh.load_all().stories[0].title == "Night milks on the postnatal ward"


# --- saving ------------------------------------------------------------------------------------

def test_save_writes_a_new_revision_and_keeps_the_old(store):
    first = store.get(SID)
    original = first.path.read_bytes()
    saved = store.save(first.copy(body="A new telling.\n"), by="jo.advocate", today=ON)
    assert saved.body == "A new telling.\n" and saved.revision == 4 and saved.updated == ON
    assert saved.etag != first.etag
    history = store.revisions(SID)
    assert [r.revision for r in history] == [3, 4]
    assert history[0].path.read_bytes() == original
    assert store.revision_text(SID, history[1]) == saved.path.read_text()
    assert history[1].by == "jo.advocate"


def test_saving_keeps_the_users_layout(site_root):
    text = ("---\n# my notes\nstatus: approved\ntitle: Night feeds   # short title\nslug: night-feeds\n"
            "storyteller: {name: Aisha Rahman, role: patient}\nrevision: 3\n---\nBody\n")
    write_story(site_root, SID, text)
    store = Site.open(site_root).store
    saved = store.save(store.get(SID).copy(summary="What helped."), today=ON)
    new = saved.path.read_text()
    assert new.startswith("---\n# my notes\nstatus: approved\ntitle: Night feeds   # short title\n"
                          "slug: night-feeds\n")
    assert "summary: What helped." in new and new.endswith("---\nBody\n")


def test_a_status_change_keeps_the_sign_off_valid(store):
    """Approving a signed-off story must not make the sign-off look stale."""
    site_story = store.get(SID).copy(status="in_review")
    story = store.save(site_story, today=ON)
    assert story.revision == 3  # the words did not change
    story = store.save(story.copy(status="approved"), today=ON)
    from storykit.consent import decide
    assert decide(story, "board", ON).allowed
    edited = store.save(story.copy(body="Changed words.\n"), today=ON)
    assert edited.revision == 4
    assert decide(edited, "board", ON).codes == ["signoff_stale"]
    assert [r.revision for r in store.revisions(SID)] == [3, 3, 3, 4]


def test_stale_save_raises_conflict_and_keeps_both_texts(store):
    alice = store.get(SID)
    bob = store.get(SID)  # same base revision
    winner = store.save(alice.copy(body="Alice's version.\n"), by="alice")
    with pytest.raises(ConflictError) as info:
        store.save(bob.copy(body="Bob's version.\n"), by="bob")
    conflict = info.value
    assert "changed by someone else" in str(conflict)
    assert winner.path.read_text().endswith("---\nAlice's version.\n")
    assert "Bob's version." in conflict.mine and "Alice's version." in conflict.theirs
    assert conflict.saved_copy.read_text() == conflict.mine
    assert "bob" in conflict.saved_copy.name
    assert parse_story(conflict.mine.encode(), "copy", SID).body == "Bob's version.\n"


def _save_in_child(root: str, base_etag: str, body: str, barrier, results) -> None:
    store = Site.open(root).store
    story = store.get(SID)
    assert story.etag == base_etag
    barrier.wait()
    try:
        store.save(story.copy(body=body), by=body.split()[0])
        results.put(("saved", body, None, None))
    except ConflictError as exc:
        results.put(("conflict", body, exc.mine, str(exc.saved_copy)))


def test_two_writers_from_one_base_exactly_one_wins(store, site_root):
    ctx = multiprocessing.get_context("fork")
    for round_no in range(4):
        base = store.get(SID)
        barrier, results = ctx.Barrier(2), ctx.Queue()
        bodies = [f"alice round {round_no}\n", f"bob round {round_no}\n"]
        procs = [ctx.Process(target=_save_in_child,
                             args=(str(site_root), base.etag, b, barrier, results)) for b in bodies]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=20) for _ in procs)
        for p in procs:
            p.join(10)
        (lost, loser, mine, copy), (won, winner, _, _) = outcomes
        assert (lost, won) == ("conflict", "saved")
        assert store.get(SID).body == winner
        assert loser in mine and Path(copy).read_text() == mine


def test_save_of_invalid_content_changes_nothing(store, site_root):
    before = snapshot(site_root / "stories")
    with pytest.raises(ValidationError, match="title should be on one line"):
        store.save(store.get(SID).copy(title="Two\nlines"))
    with pytest.raises(ValidationError, match="storyteller role"):
        store.save(store.get(SID).copy(storyteller=m.Storyteller("Aisha", "nurse")))
    assert snapshot(site_root / "stories") == before


def test_save_after_the_story_was_deleted_does_not_recreate_it(store, site_root):
    story = store.get(SID)
    (site_root / "stories" / SID / "story.md").unlink()
    with pytest.raises(GoneError, match="will not be re-created"):
        store.save(story.copy(body="x\n"))
    assert not (site_root / "stories" / SID / "story.md").exists()


def test_a_slug_taken_by_another_story_cannot_be_saved(store, site_root):
    other = store.create("Another story")
    with pytest.raises(ConflictError, match="already used by story"):
        store.save(store.get(other.id).copy(slug="night-feeds"))
    assert store.get(other.id).slug == "another-story"
    assert store.save(store.get(other.id).copy(slug="another-story-2")).slug == "another-story-2"


def test_a_save_waits_for_the_lock_held_by_another_process(store, site_root):
    ctx = multiprocessing.get_context("fork")
    held = ctx.Event()

    def hold():
        with Site.open(site_root).store.locks.hold(SID):
            held.set()
            time.sleep(0.6)

    proc = ctx.Process(target=hold)
    proc.start()
    assert held.wait(10)
    start = time.monotonic()
    store.save(store.get(SID).copy(body="after the lock\n"))
    waited = time.monotonic() - start
    proc.join(10)
    assert waited > 0.3
    assert store.get(SID).body == "after the lock\n"


# --- crashes -------------------------------------------------------------------------------------

FILLER = "".join(f"Line {i} of a long story that takes a while to write.\n" for i in range(8000))
VERSION_RE = re.compile(r"round (\d+) save (\d+)\n")


def _writer_forever(root: Path, round_no: int) -> None:
    store = Site.open(root).store
    for k in range(10_000):
        story = store.get(SID)
        store.save(story.copy(body=f"round {round_no} save {k}\n{FILLER}END\n"), by="writer")


def test_sigkill_at_random_points_never_tears_the_file(store, site_root):
    path = site_root / "stories" / SID / "story.md"
    rng = random.Random(20270301)
    swept = 0
    started = time.monotonic()
    # warm up here, so each forked writer starts saving at once, and time one save
    store.save(store.get(SID).copy(body=f"round 0 save 0\n{FILLER}END\n"))
    timer = time.monotonic()
    store.save(store.get(SID).copy(body=f"round 0 save 1\n{FILLER}END\n"))
    one_save = time.monotonic() - timer
    for round_no in range(120):
        pid = os.fork()
        if pid == 0:  # the writer: save again and again until killed
            try:
                _writer_forever(site_root, round_no)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, 2 * one_save))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        data = path.read_bytes()
        story = parse_story(data, str(path), SID)  # never torn: always a whole, valid file
        assert (VERSION_RE.match(story.body)
                                      and story.body.endswith(f"\n{FILLER}END\n")), story.body[:80]
        removed = Site.open(site_root).store.sweep()  # as at start-up
        swept += len(removed)
        assert temp_files_under(site_root) == []
    # the kills landed mid-write often enough for the sweep to matter
    assert swept > 0
    # about 4 s on a quiet machine; the bound only catches a test that has become slow
    assert time.monotonic() - started < 60
    assert Site.open(site_root).store.load_all().problems == []
    for revision in Site.open(site_root).store.revisions(SID):
        parse_story(revision.path.read_bytes(), "kept", SID)


def test_sweep_removes_strays_but_not_while_a_writer_holds_the_lock(store, site_root):
    folder = site_root / "stories" / SID
    strays = [folder / ".tmp-abc123", site_root / "instance" / "revisions" / SID / ".tmp-def456",
              site_root / "instance" / "conflicts" / SID / ".tmp-ghi789"]
    for p in strays[1:]:
        p.parent.mkdir(parents=True, exist_ok=True)
    for p in strays:
        p.write_text("half a story")
    ctx = multiprocessing.get_context("fork")
    held, done = ctx.Event(), ctx.Event()

    def hold():
        with Site.open(site_root).store.locks.hold(SID):
            held.set()
            done.wait(10)

    proc = ctx.Process(target=hold)
    proc.start()
    assert held.wait(10)
    assert store.sweep() == []  # someone is writing this story right now
    assert all(p.exists() for p in strays)
    done.set()
    proc.join(10)
    assert sorted(store.sweep()) == sorted(strays)
    assert temp_files_under(site_root) == []
    assert (folder / "story.md").exists() and (folder / "consent.yml").exists()


def _age(path: Path, seconds: float) -> None:
    when = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(when, when))


def test_a_quick_sweep_looks_only_in_folders_changed_since_the_last_sweep(store, site_root,
                                                                          monkeypatch):
    """Every command sweeps; on a big site listing every story folder each time is slow, so
    the command line's sweep lists only the folders a file was added to since the last."""
    from storykit import store as store_module

    other = "st-other01"
    write_story(site_root, other)
    listed: list[str] = []
    real = store_module.temp_files
    monkeypatch.setattr(store_module, "temp_files",
                        lambda folder: listed.append(str(folder)) or real(folder))
    stories = site_root / "stories"
    assert store.sweep(quick=True) == []  # the first sweep looks everywhere
    assert {str(stories / SID), str(stories / other)} <= set(listed)
    for folder in (stories / SID, stories / other):
        _age(folder, 60)
    listed.clear()
    assert store.sweep(quick=True) == []
    assert not [f for f in listed if f.startswith(str(stories) + "/")]  # nothing changed
    stray = stories / other / ".tmp-died01"
    stray.write_text("half a story")  # a writer died here: the folder changed
    listed.clear()
    assert store.sweep(quick=True) == [stray]
    assert [f for f in listed if f.startswith(str(stories) + "/")] == [str(stories / other)]
    assert not stray.exists()


def test_a_quick_sweep_comes_back_for_a_stray_a_busy_writer_held(store, site_root):
    stamp = site_root / "instance" / "cache" / SWEEP_STAMP
    store.sweep(quick=True)
    _age(stamp, 20)
    folder = site_root / "stories" / SID
    stray = folder / ".tmp-busy01"
    stray.write_text("half a story")
    _age(folder, 10)  # changed after the last sweep, well before the next one
    with lock_held_elsewhere(site_root, SID):
        assert store.sweep(quick=True) == []  # the writer may still be busy with it
    assert store.sweep(quick=True) == [stray]  # so the next sweep looks again


def test_a_sweep_that_cannot_keep_its_stamp_still_sweeps(store, site_root):
    cache = site_root / "instance" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("not a folder")  # so the stamp cannot be written
    stray = site_root / "stories" / SID / ".tmp-died03"
    stray.write_text("half a story")
    assert store.sweep(quick=True) == [stray]
    assert store.sweep(quick=True) == []  # and again, looking everywhere


def test_every_command_sweeps(site_root, capsys):
    from storykit.cli import main

    write_story(site_root, SID)
    stray = site_root / "stories" / SID / ".tmp-died02"
    stray.write_text("half a story")
    with pytest.raises(SystemExit):
        main(["--site", str(site_root), "check"])
    assert not stray.exists()


# --- full disk -----------------------------------------------------------------------------------

def _is_temp_fd(fd: int) -> bool:
    return TEMP_PREFIX in os.readlink(f"/proc/self/fd/{fd}")


@pytest.mark.parametrize("fail", ["write", "replace"])
def test_replacing_an_output_file_leaves_old_or_new_never_half(tmp_path, monkeypatch, fail):
    """fsio.replace_file (web pages and pictures): no sync, but never a half-written file
    and no temporary file left behind when the disk fills up."""
    page = tmp_path / "page.html"
    fsio.replace_file(page, b"old page")
    assert page.stat().st_mode & 0o777 == 0o644
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if fail == "write":
        real_write = os.write

        def write(fd, data):  # a disk that fills up half-way through the new page
            real_write(fd, bytes(data[: len(data) // 2]))
            raise enospc

        monkeypatch.setattr(os, "write", write)
    else:
        monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(enospc))
    with pytest.raises(OSError):
        fsio.replace_file(page, b"new page " * 1000)
    monkeypatch.undo()
    assert page.read_bytes() == b"old page" and temp_files_under(tmp_path) == []
    fsio.replace_file(page, b"new page", mode=0o600)
    assert page.read_bytes() == b"new page" and page.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("call", ["write", "fsync", "replace", "mkstemp"])
def test_full_disk_injected_leaves_everything_intact(store, site_root, monkeypatch, call):
    before = snapshot(site_root / "stories")
    story = store.get(SID)
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(fd, data):
        if _is_temp_fd(fd):
            real_write(fd, bytes(data[: len(data) // 2]))  # a part goes, then the disk is full
            raise enospc
        return real_write(fd, data)

    def fsync(fd):
        if _is_temp_fd(fd):
            raise enospc
        return real_fsync(fd)

    def replace(src, dst):
        if TEMP_PREFIX in str(src):
            raise enospc
        return real_replace(src, dst)

    def mkstemp(*args, **kwargs):
        raise enospc

    fakes = {"write": (fsio.os, "write", write), "fsync": (fsio.os, "fsync", fsync),
             "replace": (fsio.os, "replace", replace),
             "mkstemp": (fsio.tempfile, "mkstemp", mkstemp)}
    with monkeypatch.context() as patch:
        patch.setattr(*fakes[call])
        with pytest.raises(NotSavedError) as info:
            store.save(story.copy(body="This will not fit.\n"))
        assert "not saved" in str(info.value) and "the disk is full" in str(info.value)
        assert "unchanged" in str(info.value)
        with pytest.raises(NotSavedError):
            store.add_consent(SID, m.ConsentVersion.from_dict(consent_version(uses=["board"])))
        with pytest.raises(NotSavedError):
            store.withdraw(SID, "stop_future_use", "moved away")
    assert snapshot(site_root / "stories") == before
    assert temp_files_under(site_root) == []
    assert store.get(SID).body == BODY
    # with space again, saving works
    assert store.save(store.get(SID).copy(body="Fits now.\n")).body == "Fits now.\n"


def test_full_disk_on_a_real_small_filesystem(tmp_path, monkeypatch):
    """A real tmpfs filled up (when we may mount one); otherwise ENOSPC injected at write."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True).returncode == 0
    try:
        root = mnt / "site"
        (root / "stories").mkdir(parents=True)
        (root / "storykit.toml").write_text('[site]\ntitle = "Small disk"\n')
        write_story(root, SID)
        store = Site.open(root).store
        story = store.save(store.get(SID).copy(body="Saved while there was room.\n"))
        before = snapshot(root / "stories")
        if mounted:
            fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
            try:
                for size in (1 << 16, 1 << 12, 1):
                    while True:
                        try:
                            os.write(fd, b"\0" * size)
                        except OSError as exc:
                            assert exc.errno == errno.ENOSPC
                            break
            finally:
                os.close(fd)
        else:
            real_write = os.write

            def write(fd, data):
                if _is_temp_fd(fd):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real_write(fd, data)

            monkeypatch.setattr(fsio.os, "write", write)
        with pytest.raises(NotSavedError, match="not saved: the disk is full"):
            store.save(story.copy(body=FILLER))
        with pytest.raises(NotSavedError, match="not saved: the disk is full"):
            store.add_consent(SID, m.ConsentVersion.from_dict(consent_version(uses=["board"])))
        assert snapshot(root / "stories") == before
        assert temp_files_under(root) == []
        assert store.get(SID).body == "Saved while there was room.\n"
        monkeypatch.undo()
        if mounted:
            (mnt / "filler").unlink()
        assert store.save(store.get(SID).copy(body="Room again.\n")).body == "Room again.\n"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], check=True)


# --- consent -----------------------------------------------------------------------------------

CONSENT_BY_HAND = """\
# Consent for this story. Never edit an old version: add a new one at the end.
versions:
- version: 1
  recorded: 2026-09-02T14:10:00Z   # at the clinic
  status: active
  given_by: self
  method: written
  granted: 2026-09-02
  expires: 2029-09-02
  uses: [board, staff_training, clinical_teams, public_website]
  media: [text, quotes, photo]
  identification: pseudonym
  signoff_required: true
  signed_off: 2026-09-20
  signed_off_revision: 3
  notes: |
    Happy for this to be read aloud."""


def test_consent_changes_append_and_never_rewrite(site_root):
    write_story(site_root, SID, consent=CONSENT_BY_HAND)
    store = Site.open(site_root).store
    path = site_root / "stories" / SID / "consent.yml"
    original = path.read_bytes()
    story = store.add_consent(SID, m.ConsentVersion.from_dict(consent_version(
        version=99, uses=["board", "press"], identification="first_name")), by="jo.advocate")
    second = path.read_bytes()
    assert second.startswith(original)
    assert [v.version for v in story.consent] == [1, 2]
    assert story.current_consent.recorded_by == "jo.advocate"
    assert story.current_consent.uses == ["board", "press"]
    withdrawn = store.withdraw(SID, "stop_future_use", "I have moved away", on=ON)
    assert path.read_bytes().startswith(second)
    assert [v.status for v in withdrawn.consent] == ["active", "active", "withdrawn"]
    assert withdrawn.current_consent.withdrawal.reason == "I have moved away"
    assert withdrawn.current_consent.uses == ["board", "press"]
    parse_consent(path.read_bytes(), "consent.yml", tuple(m.DEFAULT_USES))


def test_consent_append_checks_the_base_revision(store, site_root):
    path = site_root / "stories" / SID / "consent.yml"
    base = store.get(SID).consent_etag
    store.add_consent(SID, m.ConsentVersion.from_dict(consent_version()), base_etag=base)
    before = path.read_bytes()
    with pytest.raises(ConflictError, match="consent record was changed"):
        store.add_consent(SID, m.ConsentVersion.from_dict(consent_version()), base_etag=base)
    assert path.read_bytes() == before


def test_an_invalid_consent_version_is_not_written(store, site_root):
    path = site_root / "stories" / SID / "consent.yml"
    before = path.read_bytes()
    with pytest.raises(ValidationError, match="new consent version was not saved.*bogus_use"):
        store.add_consent(SID, m.ConsentVersion.from_dict(consent_version(uses=["bogus_use"])))
    with pytest.raises(ValidationError, match="reason is longer than 2000"):
        store.withdraw(SID, "stop_future_use", "x" * 2500)
    assert path.read_bytes() == before
    assert store.get(SID).status == "approved"


def test_withdraw_stop_future_use(store, site_root):
    before = store.get(SID)
    story = store.withdraw(SID, "stop_future_use", "changed my mind", on=ON, by="jo")
    assert story.status == "withdrawn" and story.body == before.body
    assert story.current_consent.withdrawal.scope == "stop_future_use"
    from storykit.consent import decide
    assert decide(story, "board", ON).codes[:1] == ["withdrawn"]
    with pytest.raises(GoneError):
        store.save(story.copy(status="approved"))


def test_contact_details_are_kept_when_use_stops_and_erased_with_everything(site_root):
    contact = {"agrees_to_contact": True, "name": "Aisha Rahman",
               "email": "aisha.private@example.org", "address": ["12 Quiet Lane", "BF1 2ZZ"],
               "preferred_format": "large_print"}
    write_story(site_root, "st-keep01", story_front(slug="keep-one"),
                consent=[consent_version(contact=contact)])
    write_story(site_root, "st-gone01", story_front(slug="gone-one"),
                consent=[consent_version(contact=contact), consent_version(
                    version=2, contact={**contact, "address": list(contact["address"]),
                                        "preferred_format": "easy_read"})])
    site = Site.open(site_root)
    kept = site.store.withdraw("st-keep01", "stop_future_use", "Stop please", on=ON)
    assert kept.current_consent.contact.email == "aisha.private@example.org"  # for the letter
    gone = site.store.withdraw("st-gone01", "delete_everything", "Delete it", on=ON)
    assert all(v.contact is None for v in gone.consent) and len(gone.consent) == 3
    for path in (site_root / "stories" / "st-gone01").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for private in (b"aisha.private", b"Quiet Lane", b"BF1 2ZZ", b"contact"):
                assert private not in data, (path, private)


def test_withdraw_delete_everything_erases_text_media_and_history(site_root):
    text = "---\n# Aisha's mum asked for the ward name to stay out\n" + \
        "\n".join(f"{k}: {v}" for k, v in [("title", "Night feeds"), ("slug", "night-feeds"),
                                            ("status", "published")]) + \
        "\nstoryteller:\n  name: Aisha Rahman\n  role: patient\n  pseudonym: Leila\n" \
        "quotes: [\"Carol stayed with me\"]\nrevision: 3\n---\n" + BODY
    folder = write_story(site_root, SID, text, consent=CONSENT_BY_HAND)
    (folder / "media").mkdir()
    (folder / "media" / "cot.jpg").write_bytes(b"\xff\xd8 photo")
    (folder / "evidence").mkdir()
    (folder / "evidence" / "form.pdf").write_bytes(b"%PDF signed form")
    (folder / "consent.yml").write_text(
        CONSENT_BY_HAND.replace("# at the clinic", "# Aisha signed at the clinic")
        .replace("Happy for this", "Aisha is happy for this") + "\n  evidence: evidence/form.pdf\n")
    site = Site.open(site_root)
    site.store.save(site.store.get(SID).copy(summary="A summary naming Aisha."))
    site.store.load_all()  # the instance cache now holds the text as well
    before = site.store.get(SID).consent
    story = site.store.withdraw(SID, "delete_everything", "Aisha Rahman asked by phone", on=ON)
    assert story.status == "withdrawn" and story.body == "" and story.quotes == []
    assert story.slug == SID and story.title == "Withdrawn story"  # the slug named the story
    assert not (folder / "media").exists() and not (folder / "evidence").exists()
    for path in site_root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for private in (b"Aisha", b"Rahman", b"Carol", b"Leila", b"second night",
                            b"night-feeds", b"Night feeds", b"read aloud", b"form.pdf"):
                assert private not in data, (path, private)
    assert len(site.store.revisions(SID)) == 1
    # the consent record stays, minimal: every version, without free text or form names
    after = story.consent
    assert len(after) == len(before) + 1 and after[-1].withdrawal.scope == "delete_everything"
    assert after[-1].withdrawal.reason is None and after[-1].withdrawal.requested == ON
    for old, kept in zip(before, after, strict=False):
        assert kept.notes is None and kept.evidence is None
        assert kept.to_dict() == {k: v for k, v in old.to_dict().items()
                                  if k not in ("notes", "evidence")}


def test_loading_leaves_the_garbage_collector_as_it_was(store):
    import gc

    assert gc.isenabled()
    store.load_all()
    assert gc.isenabled()
    gc.disable()
    try:
        store.load_all()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_loading_and_checking_leave_the_collector_on_and_nothing_frozen(site_root):
    """The pause moves what was loaded to the collector's oldest generation (a freeze and an
    unfreeze): afterwards it is on, and nothing is left frozen, so cycles are still freed."""
    import gc

    from storykit.checks import check_site

    write_story(site_root, SID)
    site = Site.open(site_root)
    site.store.load_all()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert check_site(site, ON).stories == 1
    assert gc.isenabled() and gc.get_freeze_count() == 0



def test_a_process_that_loaded_stories_exits_without_walking_them(site_root):
    """At exit (and only then) everything is set aside from the collector, so the
    interpreter's own collections do not walk every story again; exit handlers registered
    earlier still run, after it."""
    write_story(site_root, SID)
    script = (
        "import atexit, gc, sys\n"
        "from storykit.site import Site\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "site = Site.open(sys.argv[1])\n"
        "print('stories:', len(site.store.load_all().stories))\n"
        "print('frozen meanwhile:', gc.get_freeze_count() > 0)\n")
    done = subprocess.run([sys.executable, "-c", script, str(site_root)], capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout.splitlines() == ["stories: 1", "frozen meanwhile: False",
                                        "frozen at exit: True"]

# --- the parse cache in the instance folder --------------------------------------------------

def settled_site(site_root: Path, count: int) -> list[str]:
    """``count`` stories whose files were last changed a minute ago (settled for the cache)."""
    ids = [f"st-cache{n:03d}" for n in range(count)]
    for n, story_id in enumerate(ids):
        write_story(site_root, story_id, story_front(slug=f"cached-{n}", title=f"Cached {n}"))
    for path in (site_root / "stories").rglob("*.*"):
        os.utime(path, (time.time() - 60, time.time() - 60))
    return ids


def edit_settled(site_root: Path, story_id: str, old: str, new: str) -> None:
    path = site_root / "stories" / story_id / "story.md"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    os.utime(path, (time.time() - 30, time.time() - 30))


def cache_files(site_root: Path) -> tuple[Path, Path]:
    folder = site_root / "instance" / "cache"
    return folder / "stories.marshal", folder / "stories.journal.marshal"


def parsed_by_a_new_process(site_root: Path) -> tuple[int, list[m.Story]]:
    store = Site.open(site_root).store
    stories = store.load_all().stories
    return store._parsed, stories


def test_a_new_process_reuses_parsed_stories_until_a_file_changes(site_root):
    settled_site(site_root, 5)
    assert parsed_by_a_new_process(site_root)[0] == 5
    assert parsed_by_a_new_process(site_root)[0] == 0
    edit_settled(site_root, "st-cache002", "Cached 2", "Cached Two")  # size changes
    parsed, stories = parsed_by_a_new_process(site_root)
    assert parsed == 1 and "Cached Two" in [s.title for s in stories]


def test_a_file_changed_in_the_last_two_seconds_is_parsed_again_next_time(site_root):
    settled_site(site_root, 3)
    parsed_by_a_new_process(site_root)
    path = site_root / "stories" / "st-cache001" / "story.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Cached 1", "Cached X"),
                    encoding="utf-8")  # same size, modified now: could share a clock tick
    assert parsed_by_a_new_process(site_root)[0] == 1
    parsed, stories = parsed_by_a_new_process(site_root)
    assert parsed == 1 and "Cached X" in [s.title for s in stories]  # never cached unsettled


def test_one_edit_writes_a_small_journal_not_the_whole_cache(site_root):
    settled_site(site_root, 12)
    parsed_by_a_new_process(site_root)
    main, journal = cache_files(site_root)
    before = main.read_bytes()
    edit_settled(site_root, "st-cache004", "Cached 4", "Cached Four")
    parsed_by_a_new_process(site_root)
    assert main.read_bytes() == before and journal.is_file()
    assert b"Cached Four" in journal.read_bytes() and b"Cached Four" not in before
    parsed, stories = parsed_by_a_new_process(site_root)
    assert parsed == 0 and "Cached Four" in [s.title for s in stories]
    gone = site_root / "stories" / "st-cache007"
    for path in gone.iterdir():
        path.unlink()
    gone.rmdir()  # a story deleted: the journal says so
    parsed, stories = parsed_by_a_new_process(site_root)
    assert parsed == 0 and len(stories) == 11
    assert parsed_by_a_new_process(site_root)[0] == 0


def test_a_long_journal_is_folded_into_the_main_file(site_root, monkeypatch):
    from storykit import cache

    monkeypatch.setattr(cache, "_JOURNAL_MIN", 2)
    settled_site(site_root, 6)
    parsed_by_a_new_process(site_root)
    main, journal = cache_files(site_root)
    for n in range(3):
        edit_settled(site_root, f"st-cache00{n}", f"Cached {n}", f"Cached number {n}")
    parsed_by_a_new_process(site_root)
    assert not journal.exists() and b"Cached number 2" in main.read_bytes()
    assert parsed_by_a_new_process(site_root)[0] == 0


def test_a_damaged_journal_is_ignored(site_root):
    settled_site(site_root, 4)
    parsed_by_a_new_process(site_root)
    edit_settled(site_root, "st-cache003", "Cached 3", "Cached Three")
    parsed_by_a_new_process(site_root)
    main, journal = cache_files(site_root)
    journal.write_bytes(b"\x80\x05 not a pickle")
    parsed, stories = parsed_by_a_new_process(site_root)
    assert parsed == 1 and "Cached Three" in [s.title for s in stories]


def test_forgetting_a_story_removes_its_text_from_every_cache_file(site_root):
    settled_site(site_root, 4)
    parsed_by_a_new_process(site_root)
    edit_settled(site_root, "st-cache001", "Cached 1", "Cached Marigold")
    parsed_by_a_new_process(site_root)  # the journal now holds the edited text
    store = Site.open(site_root).store
    store.load_all()
    store._forget("st-cache001")
    for path in cache_files(site_root):
        assert not path.exists() or b"Marigold" not in path.read_bytes()
    parsed, _ = parsed_by_a_new_process(site_root)
    assert parsed == 1  # only the forgotten story is read again


def _every_field(obj) -> dict:
    """Every dataclass field of ``obj`` (also those equality skips), nested objects too."""
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return {f.name: _every_field(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [_every_field(v) for v in obj]
    return obj


def test_the_parse_cache_keeps_every_field_of_a_story_exactly(site_root):
    """Stories are cached as plain records: every field, bookkeeping included (etags, path,
    the fields as read, which fields each consent version wrote), comes back the same, with
    the same types. A field added to the model and not to the record fails here."""
    import dataclasses
    import datetime as dt

    from storykit.cache import story_from_record, story_record

    write_story(site_root, "st-full01", story_front(
        slug="full", title="Every field", service="Maternity", tags=["night", "kindness"],
        summary="A summary.", content_warning="Mentions a stillbirth.",
        people=[{"name": "Dr Amir Jones", "render_as": "the consultant"}],
        quotes=["A quote."], speaker_notes="Notes.", changes=["A change."], asks=["An ask."],
        images=[{"file": "media/ward.jpg", "alt": "A ward", "kind": "illustration"}],
        extra={"ref": 12, "flags": [True, None, "x"], "nested": {"a": "2026-01-01"}},
        storyteller={"name": "Aisha Rahman", "pseudonym": "Leila", "role": "carer"}),
        consent=[consent_version(), consent_version(
            version=2, taken_by={"name": "Bo", "role": "Nurse", "involved_in_care": True},
            withdrawal={"requested": "2026-05-01", "scope": "stop_future_use",
                        "reason": "Moved away", "confirmed": "2026-05-02"},
            status="withdrawn", reconsent_due="2027-01-01", signed_off="2026-02-01",
            signed_off_revision=1, project_class="audit", ethics_ref="E1",
            evidence="evidence/form.pdf", notes="A note.", age_band="16_17")])
    story = Site.open(site_root).store.get("st-full01")
    again = story_from_record(story_record(story))
    assert _every_field(again) == _every_field(story)
    assert again.source_fields == story.source_fields and again.path == story.path
    assert [v._written for v in again.consent] == [v._written for v in story.consent]
    assert isinstance(again.consent[0].recorded, dt.datetime) and again.consent[0].recorded.tzinfo
    record = story_record(story)
    flat = len(record), len(record[20][0])
    assert flat == (len(dataclasses.fields(m.Story)), len(dataclasses.fields(m.ConsentVersion)))


def test_a_cold_load_on_every_core_gives_the_same_stories_and_problems(site_root, monkeypatch):
    """A first load of many stories parses them in worker processes too (they send plain
    records back): every field of every story is as a one-by-one load gives it, and a
    broken file is still reported with its line."""
    from storykit import store as store_module

    for n in range(30):
        write_story(site_root, f"st-many{n:03d}", story_front(
            slug=f"many-{n}", title=f"Many {n}", tags=[f"tag {n}"],
            storyteller={"name": "Aisha Rahman", "pseudonym": "Leila", "role": "carer"}),
            consent=[consent_version()])
    broken = site_root / "stories" / "st-many007" / "story.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("status:", "status: yes\nstatus:"),
                      encoding="utf-8")
    one_by_one = Site.open(site_root).store
    monkeypatch.setattr(store_module, "PARALLEL_PARSE_MIN", 10**9)
    expected = one_by_one.load_all()
    shutil.rmtree(site_root / "instance", ignore_errors=True)
    monkeypatch.setattr(store_module, "PARALLEL_PARSE_MIN", 10)
    from_workers = []
    unpack = store_module.story_from_record
    monkeypatch.setattr(store_module, "story_from_record",
                        lambda record: from_workers.append(record[0]) or unpack(record))
    store = Site.open(site_root).store
    loaded = store.load_all()
    assert len(from_workers) >= 10 and store._parsed == 29  # workers parsed most of them
    assert [_every_field(s) for s in loaded.stories] == [_every_field(s) for s in expected.stories]
    assert len(loaded.stories) == 29
    assert [(p.file, p.line, p.message) for p in loaded.problems] == [
        (p.file, p.line, p.message) for p in expected.problems]
    assert loaded.problems and loaded.problems[0].line is not None


def test_a_cold_load_on_every_core_gives_what_one_process_gives(site_root, monkeypatch):
    """The parallel first load of a big site (forked workers, lowered here to a few stories)
    gives the same stories, every field, and the same problems as parsing one by one; the
    parse cache it writes (the workers' bytes as they sent them) gives them again without
    parsing, except a story changed too recently to be kept."""
    from storykit import store as store_module

    ids = settled_site(site_root, 9)
    write_story(site_root, "st-broken1", story_front(slug="broken", status="finished"))
    for path in (site_root / "stories" / "st-broken1").iterdir():
        os.utime(path, (time.time() - 60, time.time() - 60))
    (site_root / "stories" / ids[7] / "story.md").touch()  # changed now: not cached

    def load() -> tuple[int, list[dict], list]:
        store = Site.open(site_root).store
        loaded = store.load_all()
        return store._parsed, [_every_field(s) | {"_": (s.source_fields, s.path)}
                               for s in loaded.stories], loaded.problems

    monkeypatch.setattr(store_module, "PARALLEL_PARSE_MIN", 10**9)
    parsed, alone, problems = load()
    assert parsed == 9 and len(alone) == 9
    assert [(p.line, p.code) for p in problems] == [(4, "enum")]
    shutil.rmtree(site_root / "instance" / "cache")
    monkeypatch.setattr(store_module, "PARALLEL_PARSE_MIN", 2)
    assert load() == (9, alone, problems)
    main, _ = cache_files(site_root)
    assert main.is_file() and b"Cached 1" in main.read_bytes()
    assert load() == (1, alone, problems)  # only the story changed just now is read again
