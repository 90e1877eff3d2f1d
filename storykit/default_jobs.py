"""The core's own job kinds (the daily consent sweep, sending an email) and the ``storykit
jobs`` and ``storykit worker`` commands (storykit.job_commands, imported only when the
command line asks for commands), registered through hooks like any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hookspecs import hookimpl
from .jobs import JobKind
from .sweep import SWEEP, run_sweep

if TYPE_CHECKING:  # pragma: no cover
    import click


@hookimpl
def register_job_kinds() -> list[JobKind]:
    from .mail import EMAIL_JOB, run_send

    return [JobKind(SWEEP, "Check consent that ran out", run_sweep, params=("day",)),
            JobKind(EMAIL_JOB, "Send an email", run_send, params=("message",))]


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .job_commands import jobs_group, worker_command

    cli.add_command(jobs_group)
    cli.add_command(worker_command)
