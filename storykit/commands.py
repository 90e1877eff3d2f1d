"""Built-in commands that work through plugins, registered with the ``register_commands``
hook like any plugin's: ``render`` and ``formats`` (storykit.render_commands), ``findings``
(storykit.findings_commands), ``plugins`` (storykit.plugin_commands), ``db``
(storykit.db_commands), ``backup`` and ``restore`` (storykit.backup_commands).

Loading this plugin imports neither click nor those modules: the hook imports them when the
command line asks for its commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    import click


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .backup_commands import backup_command, restore_command
    from .db_commands import db_group
    from .findings_commands import findings_command
    from .plugin_commands import plugins_command
    from .render_commands import formats_command, render_command

    for command in (render_command, findings_command, formats_command, plugins_command,
                    db_group, backup_command, restore_command):
        cli.add_command(command)
