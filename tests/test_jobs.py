"""Background jobs (storykit.jobs, storykit.taskqueue): the jobs table on SQLite and
PostgreSQL, claiming, coalescing, heartbeats and recovery, retries, failures in words, the
``storykit jobs`` and ``storykit worker`` commands, and a real Huey worker on SQLite.

Killing a worker in the middle of a site build (SQLite and Redis) is in test_publishing.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from conftest import BASIC_TOML, modules_loaded_by, wait_for

from storykit.cli import main
from storykit.config import load_config
from storykit.errors import ConfigError
from storykit.jobs import DONE, FAILED, MAX_ATTEMPTS, QUEUED, RUNNING, JobError, Jobs, run_job
from storykit.site import Site

SPY_PLUGIN = '''
import time
from storykit import StorykitError, hookimpl
from storykit.kit import JobKind

RUNS = []

def echo(context):
    RUNS.append(context.job.id)
    context.progress(0.5, "Half way.", force=True)
    if context.params.get("fail") == "words":
        raise StorykitError("the printer is out of paper")
    if context.params.get("fail") == "crash":
        raise ValueError("Aisha Rahman's story text")
    if context.params.get("sleep"):
        time.sleep(context.params["sleep"])
    return {"message": "Echoed.", "count": len(context.params.get("stories", []))}

@hookimpl
def register_job_kinds():
    return [JobKind("echo", "Say it back", echo, params=("stories", "fail", "sleep")),
            JobKind("merged", "Say it back once", echo, params=("stories",), coalesce=True)]
'''


def spy_site(make_site, toml: str = BASIC_TOML) -> Site:
    root = make_site(toml=toml)
    (root / "plugins").mkdir()
    (root / "plugins" / "spy_jobs.py").write_text(SPY_PLUGIN, encoding="utf-8")
    return Site.open(root)


def runs() -> list[int]:
    import sys

    return sys.modules["storykit_site_plugins.spy_jobs"].RUNS


# --- the table, on both engines ----------------------------------------------------------------

def test_a_job_is_queued_claimed_once_and_finished_with_its_result(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    job, new = jobs.add("echo", {"stories": ["st-a1b2c3", "st-d4e5f6"]}, by="pete")
    assert new and job.state == QUEUED and job.message == "Waiting for a worker."
    assert job.created_by == "pete" and job.attempts == 0
    done = run_job(site, job.id, "worker-1")
    assert done.state == DONE and done.result == {"count": 2} and done.message == "Echoed."
    assert done.attempts == 1 and done.progress == 1.0 and done.finished_at
    assert run_job(site, job.id, "worker-2") is None  # never twice
    assert runs() == [job.id]


def test_two_workers_claiming_at_once_run_a_job_once(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    ids = [jobs.add("echo", {}, by="pete")[0].id for _ in range(10)]
    claims: list[tuple[str, int]] = []
    barrier = threading.Barrier(4)

    def claim(worker: str) -> None:
        barrier.wait()
        for job_id in ids:
            if Jobs(site).claim(job_id, worker) is not None:
                claims.append((worker, job_id))
        site.database.connection().close()

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(job_id for _w, job_id in claims) == ids
    assert {jobs.get(i).state for i in ids} == {RUNNING}


def test_jobs_of_a_coalescing_kind_join_the_one_waiting(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    first, new = jobs.add("merged", {"stories": ["st-one111"]}, by="pete")
    second, again = jobs.add("merged", {"stories": ["st-two222"]}, by="ada")
    assert new and not again and second.id == first.id
    assert second.stories() == ["st-one111", "st-two222"]
    jobs.claim(first.id, "w1")  # it runs: the next one waits as a new job
    third, new = jobs.add("merged", {"stories": ["st-three3"]}, by="ada")
    assert new and third.id != first.id
    assert jobs.claim(third.id, "w2") is None  # not while the first runs
    assert jobs.busy(third.id)
    jobs.finish(first.id, "w1", state=DONE, message="Done.")
    assert jobs.claim(third.id, "w2") is not None


def test_a_once_a_day_job_is_added_once(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    first, new = jobs.add("echo", {}, by="storykit", key="echo:2027-03-01", once=True)
    run_job(site, first.id, "w1")
    again, added = jobs.add("echo", {}, by="storykit", key="echo:2027-03-01", once=True)
    assert new and not added and again.id == first.id and again.state == DONE


def test_a_worker_that_stopped_beating_loses_its_job_and_cannot_write_over_the_next(
        make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    job, _ = jobs.add("echo", {}, by="pete")
    jobs.claim(job.id, "dead-worker")
    assert jobs.recover(stale_after=60) == []  # its heartbeat is fresh
    time.sleep(0.05)
    assert jobs.recover(stale_after=0.01) == [job.id]
    again = jobs.get(job.id)
    assert again.state == QUEUED and again.worker is None
    assert again.message == "Waiting for a worker again: the worker doing it stopped."
    assert jobs.claim(job.id, "live-worker") is not None
    # the first worker wakes up: nothing it writes is kept
    assert not jobs.report(job.id, "dead-worker", 0.9, "Still here.")
    assert not jobs.finish(job.id, "dead-worker", state=FAILED, message="x", error="x")
    assert jobs.get(job.id).state == RUNNING and jobs.get(job.id).worker == "live-worker"


def test_a_job_whose_worker_keeps_dying_fails_with_words(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    job, _ = jobs.add("echo", {}, by="pete")
    for n in range(MAX_ATTEMPTS):
        assert jobs.claim(job.id, f"w{n}") is not None
        time.sleep(0.02)
        jobs.recover(stale_after=0.01)
    failed = jobs.get(job.id)
    assert failed.state == FAILED and failed.attempts == MAX_ATTEMPTS
    assert failed.error.startswith(f"The worker stopped {MAX_ATTEMPTS} times")


def test_a_queued_job_whose_message_was_lost_is_handed_over_again(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    job, _ = jobs.add("echo", {}, by="pete")
    time.sleep(0.02)
    assert jobs.recover(stale_after=0.01) == [job.id]
    assert jobs.get(job.id).state == QUEUED


def test_failures_are_words_and_never_the_error_text(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    said = run_job(site, jobs.add("echo", {"fail": "words"}, by="pete")[0].id, "w")
    assert said.state == FAILED and said.error == "the printer is out of paper"
    crashed = run_job(site, jobs.add("echo", {"fail": "crash"}, by="pete")[0].id, "w")
    assert crashed.state == FAILED
    assert crashed.error.startswith("The job stopped unexpectedly (ValueError).")
    assert "Aisha" not in crashed.error and "Aisha" not in crashed.message


def test_a_failed_job_is_tried_again_as_a_new_one_once(make_site, database_env):
    site = spy_site(make_site)
    jobs = Jobs(site)
    failed = run_job(site, jobs.add("echo", {"fail": "words"}, by="pete")[0].id, "w")
    again, new = jobs.retry(failed.id, "ada")
    assert new and again.kind == "echo" and again.params == {"fail": "words"}
    assert again.created_by == "ada" and jobs.get(failed.id).retried_as == again.id
    assert jobs.open_failures() == []
    with pytest.raises(JobError, match=f"already tried again as job {again.id}"):
        jobs.retry(failed.id, "ada")
    with pytest.raises(JobError, match="has not failed"):
        jobs.retry(again.id, "ada")
    with pytest.raises(JobError, match="there is no job 999"):
        jobs.retry(999, "ada")


@pytest.mark.parametrize(("params", "words"), [
    ({"title": "st-x"}, "takes no setting called 'title'"),
    ({"stories": ["Aisha Rahman told us about the night feeds"]}, "must be ids or numbers"),
    ({"stories": ["st-x\nwith a line break"]}, "must be ids or numbers"),
    ({"stories": [{"nested": 1}]}, "must be ids or numbers"),
    ({"stories": ["st-x"] * 1001}, "must be ids or numbers"),
])
def test_parameters_that_could_hold_health_data_are_refused(make_site, params, words):
    site = spy_site(make_site)
    with pytest.raises(JobError, match=words):
        Jobs(site).add("echo", params, by="pete")
    assert Jobs(site).count() == 0


def test_an_unknown_kind_is_refused_naming_the_known_ones(make_site):
    site = spy_site(make_site)
    with pytest.raises(JobError, match="no job kind called 'pack'.*echo.*site-build"):
        Jobs(site).add("pack", {}, by="pete")


# --- a real worker ------------------------------------------------------------------------------

def test_a_worker_runs_queued_jobs_from_the_sqlite_queue(make_site):
    from storykit.taskqueue import Worker, enqueue

    site = spy_site(make_site)
    queued = enqueue(site, "echo", {"stories": ["st-one111"]}, by="pete")  # before it starts
    worker = Worker(site, 2).start()
    try:
        later = enqueue(site, "echo", {}, by="pete")
        jobs = Jobs(site)
        wait_for(lambda: all(jobs.get(j.id).state == DONE for j in (queued, later)))
        # the worker added today's consent sweep when it started, once
        sweeps = jobs.recent(10, kind="consent-sweep")
        assert len(sweeps) == 1
        wait_for(lambda: jobs.get(sweeps[0].id).state == DONE)
    finally:
        worker.stop()
    assert (site.instance / "jobs-queue.db").stat().st_mode & 0o777 == 0o600


def test_a_running_job_gets_heartbeats_from_its_worker(make_site, database_env):
    from storykit.taskqueue import Worker, enqueue

    site = spy_site(make_site, BASIC_TOML + "[jobs]\nstale_after = 2\n")
    worker = Worker(site, 1, periodic=False).start()
    try:
        job = enqueue(site, "echo", {"sleep": 2}, by="pete")
        jobs = Jobs(site)
        first = wait_for(lambda: jobs.get(job.id).heartbeat if jobs.get(job.id).state ==
                         RUNNING else None)
        later = wait_for(lambda: jobs.get(job.id).heartbeat > first + 0.3 and
                         jobs.get(job.id).heartbeat)
        assert later > first
        assert jobs.recover(stale_after=2) == []  # alive: nothing taken from it
        wait_for(lambda: jobs.get(job.id).state == DONE)
    finally:
        worker.stop()


# --- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "words"), [
    ('[jobs]\nbackend = "rabbitmq"\n', 'backend must be "sqlite"'),
    ("[jobs]\nworkers = 0\n", "workers must be between 1 and 16"),
    ('[jobs]\nworkers = "two"\n', "workers must be a whole number"),
    ('[jobs]\nsweep_at = "3am"\n', "sweep_at must be a time of day"),
    ('[jobs]\nredis_url = "http://redis"\n', "redis_url must start with redis://"),
    ('[jobs]\nredis_url = "redis://:secret@redis:6379/0"\n', "holds a password"),
    ('[jobs]\nqueue = "fast"\n', "unknown setting 'queue'"),
    ('[publish]\npublic_url = "stories.example"\n', "public_url must start with https://"),
    ('[publish]\nfolder = ""\n', "folder must be a folder"),
])
def test_wrong_jobs_and_publish_settings_are_clear_errors(tmp_path, toml, words):
    (tmp_path / "storykit.toml").write_text(BASIC_TOML + toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(tmp_path)


def test_redis_backend_without_an_address_is_a_clear_error(make_site, monkeypatch):
    from storykit.taskqueue import backend

    monkeypatch.delenv("STORYKIT_REDIS_URL", raising=False)
    site = Site.open(make_site(toml=BASIC_TOML + '[jobs]\nbackend = "redis"\n'))
    with pytest.raises(ConfigError, match="STORYKIT_REDIS_URL"):
        backend(site)
    monkeypatch.setenv("STORYKIT_REDIS_URL", "unix:///run/redis.sock")
    assert backend(site) == ("redis", "unix:///run/redis.sock")


# --- the command line ---------------------------------------------------------------------------

def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_storykit_jobs_list_and_retry(make_site, capsys, database_env):
    site = spy_site(make_site)
    root = str(site.root)
    code, out, _ = run_cli(capsys, "--site", root, "jobs", "list")
    assert code == 0 and "No jobs yet." in out
    failed = run_job(site, Jobs(site).add("echo", {"fail": "words"}, by="pete")[0].id, "w")
    code, out, _ = run_cli(capsys, "--site", root, "jobs", "list", "--state", "failed")
    assert code == 0 and f"{failed.id:>6}  echo" in out and "FAILED" in out
    assert "the printer is out of paper" in out
    code, out, _ = run_cli(capsys, "--site", root, "jobs", "retry", str(failed.id))
    assert code == 0 and f"Job {failed.id} will be tried again as job {failed.id + 1}" in out
    code, out, _ = run_cli(capsys, "--site", root, "jobs", "list", "--json")
    listed = json.loads(out)
    assert [j["id"] for j in listed] == [failed.id + 1, failed.id]
    assert listed[1]["result"] == {"retried_as": failed.id + 1}


@pytest.mark.parametrize(("args", "words"), [
    (["jobs", "retry", "42"], "there is no job 42"),
    (["jobs", "retry", "0"], "0 is not in the range x>=1"),
    (["jobs", "retry", "seven"], "'seven' is not a valid integer"),
    (["jobs", "list", "--state", "stuck"], "'stuck' is not one of"),
    (["jobs", "list", "--limit", "0"], "0 is not in the range"),
])
def test_storykit_jobs_refuses_bad_input_in_words(make_site, capsys, args, words):
    site = spy_site(make_site)
    code, _, err = run_cli(capsys, "--site", str(site.root), *args)
    assert code != 0 and words in err
    assert "Traceback" not in err


def test_a_finished_job_cannot_be_retried_from_the_command_line(make_site, capsys,
                                                               database_env):
    site = spy_site(make_site)
    done = run_job(site, Jobs(site).add("echo", {}, by="pete")[0].id, "w")
    code, _, err = run_cli(capsys, "--site", str(site.root), "jobs", "retry", str(done.id))
    assert code == 1 and f"job {done.id} has not failed (it finished)" in err


def test_storykit_worker_runs_jobs_and_stops_on_sigint(make_site):
    import os
    import signal
    import subprocess
    import sys

    site = spy_site(make_site)
    from storykit.taskqueue import enqueue

    job = enqueue(site, "echo", {}, by="pete")
    env = {k: v for k, v in os.environ.items() if k != "STORYKIT_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(site.root),
                             "worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        wait_for(lambda: Jobs(site).get(job.id).state == DONE, timeout=60)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "running 1 job(s) at a time from SQLite" in out and "Worker stopped." in out
    assert proc.returncode == 0, err



def test_the_served_apps_log_has_no_queue_notes_but_says_which_jobs_failed(make_site):
    """storykit serve with one thread: requests wait for it, and waitress notes each wait
    ("Task queue depth is 1"). The log holds none of those notes, but a job that fails says
    so in one line, in words (never the text of an unexpected error, which could quote a
    story)."""
    import os
    import socket
    import subprocess
    import sys
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from storykit.taskqueue import enqueue

    site = spy_site(make_site)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "STORYKIT_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(site.root),
                             "serve", "--port", str(port), "--threads", "1",
                             "--public-port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> int:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        wait_for(lambda: _answers(get), timeout=60)
        good = enqueue(site, "echo", {}, by="pete")
        words = enqueue(site, "echo", {"fail": "words"}, by="pete")
        crash = enqueue(site, "echo", {"fail": "crash"}, by="pete")
        with ThreadPoolExecutor(12) as pool:  # more at once than the one thread serves
            statuses = list(pool.map(get, ["/setup"] * 36))
        assert set(statuses) <= {200, 303, 404}, statuses
        jobs = Jobs(site)
        wait_for(lambda: all(jobs.get(j.id).finished for j in (good, words, crash)),
                 timeout=60)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert "Task queue depth" not in err, err
    assert f"job {words.id} (echo) failed: the printer is out of paper" in err, err
    assert f"job {crash.id} (echo) failed: The job stopped unexpectedly (ValueError)" in err
    assert f"job {good.id} " not in err and "Aisha" not in err and "Traceback" not in err


def _answers(get) -> bool:
    try:
        return get("/setup") in (200, 303, 404)
    except OSError:
        return False


# --- import cost: only what queues or runs jobs imports Huey ------------------------------------

def loaded_by(root: Path, tmp_path: Path, *args: str) -> list[str]:
    return modules_loaded_by(root, tmp_path, ("huey", "redis"), *args)


def test_no_command_but_those_that_queue_or_run_jobs_imports_huey_or_redis(make_site,
                                                                           tmp_path):
    """Importing Huey costs every command that pays it: the one-edit rebuild must stay fast."""
    import datetime as dt

    from conftest import consent_version, story_front, write_story

    root = make_site()
    write_story(root, "st-board1", story_front(title="A board story", slug="a-board-story",
                                               status="published"),
                consent=[consent_version(expires=dt.date(2099, 12, 31))])
    for args in [("build",), ("build",), ("list",), ("check",), ("formats",), ("plugins",),
                 ("jobs", "list"), ("consent", "show", "st-board1"), ("history", "st-board1"),
                 ("user", "list"), ("db", "status"),
                 ("render", "st-board1", "--use", "board", "--format", "web", "--out",
                  str(tmp_path / "pages"))]:
        assert loaded_by(root, tmp_path, *args) == [], args
    # withdrawing a story that is on the website queues its takedown: that needs the queue
    assert "huey" in loaded_by(root, tmp_path, "consent", "withdraw", "st-board1", "--scope",
                               "stop_future_use", "--reason", "Changed their mind")
