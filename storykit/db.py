"""The site's database: SQLite in ``instance/storykit.db`` (the default), or PostgreSQL.

At run time storykit talks to the database through this one small wrapper over the DB-API
drivers: the standard library's ``sqlite3`` and ``psycopg`` 3. SQLAlchemy and Alembic are used
for the schema and its migrations only (:mod:`storykit.migrate`, ``storykit db ...``): importing
SQLAlchemy costs about 150 ms on a quiet machine (Alembic about 100 ms more; bench/bench_db.py
measures both), and the command line's one-edit rebuild must stay under 0.3 s.
A test in a fresh process checks that no other command imports either.

SQL is written once, in the subset both engines share: named parameters (``:name``),
``INSERT ... RETURNING``, ``ON CONFLICT``, ``substr``, ``count(*)``. What differs between the
engines is here and nowhere else: the parameter style, how a transaction is serialised
(``BEGIN IMMEDIATE`` on SQLite; one advisory lock on PostgreSQL), error classes, and how the
list of tables is read.

Each owner of tables (the core, the browser app, any plugin) keeps its own folder of Alembic
migrations, registered with the ``register_migrations`` hook (docs/database.md). Before the
first query, :meth:`Database.connection` checks that the database is at the head of every
folder: a brand-new SQLite database is created at head (from the schema snapshot the package
keeps, storykit.schema_snapshot, without Alembic); anything else that is behind (or was
made by the old ``PRAGMA user_version`` scheme) stops storykit with a message telling the
person to run ``storykit db upgrade``. PostgreSQL is never migrated implicitly.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import ConfigError, StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .site import Site

SQLITE_FILE = "storykit.db"
URL_ENV = "STORYKIT_DATABASE_URL"
PASSWORD_ENV = "STORYKIT_DATABASE_PASSWORD"  # noqa: S105 - a variable name
#: The core's own migrations (the distribution log and the audit log).
CORE_MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
#: Waiting for another writer (SQLite's busy timeout), in seconds.
BUSY_TIMEOUT = 15
UPGRADE_HINT = "Run: storykit db upgrade"
#: Every storykit transaction on PostgreSQL takes this advisory lock (see Connection.transaction).
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"storykit transaction").digest()[:8], "big",
                           signed=True)


class DatabaseError(StorykitError):
    """The database cannot be used (unreachable, not migrated...); the message says why."""


class NotReadyError(DatabaseError):
    """The database is not at the schema this storykit needs: ``storykit db upgrade``."""


class IntegrityError(DatabaseError):
    """A write broke a rule of the schema: a unique name, a check, the append-only audit log."""


# --- where the database is -------------------------------------------------------------------

@dataclass(frozen=True)
class DatabaseURL:
    """Where the database is. ``shown`` never holds a password (safe for messages and logs)."""

    dialect: str                  # "sqlite" or "postgresql"
    shown: str
    path: Path | None = None      # SQLite: the file
    conninfo: str = ""            # PostgreSQL: a libpq URI (may hold a password from the env)
    password: str | None = None   # PostgreSQL: from STORYKIT_DATABASE_PASSWORD
    private_folder: bool = False  # SQLite in the site's instance folder: keep that 0700

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def resolve_url(configured: str, root: Path, instance: Path,
                environ: Mapping[str, str] | None = None) -> DatabaseURL:
    """The database to use: ``STORYKIT_DATABASE_URL``, else ``[database] url`` from
    storykit.toml (``configured``; it must not hold a password), else SQLite in ``instance``."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_ENV) or None
    if env.get(URL_ENV):
        return parse_url(env[URL_ENV], root, password=password, source=URL_ENV)
    if configured:
        return parse_url(configured, root, password=password, source="storykit.toml",
                         password_allowed=False)
    path = instance / SQLITE_FILE
    return DatabaseURL("sqlite", f"sqlite:///{path}", path=path, private_folder=True)


