"""storykit_web: the public website of consented stories (format ``web``, ``storykit build``).

It uses only storykit's public hooks, like any third-party plugin. Heavy modules (Pillow,
the builder) are imported when a command runs, so other ``storykit`` commands stay quick;
the ``build`` command itself (:mod:`storykit_web.build_command`) only when the command line
asks for commands, so loading the plugin imports no click.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from storykit import Format, hookimpl
from storykit.kit import DateError, in_range, parse_date

if TYPE_CHECKING:  # pragma: no cover
    import click

    from storykit import Artefact, Job, Site

__version__ = "0.1.0"
CONFIG_KEYS = {"statement_date": "the date the accessibility statement was written, "
                                 "e.g. 2026-11-01"}


def render_web(job: Job) -> list[Artefact]:
    """The ``web`` format: one self-contained accessible HTML page per story."""
    from .standalone import render_web as render

    return render(job)


@hookimpl
def register_formats(site: Site) -> list[Format]:
    return [Format("web", render_web, extension=".html",
                   description="One self-contained, accessible web page per story")]


@hookimpl
def check_plugin_config(site: Site) -> list[str]:
    config: dict[str, Any] = site.config.plugin_config("storykit_web")
    problems = [f"unknown setting {key!r}; known: {', '.join(CONFIG_KEYS)}"
                for key in config if key not in CONFIG_KEYS]
    date = config.get("statement_date")
    if date is not None:
        try:
            in_range(date) if isinstance(date, dt.date) else parse_date(str(date))
        except DateError as exc:
            problems.append(f"statement_date must be a date like 2026-11-01: {exc}")
    return problems


@hookimpl
def after_withdraw(site: Site, story: Any) -> None:
    """Forget the story's text kept for incremental builds; the next build removes its page.
    While a long build holds the build lock (on any machine) that waits 30 seconds at most,
    then leaves it to the next build (queued by the publish plugin's part of the withdrawal),
    so the withdrawal and the other plugins' parts of it still go through."""
    from storykit.kit import LockTimeout

    from .build import forget_story

    try:
        forget_story(site, story.id)
    except LockTimeout:
        return


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .build_command import build_command

    cli.add_command(build_command)
