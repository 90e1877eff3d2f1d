"""``storykit plugins``: the plugins loaded, where they come from and their hooks.
Registered by the built-in plugin :mod:`storykit.commands`."""

from __future__ import annotations

import json

import click


def _site():
    ctx = click.get_current_context()
    return ctx.find_root().obj.site


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
