"""``storykit yousaid poster``: the A3 notice-board poster of a service's done outcomes."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("yousaid")
def yousaid_group() -> None:
    """"You said, we did": posters of what changed because of stories."""


@yousaid_group.command("poster")
@click.option("--service", required=True, metavar="S",
              help="The service (or ward) whose changes to show; see storykit outcome list.")
@click.option("-o", "--out", "out", required=True, metavar="FILE.pdf",
              type=click.Path(path_type=Path), help="The PDF to write.")
@click.option("--theme", metavar="NAME", help="Theme name (default: the site's theme).")
@click.option("--force", is_flag=True, help="Replace FILE.pdf if it already exists.")
def poster_command(service: str, out: Path, theme: str | None, force: bool) -> None:
    """Write an A3 poster of the changes made in SERVICE because of people's stories
    (the newest done outcomes), as a tagged PDF for notice boards."""
    from .poster import write_poster

    site = click.get_current_context().find_root().obj.site
    made = write_poster(site, service, out, theme=theme, force=force)
    click.echo(f"Poster written to {made}")
