"""Publish means live: publishing, unpublishing, withdrawal, narrowed and expired consent
queue a site build that a worker runs into the publish target; the app tells the truth about
it; plugins add job kinds and publish targets; and a worker killed with SIGKILL in the middle
of a build (SQLite queue, and Redis with a real redis-server) leaves nothing lost or half
written once it is started again.

The whole journey in Chromium is in test_publishing_browser.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from app_support import act, make_world
from conftest import (
    BASIC_TOML,
    ON,
    consent_version,
    on_day,
    story_front,
    wait_for,
    write_story,
)
from editor_support import post_form

from storykit.jobs import DONE, FAILED, QUEUED, RUNNING, Jobs, run_job
from storykit.publishing import live_pages, website_status
from storykit.site import Site
from storykit.sweep import expired_stories

PUBLIC = "https://stories.example.nhs.uk/"
TOML = BASIC_TOML + f'\n[publish]\npublic_url = "{PUBLIC}"\n'

pytestmark = pytest.mark.usefixtures("test_day")


def drain(site: Site) -> list:
    """Run every queued job here, oldest first, as a worker would (jobs they queue too)."""
    jobs, done = Jobs(site), []
    for _ in range(20):
        queued = jobs.recent(100, state=QUEUED)
        if not queued:
            return done
        for job in reversed(queued):
            done.append(run_job(site, job.id, "test-worker"))
    raise AssertionError("jobs keep queueing jobs")


def page_text(client, url: str) -> str:
    return re.sub(r"\s+", " ", client.get(url).get_data(as_text=True))


@pytest.fixture
def world(tmp_path):
    return make_world(tmp_path / "site", TOML)


def out(world) -> Path:
    return world.root / "build" / "site"


def add_plugin(root: Path, name: str, code: str) -> None:
    folder = root / "plugins"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")


# --- publishing in the app ----------------------------------------------------------------------

def test_publishing_in_the_app_puts_the_story_on_the_website_and_says_so_once_it_is(world):
    pete = world.client("pete")
    response = act(pete, "st-approved1", "publish")
    assert response.status_code == 303 and response.headers["Location"].endswith("#website")
    page = page_text(pete, "/stories/st-approved1")
    assert "It is being put on the website now" in page  # the message after Publish
    assert "Being published: 0% done. Waiting for a worker." in page
    assert "The story is live" not in page  # not before a build put it there
    [build] = drain(world.site)
    assert build.state == DONE and build.created_by == "pete"
    assert build.message.startswith("The website was updated: 2 stories on it, 2 pages")
    assert (out(world) / "stories" / "approved1.html").is_file()
    page = page_text(pete, "/stories/st-approved1")
    url = f"{PUBLIC}stories/approved1.html"
    assert f'The story is live at <a href="{url}">{url}</a>.' in page
    assert "The website was last updated today at" in page
    assert [p.url for p in live_pages(world.site, "st-approved1")] == [url]
    # taking it down takes it off the website too
    act(pete, "st-approved1", "unpublish")
    page = page_text(pete, "/stories/st-approved1")
    assert "Being taken off the website" in page and "It is still at" in page
    drain(world.site)
    assert not (out(world) / "stories" / "approved1.html").exists()
    assert "The story is not on the website." in page_text(pete, "/stories/st-approved1")


def test_withdrawal_in_the_app_takes_the_page_down_with_no_command(world):
    pete, ada = world.client("pete"), world.client("ada")
    act(pete, "st-approved1", "publish")
    drain(world.site)
    page = out(world) / "stories" / "approved1.html"
    assert page.is_file()
    page_url = "/stories/st-approved1/consent/withdraw"
    response = post_form(ada, page_url, {"scope": "stop_future_use",
                                         "reason": "She asked us to stop."}, page=page_url)
    assert response.status_code == 200
    said = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert "Being taken off the website" in said
    drain(world.site)
    assert not page.exists()
    site_text = "\n".join(p.read_text(encoding="utf-8") for p in out(world).rglob("*")
                          if p.suffix in (".html", ".xml", ".js"))
    assert TITLE_APPROVED not in site_text  # page, feed and search entry all gone
    assert live_pages(world.site, "st-approved1") == []


TITLE_APPROVED = "Finding the stroke unit at night"


def test_narrowed_consent_takes_the_page_down_at_once(world):
    act(world.client("pete"), "st-published1", "unpublish")
    act(world.client("pete"), "st-approved1", "publish")
    drain(world.site)
    assert (out(world) / "stories" / "approved1.html").is_file()
    ann = world.client("ann")
    story = world.site.store.get("st-approved1")
    data = {"consent_etag": story.consent_etag, "status": "active", "given_by": "self",
            "capacity": "presumed", "age_band": "adult", "method": "written",
            "granted": "2026-09-02", "expires": "2029-09-02", "uses": ["board"],
            "media": ["text", "quotes"], "identification": "pseudonym",
            "signoff_required": "yes", "project_class": "service_improvement"}
    page = "/stories/st-approved1/consent"
    response = post_form(ann, page, data, page=page, content_type="multipart/form-data")
    assert response.status_code == 303
    [queued] = Jobs(world.site).recent(1, state=QUEUED)
    assert queued.stories() == ["st-approved1"] and queued.created_by == "ann"
    drain(world.site)
    assert not (out(world) / "stories" / "approved1.html").exists()


def test_a_failed_build_is_shown_with_its_reason_and_can_be_tried_again(tmp_path):
    world = make_world(tmp_path / "site", TOML + 'folder = "stories/web"\n')
    pete = world.client("pete")
    act(pete, "st-approved1", "publish")
    [failed] = drain(world.site)
    assert failed.state == FAILED
    assert failed.error.startswith("cannot build into") and "stories folder" in failed.error
    page = page_text(pete, "/stories/st-approved1")
    assert "The website could not be updated." in page and "cannot build into" in page
    from app_support import post

    response = post(pete, f"/jobs/{failed.id}/retry", {"back": "/stories/st-approved1"},
                    page="/jobs")
    assert response.status_code == 303 and response.headers["Location"] == "/stories/st-approved1"
    again = Jobs(world.site).get(failed.id)
    assert again.retried_as is not None
    assert Jobs(world.site).get(again.retried_as).state == QUEUED
    jobs_page = page_text(pete, "/jobs")
    assert f"Tried again as <a href=\"/jobs/{again.retried_as}\">job {again.retried_as}</a>" \
        in jobs_page
    assert "Pete Example" in jobs_page  # who started it, by name


def test_the_jobs_page_and_a_jobs_status_say_how_far_it_is(world):
    jobs = Jobs(world.site)
    job, _ = jobs.add("site-build", {"stories": ["st-approved1"]}, by="pete")
    jobs.claim(job.id, "w1")
    jobs.report(job.id, "w1", 0.4, "Making the story pages: 4 of 10 done.")
    pete = world.client("pete")
    status = pete.get(f"/jobs/{job.id}/status").get_json()
    assert status == {"id": job.id, "state": RUNNING, "finished": False, "percent": 40,
                      "message": "Making the story pages: 4 of 10 done.",
                      "label": "Update the public website"}
    page = page_text(pete, f"/jobs/{job.id}")
    assert "Running" in page and "40% done." in page and TITLE_APPROVED in page
    assert "The website is being updated: 40% done." in page_text(pete, "/publishing")
    assert pete.get("/jobs/999").status_code == 404
    assert world.client("ann").get(f"/jobs/{job.id}/status").status_code == 403


def test_a_broken_event_plugin_does_not_stop_publishing(world):
    add_plugin(world.root, "broken_events", """
        from storykit import hookimpl
        @hookimpl
        def after_status_change(story):
            raise OSError("the chat server is down")
    """)
    site = Site.open(world.root)
    from storykit.web import create_app

    app = create_app(site, STORYKIT_ARGON2=world.app.config["STORYKIT_ARGON2"],
                     STORYKIT_INDEX_TTL=0)
    client = app.test_client()
    from app_support import sign_in

    sign_in(client, "pete")
    assert act(client, "st-approved1", "publish").status_code == 303
    assert site.store.get("st-approved1").status == "published"
    assert any("broken_events" in w and "after_status_change" in w
               for w in site.plugins.warnings)
    assert Jobs(site).recent(1, state=QUEUED)  # the publishing plugin still queued a build


# --- the hooks ----------------------------------------------------------------------------------

SPY_EVENTS = """
    import json
    from pathlib import Path
    from storykit import hookimpl
    LOG = Path(__file__).with_suffix(".log")  # every process that loads the plugin adds to it

    def note(*call):
        with LOG.open("a", encoding="utf-8") as f:
            f.write(json.dumps(call) + "\\n")

    @hookimpl
    def after_status_change(site, story, old, new, by):
        note("status", story.id, old, new, by)

    @hookimpl
    def after_consent_change(story, old, new, by):
        note("consent", story.id, old.version if old else None, new.version, new.status, by)

    @hookimpl
    def after_withdraw(story, scope):
        note("withdraw", story.id, scope)