def parse_url(url: str, root: Path, *, password: str | None = None, source: str = URL_ENV,
              password_allowed: bool = True) -> DatabaseURL:
    """A ``postgresql://`` or ``sqlite:///`` URL, checked; relative SQLite paths are under
    ``root``. Raises :class:`ConfigError` naming ``source``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower().split("+", 1)[0]
    if scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise ConfigError(f"{source}: a SQLite database URL looks like sqlite:///instance/"
                              "storykit.db (relative to the site) or sqlite:////srv/storykit.db")
        rel = unquote(parts.path[1:])
        path = Path(rel) if rel.startswith("/") else root / rel
        return DatabaseURL("sqlite", f"sqlite:///{path}", path=path)
    if scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"{source}: the database URL must start with postgresql:// (or "
                          f"sqlite:///), not {parts.scheme or 'nothing'}://")
    if parts.password is not None and not password_allowed:
        raise ConfigError(f"{source}: the database URL holds a password. Never keep it in the "
                          f"file: remove it from the URL and set the {PASSWORD_ENV} environment "
                          "variable (or use a ~/.pgpass file).")
    clean = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    shown_netloc = parts.netloc
    if parts.password is not None:
        shown_netloc = shown_netloc.replace(":" + parts.password + "@", ":***@", 1)
    shown = urlunsplit(("postgresql", shown_netloc, parts.path, parts.query, ""))
    return DatabaseURL("postgresql", shown, conninfo=clean, password=password)


# --- rows, parameters, errors ----------------------------------------------------------------

class Row:
    """A PostgreSQL row that reads like ``sqlite3.Row``: ``row[0]``, ``row["name"]``,
    ``dict(row)``."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]):
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._names[key] if isinstance(key, str) else key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return list(self._names) == list(other._names) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=True))!r})"


def _pg_row_factory(cursor):
    names = {col.name: i for i, col in enumerate(cursor.description or ())}
    return lambda values: Row(names, values)


_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|:([A-Za-z_]\w*)|%""")


@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` and every ``%`` as ``%%``; a ``:word``
    inside quotes and ``::`` casts are not parameters."""
    def swap(m: re.Match) -> str:
        piece = m.group(0)
        if m.group(1):
            return f"%({m.group(1)})s"
        return piece.replace("%", "%%")  # psycopg reads % even inside quotes
    return _TOKEN.sub(swap, sql)


def _no_nul(params: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Parameters with any NUL character in a text replaced by U+FFFD, on both engines:
    PostgreSQL cannot hold NUL in text, and no name, id or note of storykit's means one. So a
    lookup of a name with a NUL finds nothing, as it should, instead of failing."""
    if not params:
        return {}
    if not any(isinstance(v, str) and "\x00" in v for v in params.values()):
        return params
    return {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v
            for k, v in params.items()}


@lru_cache(maxsize=1)
def _pg():
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("PostgreSQL needs the psycopg package: pip install "
                            "'storykit[postgresql]'") from None
    return psycopg


@contextlib.contextmanager
def _errors(dialect: str) -> Iterator[None]:
    """Driver errors as storykit's: a broken rule is an :class:`IntegrityError`; a database
    that cannot do the work (locked, gone, read-only, no permission) a :class:`DatabaseError`
    saying so. Only the driver's first line is kept (a detail line may quote values)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(_first_line(exc)) from exc
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"the database could not do this: {_first_line(exc)}") from exc
    except sqlite3.DatabaseError as exc:  # e.g. damaged: "database disk image is malformed"
        raise DatabaseError(f"the database cannot be read: {_first_line(exc)}") from exc
    except Exception as exc:
        if dialect != "postgresql":
            raise
        pg = _pg()
        if isinstance(exc, pg.IntegrityError):
            raise IntegrityError(_first_line(exc)) from exc
        if isinstance(exc, pg.OperationalError | pg.errors.InsufficientPrivilege):
            raise DatabaseError(f"the database could not do this: {_first_line(exc)}") from exc
        raise


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- a connection ----------------------------------------------------------------------------

