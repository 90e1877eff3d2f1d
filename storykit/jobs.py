"""Background jobs: the ``jobs`` table, the registry of job kinds, and running one job.

Long work (a site build, the daily consent sweep; packs, emails and letters later) runs as a
*job*. Its row in the site's database is the truth about it: kind, parameters (ids and
numbers only: never health data), state (``queued`` -> ``running`` -> ``done`` | ``failed``),
attempts, progress and a message in words, the result, the error in words, who asked and
when, and the heartbeat of the worker running it. The task queue (Huey: storykit.taskqueue)
carries only the job's id, so nothing is lost if the queue is: recovery finds it here.

Safety rules, on SQLite and PostgreSQL alike:

- a worker *claims* a job with one conditional UPDATE (``state = 'queued'``): two workers
  handed the same id never both run it;
- every later write by that worker names its claim (``worker = :token``), so a worker that
  was thought dead and comes back cannot overwrite what another worker did;
- a running job whose worker stopped sending heartbeats is queued again by
  :meth:`Jobs.recover` (a worker does that when it starts, and every few seconds), up to
  :data:`MAX_ATTEMPTS` times;
- jobs of a kind marked ``coalesce`` share a key: adding one while another with that key is
  queued joins it (at most one queued build per site), and one is not started while another
  with its key runs.

Job kinds come from the ``register_job_kinds`` hook (the core's own, the daily sweep, in
storykit.default_jobs; the site build in storykit_web.publish).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .db import Connection
    from .site import Site

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
#: How many times a job is started before a worker dying under it fails it for good.
MAX_ATTEMPTS = 3
#: Seconds without a heartbeat before a running job's worker is taken for dead (``[jobs]
#: stale_after``); workers beat several times in that span.
STALE_AFTER = 60
#: Progress is written at most this often (seconds), besides the first and the last.
PROGRESS_EVERY = 0.25
#: A parameter value: an id, a name, a number or a yes/no; never free text.
_PARAM_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}\Z")
_MAX_LIST = 1000
SYSTEM = "storykit"  # who asked, for jobs nobody asked for (the daily sweep, recovery)
_SAME_KEY_ANY = "SELECT * FROM jobs WHERE key = :key ORDER BY id DESC LIMIT 1"
_SAME_KEY_QUEUED = ("SELECT * FROM jobs WHERE key = :key AND state = 'queued' "
                    "ORDER BY id DESC LIMIT 1")


class JobError(StorykitError):
    """A job could not be added, found or retried; the message says why in words."""


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its ``name`` (``site-build``), the words people see for it (``label``:
    "Update the public website"), the function that does the work, and the parameter names
    it accepts. ``run(context)`` returns the result (a dict of counts, ids and sentences;
    never story text) or raises :class:`~storykit.errors.StorykitError` with a message in
    words. ``coalesce``: at most one job of this kind waits at a time (see the module)."""

    name: str
    label: str
    run: Callable[[JobContext], Mapping[str, Any] | None]
    params: tuple[str, ...] = ()
    coalesce: bool = False


@dataclass(frozen=True)
class Job:
    """One row of the ``jobs`` table."""

    id: int
    kind: str
    params: dict[str, Any]
    key: str | None
    state: str
    attempts: int
    progress: float
    message: str
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    worker: str | None
    heartbeat: float | None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def retried_as(self) -> int | None:
        """The job that tried this failed one again, if someone asked."""
        value = (self.result or {}).get("retried_as")
        return int(value) if isinstance(value, int) else None

    def stories(self) -> list[str]:
        """The story ids this job is about (from its parameters)."""
        found = self.params.get("stories", [])
        return [s for s in found if isinstance(s, str)] if isinstance(found, list) else []


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_kinds(site: Site) -> dict[str, JobKind]:
    """Every job kind the site's plugins register, by name (the first registered wins)."""
    cache = site.__dict__.setdefault("_job_kinds", {})
    if not cache:
        for kind in site.plugins.flat("register_job_kinds", site=site):
            if not isinstance(kind, JobKind):
                raise JobError(f"register_job_kinds returned {type(kind).__name__}, "
                               "not a storykit.jobs.JobKind")
            cache.setdefault(kind.name, kind)
    return cache


