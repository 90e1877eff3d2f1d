"""Beyond one machine, on loopback: two app servers (``storykit serve --workers 0``) and two
workers (``storykit worker``) on one PostgreSQL database and one redis-server, sharing one site
folder, used by 20 simulated people for 60 seconds through the real forms, half of them
editing the same 10 stories. Nothing fails but the expected conflict pages; nothing is lost:
every accepted save is in the story's history (and its text), every publish reaches the
website, a withdrawal on one server is honoured at once by the other (no change, publish or
pack of the story is allowed after it returns, and no copy is made); and a worker killed
mid-job leaves its job to another worker, which finishes it with no duplicate distribution
record.

The same load on 10,000 stories, timed, is bench/bench_multiserver.py.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from conftest import consent_version, story_front, wait_for, write_story
from multiserver_support import (
    EDITED,
    EDITORS,
    TO_PUBLISH,
    TO_WITHDRAW,
    Servers,
    Session,
    free_port,
    get_page,
    make_shared_site,
    process_env,
    run_load,
    start_redis,
)

from storykit.audit import STORY_SAVED, AuditFilter
from storykit.jobs import DONE, RUNNING, Jobs
from storykit.packs import pack_folder
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


SECONDS = 60  # issue 16: 20 people for 60 seconds across both servers
USERS = 20


def test_two_app_servers_and_two_workers_lose_nothing(tmp_path, pg_cluster, redis):
    root = tmp_path / "site"
    make_shared_site(root, pg_cluster.fresh_database())
    (root / "instance" / "secret_key").unlink()  # the servers make the key as they start
    servers = Servers(root, process_env(STORYKIT_REDIS_URL=redis), logs=tmp_path)
    public = free_port()
    try:
        servers.start_app()
        servers.start_app(public_port=public)  # it also shows the website, as people see it
        servers.start_worker()
        servers.start_worker()
        servers.wait_ready()
        load = run_load(servers.ports, seconds=SECONDS, users=USERS)
        # and for certain: two people open one story, on different servers, and both save
        one, two = (Session(servers.ports, name) for name in EDITORS[:2])
        (_, mine), (_, theirs) = (one.open_editor(servers.ports[0], EDITED[0]),
                                  two.open_editor(servers.ports[1], EDITED[0]))
        assert one.save(servers.ports[0], EDITED[0], mine, "First of two at once.") == 303
        assert two.save(servers.ports[1], EDITED[0], theirs, "Second of two at once.") == 409
        site = Site.open(root)
        wait_for(lambda: all_jobs_finished(site), "every job to finish", 240)
        pages = {story_id: get_page(public, page_path(story_id))
                 for story_id in TO_PUBLISH + TO_WITHDRAW}
    finally:
        servers.stop()
    # 20 people for 60 s, half of them editing the 10 shared stories on both servers
    assert load.seconds >= SECONDS and load.people == Counter(
        {"editing": USERS // 2, "browsing": USERS // 2 - 2, "publishing": 1, "withdrawing": 1})
    assert set(load.saves_to) == set(EDITED) and set(load.saves_on) == set(servers.ports)
    # zero errors other than the conflict pages (counted: expected when two save one story)
    assert load.errors == [], servers.log_tail()
    logs = {p.name: p.read_text() for p in tmp_path.glob("*.log")}
    assert [name for name, text in logs.items() if "Traceback" in text] == [], \
        servers.log_tail()
    assert len(load.times["save"]) >= 20, load.times  # conflicts: however the turns fell
    load.saved.setdefault(EDITED[0], []).append("First of two at once.")
    assert_no_lost_update(site, load)
    assert_every_publish_reached_the_website(root, load, pages)
    assert_withdrawals_honoured_at_once(site, root, load, pages)
    jobs = Jobs(site).recent(1000)
    assert jobs and {job.state for job in jobs} == {DONE}, [j.error for j in jobs]
    live = [d for d in site.distributions.all() if d.removed_at is None]
    assert not [k for k, n in Counter((d.story_id, d.path) for d in live).items() if n > 1]
    assert site.audit.verify() is None  # two servers appending at once kept the chain whole


def page_path(story_id: str) -> str:
    return f"/stories/{story_id.removeprefix('st-')}.html"


def unique_sentence(story_id: str) -> str:
    return f"Only in story {story_id.removeprefix('st-')}: a unique sentence."


def assert_no_lost_update(site: Site, load) -> None:
    """Every accepted save is in its story's history, and still in its text now (each save
    was of the text as it then was, so none may drop another); every refused one was kept as
    a conflict copy; each accepted save has its audit entry."""
    store = site.store
    for story_id, markers in load.saved.items():
        kept = "\n".join(store.revision_text(story_id, r) for r in store.revisions(story_id))
        assert [m for m in markers if m not in kept] == [], story_id
        now = store.get(story_id).body
        assert [m for m in markers if m not in now] == [], story_id
        saved = site.audit.count(AuditFilter(action=STORY_SAVED, story_id=story_id))
        assert saved == len(markers), story_id
    assert "Second of two at once." not in kept_text(store, EDITED[0])
    copies = [p for i in EDITED for p in (site.instance / "conflicts" / i).glob("*.md")]
    assert len(copies) == load.conflicts + 1
    assert any("Second of two at once." in p.read_text() for p in copies)


def kept_text(store, story_id: str) -> str:
    return "\n".join([store.revision_text(story_id, r) for r in store.revisions(story_id)]
                     + [store.get(story_id).body])


def assert_every_publish_reached_the_website(root: Path, load, pages) -> None:
    """Every story published (all of TO_PUBLISH) has its page in the publish folder and on
    the website over HTTP, with its own text, and is on the site's list of stories (one page
    or more)."""
    assert sorted(load.published) == sorted(TO_PUBLISH)
    out = root / "build" / "site"
    listing = "".join(p.read_text(encoding="utf-8") for p in out.glob("stories*.html"))
    for story_id in load.published:
        page = out / page_path(story_id).lstrip("/")
        assert unique_sentence(story_id) in page.read_text(encoding="utf-8"), story_id
        status, text = pages[story_id]
        assert status == 200 and unique_sentence(story_id) in text, (story_id, status)
        assert f"Story {story_id.removeprefix('st-')} about the ward" in listing, story_id


def assert_withdrawals_honoured_at_once(site: Site, root: Path, load, pages) -> None:
    """Straight after each withdrawal returned, the other server refused to open the story
    for changes, to publish it or to let it into a pack (run_load); the pack asked for
    anyway was made by a worker without it; no copy of it is out there."""
    assert sorted(load.withdrawn) == sorted(TO_WITHDRAW)
    assert load.not_honoured == []
    out = root / "build" / "site"
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                           for p in out.rglob("*") if p.is_file())
    for story_id in load.withdrawn:
        assert site.store.get(story_id).status == "withdrawn"
        assert not (out / page_path(story_id).lstrip("/")).exists(), story_id
        assert pages[story_id][0] == 404, story_id
        assert unique_sentence(story_id) not in everything, story_id
        assert [d for d in site.distributions.for_story(story_id) if d.removed_at is None
                or d.pack_id is not None] == [], story_id
    orders = site.database.connection().all("SELECT * FROM pack_orders")
    assert len(orders) == len(load.packs)
    for order in orders:
        job = Jobs(site).get(order["job_id"])
        definition = json.loads(order["definition"])
        [story_id] = [i for i in definition["stories"] if i in load.withdrawn]
        assert job.state == DONE and job.result["left_out"] == [story_id], job.result
        assert job.result["stories"] == 1
        with zipfile.ZipFile(pack_folder(site) / f"{job.result['pack']}.zip") as pack:
            text = b"".join(pack.read(n) for n in pack.namelist()).decode("utf-8", "replace")
        assert unique_sentence(story_id) not in text
        assert unique_sentence(dict(load.packs)[story_id]) in text


def test_a_withdrawal_while_a_long_build_runs_elsewhere_goes_through(tmp_path, pg_cluster):
    """A site build on another machine holds the build lock longer than a withdrawal waits
    for it (a first build of thousands of stories; bench_multiserver met it): the withdrawal
    is still recorded, the other plugins' parts of it are done (the build that takes the page
    down is queued), and that build takes the story off the website."""
    from storykit_web.build import BUILD_LOCK, MANIFEST_DIR, build_site

    root = tmp_path / "site"
    make_shared_site(root, pg_cluster.fresh_database(), people=False)
    story_id = TO_WITHDRAW[0]
    build_site(Site.open(root))
    page = root / "build" / "site" / page_path(story_id).lstrip("/")
    assert page.is_file()
    held, done = threading.Event(), threading.Event()

    def build_elsewhere() -> None:  # another session of the database: as another machine
        with Site.open(root).store.locks.hold(BUILD_LOCK):
            held.set()
            done.wait(120)

    thread = threading.Thread(target=build_elsewhere)
    thread.start()
    try:
        assert held.wait(30)
        site = Site.open(root)
        withdrawn = site.withdraw(story_id, "stop_future_use", "They asked us to stop.",
                                  by="adm")
    finally:
        done.set()
        thread.join(30)
    assert withdrawn.status == "withdrawn" and site.store.get(story_id).status == "withdrawn"
    [job] = [j for j in Jobs(site).recent(100) if j.kind == "site-build"]
    assert story_id in job.params["stories"]
    build_site(Site.open(root))
    assert not page.exists()
    kept = [root / "build" / "site", root.joinpath("instance", *MANIFEST_DIR)]
    assert not [p for folder in kept for p in folder.rglob("*") if p.is_file()
                and unique_sentence(story_id).encode() in p.read_bytes()]


def test_servers_starting_together_on_a_new_site_make_one_secret_key(tmp_path):
    """Each server signs sign-in cookies with the key in instance/, made by the first to
    start: servers starting at the same moment must not each make (and keep) their own, or
    people are signed out whenever the load balancer sends them to another server."""
    from storykit.web.settings import load_secret_key

    for n in range(10):
        instance = tmp_path / f"site{n}" / "instance"
        start = threading.Barrier(4)
        keys: list[str] = []

        def serve(instance=instance, start=start, keys=keys) -> None:
            start.wait()
            keys.append(load_secret_key(instance)[0])

        servers = [threading.Thread(target=serve) for _ in range(4)]
        for server in servers:
            server.start()
        for server in servers:
            server.join()
        assert len(keys) == 4 and len(set(keys)) == 1
        assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file
        assert (instance / "secret_key").stat().st_mode & 0o077 == 0


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
