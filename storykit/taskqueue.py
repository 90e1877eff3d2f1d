"""The task queue under the jobs: Huey, on SQLite in ``instance/`` (nothing to start) or on
Redis (``[jobs] backend = "redis"`` or ``STORYKIT_REDIS_URL``), for workers on several
machines.

Huey carries only job ids (storykit.jobs holds everything else). One Huey task runs a job by
id; one periodic task adds the daily consent sweep. A :class:`Worker` is Huey's consumer
(threads) plus a housekeeper thread that sends the heartbeat of the jobs it runs and, when it
starts and every few seconds after, gives jobs whose worker died back to the queue.

Imported only by what needs it (the app, ``storykit worker``, commands that queue a job):
``storykit build``, ``list`` and the others never import Huey or Redis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING

from . import jobs as J
from .errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from huey import Huey

    from .site import Site

REDIS_ENV = "STORYKIT_REDIS_URL"
QUEUE_FILE = "jobs-queue.db"
RUN_TASK = "storykit.run_job"
SWEEP_TASK = "storykit.daily_sweep"
#: How often an idle SQLite worker looks for work at most (Redis workers are told at once).
POLL_MAX = 0.25


def backend(site: Site) -> tuple[str, str]:
    """("sqlite", path) or ("redis", url): ``STORYKIT_REDIS_URL`` wins over storykit.toml."""
    url = os.environ.get(REDIS_ENV, "").strip()
    config = J.settings(site)
    if url:
        return "redis", url
    if config["backend"] == "redis":
        if not config["redis_url"]:
            raise ConfigError(f"[jobs] backend is redis but there is no redis_url; set it in "
                              f"storykit.toml or set {REDIS_ENV}")
        return "redis", config["redis_url"]
    return "sqlite", str(site.instance / QUEUE_FILE)


def shown(where: tuple[str, str]) -> str:
    """Where the queue is, for people (no password)."""
    kind, place = where
    if kind == "sqlite":
        return f"SQLite ({place})"
    return "Redis (" + place.split("@")[-1] + ")"


def queue_name(site: Site) -> str:
    """One queue per site database, so several sites can share one Redis."""
    return "storykit_" + hashlib.sha256(site.database.url.shown.encode()).hexdigest()[:12]


def huey_for(site: Site) -> Huey:
    """The site's Huey, with storykit's tasks registered (one per site object)."""
    found = site.__dict__.get("_huey")
    if found is None:
        found = site.__dict__["_huey"] = _make_huey(site)
    return found


def _make_huey(site: Site) -> Huey:
    from huey import RedisHuey, SqliteHuey, crontab

    kind, place = backend(site)
    if kind == "redis":
        try:
            import redis  # noqa: F401
        except ImportError:
            raise ConfigError("the Redis queue needs the redis package: pip install "
                              "'storykit[redis]'") from None
        huey = RedisHuey(queue_name(site), url=place, results=False, store_none=False)
    else:
        from .db import private, private_file

        private(site.instance, 0o700)
        private_file(site.instance / QUEUE_FILE)  # 0600, like the site's database
        huey = SqliteHuey(queue_name(site), filename=place, results=False, store_none=False,
                          fsync=True, timeout=15)

    def run(job_id: int) -> None:
        worker = site.__dict__.get("_worker_token") or token()
        done = J.run_job(site, job_id, worker)
        if done is not None and done.state == J.FAILED:  # its error is already in words
            print(f"storykit worker: job {done.id} ({done.kind}) failed: {done.error}",
                  file=sys.stderr)

    def sweep() -> None:
        add_sweep(site)

    hour, minute = J.settings(site)["sweep_at"].split(":")
    huey.storykit_run = huey.task(name=RUN_TASK)(run)  # calling it queues a job id
    huey.periodic_task(crontab(minute=str(int(minute)), hour=str(int(hour))),
                       name=SWEEP_TASK)(sweep)
    return huey


def token() -> str:
    """A worker's name for its claims: the machine, the process and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def push(site: Site, job_id: int, delay: float = 0) -> bool:
    """Hand a job's id to the queue (to run after ``delay`` seconds). False when the queue
    cannot be reached: the job stays queued in the table and a worker's recovery hands it
    over later."""
    try:
        if delay > 0:
            huey_for(site).storykit_run.schedule(args=(int(job_id),), delay=delay)
        else:
            huey_for(site).storykit_run(int(job_id))
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - a queue that is down must not lose the job
        return False
    return True