class Connection:
    """One connection (used by one thread at a time). Statements outside :meth:`transaction`
    commit on their own."""

    def __init__(self, raw: Any, dialect: str):
        self.raw = raw
        self.dialect = dialect
        self._depth = 0

    def execute(self, sql: str, params: Mapping[str, Any] | None = None):
        """Run one statement with ``:name`` parameters; returns a cursor (``fetchone``,
        ``fetchall``, iteration, ``rowcount``)."""
        with _errors(self.dialect):
            if self.dialect == "sqlite":
                return self.raw.execute(sql, _no_nul(params))
            return self.raw.execute(pg_sql(sql), _no_nul(params))

    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = [_no_nul(r) for r in rows]
        if not rows:
            return
        with _errors(self.dialect):
            if self.dialect == "sqlite":
                self.raw.executemany(sql, rows)
            else:
                with self.raw.cursor() as cur:
                    cur.executemany(pg_sql(sql), rows)

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self.execute(sql, params).fetchall()

    def value(self, sql: str, params: Mapping[str, Any] | None = None, default: Any = None) -> Any:
        """The first column of the first row (``default`` when there is no row)."""
        row = self.one(sql, params)
        return default if row is None else row[0]

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Group statements: all or nothing, serialised against every other storykit
        transaction on this database (SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL one
        advisory lock), so read-then-write inside it is safe on both engines and across
        processes. A transaction inside another joins it."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        self._depth = 1
        try:
            if self.dialect == "postgresql":
                self.execute("SELECT pg_advisory_xact_lock(:key)", {"key": _LOCK_KEY})
            yield self
            self._depth = 0
            with _errors(self.dialect):
                self.raw.execute("COMMIT")
        except BaseException:
            self._depth = 0
            with contextlib.suppress(Exception):  # the first error is the one to report
                self.raw.execute("ROLLBACK")
            raise

    def erase(self, sql: str, params: Mapping[str, Any] | None = None, tries: int = 20) -> None:
        """Run a DELETE or UPDATE whose old values must leave no copy in the database's files
        (a storyteller asked for everything to be deleted). On SQLite ``secure_delete``
        overwrites them where they lay, then a checkpoint empties the write-ahead log, which
        still holds them (waiting a little for a reader to finish). On PostgreSQL the rows
        go and ``VACUUM`` removes the dead row versions from the table's pages; its
        write-ahead log and backups keep old pages until they are recycled (docs/deploy.md)."""
        if self.dialect == "sqlite":
            self.execute("PRAGMA secure_delete = ON")
            self.execute(sql, params)
            for _ in range(tries):
                if self.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0:
                    return
                time.sleep(0.05)
            return
        found = re.match(r"\s*(?:DELETE\s+FROM|UPDATE)\s+([a-z_]+)", sql, re.I)
        self.execute(sql, params)
        if found and not self.in_transaction:  # VACUUM cannot run inside a transaction
            self.execute(f"VACUUM {found.group(1)}")

    def tables(self) -> set[str]:
        """Names of the tables in the database (in PostgreSQL: in the current schema)."""
        if self.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        return {r[0] for r in self.execute(sql)}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()


def connect(url: DatabaseURL) -> Connection:
    """A new connection (no schema check: :meth:`Database.connection` does that)."""
    if url.is_sqlite:
        assert url.path is not None
        return Connection(_sqlite(url.path, url.private_folder), "sqlite")
    psycopg = _pg()
    try:
        raw = psycopg.connect(url.conninfo, autocommit=True, row_factory=_pg_row_factory,
                              connect_timeout=10, application_name="storykit",
                              **({"password": url.password} if url.password else {}))
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to the database at {url.shown}: {reason}") from None
    return Connection(raw, "postgresql")


def _sqlite(path: Path, private_folder: bool) -> sqlite3.Connection:
    """Open the SQLite file: created 0600 (its ``-wal`` and ``-shm`` files take the file's
    mode), in a 0700 instance folder, with WAL, ``synchronous=FULL`` and a busy timeout."""
    if private_folder:
        private(path.parent, 0o700)
    private_file(path)
    with _errors("sqlite"):
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)
    try:
        with _errors("sqlite"):
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT * 1000}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
    except DatabaseError as exc:
        conn.close()
        if isinstance(exc.__cause__, sqlite3.OperationalError):
            raise
        # another program's file, or a damaged one: it is left as it is
        raise DatabaseError(f"{path} is not a storykit database, or it is damaged "
                            f"({_first_line(exc.__cause__)}): nothing was changed in it. "
                            "Move it away, or restore it from a backup.") from None
    return conn


