"""``storykit outcome add|list|show|update|respond|from-changes|letters``. Registered by the
built-in plugin :mod:`storykit.default_outcomes`; the work is done by :mod:`storykit.outcomes`,
which the browser app calls too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .date_option import DATE
from .dates import nice_date, today
from .errors import StorykitError
from .store import current_user

if TYPE_CHECKING:  # pragma: no cover
    from .outcomes import Outcome
    from .site import Site

_STATUSES = ("proposed", "agreed", "in_progress", "done", "not_taken")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _site() -> Site:
    return click.get_current_context().find_root().obj.site


def _fields(**given: Any) -> dict[str, Any]:
    """The options a person gave (None means: not given)."""
    return {k: v for k, v in given.items() if v is not None}


def _print(outcome: Outcome) -> None:
    on = today()
    click.echo(f"{outcome.id}  {outcome.title}")
    rows = [("status", outcome.status_words + (f": {outcome.reason}" if outcome.reason else "")),
            ("owner", outcome.owner), ("due", outcome.due_words(on) if outcome.due else ""),
            ("done", nice_date(outcome.done_on)), ("service", outcome.service or ""),
            ("heard at", outcome.heard_words), ("pack", outcome.pack_id or ""),
            ("stories", ", ".join(outcome.story_ids)), ("why", outcome.why)]
    for label, value in rows:
        if value:
            click.echo(f"  {label + ':':<10} {value}")


_TEXT_OPTIONS = (
    click.option("--why", metavar="TEXT", help="Why it was decided."),
    click.option("--owner", metavar="NAME", help="Who makes it happen."),
    click.option("--due", type=DATE, metavar="YYYY-MM-DD", help="When it should be done."),
    click.option("--status", type=click.Choice(_STATUSES), help="How far it has got."),
    click.option("--reason", metavar="TEXT", help="Why it was not taken (needed for "
                                                  "--status not_taken)."),
    click.option("--service", metavar="S", help="The service it is about (default: the first "
                                                "story's)."),
    click.option("--meeting", metavar="TEXT", help="Where the stories were heard, e.g. "
                                                   "'Trust Board'."),
    click.option("--meeting-date", type=DATE, metavar="YYYY-MM-DD", help="The day they were "
                                                                         "heard."),
    click.option("--pack", "pack_id", metavar="ID", help="The pack the stories went out in "
                                                         "(see storykit packs list)."),
)


def _with_text_options(command):
    for option in reversed(_TEXT_OPTIONS):
        command = option(command)
    return command


@click.group("outcome")
def outcome_group() -> None:
    """What was decided or done because of stories: add, list, show, update, responses."""


@outcome_group.command("add")
@click.argument("title")
@click.option("--story", "stories", multiple=True, required=True, metavar="STORY",
              help="A story it came from (id or slug); repeat for several.")
@_with_text_options
@_JSON
def outcome_add(title: str, stories: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Record what was decided or done (TITLE) because of --story STORY..."""
    from .outcomes import record_outcome

    outcome = record_outcome(_site(), {"title": title, **_fields(**options)}, stories,
                             by=current_user())
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Recorded outcome {outcome.id}.")
        _print(outcome)


@outcome_group.command("list")
@click.option("--status", type=click.Choice(_STATUSES), help="Only outcomes at this stage.")
@click.option("--story", metavar="STORY", help="Only outcomes of this story.")
@click.option("--service", metavar="S", help="Only outcomes of this service.")
@click.option("--overdue", is_flag=True, help="Only open outcomes whose due date has passed.")
@_JSON
def outcome_list(status: str | None, story: str | None, service: str | None, overdue: bool,
                 as_json: bool) -> None:
    """List outcomes, those due soonest first; overdue ones say so."""
    from .outcomes import Filter, outcome_log

    site = _site()
    story_id = site.store.find(story).id if story else None
    on = today()
    found = outcome_log(site).list(Filter(status=status, story_id=story_id, service=service,
                                          overdue_on=on if overdue else None))
    if as_json:
        click.echo(json.dumps([dict(o.to_json(), overdue=o.overdue(on)) for o in found],
                              indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No outcomes are recorded" + (" that match." if any(
            (status, story, service, overdue)) else " yet."))
    for o in found:
        late = "  OVERDUE" if o.overdue(on) else ""
        due = f"  due {nice_date(o.due)}" if o.due else ""
        click.echo(f"{o.id}  [{o.status_words}]{late}  {o.title}{due}"
                   f"  ({len(o.story_ids)} {'story' if len(o.story_ids) == 1 else 'stories'})")


@outcome_group.command("show")
@click.argument("outcome_id", metavar="ID")
@_JSON
def outcome_show(outcome_id: str, as_json: bool) -> None:
    """Show one outcome, the storytellers told and their responses."""
    from .outcomes import outcome_log

    log = outcome_log(_site())
    outcome = log.get(outcome_id)
    responses = log.responses(outcome.id)
    messages = log.messages(outcome.id)
    if as_json:
        data = outcome.to_json()
        data["told"] = [{"story": m.story_id, "channel": m.channel, "style": m.style,
                         "sent_at": m.sent_at, "sent_by": m.sent_by} for m in messages]
        data["responses"] = [{"story": r.story_id, "received_on": r.received_on.isoformat(),
                              "how": r.how, "text": r.text, "recorded_by": r.recorded_by}
                             for r in responses]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print(outcome)
    for m in messages:
        click.echo(f"  told:      {m.story_id} by {m.channel} ({m.style}) on "
                   f"{nice_date(m.sent_on)}")
    for r in responses:
        click.echo(f"  response:  {r.story_id}, {r.how_words.lower()}, "
                   f"{nice_date(r.received_on)}: {r.text}")


