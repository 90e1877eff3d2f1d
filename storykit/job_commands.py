"""``storykit jobs list|retry`` and ``storykit worker``.

``jobs list`` reads the jobs table only; ``retry`` and ``worker`` import the task queue
(Huey), which no other command needs.
"""

from __future__ import annotations

import json

import click

from .jobs import FAILED, STATES, Job, JobError, Jobs
from .store import current_user


def _site():
    return click.get_current_context().find_root().obj.site


STATE_WORDS = {"queued": "waiting", "running": "running", "done": "done", "failed": "FAILED"}


@click.group("jobs")
def jobs_group() -> None:
    """See background jobs (site builds, the consent sweep...) and try failed ones again."""


@jobs_group.command("list")
@click.option("--state", type=click.Choice(STATES), help="Only jobs in this state.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many of the newest jobs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def jobs_list(state: str | None, limit: int, as_json: bool) -> None:
    """List the newest jobs: what, who asked, state, progress and result or error."""
    found = Jobs(_site()).recent(limit, state=state)
    if as_json:
        click.echo(json.dumps([_json(j) for j in found], indent=2))
        return
    if not found:
        click.echo("No jobs" + (f" that are {state}" if state else "") + " yet.")
    for job in found:
        click.echo(f"{job.id:>6}  {job.kind:16} {STATE_WORDS[job.state]:8} "
                   f"{job.created_at.replace('T', ' ').rstrip('Z')} UTC  by {job.created_by}")
        click.echo(f"        {job.error if job.state == FAILED and job.error else job.message}")
        if job.retried_as is not None:
            click.echo(f"        tried again as job {job.retried_as}")


def _json(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "params": job.params, "state": job.state,
            "attempts": job.attempts, "progress": job.progress, "message": job.message,
            "result": job.result, "error": job.error, "created_by": job.created_by,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at}


@jobs_group.command("retry")
@click.argument("job_id", metavar="ID", type=click.IntRange(1, None))
def jobs_retry(job_id: int) -> None:
    """Try the failed job ID again (as a new job)."""
    from .taskqueue import retry

    site = _site()
    try:
        job = retry(site, job_id, current_user())
    except JobError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Job {job_id} will be tried again as job {job.id}; a worker runs it "
               "(storykit serve or storykit worker).")


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 16), default=None,
              help="Jobs to run at once (default: [jobs] workers, 1).")
def worker_command(threads: int | None) -> None:
    """Run background jobs (site builds, the daily consent sweep) until Ctrl+C.

    storykit serve runs one too; run more on other machines with the Redis queue.
    """
    from .taskqueue import Worker, backend, shown

    site = _site()
    site.database.connection()  # refuse at once when the database is behind
    worker = Worker(site, threads)
    click.echo(f"Worker {worker.token} running {worker.threads} job(s) at a time from "
               f"{shown(backend(site))} (press Ctrl+C to stop).")
    worker.run()
    click.echo("Worker stopped.")