def check_params(kind: JobKind, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` if every name is one ``kind`` takes and every value is an id, a number, a
    yes/no or a list of those; otherwise a :class:`JobError` saying which. This keeps health
    data (titles, names, reasons) out of the jobs table by construction."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in kind.params:
            raise JobError(f"a {kind.name} job takes no setting called {name[:40]!r} "
                           f"(it takes: {', '.join(kind.params) or 'none'})")
        values = value if isinstance(value, list) else [value]
        if len(values) > _MAX_LIST or not all(_plain(v) for v in values):
            raise JobError(f"the {name} of a {kind.name} job must be ids or numbers "
                           f"(at most {_MAX_LIST})")
        out[name] = value
    return out


def _plain(value: Any) -> bool:
    if isinstance(value, bool | int | float) or value is None:
        return True
    return isinstance(value, str) and bool(_PARAM_TEXT.match(value))


def _row(row: Any) -> Job:
    data = dict(row)
    return Job(id=int(data["id"]), kind=data["kind"], params=_load(data["params"]) or {},
               key=data["key"], state=data["state"], attempts=int(data["attempts"]),
               progress=float(data["progress"] or 0), message=data["message"] or "",
               result=_load(data["result"]), error=data["error"],
               created_by=data["created_by"], created_at=data["created_at"],
               started_at=data["started_at"], finished_at=data["finished_at"],
               worker=data["worker"], heartbeat=data["heartbeat"])


def _load(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _dump(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), sort_keys=True, default=str)


class Jobs:
    """The ``jobs`` table of a site's database (each thread uses its own connection)."""

    def __init__(self, site: Site):
        self.site = site

    @property
    def conn(self) -> Connection:
        return self.site.database.connection()

    # --- adding and reading ---------------------------------------------------------------

    def add(self, kind: str, params: Mapping[str, Any] | None = None, *, by: str,
            key: str | None = None, once: bool = False,
            delay: float = 0) -> tuple[Job, bool]:
        """Record a new queued job; returns it and whether it is new. For a ``coalesce`` kind
        (or with ``key``), a job already queued with the same key is returned instead, its
        story ids joined with these. ``once``: any job with ``key``, whatever its state,
        counts (e.g. one consent sweep a day). ``delay``: seconds before it may start (recovery
        leaves it alone until then). The caller then hands the id to the queue."""
        found = job_kinds(self.site).get(kind)
        if found is None:
            raise JobError(f"there is no job kind called {kind[:40]!r}; known kinds: "
                           f"{', '.join(sorted(job_kinds(self.site))) or 'none'}")
        clean = check_params(found, params or {})
        key = key or (found.name if found.coalesce else None)
        conn = self.conn
        with conn.transaction():
            if key is not None:
                same = conn.one(_SAME_KEY_ANY if once else _SAME_KEY_QUEUED, {"key": key})
                if same is not None:
                    job = _row(same)
                    if once or job.state != QUEUED:
                        return job, False
                    return self._join(conn, job, clean), False
            job_id = conn.value(
                "INSERT INTO jobs (kind, params, key, state, created_by, created_at, message, "
                "heartbeat) VALUES (:kind, :params, :key, 'queued', :by, :at, :message, :now) "
                "RETURNING id",
                {"kind": kind, "params": _dump(clean), "key": key, "by": by[:100],
                 "at": now_text(), "now": time.time() + max(0.0, delay),
                 "message": "Waiting for a worker." if not delay else
                 f"Waiting {round(delay)} seconds before it starts."})
        return self.get(int(job_id)), True

    def _join(self, conn: Connection, job: Job, params: dict[str, Any]) -> Job:
        stories = sorted(set(job.stories()) | set(params.get("stories", [])))
        if stories == job.stories():
            return job
        merged = {**job.params, "stories": stories[-_MAX_LIST:]}
        conn.execute("UPDATE jobs SET params = :params WHERE id = :id",
                     {"params": _dump(merged), "id": job.id})
        return self.get(job.id)

    def get(self, job_id: int) -> Job:
        row = self.conn.one("SELECT * FROM jobs WHERE id = :id", {"id": int(job_id)})
        if row is None:
            raise JobError(f"there is no job {job_id}; see: storykit jobs list")
        return _row(row)

    def find(self, job_id: int) -> Job | None:
        try:
            return self.get(job_id)
        except JobError:
            return None

    def recent(self, limit: int = 50, *, state: str | None = None, kind: str | None = None,
               offset: int = 0) -> list[Job]:
        """The newest jobs first, optionally of one state or kind."""
        params = {"limit": int(limit), "offset": int(offset), "state": state, "kind": kind}
        return [_row(r) for r in self.conn.all(
            "SELECT * FROM jobs WHERE state = COALESCE(:state, state) AND kind = COALESCE(:kind, "
            "kind) ORDER BY id DESC LIMIT :limit OFFSET :offset", params)]

    def count(self, state: str | None = None) -> int:
        if state is None:
            return int(self.conn.value("SELECT count(*) FROM jobs", default=0))
        return int(self.conn.value("SELECT count(*) FROM jobs WHERE state = :state",
                                   {"state": state}, default=0))

    def last_finished(self, kind: str) -> Job | None:
        """The most recently finished job of ``kind`` (done, or failed with a result)."""
        row = self.conn.one("SELECT * FROM jobs WHERE kind = :kind AND finished_at IS NOT NULL "
                            "AND result IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1",
                            {"kind": kind})
        return _row(row) if row else None

    def open_failures(self, limit: int = 50) -> list[Job]:
        """Failed jobs nobody has tried again yet (for the jobs page and dashboards)."""
        return [j for j in self.recent(limit * 2, state=FAILED) if j.retried_as is None][:limit]

    # --- a worker's side --------------------------------------------------------------------

    def claim(self, job_id: int, worker: str) -> Job | None:
        """Take a queued job for ``worker``: the job, or None when it is not queued any more
        (another worker has it, it is finished, or it never existed), or when another job
        with its key is running (then it stays queued: see :meth:`busy`)."""
        conn = self.conn
        with conn.transaction():
            row = conn.one("SELECT * FROM jobs WHERE id = :id", {"id": int(job_id)})
            if row is None or row["state"] != QUEUED:
                return None
            if row["key"] is not None and conn.one(
                    "SELECT id FROM jobs WHERE key = :key AND state = 'running' AND id <> :id",
                    {"key": row["key"], "id": int(job_id)}):
                return None
            conn.execute("UPDATE jobs SET state = 'running', worker = :worker, heartbeat = :now,"
                         " attempts = attempts + 1, started_at = :at, progress = 0, "
                         "message = :message, error = NULL WHERE id = :id AND state = 'queued'",
                         {"worker": worker, "now": time.time(), "at": now_text(),
                          "message": "Started.", "id": int(job_id)})
        return self.get(job_id)

    def busy(self, job_id: int) -> bool:
        """Whether ``job_id`` is queued while another job with its key runs."""
        row = self.conn.one("SELECT key, state FROM jobs WHERE id = :id", {"id": int(job_id)})
        if row is None or row["state"] != QUEUED or row["key"] is None:
            return False
        return self.conn.one("SELECT id FROM jobs WHERE key = :key AND state = 'running'",
                             {"key": row["key"]}) is not None

    def beat(self, worker: str) -> int:
        """Say ``worker`` is alive: every job it runs gets a fresh heartbeat."""
        return self.conn.execute("UPDATE jobs SET heartbeat = :now WHERE worker = :worker AND "
                                 "state = 'running'", {"now": time.time(),
                                                       "worker": worker}).rowcount

    def report(self, job_id: int, worker: str, progress: float, message: str) -> bool:
        """Progress (0 to 1) and a message in words; False when the job is no longer this
        worker's (recovery gave it to another)."""
        return self.conn.execute(
            "UPDATE jobs SET progress = :progress, message = :message, heartbeat = :now "
            "WHERE id = :id AND worker = :worker AND state = 'running'",
            {"progress": max(0.0, min(1.0, float(progress))), "message": message[:500],
             "now": time.time(), "id": int(job_id), "worker": worker}).rowcount == 1

    def finish(self, job_id: int, worker: str, *, state: str, message: str,
               result: Mapping[str, Any] | None = None, error: str | None = None) -> bool:
        """End a job this worker runs as ``done`` or ``failed``."""
        assert state in (DONE, FAILED)
        return self.conn.execute(
            "UPDATE jobs SET state = :state, message = :message, result = :result, "
            "error = :error, finished_at = :at, progress = :progress, heartbeat = :now "
            "WHERE id = :id AND worker = :worker AND state = 'running'",
            {"state": state, "message": message[:500], "result": _dump(result),
             "error": None if error is None else error[:2000], "at": now_text(),
             "progress": 1.0 if state == DONE else 0.0, "now": time.time(),
             "id": int(job_id), "worker": worker}).rowcount == 1

    def recover(self, stale_after: float = STALE_AFTER) -> list[int]:
        """Jobs whose worker stopped: running ones without a heartbeat for ``stale_after``
        seconds are queued again (or failed after :data:`MAX_ATTEMPTS` starts), and queued
        ones that waited that long are handed to the queue again (their message may have
        been lost with it). Returns the ids to hand to the queue; a duplicate in the queue
        does no harm (only one claim succeeds)."""
        limit = time.time() - stale_after
        conn = self.conn
        again: list[int] = []
        with conn.transaction():
            rows = conn.all("SELECT id, state, attempts FROM jobs WHERE state IN ('queued', "
                            "'running') AND (heartbeat IS NULL OR heartbeat < :limit)",
                            {"limit": limit})
            for row in rows:
                if row["state"] == RUNNING and row["attempts"] >= MAX_ATTEMPTS:
                    conn.execute(
                        "UPDATE jobs SET state = 'failed', finished_at = :at, worker = NULL, "
                        "error = :error, message = :error WHERE id = :id",
                        {"at": now_text(), "id": row["id"], "error":
                         f"The worker stopped {row['attempts']} times while doing this job, "
                         "so it was not started again. Try again, and if it happens again "
                         "ask whoever runs the site to look at the workers."})
                    continue
                message = ("Waiting for a worker again: the worker doing it stopped."
                           if row["state"] == RUNNING else "Waiting for a worker.")
                conn.execute("UPDATE jobs SET state = 'queued', worker = NULL, heartbeat = :now,"
                             " message = :message WHERE id = :id",
                             {"now": time.time(), "message": message, "id": row["id"]})
                again.append(int(row["id"]))
        return again

    def retry(self, job_id: int, by: str) -> tuple[Job, bool]:
        """Try a failed job again, as a new job with the same kind and parameters (joining
        one already queued for a coalesced kind). The failed one remembers which."""
        old = self.get(job_id)
        if old.state != FAILED:
            raise JobError(f"job {old.id} has not failed ({_STATE_WORDS[old.state]}), so there "
                           "is nothing to try again")
        if old.retried_as is not None:
            raise JobError(f"job {old.id} was already tried again as job {old.retried_as}")
        job, new = self.add(old.kind, old.params, by=by, key=old.key)
        self.conn.execute("UPDATE jobs SET result = :result WHERE id = :id",
                          {"result": _dump({**(old.result or {}), "retried_as": job.id}),
                           "id": old.id})
        return job, new


_STATE_WORDS = {QUEUED: "it is waiting", RUNNING: "it is running", DONE: "it finished",
                FAILED: "it failed"}


# --- running one job -------------------------------------------------------------------------

class JobContext:
    """What a job's function gets: the site, the job, its parameters and who asked, and
    :meth:`progress` to say how far it is, in words."""

    def __init__(self, site: Site, job: Job, worker: str):
        self.site, self.job, self.worker = site, job, worker
        self.params = job.params
        self.by = job.created_by
        self._last = 0.0
        self.lost = False  # recovery gave the job to another worker

    def progress(self, fraction: float, message: str, *, force: bool = False) -> None:
        """Say how far the job is (0 to 1) and what it is doing, in words people read on
        the jobs page. Written at most every quarter second."""
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        if not Jobs(self.site).report(self.job.id, self.worker, fraction, message):
            self.lost = True


def run_job(site: Site, job_id: int, worker: str, *, wait: float = 600) -> Job | None:
    """Claim job ``job_id`` for ``worker`` and run it: its row says done with the result, or
    failed with the error in words. Returns the finished job, or None when it was not this
    worker's to run. While another job with its key runs, waits (up to ``wait`` seconds)."""
    jobs = Jobs(site)
    deadline = time.monotonic() + wait
    job = jobs.claim(job_id, worker)
    while job is None and jobs.busy(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
        job = jobs.claim(job_id, worker)
    if job is None:
        return None
    kind = job_kinds(site).get(job.kind)
    context = JobContext(site, job, worker)
    try:
        if kind is None:
            raise JobError(f"this storykit has no job kind called {job.kind!r} (a plugin that "
                           "is not loaded here?)")
        result = dict(kind.run(context) or {})
    except Exception as exc:  # noqa: BLE001 - every failure becomes words on the job
        jobs.finish(job.id, worker, state=FAILED, message=failure_words(exc),
                    error=failure_words(exc))
    else:
        failed = result.pop("failed", None)
        message = str(result.pop("message", "") or "Finished.")
        if failed:
            jobs.finish(job.id, worker, state=FAILED, message=message, result=result,
                        error=str(failed))
        else:
            jobs.finish(job.id, worker, state=DONE, message=message, result=result)
    return jobs.find(job.id)


def failure_words(exc: BaseException) -> str:
    """An error for people: storykit's own messages (written never to hold story text), or
    just the kind of error for anything else (its text might hold story text)."""
    if isinstance(exc, StorykitError):  # plugin and settings errors included
        return str(exc)
    return (f"The job stopped unexpectedly ({type(exc).__name__}). Try again; if it happens "
            "again, ask whoever runs the site to run the job with STORYKIT_DEBUG=1.")


def settings(site: Site) -> dict[str, Any]:
    """The ``[jobs]`` settings with their defaults."""
    jobs = site.config.jobs
    return {"backend": jobs.get("backend", "sqlite"), "redis_url": jobs.get("redis_url", ""),
            "workers": jobs.get("workers", 1), "stale_after": jobs.get("stale_after", STALE_AFTER),
            "sweep_at": jobs.get("sweep_at", "03:00")}
