"""Building a pack: decide every story for the use today, render each format, write one zip
(the artefacts, ``manifest.json`` and ``consent-notice.txt``), and record the pack and every
artefact in the distribution log, all or nothing.

:func:`build_pack` is one plain function (no Flask, no terminal) so it can run as a
background job: it reports progress through a callback and returns a :class:`PackResult`.
Stories go through the same core path as ``storykit render`` (:mod:`storykit.render`):
refused stories are reported with their reasons and never reach a renderer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dates import today
from ..errors import StorykitError
from ..fsio import make_dirs, write_atomic
from ..output_path import check_output_file
from ..render import (
    Artefact,
    Format,
    Job,
    after_render,
    checked_view,
    decide_all,
    format_for,
    plan_jobs,
    record,
    run_batches,
    sha256_file,
)
from ..store import current_user
from .definition import PackDefinition, PackError
from .notice import NOTICE_FILE, notice_file_text, pack_notice
from .records import PackLog, PackRecord, new_id, story_rows
from .selection import Chosen, select_stories

if TYPE_CHECKING:  # pragma: no cover
    from ..consent import Decision, StoryView
    from ..site import Site

MANIFEST_FILE = "manifest.json"
#: Files already compressed: stored in the zip as they are (compressing them again is slow
#: and gains nothing).
_STORED = {".png", ".jpg", ".jpeg", ".webp", ".pptx", ".zip", ".gz"}

#: ``progress(done, total, step)``: ``done`` of ``total`` steps (one a job, and the zip).
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Refusal:
    """A story left out of a pack, and why (``named``: the person asked for it by name)."""

    story_id: str
    slug: str
    named: bool
    reasons: tuple[str, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class PackFile:
    """One file in the zip: its name there, the format that made it, the stories it
    carries, its SHA-256 and size."""

    name: str
    format: str
    story_ids: tuple[str, ...]
    sha256: str
    size: int


@dataclass
class PackResult:
    """What a build made: the pack's record (None when nothing was written), the stories
    in it, the ones left out, the files and any warnings from renderers."""

    pack: PackRecord | None
    path: Path | None
    views: list[StoryView]
    refused: list[Refusal]
    files: list[PackFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_summarised: tuple[str, ...] = ()

    @property
    def written(self) -> bool:
        return self.path is not None

    @property
    def named_refused(self) -> list[Refusal]:
        return [r for r in self.refused if r.named]

    def to_json(self) -> dict[str, Any]:
        pack = self.pack
        return {
            "written": self.written, "file": str(self.path) if self.path else None,
            "pack": None if pack is None else {
                "id": pack.id, "title": pack.title, "use": pack.use, "length": pack.length,
                "formats": list(pack.formats), "built_by": pack.built_by,
                "built_at": pack.built_at, "meeting": pack.meeting,
                "meeting_date": pack.meeting_date.isoformat() if pack.meeting_date else None,
                "recipients": list(pack.recipients), "sha256": pack.sha256,
                "size": pack.size},
            "stories": [_story_json(v) for v in self.views],
            "refused": [{"id": r.story_id, "slug": r.slug, "named": r.named,
                         "reasons": list(r.reasons), "codes": list(r.codes)}
                        for r in self.refused],
            "files": [_file_json(f) for f in self.files],
            "not_summarised": list(self.not_summarised),
            "warnings": self.warnings, "problems": self.problems,
        }


def _story_json(view: StoryView) -> dict[str, Any]:
    return {"id": view.id, "slug": view.slug, "title": view.title,
            "consent_version": view.consent_version,
            "consent_expires": view.consent_expires.isoformat() if view.consent_expires else None}


def _file_json(f: PackFile) -> dict[str, Any]:
    return {"file": f.name, "format": f.format, "stories": list(f.story_ids),
            "sha256": f.sha256, "size": f.size}


def pack_folder(site: Site) -> Path:
    """Where storykit keeps the packs it holds itself (the browser app's downloads): the
    instance folder's ``packs/``. Erasing a story deletes the ones here that carry it."""
    return site.instance / "packs"


def new_pack_id() -> str:
    """A new pack id (``pk-...``), for a caller that must name the pack before building it
    (a background job writing ``pack_folder(site) / f"{id}.zip"``)."""
    return new_id("pk")


def delete_kept_packs(site: Site, story_id: str) -> list[str]:
    """Delete the zips in :func:`pack_folder` of every pack that carried ``story_id`` (after
    a withdrawal that erases everything); their records stay, without a location. Returns
    the pack ids whose files were deleted."""
    folder = pack_folder(site).resolve()
    log = PackLog(site.database)
    gone = []
    for pack in log.with_story(story_id):
        if not pack.location:
            continue
        path = Path(pack.location)
        if path.resolve().parent != folder:
            continue  # a file someone wrote elsewhere: it is on the takedown list
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        log.forget_location(pack.id)
        gone.append(pack.id)
    return gone


def build_pack(site: Site, definition: PackDefinition, out: Path, *, by: str | None = None,
               force: bool = False, progress: Progress | None = None,
               definition_id: str | None = None, rebuilt_from: str | None = None,
               workers: int | None = None, pack_id: str | None = None) -> PackResult:
    """Build ``definition`` into the zip ``out`` for today and record it.

    Raises :class:`PackError` (nothing written, nothing recorded) when the definition, a
    format, the use, a named story or ``out`` is wrong, or no story is left once consent is
    decided. Otherwise every allowed story is in the zip, the refused ones are in
    ``result.refused`` (a named one among them is the caller's to report as a failure),
    and the pack, its recipients, its stories and each artefact are recorded together."""
    definition.checked()
    by = by or current_user()
    formats = _formats(site, definition)
    out = check_output(site, Path(out), force=force)
    chosen, problems = select_stories(site, definition)
    if not chosen:
        raise PackError("no stories match: " + _asked_for(definition))
    on = today()
    decisions = decide_all(site, [c.story for c in chosen], definition.use)
    refused = [_refusal(d, c) for d, c in zip(decisions, chosen, strict=True) if not d.allowed]
    views = [checked_view(d, with_notes=definition.with_notes) for d in decisions if d.allowed]
    if not views:
        raise PackError(f"no stories are left for {site.config.label(definition.use)}: "
                        + "; ".join(f"{r.story_id}: {', '.join(r.reasons)}" for r in refused))
    pack_id = pack_id or new_pack_id()
    title = definition.title.strip() or f"{site.config.label(definition.use)} pack"
    notice = pack_notice(views, use_label=site.config.label(definition.use), title=title,
                         made_on=on, meeting=definition.meeting,
                         meeting_date=definition.meeting_date,
                         recipients=definition.recipients,
                         organisation=site.config.organisation,
                         contact_email=site.config.contact_email)
    if definition.follow_up:
        from ..outcomes.follow_up import follow_up_notice

        notice = replace(notice, closing=follow_up_notice(site, definition.use,
                                                          before=definition.meeting_date or on))
    stored = definition.with_story_ids(tuple(c.story.id for c in chosen if c.named))
    result = PackResult(None, None, views, refused, problems=problems)
    with tempfile.TemporaryDirectory(prefix="storykit-pack-") as tmp:
        work = Path(tmp)
        rendered = _render_formats(site, definition, formats, views, work, notice, on,
                                   progress, workers)
        files, places = _pack_files(rendered, work, pack_id)
        notice_path = work / NOTICE_FILE
        notice_path.write_text(notice_file_text(notice, views), encoding="utf-8")
        files.append(_file(notice_path, NOTICE_FILE, "notice", ()))
        manifest = _manifest(site, pack_id, title, definition, views, files, on, by)
        size, digest = _write_zip(out, work, files, manifest)
        _tick(progress, rendered, "zip")
        pack = PackRecord(
            id=pack_id, title=title, use=definition.use, formats=definition.formats,
            length=definition.length, theme=definition.theme, meeting=definition.meeting,
            meeting_date=definition.meeting_date, recipients=definition.recipients,
            stories=story_rows(views), definition=stored, definition_id=definition_id,
            rebuilt_from=rebuilt_from, decided_for=on, built_at=manifest["pack"]["built_at"],
            built_by=by, file_name=out.name, location=str(out), sha256=digest, size=size,
            refused=len(refused))
        jobs = [job for _fmt, jobs, _artefacts in rendered for job in jobs]
        artefacts = [a for _fmt, _jobs, made in rendered for a in made]
        try:
            with site.distributions.transaction():
                PackLog(site.database).add(pack)
                record(site, artefacts, jobs, by=by, pack_id=pack_id, places=places)
                site.audit.record("pack.built", actor=by, detail=f"{pack_id}: {len(views)} "
                                  f"stories for {definition.use}, {len(refused)} left out")
        except BaseException:
            with contextlib.suppress(OSError):
                out.unlink()  # a pack that is not on record must not be out there
            raise
        after_render(site, jobs, artefacts)
    result.pack, result.path, result.files = pack, out, files
    result.warnings = [w for _fmt, jobs, _made in rendered for job in jobs for w in job.warnings]
    result.not_summarised = tuple(f.name for f in formats if definition.length not in f.lengths)
    return result


def _formats(site: Site, definition: PackDefinition) -> list[Format]:
    """Every format of the definition, checked against the use before anything is made
    (lengths apply to the formats that offer them; the others are made in full)."""
    problems = []
    formats = []
    for name in definition.formats:
        try:
            formats.append(format_for(site, name, definition.use))
        except StorykitError as exc:  # every format's problem, said together
            problems.append(str(exc))
    if problems:
        raise PackError("; ".join(dict.fromkeys(problems)))
    if definition.theme:
        from ..themes import load_theme

        load_theme(site, definition.theme)  # a ThemeError in words now, not after rendering
    return formats


def check_output(site: Site, out: Path, *, force: bool = False) -> Path:
    """``out`` as a place a pack may be written (a ``.zip``; see
    :func:`storykit.output_path.check_output_file`), or PackError saying why not."""
    return check_output_file(out, suffix=".zip", what="the pack", force=force,
                             stories_dir=site.config.path("stories"), error=PackError)


def _asked_for(definition: PackDefinition) -> str:
    parts = []
    if definition.services:
        parts.append("service " + " or ".join(definition.services))
    if definition.tags:
        parts.append("tag " + " or ".join(definition.tags))
    return ", ".join(parts) or "no stories were named"


def _refusal(decision: Decision, chosen: Chosen) -> Refusal:
    return Refusal(decision.story_id, chosen.story.slug, chosen.named,
                   tuple(decision.messages), tuple(decision.codes))


def _render_formats(site: Site, definition: PackDefinition, formats: list[Format],
                    views: list[StoryView], work: Path, notice, on: dt.date,
                    progress: Progress | None, workers: int | None
                    ) -> list[tuple[Format, list[Job], list[Artefact]]]:
    """Each format rendered into its own folder of ``work``, with the notice and length."""
    from ..themes import load_theme

    theme = load_theme(site, definition.theme)
    planned = []
    for fmt in formats:
        folder = work / fmt.name
        folder.mkdir()
        planned.append((fmt, plan_jobs(site, fmt, definition.use, views, folder, on=on,
                                       theme=theme, with_notes=definition.with_notes,
                                       length=definition.length, notice=notice)))
    total = sum(len(jobs) for _fmt, jobs in planned) + 1
    done = 0

    def tick(job: Job) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, job.format)

    made = run_batches(planned, workers, on_done=tick)
    return [(fmt, jobs, artefacts) for (fmt, jobs), artefacts in zip(planned, made, strict=True)]


