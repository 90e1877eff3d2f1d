"""``storykit consent expiring`` and ``storykit consent letter``, and the letter that
``storykit consent withdraw --letter`` writes: consent that is ending, and letters to the
storyteller about it (the work is in :mod:`storykit.expiry` and :mod:`storykit.letters`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .store import current_user

KINDS = ("reconsent", "withdrawal")
STYLES = ("standard", "large_print", "easy_read")


def _site():
    return click.get_current_context().find_root().obj.site


@click.command("expiring")
@click.option("--days", type=click.IntRange(0, 3660), default=None, metavar="N",
              help="Look this many days ahead (default: [consent] expiry_warning_days in "
                   "storykit.toml, 60 unless set).")
@click.option("--letters", "letters", metavar="DIR", type=click.Path(path_type=Path),
              help="Also write a re-consent letter (PDF) for each storyteller who can be "
                   "written to, into DIR (made if missing), in the format they prefer.")
@click.option("--force", is_flag=True, help="Replace letters already in DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def expiring_command(days: int | None, letters: Path | None, force: bool,
                     as_json: bool) -> None:
    """Stories whose consent ends within N days (children's re-consent dates too), and
    those where it has already ended, which every render, pack and build now refuses."""
    from .dates import nice_date, today
    from .expiry import ending

    site = _site()
    within = site.config.expiry_warning_days if days is None else days
    found = ending(site, within=within)
    written = _write_letters(site, found, letters, force) if letters is not None else []
    if as_json:
        click.echo(json.dumps({"on": today().isoformat(), "days": within,
                               "stories": [e.to_json() for e in found],
                               "letters": [str(p) for p in written]}, indent=2,
                              ensure_ascii=False))
        return
    ended = [e for e in found if e.ended]
    soon = [e for e in found if not e.ended]
    if not found:
        click.echo(f"No consent ends in the next {within} days, and none has ended.")
    if ended:
        click.echo(f"Consent has ended ({len(ended)}): renders, packs and the website refuse "
                   "these stories until the storyteller agrees again.")
        for e in ended:
            click.echo(f"  {e.story_id}  {e.title}: {e.when}. {_capital(e.letter)}.")
    if soon:
        click.echo(f"Consent ends in the next {within} days, by {nice_date(today() + _days(within))} "
                   f"({len(soon)}):")
        for e in soon:
            click.echo(f"  {e.story_id}  {e.title}: {e.when}. {_capital(e.letter)}.")
    for path in written:
        click.echo(f"wrote {path}")


def _days(n: int):
    import datetime as dt

    return dt.timedelta(days=n)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _write_letters(site, found, folder: Path, force: bool) -> list[Path]:
    """A re-consent letter for each story in ``found`` whose storyteller can be written to
    (one a story, even when both its dates are near)."""
    from .letters import reconsent_letter, write_letter

    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{folder} is a file, not a folder", param_hint="--letters")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for story_id in dict.fromkeys(e.story_id for e in found if e.can_write):
        story = site.store.get(story_id)
        letter = reconsent_letter(site, story)
        written.append(write_letter(site, letter, folder / f"{story_id}-reconsent.pdf",
                                    force=force, by=current_user()))
    return written


@click.command("letter")
@click.argument("story")
@click.option("--kind", required=True, type=click.Choice(KINDS),
              help="reconsent: ask again before consent ends; withdrawal: confirm what was "
                   "done after a withdrawal and what cannot be recalled.")
@click.option("--style", type=click.Choice(STYLES),
              help="standard, large_print or easy_read (default: the storyteller's "
                   "preferred format in their consent record).")
@click.option("--theme", metavar="NAME", help="Theme name (default: the site's theme).")
@click.option("-o", "--out", "out", required=True, metavar="FILE.pdf",
              type=click.Path(path_type=Path), help="The PDF to write.")
@click.option("--force", is_flag=True, help="Replace FILE.pdf if it already exists.")
def letter_command(story: str, kind: str, style: str | None, theme: str | None, out: Path,
                   force: bool) -> None:
    """Write a letter to STORY's storyteller as an accessible PDF, in the format they prefer
    (or --style), from the contact details in its consent record."""
    from .letters import STYLE_WORDS, reconsent_letter, withdrawal_letter, write_letter

    site = _site()
    found = site.store.find(story)
    make = reconsent_letter if kind == "reconsent" else withdrawal_letter
    letter = make(site, found)
    path = write_letter(site, letter, out, style=style, theme=theme, force=force,
                        by=current_user())
    click.echo(f"wrote {path} ({STYLE_WORDS[style or letter.style]})")


def withdrawal_letter_for(site, before, after, out: Path, style: str | None,
                          force: bool) -> Path:
    """The confirmation letter, made as the story is withdrawn (``before`` still holds the
    storyteller's details, which erasing everything removes)."""
    from .letters import withdrawal_letter, write_letter

    letter = withdrawal_letter(site, after, before=before)
    return write_letter(site, letter, out, style=style, force=force, by=current_user())
