"""``storykit findings STORY``: a story's findings, blocking ones first. Registered by the
built-in plugin :mod:`storykit.commands`; the work is done by :mod:`storykit.findings`."""

from __future__ import annotations

import json

import click


def _site():
    ctx = click.get_current_context()
    return ctx.find_root().obj.site


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
