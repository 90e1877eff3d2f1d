"""One stories folder shared by several machines, on PostgreSQL: story locks are advisory locks
held by the database (not ``flock``), and every change goes into the change feed, which each
app server's story index follows, so it sees another server's save or withdrawal at once."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from pathlib import Path

import pytest
from conftest import consent_version, lock_held_elsewhere, write_story

from storykit import model as m
from storykit.db import URL_ENV
from storykit.errors import ConflictError
from storykit.fsio import LockTimeout
from storykit.site import Site
from storykit.storyfile import etag_of
from storykit.storylocks import DatabaseLocks, FileLocks, lock_key
from storykit.web.index import StoryIndex

SID = "st-share01"


@pytest.fixture
def shared_root(site_root: Path, pg_cluster, monkeypatch) -> Path:
    """A site whose database is PostgreSQL (so its stories folder may be shared)."""
    monkeypatch.setenv(URL_ENV, pg_cluster.fresh_database())
    write_story(site_root, SID, consent=[consent_version()])
    return site_root


def _save_in_child(root: str, etag: str, body: str, barrier, results) -> None:
    store = Site.open(root).store  # a process of its own: its own sessions, as on another machine
    story = store.get(SID)
    assert story.etag == etag
    barrier.wait(10)
    try:
        store.save(story.copy(body=body), by="someone")
        results.put(("saved", body))
    except ConflictError:
        results.put(("conflict", body))


def test_two_processes_saving_one_story_one_wins_one_conflict(shared_root):
    store = Site.open(shared_root).store
    assert isinstance(store.locks, DatabaseLocks)
    ctx = multiprocessing.get_context("fork")
    for round_no in range(3):
        base = store.get(SID)
        barrier, results = ctx.Barrier(2), ctx.Queue()
        bodies = [f"server one round {round_no}\n", f"server two round {round_no}\n"]
        procs = [ctx.Process(target=_save_in_child,
                             args=(str(shared_root), base.etag, b, barrier, results))
                 for b in bodies]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=30) for _ in procs)
        for p in procs:
            p.join(10)
        (lost, _), (won, winner) = outcomes
        assert (lost, won) == ("conflict", "saved")
        assert store.get(SID).body == winner
        # no lost update: the winner's text is in the history
        kept = [store.revision_text(SID, r) for r in store.revisions(SID)]
        assert any(winner in text for text in kept)
    # the locks lived in the database; no lock file was made on the shared disk
    assert not (shared_root / "instance" / "locks" / f"{SID}.lock").exists()


def test_a_held_lock_is_seen_by_the_database_and_a_wait_ends_in_plain_words(shared_root,
                                                                             pg_cluster):
    site = Site.open(shared_root)
    with lock_held_elsewhere(shared_root, SID):
        key = lock_key(SID) & 0xFFFFFFFFFFFFFFFF  # pg_locks shows it as two 32-bit halves
        conn = site.database.connection()
        assert [tuple(r) for r in conn.all(
            "SELECT classid::text, objid::text FROM pg_locks WHERE locktype = "
            "'advisory' AND granted AND objsubid = 1")] == [
            (str(key >> 32), str(key & 0xFFFFFFFF))]
        with pytest.raises(LockTimeout, match="^this story is being saved by someone else; "
                                              "try again in a moment$"), \
                site.store.locks.hold(SID, timeout=0.3):
            pass
        with site.store.locks.if_free(SID) as free:
            assert not free
    with site.store.locks.if_free(SID) as free:
        assert free
    # once let go, a save goes through at once
    assert site.store.save(site.store.get(SID).copy(body="after\n")).body == "after\n"


def test_every_change_is_one_row_of_the_feed_without_story_text(shared_root):
    site = Site.open(shared_root)
    store = site.store
    saved = store.save(store.get(SID).copy(body="A private detail about Ann.\n"), by="ann")
    store.add_consent(SID, m.ConsentVersion.from_dict(consent_version(notes="Ann's note")),
                      by="ann")
    made = store.create("A second story", by="ann")
    store.withdraw(made.id, "delete_everything", "Ann asked", by="ann")
    withdrawn = store.withdraw(SID, "stop_future_use", "Ann changed her mind", by="ann")
    rows = [dict(r) for r in site.database.connection().all(
        "SELECT * FROM story_changes ORDER BY id")]
    assert [(r["story_id"], r["kind"]) for r in rows] == [
        (SID, "save"), (SID, "consent"), (made.id, "create"), (made.id, "erasure"),
        (SID, "withdrawal")]
    assert rows[0]["etag"] == saved.etag and rows[-1]["etag"] == withdrawn.etag
    assert set(rows[0]) == {"id", "story_id", "etag", "consent_etag", "kind", "at"}
    assert rows[1]["consent_etag"] != rows[0]["consent_etag"]
    assert dt.datetime.fromisoformat(rows[0]["at"]).tzinfo is not None
    assert not [r for r in rows for v in r.values() if "Ann" in str(v)]


def test_another_servers_index_sees_a_save_a_new_story_and_a_withdrawal_at_once(shared_root):
    one, two = Site.open(shared_root), Site.open(shared_root)
    index = StoryIndex(two, ttl=3600)  # its own rescan would not come for an hour
    assert index.snapshot().stories[SID].title != "Renamed on server one"
    one.store.save(one.store.get(SID).copy(title="Renamed on server one"), by="ann")
    assert index.snapshot().stories[SID].title == "Renamed on server one"
    made = one.store.create("Made on server one", by="ann")
    assert index.snapshot().order[0] in (made.id, SID)
    assert made.id in index.snapshot().stories
    one.withdraw(SID, "stop_future_use", "no longer", by="ann")
    assert index.story(SID).status == "withdrawn"  # a page about the story: no wait at all
    assert index.get(SID).status == "withdrawn"


def test_on_sqlite_the_locks_are_flock_and_there_is_no_feed(site_root):
    store = Site.open(site_root).store
    assert isinstance(store.locks, FileLocks) and store.changes is None
    write_story(site_root, SID)
    store.save(store.get(SID).copy(body="x\n"))
    assert (site_root / "instance" / "locks" / f"{SID}.lock").exists()


def test_a_change_the_file_times_do_not_show_is_still_read_again(shared_root):
    """On shared storage a machine may see another's new file with the old size and time for
    a while: the feed, not the stat keys, says the parsed story is out of date."""
    here = Site.open(shared_root).store
    assert here.load_all().stories[0].body.startswith("On our second night")  # parsed and kept
    path = shared_root / "stories" / SID / "story.md"
    before, st = path.read_bytes(), path.stat()
    after = before.replace(b"On our second night", b"On our FOURTH night")
    assert len(after) == len(before)
    with path.open("r+b") as f:  # same file, same size, and its time put back
        f.write(after)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert here.load_all().stories[0].body.startswith("On our second night")  # stat keys alone
    there = Site.open(shared_root)
    there.store.changes.record(SID, etag_of(after), "save",
                               consent_etag=there.store.get(SID).consent_etag)
    assert here.load_all().stories[0].body.startswith("On our FOURTH night")
    # and a new process, with the parse cache kept on disk, is not fooled either
    fresh = Site.open(shared_root).store
    assert fresh.load_all().stories[0].body.startswith("On our FOURTH night")