@outcome_group.command("update")
@click.argument("outcome_id", metavar="ID")
@click.option("--title", metavar="TEXT", help="What was decided or done.")
@click.option("--story", "stories", multiple=True, metavar="STORY",
              help="Replace its stories with these (repeat for several).")
@_with_text_options
@_JSON
def outcome_update(outcome_id: str, title: str | None, stories: tuple[str, ...], as_json: bool,
                   **options: Any) -> None:
    """Change an outcome: its status, owner, due date, words or stories."""
    from .outcomes import update_outcome

    values = _fields(title=title, **options)
    if not values and not stories:
        raise click.UsageError("say what to change, e.g. --status done (see --help)")
    outcome = update_outcome(_site(), outcome_id, values, by=current_user(),
                             stories=stories or None)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Updated outcome {outcome.id}.")
        _print(outcome)


@outcome_group.command("respond")
@click.argument("outcome_id", metavar="ID")
@click.option("--story", required=True, metavar="STORY", help="Whose storyteller answered.")
@click.option("--text", required=True, metavar="TEXT", help="What they said.")
@click.option("--how", type=click.Choice(("letter", "phone", "email", "in_person", "other")),
              default="letter", show_default=True, help="How they told you.")
@click.option("--on", "received_on", type=DATE, metavar="YYYY-MM-DD",
              help="The day you heard (default: today).")
def outcome_respond(outcome_id: str, story: str, text: str, how: str, received_on) -> None:
    """Record a storyteller's response to an outcome (the team sees it with the outcome)."""
    from .outcomes import record_response

    record_response(_site(), outcome_id, story, text=text, how=how, received_on=received_on,
                    by=current_user())
    click.echo(f"Recorded the response on outcome {outcome_id}.")


@outcome_group.command("from-changes")
@click.argument("stories", nargs=-1, metavar="[STORY]...")
@click.option("--status", type=click.Choice(_STATUSES), default="agreed", show_default=True,
              help="The status the new outcomes start at.")
def outcome_from_changes(stories: tuple[str, ...], status: str) -> None:
    """Make an outcome of each line of the stories' "What we are changing" lists (every
    story's when none is named). Lines that already have one are left: run it again safely.
    The story files are not changed."""
    from .outcomes import migrate_changes

    site = _site()
    if stories:
        chosen = [site.store.find(s) for s in stories]
    else:
        chosen = [s for s in site.store.load_all().stories if s.changes]
    made, kept = migrate_changes(site, chosen, by=current_user(), status=status)
    for o in made:
        click.echo(f"{o.id}  {o.title}  (from {o.story_ids[0]})")
    click.echo(f"Made {len(made)} outcome{'s' if len(made) != 1 else ''}"
               + (f"; {kept} line{'s' if kept != 1 else ''} already had one." if kept else "."))


@outcome_group.command("letters")
@click.argument("outcome_id", metavar="ID")
@click.option("-o", "--out", "out", required=True, metavar="DIR",
              type=click.Path(path_type=Path), help="The folder to write the letters in.")
@click.option("--force", is_flag=True, help="Replace letters already in DIR.")
@_JSON
def outcome_letters(outcome_id: str, out: Path, force: bool, as_json: bool) -> None:
    """Tell each storyteller of the outcome's stories what was decided, as the app's button
    does: an email with a one-time link when their consent allows contact and gives an email
    address (and [email] is set up), otherwise a letter in the format they prefer with a code
    to answer online. Each is logged."""
    from .outcomes.telling import Answering, tell_storytellers

    site = _site()
    answering = Answering.for_site(site)
    told = tell_storytellers(site, outcome_id, out, by=current_user(), answering=answering,
                             force=force)
    titles = {}
    for t in told:
        try:
            titles[t.story_id] = site.store.get(t.story_id).title
        except StorykitError:
            titles[t.story_id] = t.story_id
    if as_json:
        click.echo(json.dumps([dict(t.to_json(), title=titles[t.story_id]) for t in told],
                              indent=2, ensure_ascii=False))
    else:
        for t in told:
            where = f" It is at {t.path}." if t.path else ""
            code = " It has a code to answer online." if t.coded else ""
            click.echo(f"{t.story_id}: {t.words(titles[t.story_id])}{code}{where}")
    if answering is None:
        click.echo("Letters have no code to answer online and nobody was emailed: set "
                   "[site] app_url to the browser app's address.", err=True)
    elif any(t.channel == "email" for t in told):
        click.echo("Emails are sent by the worker (storykit worker, or storykit serve).",
                   err=True)
    if not any(t.channel for t in told):
        click.echo("Nobody was told about this outcome.", err=True)
        raise click.exceptions.Exit(1)
