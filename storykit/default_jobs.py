"""The core's own job kind (the daily consent sweep) and the ``storykit jobs`` and
``storykit worker`` commands, registered through hooks like any plugin's."""

from __future__ import annotations

import click

from .hookspecs import hookimpl
from .jobs import JobKind
from .sweep import SWEEP, run_sweep


@hookimpl
def register_job_kinds() -> list[JobKind]:
    return [JobKind(SWEEP, "Check consent that ran out", run_sweep, params=("day",))]


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .job_commands import jobs_group, worker_command

    cli.add_command(jobs_group)
    cli.add_command(worker_command)
