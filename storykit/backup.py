"""Backups of a whole site, and restoring one into a new folder (``storykit backup``,
``storykit restore``; docs/deploy.md).

A backup is one ``.tar.gz``: ``manifest.json`` (what it holds and the database's migration
revisions), ``database/<table>.jsonl`` (every row of every table, read in one transaction,
so the audit chain and the distribution log agree with each other), and ``site/`` (the
``storykit.toml``, the stories with their consent records, evidence and media, the instance
folder's revisions, kept packs and secret key, and the site's own plugins and themes).
Caches, locks, temporary files and the job queue are left out: storykit makes them again.

Rows are written engine-neutrally, so a SQLite site can be restored onto PostgreSQL and back.
A restore never touches an existing site: it makes a new folder and needs an empty database,
so a wrong restore cannot overwrite the live one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .db import Connection, Database
    from .site import Site

FORMAT = 1
MANIFEST = "manifest.json"
#: Folders of the site a backup holds, by their ``[paths]`` name.
FOLDERS = ("stories", "instance", "plugins", "themes")
#: What in ``instance/`` storykit makes again (or must not copy as files: the database).
NOT_KEPT = frozenset({"cache", "locks", "tmp", "storykit.db", "storykit.db-wal",
                      "storykit.db-shm", "jobs-queue.db", "jobs-queue.db-wal",
                      "jobs-queue.db-shm", "storykit.db.upgrade.lock", "__pycache__"})
ROWS_PER_BATCH = 500


class BackupError(StorykitError):
    """A backup or a restore cannot be made; the message says why, in words."""


@dataclass
class BackupReport:
    """What a backup holds (or a restore put back)."""

    path: Path
    stories: int = 0
    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    revisions: tuple[str, ...] = ()
    left_out: list[str] = field(default_factory=list)  # symlinks and odd files, relative

    def words(self) -> str:
        rows = sum(self.rows.values())
        return (f"{self.stories:,} stories, {self.files:,} files and {rows:,} database rows "
                f"in {len(self.rows)} tables")


# --- making a backup ------------------------------------------------------------------------

def make_backup(site: Site, out: Path) -> BackupReport:
    """Write a backup of ``site`` to ``out`` (replaced whole, never half-written)."""
    out = Path(out).absolute()
    folders = _site_folders(site)
    for folder in folders.values():
        if out == folder or folder in out.parents:
            raise BackupError(f"put the backup outside the site's {folder.name} folder "
                              "(it would hold itself)")
    if not out.parent.is_dir():
        raise BackupError(f"the folder {out.parent.name or out.parent} does not exist")
    report = BackupReport(out)
    with tempfile.TemporaryDirectory(prefix="storykit-backup-") as scratch:
        dumps = _dump_database(site.database, Path(scratch), report)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".tar.gz", dir=out.parent)
        os.close(fd)
        try:
            with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
                files = list(_site_files(site, folders, report))
                report.stories = sum(1 for rel, _ in files
                                     if rel.startswith("stories/") and rel.count("/") == 2
                                     and rel.endswith("/story.md"))
                _add_bytes(tar, MANIFEST, json.dumps(_manifest(site, report), indent=2))
                for table, path in dumps:
                    tar.add(path, f"database/{table}.jsonl", recursive=False)
                for rel, path in files:
                    tar.add(path, f"site/{rel}", recursive=False)
                    report.files += 1
            os.chmod(tmp, 0o600)  # it holds health data: only its owner may read it
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return report


def _site_folders(site: Site) -> dict[str, Path]:
    """The site's folders a backup holds, each inside the site's folder (else refused: a
    restore could not put it back in the same place)."""
    root = site.root.resolve()
    found = {}
    for name in FOLDERS:
        folder = site.config.path(name).resolve()
        if folder != root and root not in folder.parents:
            raise BackupError(f"the {name} folder is outside the site's folder; back it up "
                              "with your own tools, or move it inside")
        found[name] = folder
    return found


def _site_files(site: Site, folders: dict[str, Path],
                report: BackupReport) -> Iterator[tuple[str, Path]]:
    root = site.root.resolve()
    config = root / "storykit.toml"
    yield "storykit.toml", config
    for name, folder in folders.items():
        if not folder.is_dir():
            continue
        for here, dirs, names in os.walk(folder):
            base = Path(here)
            if name == "instance" and base == folder:
                dirs[:] = [d for d in dirs if d not in NOT_KEPT]
                names = [n for n in names if n not in NOT_KEPT]
            dirs[:] = sorted(d for d in dirs if d != "__pycache__"
                             and not _left_out(base / d, root, report))
            for file_name in sorted(names):
                path = base / file_name
                if file_name.startswith(".tmp-") or _left_out(path, root, report):
                    continue
                yield path.relative_to(root).as_posix(), path


def _left_out(path: Path, root: Path, report: BackupReport) -> bool:
    """Symlinks and anything but files and folders are not copied (and are listed)."""
    if path.is_symlink() or not (path.is_file() or path.is_dir()):
        report.left_out.append(path.relative_to(root).as_posix())
        return True
    return False


def _dump_database(database: Database, scratch: Path,
                   report: BackupReport) -> list[tuple[str, Path]]:
    conn = database.connect()
    try:
        dumps = []
        with conn.transaction():  # one moment for every table
            status = database.status(conn)
            if not status.up_to_date:
                raise BackupError(f"{status.words()} Run storykit db upgrade first.")
            report.revisions = tuple(sorted(status.current))
            for table in sorted(conn.tables() - {"alembic_version"}):
                path = scratch / f"{table}.jsonl"
                report.rows[table] = _dump_table(conn, table, path)
                dumps.append((table, path))
        return dumps
    finally:
        conn.close()


def _dump_table(conn: Connection, table: str, path: Path) -> int:
    count = 0
    cursor = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 - a name from the catalogue
    names = [d[0] for d in cursor.description]
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(names) + "\n")
        while rows := cursor.fetchmany(ROWS_PER_BATCH):
            for row in rows:
                f.write(json.dumps(list(row), ensure_ascii=False) + "\n")
                count += 1
    return count


def _manifest(site: Site, report: BackupReport) -> dict[str, Any]:
    return {"storykit_backup": FORMAT,
            "made_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "site": site.config.title, "engine": site.database.dialect,
            "revisions": list(report.revisions), "rows": report.rows,
            "stories": report.stories}


def _add_bytes(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


# --- restoring ------------------------------------------------------------------------------

def restore_backup(archive: Path, into: Path) -> BackupReport:
    """Make a new site at ``into`` from ``archive``, its database rows loaded into the
    database that site is set to use (SQLite in its instance folder, or
    ``STORYKIT_DATABASE_URL``), which must be empty. On failure the new folder is removed."""
    into = Path(into).absolute()
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise BackupError(f"{into.name} already exists and is not empty: restore into a new "
                          "folder, then swap it for the old one")
    made = not into.exists()
    try:
        with _open(archive) as tar:
            manifest = _read_manifest(tar)
            report = BackupReport(into, stories=int(manifest.get("stories", 0)))
            members = _checked_members(tar)
            into.mkdir(parents=True, exist_ok=True)
            site_files = [m for m in members if m.name.startswith("site/")]
            for member in site_files:
                member.name = member.name.removeprefix("site/")
            tar.extractall(into, members=site_files, filter="data")
            _private(into / "instance")
            report.files = sum(1 for m in site_files if m.isfile())
            tables = {m.name.removeprefix("database/").removesuffix(".jsonl"): m
                      for m in members if m.name.startswith("database/")}
            _load_database(into, tar, tables, manifest, report)
        return report
    except BaseException:
        if made:
            shutil.rmtree(into, ignore_errors=True)
        else:
            for child in into.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise


def _private(folder: Path) -> None:
    """The instance folder holds the secret key and revisions: its owner's alone again."""
    if not folder.is_dir():
        return
    folder.chmod(0o700)
    for here, dirs, files in os.walk(folder):
        for name in dirs:
            (Path(here) / name).chmod(0o700)
        for name in files:
            (Path(here) / name).chmod(0o600)


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:gz")
    except FileNotFoundError:
        raise BackupError(f"there is no file {Path(archive).name}") from None
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(f"{Path(archive).name} is not a storykit backup (not a .tar.gz "
                          "that can be read)") from None


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        raw = tar.extractfile(member)
        manifest = json.loads(raw.read(1_000_000)) if raw else None
    except (KeyError, ValueError, tarfile.TarError, EOFError, OSError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("storykit_backup") != FORMAT:
        raise BackupError("this is not a storykit backup this version can read (its "
                          f"{MANIFEST} is missing or of another kind)")
    revisions = manifest.get("revisions")
    if not isinstance(revisions, list) or not all(isinstance(r, str) for r in revisions):
        raise BackupError(f"the backup's {MANIFEST} is damaged (revisions)")
    return manifest


def _checked_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, refused unless it is a plain file or folder under ``site/`` or a table
    under ``database/`` (a backup edited by hand could hold links or paths out)."""
    members = []
    try:
        for member in tar:
            name = member.name
            if name == MANIFEST:
                continue
            parts = Path(name).parts
            bad = (name.startswith("/") or ".." in parts or not (member.isfile()
                   or member.isdir()) or parts[0] not in ("site", "database"))
            if parts and parts[0] == "database" and not (
                    len(parts) == 2 and name.endswith(".jsonl") and member.isfile()
                    and parts[1].removesuffix(".jsonl").replace("_", "").isalnum()):
                bad = True
            if bad:
                raise BackupError(f"the backup holds something storykit does not make ({name!r}"
                                  "): it was not restored")
            members.append(member)
    except (tarfile.TarError, EOFError, OSError):
        raise BackupError("the backup is damaged (it ends early or cannot be read)") from None
    return members


def _load_database(into: Path, tar: tarfile.TarFile, tables: dict[str, tarfile.TarInfo],
                   manifest: dict[str, Any], report: BackupReport) -> None:
    from .migrate import upgrade
    from .site import Site

    site = Site.open(into)
    database = site.database
    status = database.status()
    wanted = tuple(manifest["revisions"])
    unknown = set(wanted) - set(status.known)
    if unknown:
        raise BackupError("the backup was made by a newer storykit or with plugins not "
                          "installed here (migrations " + ", ".join(sorted(unknown)) + ")")
    if status.empty:
        upgrade(database, targets=wanted)  # the tables as they were, then the rows
    elif status.current != frozenset(wanted) or _has_rows(database):
        raise BackupError(f"the database the new site uses ({database.url.shown}) is not "
                          "empty: give it an empty one")
    conn = database.connect()
    try:
        with conn.transaction():
            present = conn.tables()
            for table in _load_order(conn, [t for t in tables if t in present]):
                report.rows[table] = _load_table(conn, table, tar, tables[table])
        missing = sorted(set(tables) - set(report.rows))
        if missing:
            raise BackupError("the backup has tables this storykit does not make: "
                              + ", ".join(missing))
        if conn.dialect == "postgresql":
            _reset_sequences(conn, list(report.rows))
    finally:
        conn.close()
    upgrade(database)  # then up to this storykit's newest tables
    report.revisions = tuple(sorted(database.status().current))


def _has_rows(database: Database) -> bool:
    """Whether any table holds a row (a database made by storykit db upgrade has none)."""
    conn = database.connect()
    try:
        return any(conn.value(f"SELECT 1 FROM {t} LIMIT 1") is not None  # noqa: S608
                   for t in conn.tables() - {"alembic_version"})
    finally:
        conn.close()


def _load_table(conn: Connection, table: str, tar: tarfile.TarFile,
                member: tarfile.TarInfo) -> int:
    raw = tar.extractfile(member)
    if raw is None:  # pragma: no cover - checked to be a file
        raise BackupError(f"the backup's table {table} cannot be read")
    lines = io.TextIOWrapper(raw, encoding="utf-8")
    try:
        names = json.loads(next(lines))
        columns = _columns(conn, table)
        if not isinstance(names, list) or not set(names) <= columns:
            raise BackupError(f"the backup's table {table} does not match this storykit's")
        sql = (f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - checked names
               f"VALUES ({', '.join(':' + n for n in names)})")
        count, batch = 0, []
        for line in lines:
            values = json.loads(line)
            if not isinstance(values, list) or len(values) != len(names):
                raise BackupError(f"the backup's table {table} is damaged")
            batch.append(dict(zip(names, values, strict=True)))
            if len(batch) >= ROWS_PER_BATCH:
                conn.executemany(sql, batch)
                count, batch = count + len(batch), []
        conn.executemany(sql, batch)
        return count + len(batch)
    except (ValueError, StopIteration, UnicodeDecodeError):
        raise BackupError(f"the backup's table {table} is damaged") from None


def _columns(conn: Connection, table: str) -> set[str]:
    if conn.dialect == "sqlite":
        return {r[1] for r in conn.all(f"PRAGMA table_info({table})")}
    return {r[0] for r in conn.all(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = :t", {"t": table})}


def _references(conn: Connection, table: str) -> set[str]:
    """The tables ``table``'s foreign keys point at."""
    if conn.dialect == "sqlite":
        return {r[2] for r in conn.all(f"PRAGMA foreign_key_list({table})")}
    return {r[0] for r in conn.all(
        "SELECT ccu.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() "
        "AND tc.table_name = :t", {"t": table})}


def _load_order(conn: Connection, tables: list[str]) -> list[str]:
    """Tables in an order that loads each after the tables it refers to."""
    needs = {t: _references(conn, t) & set(tables) - {t} for t in tables}
    order: list[str] = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if not deps - set(order))
        if not ready:  # a cycle: load the rest as they come (no storykit table does this)
            ready = sorted(needs)
        for t in ready:
            order.append(t)
            del needs[t]
    return order


def _reset_sequences(conn: Connection, tables: list[str]) -> None:
    """PostgreSQL: new rows get ids after the restored ones."""
    for table in tables:
        if "id" not in _columns(conn, table):
            continue
        sequence = conn.value("SELECT pg_get_serial_sequence(:t, 'id')", {"t": table})
        if sequence:
            conn.execute(f"SELECT setval(CAST(:s AS regclass), COALESCE(MAX(id), 1), "  # noqa: S608
                         f"MAX(id) IS NOT NULL) FROM {table}", {"s": sequence})
