"""Where has this story gone? The distribution log read as copies people can act on: each
pack, publication, download and render that carried a story, described as what it was and
who has it ("Board pack, 4 December 2026, for the Trust Board meeting (recipients: ...),
built by Amy Patel"), never as a path on the server.

The distribution log (:mod:`storykit.distribution`) keeps one entry per artefact and story;
here entries are grouped into copies: one pack, one published page, one download, one
render. Withdrawal letters and takedown checklists are made from these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .dates import nice_date
from .distribution import DOWNLOAD_JOB  # noqa: F401 - re-exported: downloads are a kind of copy

if TYPE_CHECKING:  # pragma: no cover
    from .distribution import Distribution
    from .packs import PackRecord
    from .site import Site

KINDS = ("pack", "publication", "download", "render")
#: What each first-party format is, in words (other formats are named as they are).
FORMAT_WORDS = {
    "pdf": "PDF", "booklet": "booklet (PDF)", "slides": "slides (web page)",
    "slides-pdf": "slides (PDF)", "handout": "handout (PDF)", "pptx": "PowerPoint slides",
    "card": "quote cards", "web": "web page", "pack": "pack (zip file)",
}


@dataclass(frozen=True)
class Copy:
    """One copy of a story out in the world (or taken back)."""

    kind: str
    story_id: str
    use: str
    use_label: str
    formats: tuple[str, ...]
    consent_versions: tuple[int, ...]
    made_at: str  # UTC, ISO
    made_by: str
    removed_at: str | None
    removable: bool
    entries: tuple[int, ...]
    pack: PackRecord | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """A name for this copy that stays the same (its kind and first entry), e.g. for a
        takedown checklist's ticks."""
        return f"{self.kind}:{self.entries[0]}"

    def within_window(self, on: dt.date) -> bool:
        """Whether the copy was used within the consent window before ``on``: a pack (or a
        download of it) for a meeting that met on or before that day."""
        pack = self.pack
        return (self.kind in ("pack", "download") and pack is not None
                and pack.meeting_date is not None and pack.meeting_date <= on)

    @property
    def made_on(self) -> dt.date:
        return dt.date.fromisoformat(self.made_at[:10])

    @property
    def live(self) -> bool:
        """Still out there: not taken down or removed."""
        return self.removed_at is None

    @property
    def what(self) -> str:
        """What the copy is, in words."""
        things = ", ".join(FORMAT_WORDS.get(f, f) for f in self.formats)
        if self.kind == "pack":
            assert self.pack is not None
            return f"{self.pack.title} ({things})"
        if self.kind == "publication":
            where = f" at {self.url}" if self.url else ""
            return f"page on the {self.use_label.lower()}{where}"
        if self.kind == "download":
            if self.pack is not None:
                return f"{self.pack.title} (zip file) downloaded from storykit"
            return f"{things} downloaded from storykit"
        return f"{things} made with storykit render"

    @property
    def who(self) -> str:
        """Who holds the copy, in words."""
        if self.kind == "pack":
            assert self.pack is not None
            pack = self.pack
            meeting = pack.meeting or ""
            if pack.meeting_date:
                meeting = f"{meeting or 'the meeting'} on {nice_date(pack.meeting_date)}"
            holders = meeting or self.use_label
            if pack.recipients:
                holders += f" (recipients: {', '.join(pack.recipients)})"
            return holders
        if self.kind == "publication":
            return "anyone who visits the website"
        return f"{self.made_by} (who made it), for {self.use_label.lower()}"

    @property
    def sentence(self) -> str:
        """The copy in one sentence, e.g. "Trust Board pack (PowerPoint slides), made on
        4 December 2026 by Amy Patel for the Trust Board on 4 December 2026 (recipients:
        Board members). Consent version 2." """
        versions = ", ".join(str(v) for v in self.consent_versions)
        label = "Consent version" + ("s" if len(self.consent_versions) > 1 else "")
        made = f"made on {nice_date(self.made_on)} by {self.made_by}"
        if self.kind == "pack":
            text = f"{_capital(self.what)}, {made} for {self.who}."
        elif self.kind == "publication":
            text = f"{_capital(self.what)}, published on {nice_date(self.made_on)} by " \
                   f"{self.made_by}."
        else:
            text = f"{_capital(self.what)}, {made}, for {self.use_label.lower()}."
        text += f" {label} {versions}."
        if self.removed_at:
            text += f" Taken down on {nice_date(dt.date.fromisoformat(self.removed_at[:10]))}."
        return text

    def recall(self, on: dt.date) -> str:
        """What can be done about this copy after a withdrawal on ``on``, in words."""
        if not self.live:
            return "already taken down"
        if self.kind == "publication":
            return "taken off the website at the next build"
        if self.within_window(on):
            return ("used within the consent window: the meeting has happened, so these "
                    "papers cannot be recalled; the recipients are asked not to use them again")
        if not self.removable:
            return "cannot be recalled: ask the people who have it not to use it again"
        return "ask the people who have it to delete it"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "story": self.story_id, "use": self.use,
            "use_label": self.use_label, "formats": list(self.formats),
            "consent_versions": list(self.consent_versions), "made_at": self.made_at,
            "made_by": self.made_by, "live": self.live, "removed_at": self.removed_at,
            "removable": self.removable, "what": self.what, "who": self.who,
            "sentence": self.sentence, "url": self.url,
            "pack": None if self.pack is None else {
                "id": self.pack.id, "title": self.pack.title, "meeting": self.pack.meeting,
                "meeting_date": self.pack.meeting_date.isoformat()
                if self.pack.meeting_date else None,
                "recipients": list(self.pack.recipients)},
        }