def enqueue(site: Site, kind: str, params: dict | None = None, *, by: str,
            key: str | None = None, once: bool = False, delay: float = 0) -> J.Job:
    """Add a job (storykit.jobs.Jobs.add) and, when it is new, hand it to the queue
    (``delay``: to start that many seconds from now)."""
    job, new = J.Jobs(site).add(kind, params, by=by, key=key, once=once, delay=delay)
    if new:
        push(site, job.id, delay)
    return job


def retry(site: Site, job_id: int, by: str) -> J.Job:
    job, new = J.Jobs(site).retry(job_id, by)
    if new:
        push(site, job.id)
    return job


def add_sweep(site: Site, on: dt.date | None = None) -> J.Job | None:
    """Today's consent sweep, once a day (a sweep already added today is returned)."""
    from .dates import today

    if "consent-sweep" not in J.job_kinds(site):
        return None
    day = (on or today()).isoformat()
    return enqueue(site, "consent-sweep", {"day": day}, by=J.SYSTEM,
                   key=f"consent-sweep:{day}", once=True)


# --- workers -----------------------------------------------------------------------------------

class Worker:
    """Runs jobs: Huey's consumer with ``threads`` worker threads and its scheduler (the
    daily sweep), and a housekeeper for heartbeats and recovery. :meth:`start` runs it
    beside other work (``storykit serve``); :meth:`run` until a signal (``storykit worker``)."""

    def __init__(self, site: Site, threads: int | None = None, *, periodic: bool = True):
        config = J.settings(site)
        self.site = site
        self.threads = threads or config["workers"]
        self.stale_after = float(config["stale_after"])
        self.token = site.__dict__["_worker_token"] = token()
        self.periodic = periodic
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self.consumer = None

    @property
    def beat_every(self) -> float:
        return max(0.2, min(5.0, self.stale_after / 4))

    def _consumer(self, signals: bool = False):
        """Huey's consumer; ``signals``: it handles SIGINT and SIGTERM (``storykit worker``).
        Beside the app it must not: the app's server stops on them as before."""
        from huey.consumer import Consumer

        class _Consumer(Consumer):
            def _set_signal_handlers(self) -> None:
                if signals and threading.current_thread() is threading.main_thread():
                    super()._set_signal_handlers()

        _quiet_huey()
        return _Consumer(huey_for(self.site), workers=self.threads, periodic=self.periodic,
                         initial_delay=0.02, backoff=1.5, max_delay=POLL_MAX,
                         worker_type="thread", check_worker_health=True)

    def recover(self) -> list[int]:
        """Give jobs whose worker died back to the queue; add today's sweep if missing."""
        again = J.Jobs(self.site).recover(self.stale_after)
        for job_id in again:
            push(self.site, job_id)
        return again

    def _begin(self, signals: bool) -> None:
        """Recover what died, add today's sweep if missing (a machine that was off at sweep
        time catches up), make the consumer and start the housekeeper."""
        self.recover()
        if self.periodic:
            add_sweep(self.site)
        self.consumer = self._consumer(signals)
        self._housekeeper = threading.Thread(target=self._housekeep, name="storykit-jobs",
                                             daemon=True)
        self._housekeeper.start()

    def start(self) -> Worker:
        self._begin(signals=False)
        self.consumer.start()
        return self

    def _housekeep(self) -> None:
        jobs = J.Jobs(self.site)
        next_recovery = 0.0
        while not self._stop.wait(self.beat_every):
            try:
                jobs.beat(self.token)
                if time.monotonic() >= next_recovery:
                    next_recovery = time.monotonic() + max(1.0, self.stale_after / 2)
                    self.recover()
            except Exception as exc:  # noqa: BLE001 - keep beating; say what went wrong
                print(f"storykit worker: {J.failure_words(exc)}", file=sys.stderr)

    def stop(self, graceful: bool = True) -> None:
        self._stop.set()
        if self.consumer is not None:
            self.consumer.stop(graceful=graceful)
        if self._housekeeper is not None:
            self._housekeeper.join(timeout=10)

    def run(self) -> None:
        """Run in the foreground until Ctrl+C (the jobs in hand are finished) or SIGTERM."""
        self._begin(signals=True)
        try:
            self.consumer.run()
        finally:
            self._stop.set()


def _quiet_huey() -> None:
    """Huey's log lines go to standard error as one short line each (no tracebacks: a
    traceback's text could quote a story)."""
    logger = logging.getLogger("huey")
    if getattr(logger, "_storykit", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine("storykit worker: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger._storykit = True  # type: ignore[attr-defined]


class _OneLine(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info = record.exc_text = None
        return super().format(record)