"""


def spy_calls() -> list:
    log = sys.modules["storykit_site_plugins.spy_events"].LOG
    return [tuple(json.loads(line)) for line in log.read_text(encoding="utf-8").splitlines()]


def spy_world(tmp_path):
    root = tmp_path / "site"
    add_plugin(root, "spy_events", SPY_EVENTS)
    return make_world(root, TOML)


def test_hook_after_status_change(tmp_path):
    world = spy_world(tmp_path)
    act(world.client("ann"), "st-draft1", "submit")
    act(world.client("pete"), "st-approved1", "publish")
    assert spy_calls() == [("status", "st-draft1", "draft", "in_review", "ann"),
                           ("status", "st-approved1", "approved", "published", "pete")]
    # only publishing queued a website update
    assert [j.stories() for j in Jobs(world.site).recent(5)] == [["st-approved1"]]


def test_hook_after_consent_change(tmp_path, capsys):
    world = spy_world(tmp_path)
    ann = world.client("ann")
    story = world.site.store.get("st-draft1")
    data = {"consent_etag": story.consent_etag, "status": "active", "given_by": "self",
            "capacity": "presumed", "age_band": "adult", "method": "written",
            "granted": "2026-09-02", "expires": "2029-09-02", "uses": ["board"],
            "media": ["text"], "identification": "pseudonym", "signoff_required": "no",
            "project_class": "service_improvement"}
    page = "/stories/st-draft1/consent"
    assert post_form(ann, page, data, page=page,
                     content_type="multipart/form-data").status_code == 303
    from storykit.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--site", str(world.root), "consent", "withdraw", "st-published1", "--scope",
              "stop_future_use", "--reason", "Moved away"])
    assert exited.value.code == 0
    # a withdrawal is told through after_withdraw (not as a consent change)
    assert spy_calls() == [("consent", "st-draft1", 1, 2, "active", "ann"),
                           ("withdraw", "st-published1", "stop_future_use")]
    said = capsys.readouterr().out
    assert "queued at once" in said or "No copies of this story" in said


def test_hook_register_job_kinds(make_site):
    from storykit.taskqueue import Worker, enqueue

    root = make_site(toml=TOML)
    add_plugin(root, "letters", """
        from storykit import hookimpl
        from storykit.kit import JobKind

        def count(context):
            context.progress(0.5, "Counting.", force=True)
            return {"message": "Counted.", "stories": len(context.params["stories"])}

        @hookimpl
        def register_job_kinds():
            return [JobKind("count-letters", "Count the letters", count, params=("stories",))]
    """)
    site = Site.open(root)
    worker = Worker(site, 1, periodic=False).start()
    try:
        job = enqueue(site, "count-letters", {"stories": ["st-a1", "st-b2"]}, by="ada")
        deadline = time.monotonic() + 20
        while Jobs(site).get(job.id).state != DONE and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    done = Jobs(site).get(job.id)
    assert done.state == DONE and done.result == {"stories": 2} and done.message == "Counted."


def test_hook_register_publish_targets(tmp_path):
    root = tmp_path / "site"
    add_plugin(root, "spy_target", """
        from storykit import hookimpl
        from storykit.kit import PublishTarget
        SENT = []

        def send(delivery):
            gone = [r for r in delivery.removed if (delivery.folder / r).exists()]
            SENT.append((delivery.takedown, list(delivery.removed), list(delivery.written),
                         delivery.settings.get("bucket"), delivery.public_url, gone))

        def check(site):
            return [] if site.config.publish.get("bucket") else ["bucket is needed"]

        @hookimpl
        def register_publish_targets():
            return [PublishTarget("spy", send, description="Records what it is told",
                                  check=check)]
    """)
    world = make_world(root, TOML + 'target = "spy"\nbucket = "stories-live"\n')
    act(world.client("pete"), "st-approved1", "publish")
    drain(world.site)
    sent = sys.modules["storykit_site_plugins.spy_target"].SENT
    takedown, removed, written, bucket, public, _ = sent[0]
    assert not takedown and removed == [] and bucket == "stories-live" and public == PUBLIC
    assert {"stories/approved1.html", "stories/published1.html", "index.html",
            "feed.xml", "search-index.js"} <= set(written)
    sent.clear()
    world.site.withdraw("st-approved1", "stop_future_use", "Changed her mind", by="ada")
    drain(world.site)
    takedown, removed, written, *_rest, still_there = sent[0]
    assert takedown and "stories/approved1.html" in removed and still_there == []
    assert "search-index.js" in written and "feed.xml" in written
    # a target whose settings are wrong fails the job with its words
    (root / "storykit.toml").write_text(TOML + 'target = "spy"\n', encoding="utf-8")
    site = Site.open(root)
    job, _ = Jobs(site).add("site-build", {}, by="pete")
    failed = run_job(site, job.id, "w")
    assert failed.state == FAILED and failed.error == "storykit.toml: [publish] bucket is needed"


def test_an_unknown_publish_target_fails_the_build_naming_the_known_ones(tmp_path):
    world = make_world(tmp_path / "site", TOML + 'target = "s3"\n')
    job, _ = Jobs(world.site).add("site-build", {}, by="pete")
    failed = run_job(world.site, job.id, "w")
    assert failed.state == FAILED
    assert failed.error == "storykit.toml: [publish] target 's3' is not known; known targets: folder"


def test_the_folder_target_refuses_settings_it_does_not_know(tmp_path):
    world = make_world(tmp_path / "site", TOML + 'buckit = "x"\n')
    failed = run_job(world.site, Jobs(world.site).add("site-build", {}, by="p")[0].id, "w")
    assert failed.error == ("storykit.toml: [publish] has an unknown setting 'buckit'; known: "
                            "target, folder, public_url")


# --- the daily sweep ----------------------------------------------------------------------------

def test_the_daily_sweep_takes_expired_stories_off_and_lists_them(make_site):
    root = make_site(toml=TOML)
    write_story(root, "st-lasting", story_front(status="published", slug="lasting",
                                                title="A story that lasts"))
    write_story(root, "st-ending1", story_front(status="published", slug="ending",
                                                title="A story whose consent ends"),
                consent=[consent_version(expires=ON + dt.timedelta(days=1))])
    write_story(root, "st-child01", story_front(status="published", slug="child",
                                                title="A story told at twelve"),
                consent=[consent_version(age_band="under_13", given_by="parent_with_pr",
                                         reconsent_due=ON + dt.timedelta(days=3))])
    site = Site.open(root)
    job, _ = Jobs(site).add("site-build", {}, by="pete")
    run_job(site, job.id, "w")
    folder = root / "build" / "site"
    assert {p.name for p in (folder / "stories").iterdir()} == {
        "lasting.html", "ending.html", "child.html"}
    assert expired_stories(site) == []
    later = ON + dt.timedelta(days=5)
    with on_day(later):
        from storykit.taskqueue import add_sweep

        sweep = add_sweep(site)
        assert add_sweep(site).id == sweep.id  # once a day
        done = drain(site)
        found = expired_stories(site)
    assert [d.kind for d in done] == ["consent-sweep", "site-build"]
    result = done[0].result
    assert result["expired"] == [
        {"story": "st-ending1", "reason": "expired", "since": "2027-03-02",
         "open_takedowns": 1},
        {"story": "st-child01", "reason": "reconsent_due", "since": "2027-03-04",
         "open_takedowns": 1}]
    assert done[0].message.startswith("2 stories have consent that ran out; the website is")
    assert {p.name for p in (folder / "stories").iterdir()} == {"lasting.html"}
    assert [e.story.id for e in found] == ["st-ending1", "st-child01"]
    assert [e.words for e in found] == ["Consent ended on 2 March 2027",
                                        "The storyteller had to be asked again by 4 March 2027"]
    assert all(e.live == [] for e in found)  # the build took their pages down
    assert "A story whose consent ends" not in (folder / "feed.xml").read_text()


# --- a worker killed in the middle of a build ---------------------------------------------------

STORIES = 240


def big_site(root: Path) -> Site:
    """A site of many published stories (a build takes a few seconds on a busy machine)."""
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML + "\n[jobs]\nstale_after = 2\n",
                                        encoding="utf-8")
    body = "\n\n".join(f"Paragraph {n} of a long story about the ward at night, the "
                       "buzzer, the tea trolley and the kindness of the night staff."
                       for n in range(40))
    for n in range(STORIES):
        write_story(root, f"st-big{n:04d}", story_front(
            status="published", slug=f"story-{n:04d}", title=f"Story number {n}",
            tags=[f"tag{n % 30}"], service=f"Service {n % 12}"), body=body,
            consent=[consent_version(expires=dt.date(2099, 12, 31))])
    return Site.open(root)


def start_worker(site: Site, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(site.root),
                             "worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)


def kill_worker_mid_build_and_restart(site: Site, env: dict[str, str]) -> None:
    from storykit.taskqueue import enqueue

    folder = site.root / "build" / "site"
    job = enqueue(site, "site-build", {}, by="pete")
    worker = start_worker(site, env)
    try:
        wait_for(lambda: (folder / "stories").is_dir() and
                 len(list((folder / "stories").iterdir())) >= 20 and
                 Jobs(site).get(job.id).state == RUNNING, "the build to be half way", 120)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its render processes
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    half = Jobs(site).get(job.id)
    assert half.state == RUNNING and half.attempts == 1
    made = len(list((folder / "stories").iterdir()))
    assert made < STORIES, "the build finished before the worker was killed"
    again = start_worker(site, env)
    try:
        wait_for(lambda: Jobs(site).get(job.id).finished, "the job to be finished", 180)
    finally:
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=60)
    done = Jobs(site).get(job.id)
    assert done.state == DONE, done.error
    assert done.attempts == 2 and done.result["stories"] == STORIES
    # the site is whole: every page complete, no half-written file, lists and search entire
    pages = sorted((folder / "stories").iterdir())
    assert len(pages) == STORIES
    for page in pages:
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page.name
    assert not [p for p in folder.rglob("*") if p.name.startswith(".tmp-")]
    entries = ET.parse(folder / "feed.xml").getroot().findall(
        "{http://www.w3.org/2005/Atom}entry")
    assert entries
    text = (folder / "search-index.js").read_text(encoding="utf-8")
    assert len(json.loads(text.strip()[len("window.STORYKIT_SEARCH = "):-1])["stories"]) == STORIES
    live = [d for d in site.distributions.all() if d.removed_at is None]
    assert len(live) == STORIES and len({d.story_id for d in live}) == STORIES


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STORYKIT_DEBUG",
                                                            "STORYKIT_REDIS_URL")}
    return {**env, **extra}


@pytest.mark.slow
def test_a_worker_killed_mid_build_on_the_sqlite_queue_finishes_after_a_restart(tmp_path):
    site = big_site(tmp_path / "site")
    kill_worker_mid_build_and_restart(site, worker_env())


@pytest.fixture
def redis_url(tmp_path_factory, monkeypatch):
    """A private redis-server on a unix socket (Debian's redis-server; ./dev installs it)."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        pytest.fail("redis-server is missing: run ./dev test (it installs Debian's "
                    "redis-server)", pytrace=False)
    folder = tmp_path_factory.mktemp("redis")
    sock, pid = folder / "r.sock", folder / "r.pid"
    subprocess.run([server, "--port", "0", "--unixsocket", str(sock), "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pid),
                    "--dir", str(folder)], check=True, timeout=30)
    wait_for(lambda: sock.exists() and pid.exists(), "redis-server to start", 20)
    url = f"unix://{sock}"
    monkeypatch.setenv("STORYKIT_REDIS_URL", url)
    yield url
    try:
        os.kill(int(pid.read_text().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass


@pytest.mark.slow
def test_a_worker_killed_mid_build_on_the_redis_queue_finishes_after_a_restart(tmp_path,
                                                                              redis_url):
    site = big_site(tmp_path / "site")
    from storykit.taskqueue import backend

    assert backend(site) == ("redis", redis_url)
    kill_worker_mid_build_and_restart(site, worker_env(STORYKIT_REDIS_URL=redis_url))


def test_website_status_of_a_site_with_no_builds_says_so(world):
    status = website_status(world.site)
    assert status.last_build is None and status.pending is None and status.failed is None
    page = page_text(world.client("pete"), "/publishing")
    assert "The website has not been updated by storykit yet." in page


# --- storykit serve: the app, a worker and the public website with one command -------------------

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback only
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_storykit_serve_runs_a_worker_and_shows_the_public_website(make_site):
    """What ./dev demo runs: no second command is needed to see the public website."""
    root = make_site(toml=TOML)
    write_story(root, "st-lasting", story_front(status="published", slug="lasting",
                                                title="A story that lasts"),
                consent=[consent_version(expires=dt.date(2099, 12, 31))])
    port, public = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(root), "serve",
                             "--port", str(port), "--public-port", str(public)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=worker_env())
    try:
        wait_for(lambda: http_status(f"http://127.0.0.1:{public}/stories/lasting.html") == 200,
                 "the public website to be built and served", 60)
        assert http_status(f"http://127.0.0.1:{port}/sign-in") in (200, 302)
        # the page is served as soon as it is written; the job ends just after
        wait_for(lambda: [j.state for j in Jobs(Site.open(root)).recent(5, kind="site-build")]
                 == [DONE], "the build job to finish", 60)
    finally:
        proc.terminate()  # SIGTERM stops the app, its worker and the preview
        output = proc.communicate(timeout=20)[0]
    assert f"Public website (the publish folder {root / 'build' / 'site'}): " \
           f"http://127.0.0.1:{public}/" in output
    assert "Background jobs: 1 at a time, queue in SQLite" in output
    [build] = Jobs(Site.open(root)).recent(5, kind="site-build")
    assert build.state == DONE and build.created_by == "storykit"