def story_copies(site: Site, story_id: str) -> list[Copy]:
    """Every copy of ``story_id`` on record, oldest first."""
    from .packs import PackLog

    entries = site.distributions.for_story(story_id)
    packs = {p.id: p for p in PackLog(site.database).with_story(story_id)}
    return group_copies(site, entries, packs)


def group_copies(site: Site, entries: Iterable[Distribution],
                 packs: dict[str, PackRecord]) -> list[Copy]:
    """Distribution entries grouped into copies (one pack, one page, one download...)."""
    groups: dict[tuple[str, ...], list[Distribution]] = {}
    for d in entries:
        groups.setdefault(_key(d), []).append(d)
    copies = [_copy(site, key[0], group, packs) for key, group in groups.items()]
    return sorted(copies, key=lambda c: (c.made_at, c.entries[0]))


def kind_of(d: Distribution) -> str:
    if d.job and d.job.startswith(DOWNLOAD_JOB):
        return "download"  # a pack downloaded from the app names its pack too
    if d.pack_id:
        return "pack"
    if d.format == "web" and (d.url or d.job == "site-build"):
        return "publication"
    return "render"


def _key(d: Distribution) -> tuple[str, ...]:
    kind = kind_of(d)
    if kind == "pack":
        return (kind, d.story_id, d.pack_id or "")
    if kind == "publication":
        return (kind, d.story_id, d.job or "", d.url or d.path)
    if kind == "download":
        return (kind, d.story_id, str(d.id))
    return (kind, d.story_id, d.job or str(d.id))


def _copy(site: Site, kind: str, group: list[Distribution],
          packs: dict[str, PackRecord]) -> Copy:
    first = group[0]
    live = [d for d in group if d.removed_at is None]
    removed = None if live else max(d.removed_at or "" for d in group)
    pack = packs.get(first.pack_id or "") if kind in ("pack", "download") else None
    formats = tuple(dict.fromkeys(d.format for d in group))
    return Copy(
        kind=kind, story_id=first.story_id, use=first.use,
        use_label=site.config.label(first.use), formats=formats,
        consent_versions=tuple(sorted({d.consent_version for d in group})),
        made_at=first.created_at,
        made_by=pack.built_by if pack and kind == "pack" else first.created_by,
        removed_at=removed, removable=all(d.removable for d in group),
        entries=tuple(d.id for d in group), pack=pack,
        url=next((d.url for d in reversed(group) if d.url), None))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