def private_file(path: Path) -> None:
    """Make sure the database file exists readable by its owner only (it holds password
    hashes, review notes and the audit log); tighten an older file and its companions."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            private(file, 0o600)
    except OSError as exc:
        raise DatabaseError(f"cannot create the database file {path}: "
                            f"{exc.strerror or exc}") from None
    else:
        os.close(fd)


def private(path: Path, mode: int) -> None:
    """Take group and other permissions away from ``path`` (made ``mode`` if missing and a
    folder is wanted)."""
    if mode == 0o700:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, mode)


# --- migrations: where they are, and where the database is -----------------------------------

@dataclass(frozen=True)
class Status:
    """Where the database is against the migrations this storykit has."""

    current: frozenset[str]       # revisions recorded in the database
    heads: frozenset[str]         # the newest revision of every owner's folder
    known: frozenset[str]         # every revision in the folders
    empty: bool                   # no tables at all
    legacy: int                   # SQLite made by the old PRAGMA user_version scheme (0: no)

    @property
    def up_to_date(self) -> bool:
        """Every owner's newest migration is applied. (Tables of a plugin not loaded now do
        not stop storykit: that plugin's code is not running.)"""
        return not self.empty and self.heads <= self.current

    @property
    def unknown(self) -> frozenset[str]:
        return self.current - self.known

    def words(self) -> str:
        """One or two sentences for a person."""
        if self.up_to_date:
            extra = (f" It also has the tables of a plugin that is not loaded now "
                     f"({', '.join(sorted(self.unknown))}).") if self.unknown else ""
            return "The database is up to date." + extra
        if self.unknown:
            return ("The database was changed by a newer storykit, or by a plugin that is not "
                    f"loaded now (unknown change: {', '.join(sorted(self.unknown))}). Install or "
                    "load that version or plugin.")
        if self.empty:
            return f"The database is empty: its tables have not been made yet. {UPGRADE_HINT}"
        if self.legacy:
            return ("The database was made by an older storykit and must be brought up to "
                    f"date (no rows are lost). {UPGRADE_HINT}")
        behind = len(self.heads - self.current)
        return (f"The database is behind this storykit ({behind} part(s) need changes). "
                f"{UPGRADE_HINT}")


def read_revisions(folders: Iterable[Path]) -> dict[str, tuple[str, ...]]:
    """Every migration in ``folders``: revision -> the revisions it follows. Read from the
    files' text (as Alembic finds them) without importing Alembic."""
    found: dict[str, tuple[str, ...]] = {}
    for file in migration_files(folders):
        values = _assignments(file)
        revision = values.get("revision")
        if not isinstance(revision, str):
            raise DatabaseError(f"{file}: a migration needs revision = \"...\"")
        down = values.get("down_revision")
        found[revision] = (() if down is None else (down,) if isinstance(down, str)
                           else tuple(down))
    return found


def migration_files(folders: Iterable[Path]) -> list[Path]:
    """The migration files of ``folders``, as Alembic finds them."""
    return [file for folder in folders for file in sorted(Path(folder).glob("*.py"))
            if not file.name.startswith(("__init__", ".#"))]


_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", re.M)


def _assignments(file: Path) -> dict[str, Any]:
    """``revision`` and ``down_revision`` as written at the top level of a migration."""
    text = file.read_text(encoding="utf-8")
    out: dict[str, Any] = {}
    for name, value in _ASSIGN.findall(text):
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):  # e.g. a tuple over several lines: read it properly
            return _assignments_slowly(text, file)
    return out