def _utc_now() -> str:
    """Now in UTC to the microsecond, so packs built in the same second list in order."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tick(progress: Progress | None, rendered, step: str) -> None:
    if progress is not None:
        total = sum(len(jobs) for _fmt, jobs, _made in rendered) + 1
        progress(total, total, step)


def _pack_files(rendered, work: Path, pack_id: str) -> tuple[list[PackFile], dict[Path, str]]:
    """The files the renderers returned, named as they will be in the zip; and where each
    one went, for the distribution log (the pack and the name inside it, not a path)."""
    files: list[PackFile] = []
    places: dict[Path, str] = {}
    seen: set[str] = set()
    for fmt, _jobs, artefacts in rendered:
        for artefact in artefacts:
            path = artefact.path
            try:
                name = path.resolve().relative_to(work.resolve()).as_posix()
            except ValueError:
                raise PackError(f"the {fmt.name} format wrote a file outside its folder; the "
                                "pack was not made") from None
            if name in seen or not path.is_file():
                continue
            seen.add(name)
            files.append(_file(path, name, artefact.format, artefact.story_ids))
            places[path] = f"{pack_id}:{name}"
    return files, places


def _file(path: Path, name: str, fmt: str, story_ids: tuple[str, ...]) -> PackFile:
    return PackFile(name, fmt, tuple(story_ids), sha256_file(path), path.stat().st_size)


def _manifest(site: Site, pack_id: str, title: str, definition: PackDefinition,
              views: list[StoryView], files: list[PackFile], on: dt.date,
              by: str) -> dict[str, Any]:
    ends = [v.consent_expires for v in views if v.consent_expires]
    return {
        "pack": {
            "id": pack_id, "title": title, "use": definition.use,
            "use_label": site.config.label(definition.use), "length": definition.length,
            "formats": list(definition.formats), "theme": definition.theme,
            "organisation": site.config.organisation,
            "built_by": by,
            "built_at": _utc_now(),
            "decided_for": on.isoformat(), "meeting": definition.meeting,
            "meeting_date": definition.meeting_date.isoformat() if definition.meeting_date
            else None,
            "recipients": list(definition.recipients),
        },
        "earliest_expiry": min(ends).isoformat() if ends else None,
        "notice": NOTICE_FILE,
        "stories": [_story_json(v) for v in views],
        "files": [_file_json(f) for f in files],
    }


def _write_zip(out: Path, work: Path, files: list[PackFile],
               manifest: dict[str, Any]) -> tuple[int, str]:
    """Write the zip atomically (whole or not at all); its size and SHA-256."""
    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    by_name = {f.name: work / f.name for f in files}

    def write(target) -> None:
        with zipfile.ZipFile(target, "w") as zf:
            zf.writestr(_info(MANIFEST_FILE), data, zipfile.ZIP_DEFLATED)
            for f in files:
                source = by_name[f.name]
                method = zipfile.ZIP_STORED if source.suffix.lower() in _STORED \
                    else zipfile.ZIP_DEFLATED
                with source.open("rb") as src, zf.open(_info(f.name, method), "w") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)

    make_dirs(out.parent)
    write_atomic(out, write)
    return out.stat().st_size, sha256_file(out)


def _info(name: str, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6])
    info.compress_type = method
    info.external_attr = 0o644 << 16
    return info


def rebuild_pack(site: Site, ref: str, out: Path, *, by: str | None = None,
                 force: bool = False, progress: Progress | None = None,
                 workers: int | None = None) -> PackResult:
    """Build again the pack ``ref`` (a pack id, or a saved definition's id or name), with
    consent decided today: a new pack with its own id and record."""
    log = PackLog(site.database)
    earlier = log.find(ref)
    if earlier is not None:
        return build_pack(site, earlier.definition, out, by=by, force=force, progress=progress,
                          definition_id=earlier.definition_id, rebuilt_from=earlier.id,
                          workers=workers)
    saved = log.definition(ref)
    return build_pack(site, saved.definition, out, by=by, force=force, progress=progress,
                      definition_id=saved.id, workers=workers)

