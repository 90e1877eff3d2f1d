"""``storykit pack``, ``storykit packs list|show|rebuild|saved`` and ``storykit copies
STORY``. Registered by the built-in plugin :mod:`storykit.default_packs`; the work is done
by :mod:`storykit.packs` and :mod:`storykit.copies`, which the browser app and background
jobs call too."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .date_option import DATE
from .dates import nice_date
from .store import current_user

if TYPE_CHECKING:  # pragma: no cover
    from .packs import PackRecord, PackResult
    from .site import Site

LENGTHS = ("full", "summary")


def _site() -> Site:
    return click.get_current_context().find_root().obj.site


@contextlib.contextmanager
def _progress(label: str, quiet: bool):
    from .progress import terminal_progress

    bar = terminal_progress(label, quiet=quiet)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


_OUT = click.option("-o", "--out", "out", required=True, metavar="FILE.zip",
                    type=click.Path(path_type=Path), help="The zip file to write.")
_FORCE = click.option("--force", is_flag=True, help="Replace FILE.zip if it already exists.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.command("pack", short_help="Make a zip of stories for one use: slides, PDFs, cards...")
@click.argument("stories", nargs=-1, metavar="[STORY]...")
@click.option("--use", "use", required=True, metavar="USE",
              help="Who the pack is for, e.g. board or commissioners (see storykit list).")
@click.option("--format", "formats", required=True, multiple=True, metavar="FORMAT",
              help="A format to put in the pack; repeat for several (see storykit formats).")
@click.option("--service", "services", multiple=True, metavar="S",
              help="Also every story of this service; may be repeated.")
@click.option("--tag", "tags", multiple=True, metavar="T",
              help="Also every story with this tag; may be repeated.")
@click.option("--title", default="", metavar="T", help="The pack's title (default: "
              "'<use> pack').")
@click.option("--length", type=click.Choice(LENGTHS), default="full", show_default=True,
              help="summary: at most six slides a story in the decks (slides, slides-pdf, "
                   "handout, pptx).")
@click.option("--theme", metavar="NAME", help="Theme name (default: the site's theme).")
@click.option("--with-notes", is_flag=True, help="Presenter copy: include speaker notes.")
@click.option("--meeting", metavar="TEXT", help="The meeting the pack is for, e.g. "
              "'Trust Board'.")
@click.option("--meeting-date", type=DATE, metavar="YYYY-MM-DD", help="The day of the meeting.")
@click.option("--recipient", "recipients", multiple=True, metavar="TEXT",
              help="Who gets a copy (a person or a group); may be repeated.")
@click.option("--follow-up", is_flag=True,
              help="End the decks and booklet with \"What happened after the last stories\": "
                   "outcomes of the stories in earlier packs for this use.")
@click.option("--save", "save_as", metavar="NAME",
              help="Also save what this pack is made of as NAME, to rebuild it later.")
@_OUT
@_FORCE
@_JSON
def pack_command(stories: tuple[str, ...], use: str, formats: tuple[str, ...],
                 services: tuple[str, ...], tags: tuple[str, ...], title: str, length: str,
                 theme: str | None, with_notes: bool, meeting: str | None,
                 meeting_date, recipients: tuple[str, ...], follow_up: bool,
                 save_as: str | None, out: Path, force: bool, as_json: bool) -> None:
    """Make one zip of STORY... (ids or slugs) and the stories of --service/--tag, for USE,
    in each --format, with a manifest and a consent notice; record who it is for.

    Consent is decided for today. Refused stories are left out and listed with the reasons.
    If a story you named is refused, the pack is still written without it and storykit
    exits with status 1. If no story is left, nothing is written.
    """
    from .packs import PackDefinition, PackLog, build_pack

    site = _site()
    definition = PackDefinition(
        use=use, formats=formats, stories=stories, services=services, tags=tags,
        title=title, length=length, theme=theme, with_notes=with_notes, meeting=meeting,
        meeting_date=meeting_date, recipients=recipients, follow_up=follow_up).checked()
    with _progress("Making the pack", as_json) as bar:
        result = build_pack(site, definition, out, by=current_user(), force=force,
                            progress=bar)
    if save_as and result.pack is not None:
        PackLog(site.database).save_definition(save_as, result.pack.definition,
                                               by=current_user())
    _report(result, as_json, saved=save_as)


def _report(result: PackResult, as_json: bool, saved: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_result(result, saved)
    if result.named_refused:
        raise click.exceptions.Exit(1)


def _print_result(result: PackResult, saved: str | None) -> None:
    pack = result.pack
    assert pack is not None and result.path is not None
    click.echo(f"Pack {pack.id} written to {result.path} ({len(result.views)} "
               f"{_plural(len(result.views), 'story', 'stories')}, {len(result.files)} files, "
               f"{_size(pack.size)}).")
    for view in result.views:
        ends = f", consent ends {nice_date(view.consent_expires)}" if view.consent_expires else ""
        click.echo(f"  {view.id}  {view.title} (consent version {view.consent_version}{ends})")
    for problem in result.problems:
        click.echo(f"warning: {problem} (run storykit check)", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.not_summarised:
        click.echo(f"note: {', '.join(result.not_summarised)} "
                   f"{'has' if len(result.not_summarised) == 1 else 'have'} one length only, "
                   "so made in full.", err=True)
    for refusal in result.refused:
        how = "named" if refusal.named else "picked by --service/--tag"
        click.echo(f"left out {refusal.story_id} ({refusal.slug}, {how}): "
                   f"{'; '.join(refusal.reasons)}", err=True)
    if result.named_refused:
        names = ", ".join(r.story_id for r in result.named_refused)
        click.echo(f"The pack was written without {names}, which you named but which may not "
                   f"be used for {pack.use} today.", err=True)
    if saved:
        click.echo(f"Saved as {saved!r}: rebuild it with storykit packs rebuild "
                   f"{json.dumps(saved)} -o FILE.zip")


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


# --- storykit packs ----------------------------------------------------------------------------

@click.group("packs")
def packs_group() -> None:
    """Packs made so far: list them, show one, rebuild one, list saved packs."""


@packs_group.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Show at most this many (newest first).")
@_JSON
def packs_list(limit: int, as_json: bool) -> None:
    """List packs, newest first: when, what for, how many stories, who built them."""
    from .packs import PackLog

    packs = PackLog(_site().database).all(limit=limit)
    if as_json:
        click.echo(json.dumps([_pack_json(p) for p in packs], indent=2, ensure_ascii=False))
        return
    if not packs:
        click.echo("No packs have been made yet.")
    for p in packs:
        click.echo(f"{p.id}  {nice_date(p.built_on)}  {p.title}  for {p.use}  "
                   f"{len(p.stories)} {_plural(len(p.stories), 'story', 'stories')}  "
                   f"built by {p.built_by}")


@packs_group.command("show")
@click.argument("pack_id", metavar="ID")
@_JSON
def packs_show(pack_id: str, as_json: bool) -> None:
    """Show the pack ID: who it is for, who built it, its stories and files."""
    from .packs import PackLog

    site = _site()
    pack = PackLog(site.database).get(pack_id)
    files = _pack_files(site, pack)
    if as_json:
        data = _pack_json(pack)
        data["files"] = files
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{pack.id}  {pack.title}")
    rows = [("for", site.config.label(pack.use)),
            ("meeting", (pack.meeting or "") + (f" on {nice_date(pack.meeting_date)}"
                                                 if pack.meeting_date else "")),
            ("recipients", ", ".join(pack.recipients)),
            ("built", f"{nice_date(pack.built_on)} by {pack.built_by}"),
            ("formats", ", ".join(pack.formats) + f" ({pack.length})"),
            ("file", f"{pack.file_name} ({_size(pack.size)}, SHA-256 {pack.sha256[:16]}...)"),
            ("rebuilt from", pack.rebuilt_from or ""),
            ("left out", f"{pack.refused} {_plural(pack.refused, 'story', 'stories')}"
             if pack.refused else "")]
    for label, value in rows:
        if value:
            click.echo(f"  {label + ':':14}{value}")
    click.echo("  stories:")
    for s in pack.stories:
        click.echo(f"    {s.story_id}  {_title(site, s.story_id)} (consent version "
                   f"{s.consent_version}, ends {nice_date(s.consent_expires)})")
    click.echo("  files:")
    for f in files:
        click.echo(f"    {f['file']}  ({', '.join(f['stories'])})")


def _title(site: Site, story_id: str) -> str:
    from .errors import StorykitError

    try:
        return site.store.get(story_id).title
    except StorykitError:
        return "(story no longer on record)"


def _pack_files(site: Site, pack: PackRecord) -> list[dict[str, Any]]:
    """The pack's recorded files (names inside the zip) and the stories each carries."""
    from .packs.downloads import is_download

    files: dict[str, dict[str, Any]] = {}
    for d in site.distributions.for_pack(pack.id):
        if is_download(d.job):
            continue
        name = d.path.split(":", 1)[1] if d.path.startswith(pack.id + ":") else d.format
        entry = files.setdefault(name, {"file": name, "format": d.format, "stories": [],
                                        "sha256": d.sha256})
        if d.story_id not in entry["stories"]:
            entry["stories"].append(d.story_id)
    return list(files.values())


