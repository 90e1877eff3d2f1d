"""The hook catalogue: every way a plugin can extend storykit.

A plugin is a module (or object) with functions marked ``@storykit.hookimpl`` whose names match
these specs. An implementation may accept any subset of a hook's arguments. Every hook is
documented in docs/plugins.md and tested in tests/test_plugins.py (meta-tests enforce both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt
    from pathlib import Path

    import click
    import flask
    import jinja2

    from .jobs import JobKind
    from .letters import Letter
    from .model import ConsentVersion, Story
    from .outcomes import Outcome
    from .publishing import PublishTarget
    from .render import Artefact, Format, Job
    from .site import Site
    from .sitepages import WebPage
    from .themes import Theme

hookspec = pluggy.HookspecMarker("storykit")
hookimpl = pluggy.HookimplMarker("storykit")


@hookspec
def register_formats(site: Site) -> list[Format] | None:
    """Output formats this plugin renders (e.g. ``web``, ``pdf``, ``slides``)."""


@hookspec
def markdown_extensions(site: Site) -> list[Any] | None:
    """Python-Markdown extensions (names or instances) added to the one shared converter.

    Their output is still sanitised: they cannot add scripts, styles or unsafe links."""


@hookspec
def register_themes(site: Site) -> list[Any] | None:
    """Folders (paths) of themes this plugin ships; each holds a ``theme.toml``."""


@hookspec
def story_checks(site: Site, story: Story, on: dt.date) -> list[Any] | None:
    """Findings about a story (``storykit.checks.Finding``), shown by ``storykit check``
    and in the editor. Return warnings for things a person should look at."""


@hookspec
def template_context(site: Site, template: str, context: dict[str, Any]) -> dict[str, Any] | None:
    """Extra variables for rendering ``template``; merged into ``context``."""


@hookspec
def prepare_jinja_environment(site: Site, env: jinja2.Environment) -> None:
    """Add filters, tests or globals to a Jinja environment. Every storykit environment
    autoescapes HTML; keep it that way."""


@hookspec
def check_plugin_config(site: Site) -> list[str] | None:
    """Problems with this plugin's ``[plugins.<name>]`` settings in storykit.toml, as
    sentences. Any problem stops storykit with a clear error naming the plugin."""


@hookspec
def after_render(site: Site, job: Job, artefacts: list[Artefact]) -> None:
    """Called once a job's artefacts are written and recorded in the distribution log."""


@hookspec
def after_withdraw(site: Site, story: Story, scope: str, distributions: list[Any]) -> None:
    """Called after consent is withdrawn; ``distributions`` is where the story went."""


@hookspec
def after_status_change(site: Site, story: Story, old: str, new: str, by: str) -> None:
    """Called after a story's status changed (``storykit.lifecycle``: a person's submit,
    approve, request changes, publish or take down, or a widened consent sending it back to
    review); ``story`` is as saved, ``by`` the account name. E.g. queue a site build when a
    story becomes, or stops being, ``published``."""


@hookspec
def after_consent_sweep(site: Site, day: dt.date) -> None:
    """Called after the daily consent sweep (``storykit.sweep``) for ``day``: e.g. tell the
    people who work on stories whose consent is ending (the app's email notices)."""


@hookspec
def after_consent_change(site: Site, story: Story, old: ConsentVersion | None,
                         new: ConsentVersion, by: str) -> None:
    """Called after a new consent version was recorded (not a withdrawal: see
    ``after_withdraw``); ``old`` is the version before (None for the first). A narrower
    consent applies at once: e.g. queue a build that takes down what it no longer allows."""


@hookspec
def register_job_kinds(site: Site) -> list[JobKind] | None:
    """Kinds of background job this plugin runs (``storykit.jobs.JobKind``): a name, words
    for people, the function and the parameters it takes. Jobs of these kinds are queued
    with ``storykit.taskqueue.enqueue`` and run by ``storykit worker`` or ``storykit serve``."""


@hookspec
def register_publish_targets(site: Site) -> list[PublishTarget] | None:
    """Places the public website can be published to (``storykit.publishing.PublishTarget``),
    chosen with ``[publish] target`` in storykit.toml. After each site build a target is told
    which files were written and which removed (removals first)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``storykit`` command line (``cli.add_command`` or ``@cli.command``)."""


@hookspec
def register_migrations(site: Site) -> list[Path] | None:
    """Folders of Alembic migrations for the tables this plugin owns, in the site's database
    (SQLite or PostgreSQL). ``storykit db upgrade`` runs them; storykit refuses to start while
    one is not applied. Each folder is its owner's branch: see docs/database.md."""


@hookspec
def register_blueprints(site: Site) -> list[flask.Blueprint] | None:
    """Flask blueprints (web routes) to add to the browser app."""


@hookspec(firstresult=True)
def render_letter(site: Site, letter: Letter, style: str, theme: Theme, out: Path) -> Path | None:
    """Draw ``letter`` (a :class:`storykit.letters.Letter`: private to the storyteller) as a
    tagged PDF at ``out`` in ``style`` (``standard``, ``large_print`` or ``easy_read``) and
    return ``out``; return None to leave it to another plugin. The first path returned wins."""


@hookspec
def after_outcome_change(site: Site, outcome: Outcome, old: Outcome | None, by: str) -> None:
    """Called after an outcome (``storykit.outcomes.Outcome``: what was decided or done
    because of stories) was recorded (``old`` is None) or changed; ``by`` is the account
    name. E.g. copy it to an action log. Failures are reported, not fatal."""


@hookspec
def web_pages(site: Site, stories: list[dict[str, Any]]) -> list[WebPage] | None:
    """Extra pages for the public website (``storykit build``), as data
    (``storykit.kit.WebPage``): the builder draws each with the theme's ``web/section.html``,
    adds it to the feed and the search index, and deletes it once no plugin returns it.
    ``stories`` are the cards of the stories on the website today (``id``, ``title``,
    ``page``, ``summary``, ``service``...): link only to those. Called on every build, also
    when no story changed, so keep it quick."""
