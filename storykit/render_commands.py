"""``storykit render`` and ``storykit formats``: rendering stories for a use, and the
formats plugins offer. Registered by the built-in plugin :mod:`storykit.commands`; the
work is done by :mod:`storykit.render`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from .date_option import DATE
from .store import current_user


def _site():
    ctx = click.get_current_context()
    return ctx.find_root().obj.site


@click.command("render", short_help="Render stories for a use as pdf, slides, pptx, card...")
@click.argument("stories", nargs=-1, required=True, metavar="STORY...")
@click.option("--use", "use", required=True, metavar="USE",
              help="What the output is for, e.g. board or public_website.")
@click.option("--format", "fmt", required=True, metavar="FORMAT",
              help="Output format (see 'storykit formats').")
@click.option("--out", "out", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write into.")
@click.option("--theme", help="Theme name (default: the site's theme).")
@click.option("--with-notes", is_flag=True, help="Include speaker notes (presenter copies).")
@click.option("--preview", is_flag=True,
              help="Internal draft preview: marked DRAFT and never recorded as a distribution.")
@click.option("--date", "on", type=DATE,
              help="What-if preview (YYYY-MM-DD): a story must be allowed today and on this "
                   "date; every page is marked PREVIEW and nothing is recorded.")
@click.option("--length", type=click.Choice(["full", "summary"]),
              help="Decks (slides, slides-pdf, handout, pptx): every slide of each story "
                   "(full, the default) or at most six a story for a meeting (summary).")
def render_command(stories: tuple[str, ...], use: str, fmt: str, out: Path, theme: str | None,
                   with_notes: bool, preview: bool, on: dt.date | None,
                   length: str | None) -> None:
    """Render STORY... (ids or slugs) for USE as FORMAT into DIR.

    Consent is checked for each story for today: a refused story is not rendered and the
    reason is printed. Exits with status 1 if any story was refused.
    """
    from .render import render

    site = _site()
    found = [site.store.find(ref) for ref in stories]
    result = render(site, found, use, fmt, out, what_if=on, with_notes=with_notes,
                    preview=preview, theme=theme, by=current_user(), length=length)
    for artefact in result.artefacts:
        click.echo(f"wrote {artefact.path}")
    for decision in result.refused:
        click.echo(f"refused {decision.story_id} for {use}: {'; '.join(decision.messages)}",
                   err=True)
    for warning in site.plugins.warnings:
        click.echo(f"warning: {warning}", err=True)
    rendered = len({i for a in result.artefacts for i in a.story_ids})
    click.echo(f"{rendered} of {len(found)} stories rendered as {fmt} for {use}")
    if on and rendered:
        click.echo("This is a what-if preview: every page is marked PREVIEW and nothing was "
                   "recorded. Do not share it.")
    if result.refused:
        raise click.exceptions.Exit(1)


@click.command("formats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def formats_command(as_json: bool) -> None:
    """List output formats and the plugin providing each."""
    formats = _site().formats()
    rows = [{"name": f.name, "plugin": f.plugin, "description": f.description,
             "extension": f.extension, "multi": f.multi, "lengths": list(f.lengths),
             "uses": sorted(f.uses) if f.uses is not None else None}
            for f in formats.values()]
    rows.sort(key=lambda r: r["name"])
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:12} {row['plugin']:22} {row['description']}")