def _pack_json(p: PackRecord) -> dict[str, Any]:
    return {"id": p.id, "title": p.title, "use": p.use, "formats": list(p.formats),
            "length": p.length, "theme": p.theme, "meeting": p.meeting,
            "meeting_date": p.meeting_date.isoformat() if p.meeting_date else None,
            "recipients": list(p.recipients), "built_at": p.built_at, "built_by": p.built_by,
            "decided_for": p.decided_for.isoformat(), "file_name": p.file_name,
            "sha256": p.sha256, "size": p.size, "refused": p.refused,
            "rebuilt_from": p.rebuilt_from, "definition_id": p.definition_id,
            "stories": [{"id": s.story_id, "consent_version": s.consent_version,
                         "consent_expires": s.consent_expires.isoformat()} for s in p.stories]}


@packs_group.command("rebuild")
@click.argument("ref", metavar="ID")
@_OUT
@_FORCE
@_JSON
def packs_rebuild(ref: str, out: Path, force: bool, as_json: bool) -> None:
    """Make the pack ID (a pack's id, or a saved pack's name) again, deciding consent today.

    It is a new pack with its own id and record; stories whose consent has ended or been
    withdrawn since are left out and listed (exit status 1 if the pack named them).
    """
    from .packs import rebuild_pack

    with _progress("Making the pack", as_json) as bar:
        result = rebuild_pack(_site(), ref, out, by=current_user(), force=force, progress=bar)
    _report(result, as_json)


