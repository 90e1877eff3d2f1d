"""Packs as a built-in plugin: the commands ``storykit pack``, ``storykit packs list|show|
rebuild|saved`` and ``storykit copies STORY`` (``register_commands``; they are in
:mod:`storykit.pack_commands`, imported only when the command line asks for commands), and,
when a storyteller asks for everything to be deleted, the packs storykit itself keeps that
carry their story are deleted too (``after_withdraw``). The work is done by
:mod:`storykit.packs` and :mod:`storykit.copies`, which the browser app and background jobs
call too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .site import Site


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .pack_commands import copies_command, pack_command, packs_group

    for command in (pack_command, packs_group, copies_command):
        cli.add_command(command)


@hookimpl
def after_withdraw(site: Site, story, scope: str) -> None:
    """Erasing everything also deletes the packs storykit keeps (in its instance folder)
    that carry the story; packs written elsewhere are in the takedown list."""
    if scope == "delete_everything":
        from .packs import delete_kept_packs

        delete_kept_packs(site, story.id)
