"""``storykit build`` (and ``--serve``, its preview). Registered by the plugin's
``register_commands``, so that loading the plugin imports no click; the build itself is
:mod:`storykit_web.build`."""

from __future__ import annotations

from pathlib import Path

import click

#: ``storykit build --serve``'s port: not the app's 8000, nor the 8001 where ``storykit serve``
#: shows the publish folder.
PREVIEW_PORT = 8080


@click.command("build")
@click.option("--out", "out", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the website (default: build/site in the site folder).")
@click.option("--theme", metavar="NAME", help="Theme name (default: the site's theme).")
@click.option("--date", "on", metavar="DATE", expose_value=True,
              help="Not available: the website always shows what consent allows today. To "
                   "see what a date would allow: storykit list --use public_website --date DATE")
@click.option("--serve", is_flag=True, help="Then preview the website on this computer.")
@click.option("--port", type=click.IntRange(0, 65535), default=PREVIEW_PORT, show_default=True,
              help="Port for --serve (0 picks a free one).")
def build_command(out: Path | None, theme: str | None, on: str | None, serve: bool,
                  port: int) -> None:
    """Build the public website: every published story that consent allows on it today.

    Only what changed is rebuilt. Pages of stories that are withdrawn, expired or no longer
    published are removed first, and the distribution log is updated. A story that cannot be
    built is left off with an error naming it (exit status 1); the rest is built.
    """
    if on is not None:
        raise click.UsageError(
            "storykit build always decides for today, so --date cannot be used: a website "
            "built for another day could show stories whose consent has ended. To see what "
            f"consent would allow then, run: storykit list --use public_website --date {on[:10]}")
    from storykit.kit import terminal_progress

    from .build import build_site

    site = click.get_current_context().find_root().obj.site
    bar = terminal_progress("Building the website")
    try:
        report = build_site(site, out, theme=theme, pages=bar)
    finally:
        if bar is not None:
            bar.close()
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{report.stories} stories on the website: {report.rendered} pages rendered, "
               f"{report.stories - report.rendered} unchanged; {report.listings} other pages "
               f"updated; {len(report.removed)} old files removed.")
    if report.taken_down:
        click.echo(f"{report.taken_down} story pages were taken down or replaced "
                   "(recorded in the distribution log).")
    click.echo(f"Website: {report.out_dir}")
    if report.problems:
        click.echo(f"{len(report.problems)} stories could not be put on the website (see "
                   "above); the rest of it was built.", err=True)
    if serve:
        _serve(report.out_dir, port)
    if report.problems:
        raise click.exceptions.Exit(1)


def _serve(folder: Path, port: int) -> None:
    from .serve import make_server

    try:
        server = make_server(folder, port)
    except OSError as exc:
        raise click.ClickException(f"cannot use port {port}: {exc.strerror}; try --port 0") from None
    with server:
        click.echo(f"Preview: http://127.0.0.1:{server.server_address[1]}/index.html "
                   "(press Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.")
