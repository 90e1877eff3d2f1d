"""Built-in commands that work through plugins: ``render``, ``findings``, ``formats``,
``plugins`` and ``db``.

They are registered with the ``register_commands`` hook, like any plugin's commands.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from .date_option import DATE
from .db_commands import db_group
from .hookspecs import hookimpl
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


@click.command("findings")
@click.argument("story")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def findings_command(story: str, as_json: bool) -> None:
    """List STORY's findings: first the blocking ones (each must be fixed in the text, or
    dismissed by a reviewer: storykit dismiss STORY CODE --as NAME --reason TEXT), then
    dismissed ones and advice. Details are shown masked, never in full."""
    from .findings import dismissed_words, story_findings

    site = _site()
    found = site.store.find(story)
    result = story_findings(site, found)
    groups = (("blocking", "Blocking: must be fixed, or dismissed by a reviewer",
               result.blocking),
              ("dismissed", "Dismissed by a reviewer", result.dismissed),
              ("advisory", "Worth a look", result.advisory))
    if as_json:
        click.echo(json.dumps({"id": found.id, "etag": found.etag, **{
            key: [{"code": i.ref, "kind": i.code, "what": i.what, "where": i.where,
                   "shown_as": i.shown_as,
                   "dismissed": dismissed_words(i.dismissal) if i.dismissal else None}
                  for i in issues] for key, _, issues in groups}}, indent=2))
        return
    click.echo(f"{found.id}  {found.slug}")
    if not result.issues:
        click.echo("  Nothing found. Still read it through: checks cannot find everything.")
    for _key, heading, issues in groups:
        if issues:
            click.echo(f"{heading}:")
        for i in issues:
            shown = f" ({i.shown_as})" if i.shown_as else ""
            where = f" in {i.where}" if i.where else ""
            said = f": {dismissed_words(i.dismissal)}" if i.dismissal else ""
            click.echo(f"  {i.ref}  {i.what}{shown}{where}{said}")


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


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def plugins_command(as_json: bool) -> None:
    """List loaded plugins: name, version, where they come from, and their hooks."""
    info = _site().plugins.info()
    if as_json:
        click.echo(json.dumps([{"name": p.name, "version": p.version, "source": p.source,
                                "hooks": list(p.hooks)} for p in info], indent=2))
        return
    for p in info:
        click.echo(f"{p.name} {p.version} ({p.source})")
        click.echo(f"    hooks: {', '.join(p.hooks) or 'none'}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .backup_commands import backup_command, restore_command

    for command in (render_command, findings_command, formats_command, plugins_command,
                    db_group, backup_command, restore_command):
        cli.add_command(command)