def _assignments_slowly(text: str, file: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in ast.parse(text, str(file)).body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            with contextlib.suppress(ValueError):
                out[target.id] = ast.literal_eval(value)
    return out


def heads_of(revisions: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Revisions no other revision follows."""
    followed = {down for downs in revisions.values() for down in downs}
    return frozenset(set(revisions) - followed)


#: How long making or upgrading a SQLite file waits for another one doing it, in seconds.
UPGRADE_WAIT = 300


@contextlib.contextmanager
def upgrade_lock(database: Database) -> Iterator[None]:
    """SQLite: a lock file beside the database, held from reading where the database is to
    the last change of its schema (two upgrades started at once could both read an empty
    database before either took the write lock, and both make the tables). PostgreSQL:
    nothing here; each upgrade's transaction takes the advisory lock."""
    if not database.url.is_sqlite or database.url.path is None:
        yield
        return
    from .fsio import locked

    path = database.url.path
    with locked(path.with_name(path.name + ".upgrade.lock"), timeout=UPGRADE_WAIT,
                what="the database (another storykit db upgrade is running)"):
        yield


# --- the database ----------------------------------------------------------------------------

class Database:
    """One database: its URL, its owners' migration folders, and one connection per thread
    (waitress serves requests from several)."""

    def __init__(self, url: DatabaseURL, migrations: Sequence[Path] = (CORE_MIGRATIONS,)):
        self.url = url
        self.migrations = tuple(Path(m) for m in migrations)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ready = False
        self._opened: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._pid = os.getpid()
        self._creating: int | None = None  # a forked process making a new SQLite file

    @classmethod
    def for_site(cls, site: Site) -> Database:
        """The site's database, with the core's migrations and every plugin's
        (``register_migrations``)."""
        url = resolve_url(site.config.database_url, site.root, site.instance)
        folders = [CORE_MIGRATIONS]
        for folder in map(Path, site.plugins.flat("register_migrations", site=site)):
            if not folder.is_dir():
                raise DatabaseError(f"a plugin registered the migrations folder {folder}, "
                                    "which does not exist (register_migrations)")
            if folder not in folders:
                folders.append(folder)
        return cls(url, folders)

    @property
    def dialect(self) -> str:
        return self.url.dialect

    def connect(self) -> Connection:
        """A new connection of this process's own (closed by :meth:`close`)."""
        conn = connect(self.url)
        with self._lock:
            self._opened.add(conn)
        return conn

    def connection(self) -> Connection:
        """This thread's connection, once the schema is known to be at head."""
        if self._pid != os.getpid():  # a forked child never uses its parent's connections
            self._local, self._opened, self._pid = threading.local(), weakref.WeakSet(), os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._creating is not None:
                with self._lock:
                    self._wait_for_creation()
            conn = self.connect()
            try:
                self.ensure_ready(conn)
            except BaseException:
                conn.close()
                raise
            self._local.conn = conn
        return conn

    def revisions(self) -> dict[str, tuple[str, ...]]:
        return read_revisions(self.migrations)

    def status(self, conn: Connection | None = None) -> Status:
        """Where the database is (it is not changed)."""
        own = conn is None
        conn = conn or connect(self.url)
        try:
            tables = conn.tables()
            current = frozenset(r[0] for r in conn.execute(
                "SELECT version_num FROM alembic_version")) if "alembic_version" in tables \
                else frozenset()
            legacy = 0
            if self.url.is_sqlite and not current:
                legacy = int(conn.value("PRAGMA user_version") or 0)
        finally:
            if own:
                conn.close()
        revisions = self.revisions()
        return Status(current, heads_of(revisions), frozenset(revisions),
                      empty=not tables, legacy=legacy)

    def create_in_background(self) -> bool:
        """Start making a SQLite database that does not exist yet in a forked process, so
        that the work (a few milliseconds from the schema snapshot; a third of a second
        when Alembic must run the migrations) overlaps other work, such as a clean build's
        pages; :meth:`ensure_ready` waits for it (and meets, and
        reports, any failure itself). Only from a process with one thread (a fork copies
        no other thread, nor any lock one holds). True when a process was started."""
        path = self.url.path
        if (not self.url.is_sqlite or path is None or self._ready or self._creating
                or path.exists() or not hasattr(os, "fork") or threading.active_count() > 1):
            return False
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            code = 1
            try:
                self.ensure_ready()
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        self._creating = pid
        return True

    def _wait_for_creation(self) -> None:
        pid, self._creating = self._creating, None
        if pid is not None and self._pid == os.getpid():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def ensure_ready(self, conn: Connection | None = None) -> None:
        """Create a brand-new SQLite database at head; otherwise refuse (:class:`NotReadyError`)
        unless the schema is at head. Checked once per process."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self._wait_for_creation()
            status = self.status(conn)
            if status.empty and self.url.is_sqlite:
                from .schema_snapshot import create_new  # Alembic only if no snapshot fits

                create_new(self)
                status = self.status(conn)
            if not status.up_to_date:
                raise NotReadyError(f"{status.words()} (database: {self.url.shown})")
            self._ready = True

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
        for conn in opened:
            conn.close()
        self._local = threading.local()
