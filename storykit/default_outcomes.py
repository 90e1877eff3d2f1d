"""Outcomes as a built-in plugin: ``storykit outcome add|list|show|update|respond|
from-changes|letters`` (``register_commands``; they are in :mod:`storykit.outcome_commands`,
imported only when the command line asks for commands), and, when a storyteller asks for
everything to be deleted, their responses go with the story while the team's outcomes stay
(``after_withdraw``). The work is done by :mod:`storykit.outcomes`, which the browser app
calls too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .site import Site


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .outcome_commands import outcome_group

    cli.add_command(outcome_group)


@hookimpl
def after_withdraw(site: Site, story, scope: str) -> None:
    """Erasing everything takes the storyteller's responses too; outcomes stay."""
    if scope == "delete_everything":
        from .outcomes import outcome_log

        outcome_log(site).forget_story(story.id)
