"""The browser app as a plugin of the core: its commands (``register_commands``: ``storykit
serve``, ``storykit user add|list|roles|password``, and the status changes and dismissals that
act as an account: ``storykit submit|approve|request-changes|publish|unpublish STORY --as
NAME``, ``storykit dismiss`` and ``storykit signoff``: storykit.web.signoff_commands), the
``pack-build`` job kind (``register_job_kinds``: storykit.web.packorders), its tables'
migrations (``register_migrations``: the folder ``storykit/web/migrations``) and its part
of a withdrawal (``after_withdraw``: erasing everything also erases the reviewers' notes the
app keeps).

The status commands live here, not in the core, because accounts and who works on which
story are the app's data; the rules themselves are the core's (:mod:`storykit.lifecycle`),
the same the browser app asks, with the same refusals and audit entries ("command line" as
the address).

Kept light: loading plugins imports none of the app. Flask and waitress are imported only
when ``serve`` runs; the account rules (argon2) and the audit log when a ``user`` command does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..hookspecs import hookimpl
from ..store import current_user

if TYPE_CHECKING:  # pragma: no cover
    from .accounts import User

#: The app's own migrations (storykit db upgrade; docs/database.md).
MIGRATIONS = Path(__file__).parent / "migrations"


def _site():
    return click.get_current_context().find_root().obj.site


def _conn(site):
    return site.database.connection()


#: Seconds a busy thread may hold Python's interpreter lock before another may run (Python's
#: default is 0.005). A page waiting behind a check or preview that is busy computing gets
#: its turn that much sooner, each of the several times it needs one.
SWITCH_INTERVAL = 0.001
#: Where ``storykit serve`` shows the publish folder (the app is on 8000).
PUBLIC_PORT = 8001


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep 127.0.0.1 and put an HTTPS proxy in front.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="How many requests to handle at once.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(0, 16),
              help="Background jobs (website updates...) to run at once in this process; 0 "
                   "when separate 'storykit worker' processes run them.")
@click.option("--public-port", default=PUBLIC_PORT, show_default=True,
              type=click.IntRange(0, 65535),
              help="Also show the publish folder (the public website) on this port, for "
                   "previewing; 0 to not.")
def serve_command(host: str, port: int, threads: int, workers: int, public_port: int) -> None:
    """Run the browser app with the waitress web server, a worker for background jobs
    (website updates, the daily consent sweep) and a preview of the public website."""
    import waitress

    from . import accounts
    from .app import create_app
    from .settings import new_setup_token

    quiet_queue_notes()

    site = _site()
    app = create_app(site)
    worker = _start_worker(site, workers)
    preview = _preview_public_site(site, host, public_port) if public_port else None
    if accounts.count_users(_conn(site)) == 0:
        code = new_setup_token(site.instance)
        click.echo("Nobody can sign in yet. Open the site and make the first admin with this "
                   f"one-time setup code:\n\n    {code}\n\n"
                   "(or run: storykit user add NAME --role admin)")
    click.echo("Reading the stories...")
    count = len(app.extensions["storykit"].index.snapshot().stories)
    click.echo(f"Serving {site.config.title} ({count} stories) on http://{host}:{port}/  "
               "(press Ctrl+C to stop)")
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="storykit",
                       max_request_body_size=server_body_limit(app.config),
                       _quiet=True)
    finally:
        if worker is not None:
            worker.stop(graceful=False)
        if preview is not None:
            preview.shutdown()


def quiet_queue_notes() -> None:
    """Waitress notes each request that waits for a free thread ("Task queue depth is 2")
    as a warning: on a busy server, one line a request in the app's and worker's log. Only
    that note is silenced; waitress's errors and the worker's lines still show."""
    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def _start_worker(site, threads: int):
    """A worker in this process (threads), so nothing else needs starting for one machine."""
    if not threads:
        click.echo("No worker in this process: run 'storykit worker' for website updates.")
        return None
    from ..publishing import queue_site_build
    from ..taskqueue import Worker, backend, shown

    worker = Worker(site, threads).start()
    click.echo(f"Background jobs: {threads} at a time, queue in {shown(backend(site))}.")
    queue_site_build(site, by="storykit")  # the public website as the stories are now
    return worker


def _preview_public_site(site, host: str, port: int):
    """Serve the publish folder read-only (the preview server of the storykit_web plugin,
    with the site's security headers) in a thread; None when that plugin is missing or the
    port is taken (said so)."""
    import importlib
    import threading

    from ..publishing import public_url, publish_folder

    try:
        make_server = importlib.import_module("storykit_web.serve").make_server
    except ImportError:
        return None
    folder = publish_folder(site)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        server = make_server(folder, port, host)
    except OSError as exc:
        click.echo(f"The public website is not shown: port {port} cannot be used "
                   f"({exc.strerror}); try --public-port 0 or another port.")
        return None
    threading.Thread(target=server.serve_forever, name="storykit-public", daemon=True).start()
    shown_url = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"Public website (the publish folder {folder}): {shown_url}"
               + (f"; its public address: {public_url(site)}" if public_url(site) and
                  public_url(site) != shown_url else ""))
    return server


def server_body_limit(config) -> int:
    """The size waitress refuses outright (413) before reading a body: twice the app's
    largest limit, so slightly-too-big requests still get the app's friendlier 413 page."""
    return 2 * max(int(config["MAX_CONTENT_LENGTH"]), int(config["STORYKIT_UPLOAD_MAX"]))


class UserGroup(click.Group):
    """``storykit user``: the ``--role`` options are added when a ``user`` command is looked
    up, as their choices come from the account rules, which import argon2."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _add_role_options()
        return super().get_command(ctx, cmd_name)


@click.group("user", cls=UserGroup)
def user_group() -> None:
    """Add and list the people who can sign in to the browser app."""


#: Help for each command's ``--role`` option ({roles} becomes the list of roles).
ROLE_HELP = {
    "add": "A role (repeat for several): {roles}.",
    "roles": "The user's roles from now on (repeat for several).",
}


def _add_role_options() -> None:
    """Give ``user add`` and ``user roles`` their ``--role`` option, after NAME (once)."""
    from .accounts import ROLES

    for name, help_text in ROLE_HELP.items():
        command = user_group.commands[name]
        if not any(p.name == "roles" for p in command.params):
            command.params.insert(1, click.Option(
                ["--role", "roles"], multiple=True, required=True,
                type=click.Choice(list(ROLES)), help=help_text.format(roles=", ".join(ROLES))))


def _read_password(from_stdin: bool, name: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


@user_group.command("add")
@click.argument("name")  # then --role (see ROLE_HELP)
@click.option("--display-name", help="Their full name, shown to others (default: NAME).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def user_add(name: str, roles: tuple[str, ...], display_name: str | None,
             password_stdin: bool) -> None:
    """Add a user called NAME who can sign in to the browser app."""
    from .. import audit
    from . import accounts
    from .accounts import AccountError
    from .passwords import Hasher

    site = _site()
    conn = _conn(site)
    if accounts.by_name(conn, name) is not None:
        raise click.ClickException(f"there is already a user called {name}")
    if (problem := accounts.name_problem(name)) is not None:
        raise click.BadParameter(problem, param_hint="NAME")
    password = _read_password(password_stdin, name)
    try:
        user = accounts.add_user(conn, Hasher(), name, password, list(roles), display_name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _site().audit.record(audit.USER_ADDED, actor=current_user(), ip="command line",
                                detail=f"user {user.name} roles {','.join(sorted(user.roles))}")
    click.echo(f"Added {user.name} ({', '.join(sorted(user.roles))}).")


@user_group.command("list")
def user_list() -> None:
    """List users, their roles and whether they can sign in."""
    from . import accounts

    users = accounts.all_users(_conn(_site()))
    if not users:
        click.echo("No users yet. Add one with: storykit user add NAME --role admin")
    for user in users:
        state = "" if user.active else "  (deactivated)"
        click.echo(f"{user.name:24} {','.join(sorted(user.roles)):32} {user.display_name}{state}")


@user_group.command("roles")
@click.argument("name")  # then --role (see ROLE_HELP)
def user_roles(name: str, roles: tuple[str, ...]) -> None:
    """Replace NAME's roles; they are signed out of the browser app."""
    from .. import audit
    from . import accounts
    from .accounts import AccountError

    conn = _conn(_site())
    user = _existing(conn, name)
    try:
        updated = accounts.set_roles(conn, user, list(roles))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _site().audit.record(audit.USER_ROLES, actor=current_user(), ip="command line",
                                detail=f"user {name}: {','.join(sorted(user.roles))} -> "
                                       f"{','.join(sorted(updated.roles))}")
    click.echo(f"{name} now has: {', '.join(sorted(updated.roles))}.")


@user_group.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def user_password(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (for example when they forgot it)."""
    from .. import audit
    from . import accounts
    from .accounts import AccountError
    from .passwords import Hasher

    conn = _conn(_site())
    user = _existing(conn, name)
    try:
        accounts.set_password(conn, Hasher(), user, _read_password(password_stdin, name))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _site().audit.record(audit.USER_PASSWORD_SET, actor=current_user(),
                                ip="command line", detail=f"user {name}")
    click.echo(f"New password set for {name}; they are signed out everywhere.")


@user_group.command("demo")
@click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Set the demo stories' dates as if today were this day (default: today).")
def user_demo(on) -> None:
    """Add the demo site's accounts (one per role; passwords in the README), make the
    advocate own every story nobody owns, and move the demo stories' dates to today (one
    consent ends soon, the others are in force). For trying storykit out: refused on a site
    with accounts of its own."""
    from ..dates import nice_date, today
    from .demo import DemoRefused, add_demo_accounts, set_demo_dates
    from .passwords import Hasher

    site = _site()
    ids = [s.id for s in site.store.load_all().stories]
    try:
        done = add_demo_accounts(_conn(site), Hasher(), ids)
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    day = on.date() if on else today()
    if set_demo_dates(site.config.path("stories"), day):
        click.echo(f"The demo stories' dates now stand on {nice_date(day)}.")
    if done:
        from .. import audit

        site.audit.record(audit.USER_ADDED, actor=current_user(), ip="command line",
                          detail="demo accounts: " + "; ".join(done))
    click.echo("Demo accounts: " + ("; ".join(done) if done else "already there") + ".")


def _existing(conn, name: str) -> User:
    from .accounts import by_name

    user = by_name(conn, name)
    if user is None:
        raise click.ClickException(f"there is no user called {name}; see: storykit user list")
    return user


# --- status changes and dismissals, acting as an account ------------------------------------

#: The audit log's address for what is done on the command line.
COMMAND_LINE = "command line"
AS_HELP = "The account to act as (see: storykit user list); its roles and stories decide."


def _reason_text(reason: str | None, reason_file, required: bool) -> str:
    """The note from --reason, or from --reason-file ('-' for standard input)."""
    if reason is not None and reason_file is not None:
        raise click.UsageError("give the reason once: --reason TEXT or --reason-file FILE")
    if reason_file is not None:
        try:
            return reason_file.read(64 * 1024)
        except UnicodeDecodeError:
            raise click.BadParameter("the file is not UTF-8 text",
                                     param_hint="--reason-file") from None
    if reason is None and required:
        raise click.UsageError("say why: --reason TEXT, or --reason-file FILE ('-' reads "
                               "standard input)")
    return reason or ""


def _account(conn, name: str) -> User:
    from .accounts import by_name

    user = by_name(conn, name)
    if user is None:
        raise click.ClickException(f"there is no account called {name}; see: storykit "
                                   "user list. Nothing was changed.")
    return user


def _refused(what: str, story_id: str, reasons: list[str]) -> click.ClickException:
    """``what``: "approve it", "dismiss this finding"."""
    lines = "\n".join(f"  - {r[:1].upper()}{r[1:]}." for r in reasons)
    return click.ClickException(f"{story_id} was not changed: you cannot {what} now.\n"
                                f"{lines}")


def _change(name: str, ref: str, who: str, reason: str) -> None:
    from .. import lifecycle
    from ..errors import ConflictError, GoneError
    from .workflow import change_status

    site = _site()
    conn = _conn(site)
    user = _account(conn, who)
    t = lifecycle.transition(name)
    story = site.store.find(ref)
    try:
        saved = change_status(site, conn, site.audit, user, story, t.name,
                              story.etag, ip=COMMAND_LINE, reason=reason)
    except lifecycle.Refused as exc:
        raise _refused(t.doing(), story.id, exc.messages) from None
    except (ConflictError, GoneError):
        raise click.ClickException(f"{story.id} changed while this command ran (or was "
                                   "withdrawn); nothing was saved. Run it again.") from None
    click.echo(f"{t.done} ({saved.id}: {lifecycle.STATUS_WORDS[story.status]} -> "
               f"{lifecycle.STATUS_WORDS[saved.status]})")


def _status_command(name: str) -> click.Command:
    """The command for one status change of the core's lifecycle."""
    from ..lifecycle import TRANSITIONS

    t = TRANSITIONS[name]
    params: list[click.Parameter] = [
        click.Argument(["story"]),
        click.Option(["--as", "who"], required=True, metavar="NAME", help=AS_HELP)]
    if t.needs_reason:
        params += [
            click.Option(["--reason"], metavar="TEXT",
                         help="What needs to change (the writer sees it; no personal details)."),
            click.Option(["--reason-file"], type=click.File("r", encoding="utf-8"),
                         metavar="FILE", help="Read the reason from FILE ('-': standard input).")]

    def run(story: str, who: str, reason: str | None = None, reason_file=None) -> None:
        _change(name, story, who, _reason_text(reason, reason_file, t.needs_reason))

    return click.Command(
        t.command, callback=run, params=params,
        help=f"{t.label} STORY (an id or slug), acting as the account NAME. The same rules as "
             "in the browser app: a refusal says why, exits 1 and changes nothing.",
        short_help=f"{t.label} (as an account).")


@click.command("dismiss")
@click.argument("story")
@click.argument("finding")
@click.option("--as", "who", required=True, metavar="NAME", help=AS_HELP)
@click.option("--reason", metavar="TEXT", help="Why it may stay (kept with the story).")
@click.option("--reason-file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Read the reason from FILE ('-': standard input).")
def dismiss_command(story: str, finding: str, who: str, reason: str | None,
                    reason_file) -> None:
    """Dismiss a blocking FINDING of STORY as a reviewer, with a reason. FINDING is the code
    'storykit findings STORY' shows. Kept with the story (review.yml) and audited."""
    from .. import audit, findings, lifecycle
    from ..errors import ConflictError, StorykitError
    from .access import actor_of

    text = _reason_text(reason, reason_file, True)
    site = _site()
    conn = _conn(site)
    user = _account(conn, who)
    found = site.store.find(story)
    log = site.audit
    refused = lifecycle.dismissal_refusals(actor_of(user), found)
    if refused:
        audit.access_denied(log, user.name, "dismiss refused: "
                            + ", ".join(r.code for r in refused), story_id=found.id,
                            ip=COMMAND_LINE)
        raise _refused("dismiss its findings", found.id, [r.message for r in refused])
    try:
        done = findings.dismiss(site, found, finding, text, by=user.name, etag=found.etag,
                                ip=COMMAND_LINE, log=log)
    except ConflictError as exc:
        raise click.ClickException(f"{exc}. See: storykit findings {found.id}") from None
    except StorykitError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"The finding was {findings.dismissed_words(done)}; the reason is kept with "
               "the story.")


