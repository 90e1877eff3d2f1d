"""``storykit db upgrade`` and ``storykit db status``: the database's schema.

Registered with the core's other commands (storykit.commands). Only ``upgrade`` imports
Alembic and SQLAlchemy; ``status`` reads the migration files and the database directly.
"""

from __future__ import annotations

import click


def _database():
    return click.get_current_context().find_root().obj.site.database


@click.group("db")
def db_group() -> None:
    """Bring the site's database up to date, or see whether it is."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Make every table the site's storykit and plugins need (run after installing or
    upgrading storykit or a plugin). Rows already there are kept."""
    from .migrate import upgrade

    database = _database()
    before = database.status()
    if before.up_to_date:
        click.echo(f"{before.words()} Nothing to do.")
        return
    click.echo(f"Bringing the database up to date ({database.url.shown})...")
    upgrade(database)
    after = database.status()
    click.echo(after.words())
    if not after.up_to_date:
        raise click.exceptions.Exit(1)


@db_group.command("status")
def db_status() -> None:
    """Say whether the database is up to date (exit status 1 if it is not)."""
    database = _database()
    status = database.status()
    click.echo(f"Database: {database.url.shown} ({database.dialect})")
    click.echo(status.words())
    if not status.up_to_date:
        raise click.exceptions.Exit(1)


db_group.add_command(db_status, "current")
