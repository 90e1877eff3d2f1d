"""``storykit signoff``: what staff do on a story's Sign-off page, from the command line,
acting as an account (``--as NAME``, like ``storykit approve``): ask the storyteller to check
the final words (by email, or as a letter with a code), list the requests and how each went,
stop one, and record an answer the storyteller gave on paper or out loud.

The steps are storykit.web.signoff_requests, the same the browser takes, with the same
refusals and audit entries ("command line" as the address). Nothing printed holds a link's
token or a letter's code (a terminal's output often ends up in a shared log): a link goes by
email, a code only into the letter.

Exit status: 2 for a command written wrongly, 1 for a refusal (the reason in words).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .commands import AS_HELP, COMMAND_LINE, _account, _conn, _refused, _site

#: ``--letter`` styles as people type them (the letters' own names work too).
LETTER_STYLES = {"standard": "standard", "large-print": "large_print",
                 "easy-read": "easy_read", "large_print": "large_print",
                 "easy_read": "easy_read"}
#: ``--answer`` words -> the answer's code; ``--how`` -> (way, words for the audit log).
ANSWERS = {"yes": "agreed", "changes": "changes"}
#: Why a request cannot be stopped, by its state.
DONE_WORDS = {"used": "answered", "revoked": "stopped", "expired": "past its end date"}
HOWS = {"paper": ("paper", ""), "phone": ("spoken", "phone"),
        "in-person": ("spoken", "in person")}


class LetterStyle(click.Choice):
    """standard, large-print or easy-read (large_print and easy_read work too)."""

    def __init__(self) -> None:
        super().__init__(["standard", "large-print", "easy-read"])

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value in LETTER_STYLES:
            return LETTER_STYLES[value]
        return super().convert(value, param, ctx)


@click.group("signoff")
def signoff_group() -> None:
    """Ask storytellers to check the final words of their story, and record their answers
    (what the story's Sign-off page does in the browser)."""


def _story_for(user, ref: str, what: str):
    """The story ``ref`` if ``user`` may ask its storyteller (who works on it as a writer);
    refused (exit 1, audited) otherwise."""
    from .. import audit
    from .access import RECORD_CONSENT, can, is_withdrawn

    site = _site()
    story = site.store.find(ref)
    if is_withdrawn(story):
        raise _refused(what, story.id, ["the storyteller withdrew their consent"])
    if not can(user, RECORD_CONSENT, story):
        audit.access_denied(site.audit, user.name, f"signoff {what}: not theirs",
                            story_id=story.id, ip=COMMAND_LINE)
        raise _refused(what, story.id, [f"the account {user.name} does not write this "
                                        "story: only the people who write it (its owner, or "
                                        "people it is shared with) ask the storyteller"])
    return story


@signoff_group.command("request", short_help="Ask the storyteller to check the final words.")
@click.argument("story")
@click.option("--as", "who", required=True, metavar="NAME", help=AS_HELP)
@click.option("--email", "by_email", is_flag=True,
              help="Email the storyteller a one-time link (their consent record must hold "
                   "an email address and allow contact; [email] must be set up).")
@click.option("--letter", "style", type=LetterStyle(), metavar="STYLE",
              help="Write the request as a letter with a short code instead: standard, "
                   "large-print or easy-read.")
@click.option("-o", "--out", "out", metavar="FILE.pdf", type=click.Path(path_type=Path),
              help="Where to write the letter (with --letter).")
@click.option("--force", is_flag=True, help="Replace FILE.pdf if it already exists.")
def request_command(story: str, who: str, by_email: bool, style: str | None, out: Path | None,
                    force: bool) -> None:
    """Ask STORY's storyteller to check the final words and say yes or ask for changes.
    The story must be approved and its consent must ask for sign-off. The link or code is
    never printed: it goes by email, or only into the letter."""
    from ..dates import nice_date
    from ..letters import STYLE_WORDS, LetterError, write_letter
    from ..letters.signoff import signoff_letter
    from ..links import Links, format_code
    from . import signoff_requests as requests_

    if out is not None and not style:
        raise click.UsageError("-o FILE.pdf goes with --letter STYLE")
    if by_email == bool(style):
        raise click.UsageError("say how the request reaches the storyteller: --email, or "
                               "--letter STYLE -o FILE.pdf (one of them)")
    if style and out is None:
        raise click.UsageError("say where to write the letter: -o FILE.pdf")
    site = _site()
    user = _account(_conn(site), who)
    found = _story_for(user, story, "ask the storyteller to sign it off")
    found_refusals = requests_.refusals(found)
    if found_refusals:
        raise _refused("ask the storyteller to sign it off", found.id, found_refusals)
    if by_email and (why := requests_.email_refusal(site, found)):
        raise _refused("email the storyteller", found.id, [why])
    if style and not site.config.app_url:
        raise _refused("write the letter", found.id, [
            "the site does not say where the app is, so the letter cannot say where to type "
            "the code ([site] app_url in storykit.toml)"])
    if out is not None and out.exists() and not force:
        raise click.ClickException(f"{out} already exists; add --force to replace it. "
                                   "Nothing was sent.")
    issued = requests_.issue(site, found, by=user.name, code=bool(style), ip=COMMAND_LINE,
                             log=site.audit)
    until = nice_date(issued.link.expires)
    if by_email:
        link = requests_.address(site, requests_.LINK_PATH.format(token=issued.token))
        requests_.email_link(site, found, link, until=until, event="signoff_request",
                             by=user.name)
        click.echo(f"Asked the storyteller to check version {found.revision} of the words of "
                   f"{found.id} (request {issued.link.id}).")
        click.echo(f"A one-time link was emailed to the address in their consent record. It "
                   f"works once, from one web browser, until {until}.")
        return
    where = requests_.address(site, requests_.CODE_PATH)
    try:
        letter = signoff_letter(site, found, code=format_code(issued.code), where=where,
                                expires=issued.link.expires.date())
        path = write_letter(site, letter, out, style=style, force=True, by=user.name)
    except LetterError as exc:
        Links(site).revoke(issued.link.id, by=user.name)
        raise click.ClickException(f"the letter could not be made: {exc}. The request was "
                                   "stopped.") from None
    click.echo(f"Wrote {path} ({STYLE_WORDS[style]}): request {issued.link.id}, for version "
               f"{found.revision} of the words of {found.id}.")
    click.echo(f"Post it to the storyteller. Its code works once, at {where}, until {until}; "
               "the code is only in the letter.")


@signoff_group.command("list", short_help="Sign-off requests and how each went.")
@click.argument("story", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_command(story: str | None, as_json: bool) -> None:
    """List sign-off requests (of STORY, or of every story), newest first: open ones, and how
    answered ones went. Shows no link, code or comment."""
    from .. import lifecycle
    from ..links import Links
    from . import signoff_requests as requests_

    site = _site()
    found = site.store.find(story) if story else None
    links = Links(site).for_story(found.id if found else None, lifecycle.SIGNOFF)
    if as_json:
        out = {"requests": [requests_.as_json(link) for link in links]}
        if found:
            out = {"story": found.id, "can_ask": not requests_.refusals(found),
                   "why_not": requests_.refusals(found), **out}
        click.echo(json.dumps(out, indent=2))
        return
    if found:
        why = requests_.refusals(found)
        click.echo(f"{found.id}  {found.slug}: "
                   + ("you can ask the storyteller now." if not why else
                      "you cannot ask now: " + "; ".join(why) + "."))
    if not links:
        click.echo("No sign-off requests yet.")
    shown = None
    for link in links:
        if not found and link.story_id != shown:
            click.echo(link.story_id)
            shown = link.story_id
        click.echo(f"  request {link.id}: {requests_.in_words(link)}")


@signoff_group.command("revoke", short_help="Stop a request: its link and code no longer work.")
@click.argument("request_id", metavar="REQUEST_ID", type=int)
@click.option("--as", "who", required=True, metavar="NAME", help=AS_HELP)
def revoke_command(request_id: int, who: str) -> None:
    """Stop a sign-off request (its number in 'storykit signoff list'): its link and code no
    longer work."""
    from .. import lifecycle
    from ..links import LinkRefused, Links
    from . import signoff_requests as requests_

    site = _site()
    user = _account(_conn(site), who)
    try:
        link = Links(site).get(request_id)
    except LinkRefused:
        link = None
    if link is None or link.purpose != lifecycle.SIGNOFF:
        raise click.ClickException(f"there is no sign-off request {request_id}; see: "
                                   "storykit signoff list")
    found = _story_for(user, link.story_id, "stop its sign-off request")
    if not requests_.revoke(site, found, link.id, lifecycle.SIGNOFF, by=user.name,
                            ip=COMMAND_LINE, log=site.audit):
        state = Links(site).get(link.id).state()
        raise click.ClickException(f"request {request_id} was not stopped: it was already "
                                   f"{DONE_WORDS.get(state, state)}. Nothing was changed.")
    click.echo(f"Stopped request {request_id} of {found.id}: its link and code no longer "
               "work.")


@signoff_group.command("record", short_help="Record an answer given on paper or out loud.")
@click.argument("story")
@click.option("--as", "who", required=True, metavar="NAME", help=AS_HELP)
@click.option("--answer", "said", required=True, type=click.Choice(list(ANSWERS)),
              help="yes: they agree with the words; changes: they would like changes.")
@click.option("--comment", default="", metavar="TEXT",
              help="What they would like changed (needed with --answer changes); kept with "
                   "the story, never in the audit log.")
@click.option("--taken-by", "taken_by", required=True, metavar="TEXT",
              help="Who took their answer.")
@click.option("--how", required=True, type=click.Choice(list(HOWS)),
              help="How they answered: paper (the reply slip or a letter), phone, in-person.")
def record_command(story: str, who: str, said: str, comment: str, taken_by: str,
                   how: str) -> None:
    """Record STORY's storyteller's answer about the current words, given on paper or out
    loud, with who took it. "yes" signs off these words; "changes" sends the story back to
    its writer."""
    from .. import lifecycle
    from ..errors import ConflictError
    from . import signoff_requests as requests_

    site = _site()
    conn = _conn(site)
    user = _account(conn, who)
    found = _story_for(user, story, "record the storyteller's answer")
    why = requests_.refusals(found)
    if why:
        raise _refused("record the storyteller's answer", found.id, why)
    via, words = HOWS[how]
    answer = requests_.Answer(ANSWERS[said], via, taken_by.strip(), comment.strip(), words)
    problems = answer.problems(found)
    if problems:
        field, message = next(iter(problems.items()))
        hints = {"taken_by": "--taken-by", "comment": "--comment"}
        raise click.BadParameter(message, param_hint=hints.get(field, f"--{field}"))
    try:
        saved = requests_.record_answer(site, conn, found, answer, by=user.name,
                                        ip=COMMAND_LINE, log=site.audit)
    except (lifecycle.Refused, ConflictError) as exc:
        raise click.ClickException(f"{found.id} changed while this command ran; nothing was "
                                   f"saved ({exc}). Run it again.") from None
    said_words = requests_.ANSWER_WORDS[answer.choice].lower()
    click.echo(f"Recorded: {said_words} ({requests_.VIA_WORDS[via]}, taken by "
               f"{answer.taken_by}).")
    if answer.choice == "agreed":
        click.echo(f"Version {saved.revision} of the words of {saved.id} is signed off.")
    else:
        click.echo(f"{saved.id} is {lifecycle.STATUS_WORDS[saved.status]}; their comment is "
                   "kept with the story.")
