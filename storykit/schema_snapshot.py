"""A brand-new SQLite database made at head without Alembic, from a schema snapshot.

Making a new site's database with Alembic means importing SQLAlchemy and Alembic and running
every owner's migrations: about a third of a CPU second, most of it taken from a clean build
of the site. The result is always the same for the same migration files, so the package keeps
it: ``storykit/migrations/sqlite_snapshots.json`` holds, for each set of migration folders a
site may have, the SQL that running them all to head leaves in ``sqlite_master`` (in the order
it was made) and the ``alembic_version`` rows. A set is found by a digest of its migration
files' contents, so a new or changed migration, or a plugin's folder the file does not cover,
is never matched: such a database is made by the real Alembic upgrade, as before.

Regenerate the file after adding or changing a migration: ``./dev schema`` (that is,
``python -m storykit.schema_snapshot``). tests/test_db.py fails while the committed file
differs from what the migrations make.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .db import CORE_MIGRATIONS, Connection, DatabaseError, connect, migration_files, upgrade_lock

if TYPE_CHECKING:  # pragma: no cover
    from .db import Database

SNAPSHOTS = CORE_MIGRATIONS.parent / "sqlite_snapshots.json"


@dataclass(frozen=True)
class Snapshot:
    """What every owner's migrations, run to head on a new SQLite file, leave in it."""

    schema: tuple[str, ...]     # sqlite_master's SQL, in the order it was made
    versions: tuple[str, ...]   # the alembic_version rows (the heads), sorted

    def to_json(self) -> dict:
        return {"versions": list(self.versions), "schema": list(self.schema)}


def digest(folders: Iterable[Path]) -> str:
    """Names the migrations of ``folders`` by their files' contents (not where they are
    installed, nor their order): any edit, new file or other folder changes it."""
    parts = sorted(hashlib.sha256(file.read_bytes()).hexdigest()
                   for file in migration_files(folders))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Snapshot]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or damaged: Alembic makes every database
        return {}
    return {key: Snapshot(tuple(value["schema"]), tuple(value["versions"]))
            for key, value in data.items()}


def find(folders: Sequence[Path], path: Path = SNAPSHOTS) -> Snapshot | None:
    """The committed snapshot of exactly these migrations, if there is one."""
    return _load(path).get(digest(folders))


def create_new(database: Database) -> None:
    """Make a SQLite database that has no tables yet at the head of every owner's folder:
    from the snapshot when one matches, else by the real Alembic upgrade. Two processes
    making it at once are serialised by the lock file ``storykit db upgrade`` takes, and
    the snapshot is applied in one ``BEGIN IMMEDIATE`` transaction only while there are
    still no tables; if another process made some first, Alembic brings them to head
    unless they are there already (as when every process used Alembic)."""
    snapshot = find(database.migrations)
    if snapshot is not None and _apply_if_empty(database, snapshot):
        return
    if snapshot is None or not database.status().up_to_date:
        from .migrate import upgrade  # imports Alembic

        upgrade(database)


def _apply_if_empty(database: Database, snapshot: Snapshot) -> bool:
    with upgrade_lock(database):
        conn = connect(database.url)
        try:
            with conn.transaction():
                if conn.tables():  # another process made them while this one waited
                    return False
                apply(conn, snapshot)
                return True
        except DatabaseError as exc:  # nothing was made: the transaction rolled back
            raise DatabaseError(f"the new database {database.url.shown} could not be made "
                                f"(nothing was changed in it): {exc}") from exc
        finally:
            conn.close()


def apply(conn: Connection, snapshot: Snapshot) -> None:
    for sql in snapshot.schema:
        conn.execute(sql)
    conn.executemany("INSERT INTO alembic_version (version_num) VALUES (:v)",
                     [{"v": v} for v in snapshot.versions])


def read(conn: Connection) -> Snapshot:
    """A SQLite database's schema and versions as a snapshot (what ``apply`` makes again).
    SQLite's own entries (automatic indexes, ``sqlite_sequence``) come back by themselves."""
    schema = tuple(r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY rowid"))
    versions = tuple(sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")))
    return Snapshot(schema, versions)


def made_by_alembic(folders: Sequence[Path], file: Path) -> Snapshot:
    """Run the real migrations of ``folders`` on a new SQLite ``file``; its snapshot."""
    from .db import Database, parse_url
    from .migrate import upgrade

    database = Database(parse_url(f"sqlite:///{file}", file.parent), folders)
    upgrade(database)
    conn = connect(database.url)
    try:
        return read(conn)
    finally:
        conn.close()


def shipped_sets() -> list[tuple[Path, ...]]:
    """The sets of folders a site has with storykit's own plugins: the core's alone (no
    package plugin loaded) and with every plugin this distribution ships."""
    import os
    import tempfile
    from importlib.metadata import distribution

    from .db import Database
    from .plugins import ALLOW_ENV
    from .site import Site

    own = sorted(ep.name for ep in distribution("storykit").entry_points
                 if ep.group == "storykit")
    sets: list[tuple[Path, ...]] = []
    before = os.environ.get(ALLOW_ENV)
    try:
        for allow in ("", ",".join(own)):
            os.environ[ALLOW_ENV] = allow
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                (root / "stories").mkdir()
                (root / "storykit.toml").write_text('[site]\ntitle = "Snapshot"\n',
                                                    encoding="utf-8")
                folders = Database.for_site(Site.open(root)).migrations
            if folders not in sets:
                sets.append(folders)
    finally:
        if before is None:
            os.environ.pop(ALLOW_ENV, None)
        else:
            os.environ[ALLOW_ENV] = before
    return sets


def regenerate(path: Path = SNAPSHOTS) -> dict[str, Snapshot]:
    """Write the snapshot of every shipped set of folders, made by the real migrations."""
    import tempfile

    out: dict[str, Snapshot] = {}
    for folders in shipped_sets():
        with tempfile.TemporaryDirectory() as tmp:
            out[digest(folders)] = made_by_alembic(folders, Path(tmp) / "snapshot.db")
    text = json.dumps({k: v.to_json() for k, v in sorted(out.items())}, indent=1)
    path.write_text(text + "\n", encoding="utf-8")
    _load.cache_clear()
    return out


def main() -> None:
    for key, snapshot in regenerate().items():
        print(f"{key[:12]}: {len(snapshot.schema)} statements, heads "
              f"{', '.join(snapshot.versions)}")
    print(f"wrote {SNAPSHOTS.name}")


if __name__ == "__main__":  # pragma: no cover
    main()
