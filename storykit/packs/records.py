"""The record of packs: each pack built (who for, who built it, when, the file), its
recipients and stories, and saved pack definitions. The core owns these tables
(``packs``, ``pack_recipients``, ``pack_stories``, ``pack_definitions``; migration
``storykit_0004_packs``); other parts use the functions here, never the tables.

Only story ids, consent versions and dates are kept here: no story text, titles or names
of storytellers (a pack's title, meeting and recipients are what staff typed about the
meeting, not about a story)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..dates import parse_date
from .definition import PackDefinition, PackError

if TYPE_CHECKING:  # pragma: no cover
    from ..db import Connection, Database

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_id(prefix: str) -> str:
    """A random id such as ``pk-7k2m9qxa`` (packs) or ``pd-...`` (saved definitions)."""
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PackStory:
    story_id: str
    consent_version: int
    consent_expires: dt.date


@dataclass(frozen=True)
class PackRecord:
    """One pack as recorded: what it was, who it was for, who built it and when."""

    id: str
    title: str
    use: str
    formats: tuple[str, ...]
    length: str
    theme: str | None
    meeting: str | None
    meeting_date: dt.date | None
    recipients: tuple[str, ...]
    stories: tuple[PackStory, ...]
    definition: PackDefinition
    definition_id: str | None
    rebuilt_from: str | None
    decided_for: dt.date
    built_at: str
    built_by: str
    file_name: str
    location: str | None
    sha256: str
    size: int
    refused: int

    @property
    def built_on(self) -> dt.date:
        return dt.date.fromisoformat(self.built_at[:10])

    @property
    def story_ids(self) -> tuple[str, ...]:
        return tuple(s.story_id for s in self.stories)


@dataclass(frozen=True)
class SavedDefinition:
    id: str
    name: str
    definition: PackDefinition
    created_at: str
    created_by: str
    updated_at: str


class PackLog:
    """The pack tables of the site's database (each thread uses its own connection)."""

    def __init__(self, database: Database):
        self.database = database

    @property
    def conn(self) -> Connection:
        return self.database.connection()

    # --- packs ------------------------------------------------------------------------------

    def add(self, record: PackRecord) -> None:
        """Record a built pack with its recipients and stories (call inside the transaction
        that records its artefacts, so the pack and its distributions are kept together)."""
        conn = self.conn
        conn.execute(
            "INSERT INTO packs (id, definition_id, rebuilt_from, title, use, formats, length, "
            "theme, meeting, meeting_date, definition, decided_for, built_at, built_by, "
            "file_name, location, sha256, size, stories, refused) VALUES (:id, "
            ":definition_id, :rebuilt_from, :title, :use, :formats, :length, :theme, "
            ":meeting, :meeting_date, :definition, :decided_for, :built_at, :built_by, "
            ":file_name, :location, :sha256, :size, :stories, :refused)",
            {"id": record.id, "definition_id": record.definition_id,
             "rebuilt_from": record.rebuilt_from, "title": record.title, "use": record.use,
             "formats": json.dumps(list(record.formats)), "length": record.length,
             "theme": record.theme, "meeting": record.meeting,
             "meeting_date": record.meeting_date.isoformat() if record.meeting_date else None,
             "definition": record.definition.to_json(),
             "decided_for": record.decided_for.isoformat(), "built_at": record.built_at,
             "built_by": record.built_by, "file_name": record.file_name,
             "location": record.location, "sha256": record.sha256, "size": record.size,
             "stories": len(record.stories), "refused": record.refused})
        conn.executemany(
            "INSERT INTO pack_recipients (pack_id, position, name) VALUES (:pack_id, "
            ":position, :name)",
            [{"pack_id": record.id, "position": i, "name": name}
             for i, name in enumerate(record.recipients)])
        conn.executemany(
            "INSERT INTO pack_stories (pack_id, position, story_id, consent_version, "
            "consent_expires) VALUES (:pack_id, :position, :story_id, :version, :expires)",
            [{"pack_id": record.id, "position": i, "story_id": s.story_id,
              "version": s.consent_version, "expires": s.consent_expires.isoformat()}
             for i, s in enumerate(record.stories)])

    def get(self, pack_id: str) -> PackRecord:
        """The pack ``pack_id`` (PackError in words when there is none)."""
        row = self.conn.one("SELECT * FROM packs WHERE id = :id", {"id": pack_id})
        if row is None:
            raise PackError(f"no pack {pack_id!r} is on record (see storykit packs list)")
        return self._record(row)

    def find(self, pack_id: str) -> PackRecord | None:
        row = self.conn.one("SELECT * FROM packs WHERE id = :id", {"id": pack_id})
        return self._record(row) if row is not None else None

    def all(self, *, limit: int = 100, offset: int = 0) -> list[PackRecord]:
        """Packs, newest first."""
        rows = self.conn.all("SELECT * FROM packs ORDER BY built_at DESC, id LIMIT :limit "
                             "OFFSET :offset", {"limit": limit, "offset": offset})
        return [self._record(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.value("SELECT count(*) FROM packs", default=0))

    def with_story(self, story_id: str) -> list[PackRecord]:
        """Every pack that carried ``story_id``, oldest first."""
        rows = self.conn.all(
            "SELECT p.* FROM packs p WHERE p.id IN (SELECT pack_id FROM pack_stories WHERE "
            "story_id = :story_id) ORDER BY p.built_at, p.id", {"story_id": story_id})
        return [self._record(r) for r in rows]

    def forget_location(self, pack_id: str) -> None:
        """The pack's file is gone (deleted with an erased story): keep the record only."""
        self.conn.execute("UPDATE packs SET location = NULL WHERE id = :id", {"id": pack_id})

    def _record(self, row: Any) -> PackRecord:
        pack_id = row["id"]
        recipients = tuple(r[0] for r in self.conn.all(
            "SELECT name FROM pack_recipients WHERE pack_id = :id ORDER BY position",
            {"id": pack_id}))
        stories = tuple(PackStory(r["story_id"], int(r["consent_version"]),
                                  parse_date(r["consent_expires"]))
                        for r in self.conn.all(
                            "SELECT * FROM pack_stories WHERE pack_id = :id ORDER BY position",
                            {"id": pack_id}))
        return PackRecord(
            id=pack_id, title=row["title"], use=row["use"],
            formats=tuple(json.loads(row["formats"])), length=row["length"], theme=row["theme"],
            meeting=row["meeting"],
            meeting_date=parse_date(row["meeting_date"]) if row["meeting_date"] else None,
            recipients=recipients, stories=stories,
            definition=PackDefinition.from_json(row["definition"]),
            definition_id=row["definition_id"], rebuilt_from=row["rebuilt_from"],
            decided_for=parse_date(row["decided_for"]), built_at=row["built_at"],
            built_by=row["built_by"], file_name=row["file_name"], location=row["location"],
            sha256=row["sha256"], size=int(row["size"]), refused=int(row["refused"]))

    # --- saved definitions ------------------------------------------------------------------

    def save_definition(self, name: str, definition: PackDefinition, *, by: str) -> str:
        """Save ``definition`` as ``name`` (replacing one saved under that name); its id."""
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise PackError("give the saved pack a name of 1 to 100 characters")
        definition.checked()
        now = _now()
        with self.conn.transaction() as conn:
            found = conn.value("SELECT id FROM pack_definitions WHERE name = :name",
                               {"name": name})
            if found:
                conn.execute("UPDATE pack_definitions SET definition = :definition, "
                             "updated_at = :now WHERE id = :id",
                             {"definition": definition.to_json(), "now": now, "id": found})
                return str(found)
            new = new_id("pd")
            conn.execute("INSERT INTO pack_definitions (id, name, definition, created_at, "
                         "created_by, updated_at) VALUES (:id, :name, :definition, :now, :by, "
                         ":now)", {"id": new, "name": name, "definition": definition.to_json(),
                                   "now": now, "by": by})
            return new

    def definition(self, ref: str) -> SavedDefinition:
        """A saved definition by id or name (PackError in words when there is none)."""
        row = self.conn.one("SELECT * FROM pack_definitions WHERE id = :ref OR name = :ref",
                            {"ref": ref})
        if row is None:
            raise PackError(f"no saved pack called {ref!r} (see storykit packs saved)")
        return _saved(row)

    def definitions(self) -> list[SavedDefinition]:
        return [_saved(r) for r in self.conn.all("SELECT * FROM pack_definitions ORDER BY name")]


def _saved(row: Any) -> SavedDefinition:
    return SavedDefinition(row["id"], row["name"], PackDefinition.from_json(row["definition"]),
                           row["created_at"], row["created_by"], row["updated_at"])


def story_rows(views: Sequence[Any]) -> tuple[PackStory, ...]:
    """The pack's stories as recorded, from the views that went into it."""
    return tuple(PackStory(v.id, v.consent_version, v.consent_expires) for v in views)