@hookimpl
def after_withdraw(site, story, scope: str) -> None:
    """``delete_everything`` reaches the app's own records: the notes reviewers left on the
    story go too (from the command line as from the app)."""
    if scope != "delete_everything":
        return
    from .workflow import forget_notes

    forget_notes(_conn(site), story.id)


@hookimpl
def after_status_change(site, story, old: str, new: str, by: str) -> None:
    """Email the people a status change concerns (storykit.web.alerts; only with [email]).
    The storyteller's own answers send their own notice."""
    from ..lifecycle import STORYTELLER
    from .alerts import status_changed

    if not by.startswith(STORYTELLER):
        status_changed(site, story.id, new)


@hookimpl
def after_consent_sweep(site, day) -> None:
    """Email the people who work on stories whose consent is ending soon (once each)."""
    from .alerts import consent_expiring

    consent_expiring(site, day)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from ..lifecycle import TRANSITIONS

    cli.add_command(serve_command)
    cli.add_command(user_group)
    for name in TRANSITIONS:
        cli.add_command(_status_command(name))
    cli.add_command(dismiss_command)
    from .signoff_commands import signoff_group

    cli.add_command(signoff_group)


@hookimpl
def register_job_kinds() -> list:
    """Packs asked for in the browser are built by a background job (``pack-build``)."""
    from .packorders import job_kind

    return [job_kind()]


@hookimpl
def register_migrations() -> list[Path]:
    """The app owns its tables (users, roles, story access, sign-in failures, notes)."""
    return [MIGRATIONS]
