"""Beyond one machine, on loopback: two app servers (``storykit serve --workers 0``) and two
workers (``storykit worker``) on one PostgreSQL database and one redis-server, sharing one site
folder, used by simulated people through the real forms. Nothing is lost: every accepted save
is in the story's history, every publish reaches the website, a withdrawal on one server is
honoured at once by the other; and a worker killed mid-job leaves its job to another worker,
which finishes it with no duplicate distribution record.

The full 60-second run and the figures are in bench/bench_multiserver.py.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from conftest import consent_version, story_front, wait_for, write_story
from multiserver_support import (
    EDITED,
    EDITORS,
    TO_WITHDRAW,
    Servers,
    Session,
    make_shared_site,
    process_env,
    run_load,
    start_redis,
)

from storykit.jobs import DONE, RUNNING, Jobs
from storykit.site import Site

pytestmark = pytest.mark.slow


@pytest.fixture
def redis(tmp_path):
    url, pid = start_redis(tmp_path / "redis")
    yield url
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def all_jobs_finished(site: Site) -> bool:
    return all(job.finished for job in Jobs(site).recent(1000))


def test_two_app_servers_and_two_workers_lose_nothing(tmp_path, pg_cluster, redis):
    root = tmp_path / "site"
    make_shared_site(root, pg_cluster.fresh_database())
    servers = Servers(root, process_env(STORYKIT_REDIS_URL=redis), logs=tmp_path)
    try:
        servers.start_app()
        servers.start_app()
        servers.start_worker()
        servers.start_worker()
        servers.wait_ready()
        load = run_load(servers.ports, seconds=12, users=20)
        # and for certain: two people open one story, on different servers, and both save
        one, two = (Session(servers.ports, name) for name in EDITORS[:2])
        (_, mine), (_, theirs) = (one.open_editor(servers.ports[0], EDITED[0]),
                                  two.open_editor(servers.ports[1], EDITED[0]))
        assert one.save(servers.ports[0], EDITED[0], mine, "First of two at once.") == 303
        assert two.save(servers.ports[1], EDITED[0], theirs, "Second of two at once.") == 409
        site = Site.open(root)
        wait_for(lambda: all_jobs_finished(site), "every job to finish", 180)
    finally:
        servers.stop()
    assert load.errors == [], servers.log_tail()
    # the people really worked on both servers at once (conflicts are counted, not errors)
    assert len(load.times["save"]) >= 10 and sum(map(len, load.saved.values())) >= 5, load.times
    load.saved.setdefault(EDITED[0], []).append("First of two at once.")
    assert load.published and load.withdrawn
    # a withdrawal on one server was honoured at once by the other
    assert load.not_honoured == []
    # no lost update: every accepted save is in its story's history
    store = site.store
    for story_id, markers in load.saved.items():
        kept = "\n".join(store.revision_text(story_id, r) for r in store.revisions(story_id))
        assert [m for m in markers if m not in kept] == [], story_id
    kept = "\n".join(store.revision_text(EDITED[0], r) for r in store.revisions(EDITED[0]))
    assert "Second of two at once." not in kept + store.get(EDITED[0]).body
    # every publish reached the website; every withdrawn story is off it
    out = root / "build" / "site" / "stories"
    for story_id in load.published:
        assert (out / f"{story_id.removeprefix('st-')}.html").is_file(), story_id
    for story_id in load.withdrawn:
        assert not (out / f"{story_id.removeprefix('st-')}.html").exists(), story_id
        assert store.get(story_id).status == "withdrawn"
    jobs = Jobs(site).recent(1000)
    assert jobs and {job.state for job in jobs} == {DONE}
    live = [d for d in site.distributions.all() if d.removed_at is None]
    assert not [k for k, n in Counter((d.story_id, d.path) for d in live).items() if n > 1]


# --- a worker killed mid-job on one machine ------------------------------------------------------

STORIES = 200


def test_a_worker_killed_mid_job_leaves_it_to_another_with_no_duplicate_records(
        tmp_path, pg_cluster, redis, monkeypatch):
    from storykit.taskqueue import enqueue

    root = tmp_path / "site"
    make_shared_site(root, pg_cluster.fresh_database())
    body = "\n\n".join(f"Paragraph {n} about the ward at night, the buzzer and the tea "
                       "trolley." for n in range(40))
    for n in range(STORIES):
        write_story(root, f"st-big{n:04d}", story_front(
            status="published", slug=f"big-{n:04d}", title=f"Story number {n}"), body=body,
            consent=[consent_version()])
    servers = Servers(root, process_env(STORYKIT_REDIS_URL=redis), logs=tmp_path)
    monkeypatch.setenv("STORYKIT_REDIS_URL", redis)  # jobs queued here go to the same queue
    site = Site.open(root)
    folder = root / "build" / "site" / "stories"
    try:
        workers = [servers.start_worker(), servers.start_worker()]  # two machines' workers
        for worker in workers:
            wait_for(lambda w=worker: "running" in Path(w.log).read_text(), "a worker", 60)
        job = enqueue(site, "site-build", {}, by="pete")
        wait_for(lambda: folder.is_dir() and len(list(folder.iterdir())) >= 20
                 and Jobs(site).get(job.id).state == RUNNING, "the build to be half way", 120)
        half = Jobs(site).get(job.id)
        [busy] = [w for w in workers if half.worker in Path(w.log).read_text()]
        [other] = [w for w in workers if w is not busy]
        os.killpg(busy.pid, signal.SIGKILL)  # that machine's worker and its render processes
        busy.wait(timeout=30)
        assert half.state == RUNNING and half.attempts == 1
        assert len(list(folder.iterdir())) < STORIES, "the build ended before the kill"
        wait_for(lambda: Jobs(site).get(job.id).finished, "the job to be finished", 240)
        assert other.poll() is None
    finally:
        servers.stop()
    done = Jobs(site).get(job.id)
    assert done.state == DONE, done.error
    assert done.attempts == 2 and done.worker != half.worker
    published = STORIES + len(TO_WITHDRAW)  # and the shared site's published stories
    pages = sorted(folder.iterdir())
    assert len(pages) == published
    for page in pages:
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page.name
    assert not [p for p in folder.parent.rglob("*") if p.name.startswith(".tmp-")]
    records = site.distributions.all()
    assert len([d for d in records if d.removed_at is None]) == published
    assert not [k for k, n in Counter((d.story_id, d.path) for d in records).items() if n > 1]