@packs_group.command("saved")
@_JSON
def packs_saved(as_json: bool) -> None:
    """List saved packs (made with storykit pack --save NAME)."""
    from .packs import PackLog

    saved = PackLog(_site().database).definitions()
    if as_json:
        click.echo(json.dumps([{"id": s.id, "name": s.name, "created_by": s.created_by,
                                "updated_at": s.updated_at,
                                "definition": json.loads(s.definition.to_json())}
                               for s in saved], indent=2, ensure_ascii=False))
        return
    if not saved:
        click.echo("No saved packs. Save one with storykit pack ... --save NAME")
    for s in saved:
        d = s.definition
        click.echo(f"{s.name}  ({s.id})  for {d.use}: {', '.join(d.formats)}, {d.length}")


# --- storykit copies ---------------------------------------------------------------------------

@click.command("copies", short_help="Where has a story gone? Packs, pages, downloads, renders.")
@click.argument("story")
@_JSON
def copies_command(story: str, as_json: bool) -> None:
    """Every copy of STORY on record: packs, web pages, downloads and renders; who has it,
    when it was made, for which use and consent version, and whether it is still out there."""
    from .copies import story_copies

    site = _site()
    found = site.store.find(story)
    copies = story_copies(site, found.id)
    if as_json:
        click.echo(json.dumps({"story": found.id, "copies": [c.to_json() for c in copies]},
                              indent=2, ensure_ascii=False))
        return
    click.echo(f"{found.id}  {found.title}")
    if not copies:
        click.echo("  No copies of this story are on record.")
    live = sum(c.live for c in copies)
    for c in copies:
        state = "still out there" if c.live else "taken down"
        click.echo(f"  - [{state}] {c.sentence}")
    if copies:
        click.echo(f"{len(copies)} {_plural(len(copies), 'copy', 'copies')} on record, "
                   f"{live} still out there.")
