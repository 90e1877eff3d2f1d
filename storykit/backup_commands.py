"""``storykit backup`` and ``storykit restore``: a whole site in one file, and back
(storykit.backup; docs/deploy.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("backup")
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path),
              help="The backup file to write (.tar.gz), outside the site's folders.")
def backup_command(out: Path) -> None:
    """Back up the whole site while it runs: the stories with their consent records,
    evidence and media, their revisions, and every row of the database (accounts, audit
    log, distribution log, jobs, packs). The file holds health data: keep it as safe as
    the site."""
    from .backup import BackupError, make_backup

    site = click.get_current_context().find_root().obj.site
    try:
        report = make_backup(site, out)
    except BackupError as exc:
        raise click.ClickException(f"{exc}. No backup was written.") from None
    click.echo(f"Backed up {report.words()} to {report.path}")
    for rel in report.left_out:
        click.echo(f"warning: left out {rel} (a link or a special file, not a plain file)",
                   err=True)


@click.command("restore")
@click.argument("backup", type=click.Path(path_type=Path))
@click.option("--into", "into", required=True, type=click.Path(path_type=Path),
              help="A new (or empty) folder for the restored site.")
def restore_command(backup: Path, into: Path) -> None:
    """Make a new site in the folder INTO from BACKUP. Its database is SQLite in the new
    instance folder, or the empty database STORYKIT_DATABASE_URL names. The live site is
    never touched: check the restored one, then swap it in."""
    from .backup import BackupError, restore_backup

    try:
        report = restore_backup(backup, into)
    except BackupError as exc:
        raise click.ClickException(f"{exc}. Nothing was restored.") from None
    click.echo(f"Restored {report.words()} into {report.path}")
    click.echo(f"Check it with: storykit --site {report.path} check")
