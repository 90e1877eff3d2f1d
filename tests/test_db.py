"""The database layer (storykit.db, storykit.migrate, ``storykit db ...``) on SQLite and on a
real PostgreSQL: settings, the one SQL wrapper, transactions, migrations and who owns which
table, adopting an old database, refusing to start when behind, file permissions, the import
cost of the command line, and the audit and distribution logs under concurrent writers."""

from __future__ import annotations

import ast
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import modules_loaded_by, story_front, write_story
from database_support import PASSWORD_ROLE

from storykit import schema_snapshot
from storykit.db import (
    CORE_MIGRATIONS,
    URL_ENV,
    Database,
    DatabaseError,
    IntegrityError,
    NotReadyError,
    heads_of,
    parse_url,
    pg_sql,
    read_revisions,
    resolve_url,
)
from storykit.errors import ConfigError
from storykit.site import Site
from storykit.web.commands import MIGRATIONS as APP_MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
CORE_TABLES = {"distributions", "audit_log", "jobs", "packs", "pack_recipients", "pack_stories",
               "pack_definitions", "outcomes", "outcome_stories", "outcome_responses",
               "outcome_messages", "one_time_links", "outbox", "story_changes"}
APP_TABLES = {"users", "user_roles", "story_access", "login_failures", "story_notes",
              "pack_orders", "takedown_ticks", "user_emails"}

#: What the old PRAGMA user_version scheme made (storykit before Alembic), verbatim.
LEGACY_1 = """
CREATE TABLE distributions (
    id INTEGER PRIMARY KEY, story_id TEXT NOT NULL, consent_version INTEGER NOT NULL,
    use TEXT NOT NULL, format TEXT NOT NULL, sha256 TEXT NOT NULL, path TEXT NOT NULL,
    url TEXT, job TEXT, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    removable INTEGER NOT NULL DEFAULT 1, removed_at TEXT);
CREATE INDEX distributions_story ON distributions(story_id);
CREATE INDEX distributions_path ON distributions(path);
"""
LEGACY_2 = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    session_version INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL);
CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('advocate', 'reviewer', 'publisher', 'admin')),
    PRIMARY KEY (user_id, role));
CREATE TABLE story_access (
    story_id TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id),
    access TEXT NOT NULL CHECK (access IN ('owner', 'shared')), granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL, PRIMARY KEY (story_id, user_id));
CREATE INDEX story_access_user ON story_access(user_id);
CREATE UNIQUE INDEX story_access_one_owner ON story_access(story_id) WHERE access = 'owner';
CREATE TABLE login_failures (id INTEGER PRIMARY KEY, at REAL NOT NULL, account TEXT NOT NULL,
                             ip TEXT NOT NULL);
CREATE INDEX login_failures_account ON login_failures(account, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);
CREATE TABLE story_notes (id INTEGER PRIMARY KEY, story_id TEXT NOT NULL, author TEXT NOT NULL,
                          kind TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX story_notes_story ON story_notes(story_id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    story_id TEXT, etag TEXT, ip TEXT, detail TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, at);
CREATE INDEX audit_log_action ON audit_log(action, at);
CREATE INDEX audit_log_story ON audit_log(story_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

THANKS_PLUGIN = """
    from pathlib import Path

    from storykit import hookimpl


    @hookimpl
    def register_migrations(site):
        return [Path(__file__).parent / "thanks_migrations"]
"""
THANKS_MIGRATION = """
    \"\"\"A plugin's own table: thank-you notes sent to storytellers.\"\"\"

    import sqlalchemy as sa
    from alembic import op

    revision = "thanks_0001"
    down_revision = None
    branch_labels = ("thanks",)


    def upgrade():
        op.create_table(
            "thanks_notes",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("story_id", sa.Text, nullable=False),
            sa.Column("sent_on", sa.Text, nullable=False),
        )
"""


def cli(root: Path, *args: str, umask: int | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command line in a fresh process (the environment names the database)."""
    full = {**os.environ, **(env or {})}
    full.pop("STORYKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "storykit", "--site", str(root), *args],
                          capture_output=True, text=True, env=full, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


@pytest.fixture
def root(make_site, database_env) -> Path:
    """A site with one story, on a fresh database of the engine under test."""
    site_root = make_site()
    write_story(site_root, "st-board1", story_front(title="A board story", slug="a-board-story"))
    return site_root


@pytest.fixture
def empty_root(make_site, engine, monkeypatch) -> Path:
    """A site whose database has no tables yet (PostgreSQL: a new, empty database)."""
    site_root = make_site()
    if engine.cluster:
        monkeypatch.setenv(URL_ENV, engine.cluster.empty_database())
    return site_root


def in_threads(work, count: int) -> list[Exception]:
    """Run ``work`` in ``count`` threads at once; the errors they raised."""
    errors: list[Exception] = []

    def run() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def add_thanks_plugin(root: Path) -> None:
    plugins = root / "plugins"
    (plugins / "thanks_migrations").mkdir(parents=True)
    (plugins / "thanks.py").write_text(textwrap.dedent(THANKS_PLUGIN), encoding="utf-8")
    (plugins / "thanks_migrations" / "thanks_0001.py").write_text(
        textwrap.dedent(THANKS_MIGRATION), encoding="utf-8")


# --- settings ----------------------------------------------------------------------------------

def test_the_default_is_sqlite_in_the_instance_folder(site):
    assert site.database.dialect == "sqlite"
    assert site.database.url.path == site.instance / "storykit.db"


def test_the_environment_names_the_database_before_the_settings_file(make_site, monkeypatch):
    root = make_site(toml='[site]\ntitle = "T"\n\n[database]\n'
                          'url = "postgresql://storykit@db.example/stories"\n')
    assert Site.open(root).database.url.shown == "postgresql://storykit@db.example/stories"
    monkeypatch.setenv(URL_ENV, "sqlite:///elsewhere/stories.db")
    url = Site.open(root).database.url
    assert url.dialect == "sqlite" and url.path == root / "elsewhere" / "stories.db"


def test_a_password_in_the_settings_file_is_refused_without_repeating_it(make_site):
    root = make_site(toml='[site]\ntitle = "T"\n\n[database]\n'
                          'url = "postgresql://storykit:hunter2secret@db.example/stories"\n')
    with pytest.raises(ConfigError) as caught:
        Site.open(root)
    message = str(caught.value)
    assert "STORYKIT_DATABASE_PASSWORD" in message and "[database] url" in message
    assert "hunter2secret" not in message
    result = cli(root, "db", "status")
    assert result.returncode == 1 and "STORYKIT_DATABASE_PASSWORD" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout


@pytest.mark.parametrize("url, says", [
    ("mysql://db.example/stories", "must start with postgresql://"),
    ("stories.db", "must start with postgresql://"),
    ("sqlite://relative.db", "sqlite:///instance/storykit.db"),
])
def test_a_wrong_database_url_is_a_clear_error(make_site, url, says):
    root = make_site(toml=f'[site]\ntitle = "T"\n\n[database]\nurl = "{url}"\n')
    result = cli(root, "db", "status")
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr
    assert cli(root, "db", "status", env={URL_ENV: url}).returncode == 1


def test_an_unknown_database_setting_is_named(make_site):
    root = make_site(toml='[site]\ntitle = "T"\n\n[database]\nuri = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'uri'"):
        Site.open(root)


def test_a_password_in_the_environment_url_is_never_shown():
    url = parse_url("postgresql://me:s3cret@db.example:5433/stories", Path("/site"))
    assert url.shown == "postgresql://me:***@db.example:5433/stories" and "s3cret" in url.conninfo
    default = resolve_url("", Path("/site"), Path("/site/instance"), environ={})
    assert default.path == Path("/site/instance/storykit.db") and default.private_folder


def test_an_unreachable_server_is_a_clear_error_without_the_password(make_site, tmp_path):
    root = make_site()
    url = f"postgresql://me:s3cret@/stories?host={tmp_path}&port=1"
    result = cli(root, "user", "list", env={URL_ENV: url})
    assert result.returncode == 1 and "cannot connect to the database" in result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_the_password_comes_from_the_environment(make_site, pg_cluster):
    """PostgreSQL only (SQLite has no passwords): the server asks this role for one."""
    import psycopg

    pg_cluster.admin(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD 'tide-pool-lantern'")
    name = urlsplit(pg_cluster.fresh_database()).path.lstrip("/")
    url = pg_cluster.url(name).replace("postgres@", f"{PASSWORD_ROLE}@")
    root = make_site(toml=f'[site]\ntitle = "T"\n\n[database]\nurl = "{url}"\n')
    refused = cli(root, "user", "list")
    assert refused.returncode == 1 and "cannot connect to the database" in refused.stderr
    password = {"STORYKIT_DATABASE_PASSWORD": "tide-pool-lantern"}
    no_rights = cli(root, "user", "list", env=password)
    assert no_rights.returncode == 1 and "permission denied" in no_rights.stderr
    with psycopg.connect(pg_cluster.url(name), autocommit=True) as conn:
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {PASSWORD_ROLE}")
        conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {PASSWORD_ROLE}")
    assert cli(root, "user", "list", env=password).returncode == 0
    assert "tide-pool-lantern" not in (root / "storykit.toml").read_text()


# --- the SQL wrapper ---------------------------------------------------------------------------

def test_named_parameters_become_psycopgs_and_leave_quotes_and_casts_alone():
    assert pg_sql("SELECT * FROM t WHERE a = :a AND b = ':not' AND c::text LIKE '50%' "
                  "AND d = :d_2") == ("SELECT * FROM t WHERE a = %(a)s AND b = ':not' AND "
                                      "c::text LIKE '50%%' AND d = %(d_2)s")


def test_rows_read_the_same_on_both_engines(root):
    conn = Site.open(root).database.connection()
    user_id = conn.value("INSERT INTO users (name, display_name, password_hash, created_at, "
                         "password_changed_at) VALUES (:n, 'Ann Example', 'x', 'now', 'now') "
                         "RETURNING id", {"n": "ann"})
    row = conn.one("SELECT id, name FROM users WHERE id = :id", {"id": user_id})
    assert (row[0], row["name"], dict(row), list(row)) == (
        user_id, "ann", {"id": user_id, "name": "ann"}, [user_id, "ann"])
    assert conn.one("SELECT id FROM users WHERE name = :n", {"n": "nobody"}) is None
    assert conn.value("SELECT count(*) FROM users") == 1
    # a NUL cannot be stored in PostgreSQL text: a lookup with one finds nothing on both engines
    assert conn.one("SELECT id FROM users WHERE name = :n", {"n": "ann\x00"}) is None


def test_a_broken_rule_is_an_integrity_error_on_both_engines(root):
    conn = Site.open(root).database.connection()
    insert = ("INSERT INTO users (name, display_name, password_hash, created_at, "
              "password_changed_at) VALUES ('ann', 'Ann', 'x', 'now', 'now')")
    conn.execute(insert)
    with pytest.raises(IntegrityError):
        conn.execute(insert)
    with pytest.raises(IntegrityError):
        conn.execute("INSERT INTO user_roles (user_id, role) VALUES (1, 'emperor')")


def test_a_transaction_keeps_all_or_nothing_and_an_inner_one_joins_it(root):
    conn = Site.open(root).database.connection()
    with pytest.raises(RuntimeError), conn.transaction():
        conn.execute("INSERT INTO story_notes (story_id, author, kind, text, created_at) "
                     "VALUES ('st-1', 'rita', 'note', 'first', 'now')")
        with conn.transaction():
            conn.execute("INSERT INTO story_notes (story_id, author, kind, text, created_at) "
                         "VALUES ('st-1', 'rita', 'note', 'second', 'now')")
        raise RuntimeError("something failed half way")
    assert conn.value("SELECT count(*) FROM story_notes") == 0 and not conn.in_transaction
    with conn.transaction():
        conn.execute("INSERT INTO story_notes (story_id, author, kind, text, created_at) "
                     "VALUES ('st-1', 'rita', 'note', 'kept', 'now')")
    assert conn.value("SELECT text FROM story_notes") == "kept"


def test_transactions_are_serialised_so_no_update_is_lost(root):
    """Eight threads each add one to a number 15 times, reading it first inside a
    transaction: without serialising, increments are lost."""
    database = Site.open(root).database
    conn = database.connection()
    conn.execute("INSERT INTO users (id, name, display_name, password_hash, created_at, "
                 "password_changed_at, session_version) VALUES (1, 'ann', 'Ann', 'x', 'now', "
                 "'now', 0)")

    def add() -> None:
        mine = database.connection()
        for _ in range(15):
            with mine.transaction():
                seen = mine.value("SELECT session_version FROM users WHERE id = 1")
                time.sleep(0.001)
                mine.execute("UPDATE users SET session_version = :v WHERE id = 1",
                             {"v": seen + 1})

    assert in_threads(add, 8) == []
    assert conn.value("SELECT session_version FROM users WHERE id = 1") == 120


# --- migrations and ownership ------------------------------------------------------------------

def test_a_new_sqlite_database_is_made_at_head_on_first_use(site):
    conn = site.database.connection()
    assert conn.tables() >= CORE_TABLES | APP_TABLES
    assert site.database.status().up_to_date


def test_a_new_sqlite_database_made_in_the_background_is_ready_at_first_use(site,
                                                                           monkeypatch):
    """A clean build starts making a new site's database aside (storykit_web.build): the
    first connection waits for it and finds it at head; only one is started, and none for
    a database that exists, nor from a process with other threads (a fork copies none of
    them, nor any lock one holds)."""
    database = site.database
    assert not database.url.path.exists()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not database.create_in_background()
    finally:
        stop.set()
        other.join()
    # other tests in this process may have left threads of their own: count only ours
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert database.create_in_background()
    assert not database.create_in_background()  # one is under way
    conn = database.connection()
    assert conn.tables() >= CORE_TABLES | APP_TABLES
    assert database.status().up_to_date
    assert not Site.open(site.root).database.create_in_background()  # it exists now


def test_a_background_database_that_fails_is_made_again_at_first_use(site, monkeypatch):
    """If making the database aside fails (here: only in the forked process), the first
    connection makes it itself, or reports why it cannot."""
    import storykit.schema_snapshot

    parent, real = os.getpid(), storykit.schema_snapshot.create_new

    def create_new(database):
        if os.getpid() != parent:
            raise RuntimeError("the disk went away")
        real(database)

    monkeypatch.setattr(storykit.schema_snapshot, "create_new", create_new)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # see the test above
    assert site.database.create_in_background()
    assert site.database.connection().tables() >= CORE_TABLES
    assert site.database.status().up_to_date


def test_postgresql_is_never_migrated_implicitly(make_site, pg_cluster, monkeypatch):
    """(A new SQLite file is made at head by design: test_a_new_sqlite_database_...)"""
    empty_root = make_site()
    monkeypatch.setenv(URL_ENV, pg_cluster.empty_database())
    site = Site.open(empty_root)
    with pytest.raises(NotReadyError, match="storykit db upgrade"):
        site.database.connection()
    assert site.database.connect().tables() == set()
    from storykit.web import create_app

    with pytest.raises(NotReadyError, match="database is empty"):
        create_app(Site.open(empty_root))
    result = cli(empty_root, "user", "list")
    assert result.returncode == 1 and "Run: storykit db upgrade" in result.stderr


def test_db_upgrade_and_status_in_words(empty_root):
    before = cli(empty_root, "db", "status")
    assert before.returncode == 1 and "The database is empty" in before.stdout
    assert "storykit db upgrade" in before.stdout
    upgraded = cli(empty_root, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "The database is up to date." in upgraded.stdout
    after = cli(empty_root, "db", "current")
    assert after.returncode == 0 and "The database is up to date." in after.stdout
    again = cli(empty_root, "db", "upgrade")
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    assert Site.open(empty_root).database.connection().tables() >= CORE_TABLES | APP_TABLES


def test_two_upgrades_at_once_both_finish_and_make_each_table_once(empty_root):
    runs = [subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(empty_root), "db",
                              "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    conn = Site.open(empty_root).database.connection()
    assert conn.value("SELECT count(*) FROM alembic_version") == 2  # the core's and the app's


def test_hook_register_migrations(root):
    """The register_migrations hook: a site plugin's folder is one more branch."""
    assert cli(root, "db", "upgrade").returncode == 0
    add_thanks_plugin(root)
    refused = cli(root, "user", "list")
    assert refused.returncode == 1 and "Run: storykit db upgrade" in refused.stderr
    status = cli(root, "db", "status")
    assert status.returncode == 1 and "behind" in status.stdout
    assert cli(root, "db", "upgrade").returncode == 0
    assert cli(root, "user", "list").returncode == 0
    conn = Site.open(root).database.connection()
    new_id = conn.value("INSERT INTO thanks_notes (story_id, sent_on) VALUES (:s, :d) "
                        "RETURNING id", {"s": "st-board1", "d": "2027-03-01"})
    assert conn.one("SELECT story_id FROM thanks_notes WHERE id = :id", {"id": new_id})[0] == \
        "st-board1"


def test_a_plugin_naming_a_missing_migrations_folder_is_a_clear_error(make_site):
    root = make_site()
    add_thanks_plugin(root)
    (root / "plugins" / "thanks_migrations" / "thanks_0001.py").unlink()
    (root / "plugins" / "thanks_migrations").rmdir()
    result = cli(root, "db", "upgrade")
    assert result.returncode == 1 and "thanks_migrations, which does not exist" in result.stderr


def test_a_new_sqlite_database_has_the_plugins_tables_too(make_site):
    root = make_site()
    add_thanks_plugin(root)
    assert "thanks_notes" in Site.open(root).database.connection().tables()


def test_a_database_newer_than_this_storykit_is_refused_with_words(root):
    database = Site.open(root).database
    database.connection().execute("UPDATE alembic_version SET version_num = 'storykit_0099' "
                                  "WHERE version_num LIKE 'storykit_0%'")
    status = cli(root, "db", "status")
    assert status.returncode == 1 and "newer storykit" in status.stdout
    upgrade = cli(root, "db", "upgrade")
    assert upgrade.returncode == 1 and "cannot be upgraded" in upgrade.stderr
    assert "storykit_0099" in upgrade.stderr
    with pytest.raises(NotReadyError, match="newer storykit"):
        Site.open(root).database.connection()


def test_a_plugin_that_is_not_loaded_keeps_its_tables_and_stops_nothing(root):
    """A plugin's tables stay when it is switched off; storykit still starts."""
    add_thanks_plugin(root)
    assert cli(root, "db", "upgrade").returncode == 0
    (root / "plugins" / "thanks.py").unlink()
    assert cli(root, "user", "list").returncode == 0
    status = cli(root, "db", "status")
    assert status.returncode == 0 and "a plugin that is not loaded now (thanks_0001)" in \
        status.stdout
    assert "thanks_notes" in Site.open(root).database.connection().tables()


def test_each_table_has_one_owner_and_the_core_owns_only_its_own():
    """The core's migrations make only the distribution and audit logs; the app's make its
    five tables; no table is made twice; the core's code names no app table or module."""
    made = {}
    for owner, folder in (("core", CORE_MIGRATIONS), ("app", APP_MIGRATIONS)):
        for file in folder.glob("*.py"):
            for table in re.findall(r'create_table\(\s*"(\w+)"', file.read_text()):
                assert table not in made, f"{table} is made by {made[table]} and {owner}"
                made[table] = owner
    assert {t for t, o in made.items() if o == "core"} == CORE_TABLES
    assert {t for t, o in made.items() if o == "app"} == APP_TABLES
    core = [p for p in (ROOT / "storykit").rglob("*.py") if "web" not in p.parts]
    for path in core:
        text = path.read_text(encoding="utf-8")
        for table in APP_TABLES:
            assert not re.search(rf"\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+{table}\b", text), \
                f"{path.name} uses the app's table {table}"
        assert "storykit.web" not in text.replace("storykit.web.commands", "") or \
            path.name == "plugins.py", f"{path.name} names the app"


def test_heads_read_from_the_files_match_alembics():
    from alembic.script import ScriptDirectory

    from storykit.migrate import alembic_config

    database = Database(parse_url("sqlite:////nowhere/x.db", Path("/")),
                        (CORE_MIGRATIONS, APP_MIGRATIONS))
    script = ScriptDirectory.from_config(alembic_config(database))
    revisions = read_revisions(database.migrations)
    assert heads_of(revisions) == set(script.get_heads())
    assert set(revisions) == {s.revision for s in script.walk_revisions()}
    for folder in database.migrations:
        for file in folder.glob("*.py"):
            values = {n.targets[0].id: ast.literal_eval(n.value)
                      for n in ast.parse(file.read_text()).body
                      if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
                      and n.targets[0].id in ("revision", "down_revision", "branch_labels")}
            assert len(values["revision"]) <= 32  # Alembic's version column
            assert file.name.startswith(values["revision"]), file.name
            if values["down_revision"] is None:
                assert values["branch_labels"], f"{file.name}: a first migration names its owner"


# --- a new SQLite database from the schema snapshot (storykit.schema_snapshot) ------------------

#: The sets of migration folders a site has with storykit's own plugins.
SHIPPED = [(CORE_MIGRATIONS,), (CORE_MIGRATIONS, APP_MIGRATIONS)]
MAKE_IT = ("import sys; from storykit.site import Site; Site.open(sys.argv[1]).database"
           ".connection(); print(' '.join(sorted({'alembic', 'sqlalchemy'} & set(sys.modules))))")


def master(path: Path) -> tuple[list, list, list]:
    """Everything a SQLite file's schema holds (SQLite's own entries too), its versions and
    the settings kept in the file."""
    conn = sqlite3.connect(path)
    try:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"),
                        key=repr)
        versions = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        settings = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in
                    ("journal_mode", "user_version", "application_id", "auto_vacuum",
                     "encoding", "page_size")]
    finally:
        conn.close()
    return schema, versions, settings


def make_in_processes(root: Path, envs: list[dict]) -> list[str]:
    """Open the site's database in one new process per ``envs``, all at once; what each
    printed (the heavy modules it imported)."""
    runs = [subprocess.Popen([sys.executable, "-c", MAKE_IT, str(root)], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, **env}) for env in envs]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0] * len(runs), outs
    return [out.strip() for out, _err in outs]


@pytest.mark.parametrize("folders", SHIPPED, ids=["core", "core-and-app"])
def test_the_committed_schema_snapshot_is_what_the_migrations_make(folders, tmp_path):
    """Fails once a migration is added or changed, until the snapshot is made again."""
    committed = schema_snapshot.find(folders)
    assert committed is not None, "no schema snapshot for these migrations: run ./dev schema"
    made = schema_snapshot.made_by_alembic(folders, tmp_path / "alembic.db")
    assert committed == made, "the schema snapshot is out of date: run ./dev schema"
    database = Database(parse_url(f"sqlite:///{tmp_path}/snap.db", tmp_path), folders)
    database.connection()
    database.close()
    assert master(tmp_path / "snap.db") == master(tmp_path / "alembic.db")


def test_the_snapshot_covers_what_a_site_with_storykits_own_plugins_has(make_site):
    assert schema_snapshot.shipped_sets() == SHIPPED
    assert Site.open(make_site()).database.migrations == SHIPPED[1]


@pytest.mark.parametrize("allow", [None, ""], ids=["every-plugin", "no-package-plugin"])
def test_a_new_sqlite_database_is_made_from_the_snapshot_without_alembic(make_site, allow,
                                                                          monkeypatch):
    """No SQLAlchemy, no Alembic; the same file mode; and storykit db sees it at head."""
    root = make_site()
    env = {} if allow is None else {"STORYKIT_LOAD_PLUGINS": allow}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    old = os.umask(0o022)
    try:
        assert make_in_processes(root, [env]) == [""]
    finally:
        os.umask(old)
    db = root / "instance" / "storykit.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    status = cli(root, "db", "status")
    assert status.returncode == 0 and "The database is up to date." in status.stdout
    again = cli(root, "db", "upgrade")
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    folders = SHIPPED[0] if allow == "" else SHIPPED[1]
    assert master(db)[1] == sorted(heads_of(read_revisions(folders)))
    site = Site.open(root)  # the tables work, the audit log's triggers too
    site.audit.record("test.start", actor="jo")
    with pytest.raises(IntegrityError, match="append-only"):
        site.database.connection().execute("DELETE FROM audit_log")
    assert site.audit.verify() is None


def test_migrations_added_later_apply_on_top_of_a_database_from_the_snapshot(make_site):
    root = make_site()
    write_story(root, "st-board1", story_front(title="A board story", slug="a-board-story"))
    assert make_in_processes(root, [{}]) == [""]
    add_thanks_plugin(root)
    status = cli(root, "db", "status")
    assert status.returncode == 1 and "behind" in status.stdout
    upgraded = cli(root, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    conn = Site.open(root).database.connection()
    conn.execute("INSERT INTO thanks_notes (story_id, sent_on) VALUES ('st-board1', 'today')")
    assert conn.value("SELECT count(*) FROM thanks_notes") == 1
    assert "thanks_0001" in {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")}


def test_a_plugins_own_migrations_make_a_new_database_with_alembic(make_site, tmp_path):
    """A folder the snapshot does not cover: the real upgrade, with every owner's tables
    exactly as Alembic makes them."""
    root = make_site()
    add_thanks_plugin(root)
    assert make_in_processes(root, [{}]) == ["alembic sqlalchemy"]
    folders = (*SHIPPED[1], root / "plugins" / "thanks_migrations")
    schema_snapshot.made_by_alembic(folders, tmp_path / "alembic.db")
    assert master(root / "instance" / "storykit.db") == master(tmp_path / "alembic.db")
    assert "thanks_0001" in master(tmp_path / "alembic.db")[1]


def test_changed_or_added_migrations_are_never_taken_from_the_snapshot(tmp_path):
    copy = tmp_path / "versions"
    shutil.copytree(CORE_MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    found = schema_snapshot.find([CORE_MIGRATIONS])
    assert found is not None and schema_snapshot.find([copy]) == found  # wherever installed
    last = sorted(copy.glob("*.py"))[-1]
    text = last.read_text(encoding="utf-8")
    last.write_text(text.replace("nullable=False", "nullable=True", 1), encoding="utf-8")
    assert schema_snapshot.find([copy]) is None
    last.write_text(text, encoding="utf-8")
    (copy / "storykit_0099_more.py").write_text(f'revision = "storykit_0099"\n'
                                                f'down_revision = "{found.versions[0]}"\n')
    assert schema_snapshot.find([copy]) is None
    damaged = tmp_path / "snapshots.json"
    damaged.write_text('{"half a file', encoding="utf-8")
    assert schema_snapshot.find([CORE_MIGRATIONS], damaged) is None  # Alembic makes it then


def test_processes_making_a_new_database_at_once_make_it_once(make_site):
    """They wait for each other; whoever comes second finds the tables made."""
    root = make_site()
    assert make_in_processes(root, [{}] * 4) == [""] * 4
    db = root / "instance" / "storykit.db"
    assert master(db)[1] == sorted(heads_of(read_revisions(SHIPPED[1])))
    assert Site.open(root).database.connection().tables() >= CORE_TABLES | APP_TABLES


def test_a_snapshot_database_behind_another_owner_is_brought_to_head(tmp_path):
    """What a process finds when another made the core's tables first: Alembic adds the
    rest, and the file ends as a new one made with both."""
    url = parse_url(f"sqlite:///{tmp_path}/storykit.db", tmp_path)
    Database(url, SHIPPED[0]).connection()
    schema_snapshot.create_new(Database(url, SHIPPED[1]))
    assert Database(url, SHIPPED[1]).status().up_to_date
    schema_snapshot.made_by_alembic(SHIPPED[1], tmp_path / "alembic.db")
    assert master(tmp_path / "storykit.db")[:2] == master(tmp_path / "alembic.db")[:2]


def test_a_file_that_is_not_a_storykit_database_is_left_alone_with_words(make_site):
    root = make_site()
    (root / "instance").mkdir(mode=0o700)
    db = root / "instance" / "storykit.db"
    notes = b"Meeting notes: not a database at all.\n" * 200
    db.write_bytes(notes)
    result = cli(root, "user", "list")
    assert result.returncode == 1 and "is not a storykit database, or it is damaged" in \
        result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == notes
    db.unlink()  # another program's SQLite file: refused, not changed
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.execute("INSERT INTO recipes VALUES ('soup')")
    other.commit()
    other.close()
    result = cli(root, "user", "list")
    assert result.returncode == 1 and "storykit db upgrade" in result.stderr
    assert master_rows(db) == [("table", "recipes")]
    db.unlink()  # no tables, but a name taken: nothing is made, the reason is given
    other = sqlite3.connect(db)
    other.execute("CREATE VIEW jobs AS SELECT 1 AS n")
    other.close()
    result = cli(root, "user", "list")
    assert result.returncode == 1 and "could not be made (nothing was changed in it)" in \
        result.stderr and "jobs already exists" in result.stderr
    assert master_rows(db) == [("view", "jobs")]


def master_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_a_damaged_database_is_a_clear_error(site):
    site.database.connection()
    site.database.close()
    db = site.instance / "storykit.db"
    with db.open("r+b") as f:  # keep the header, spoil the pages
        f.seek(100)
        f.write(b"\xff" * (db.stat().st_size - 100))
    result = cli(site.root, "user", "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "damaged" in result.stderr or "cannot be read" in result.stderr


def test_a_database_that_cannot_be_created_is_a_clear_error(make_site, tmp_path):
    root = make_site()
    if os.geteuid() == 0:  # root may write anywhere except where the system says no
        env = {URL_ENV: "sqlite:////sys/kernel/storykit-test/storykit.db"}
    else:
        (root / "instance").mkdir(mode=0o500)
        env = {}
    result = cli(root, "user", "list", env=env)
    assert result.returncode == 1 and "cannot create the database file" in result.stderr


# --- an older database is adopted, not rebuilt ---------------------------------------------------

def legacy_database(root: Path, version: int) -> None:
    """An instance/storykit.db as storykit made it before Alembic, with rows in it."""
    from storykit.audit import GENESIS, _row_hash

    (root / "instance").mkdir(mode=0o700)
    conn = sqlite3.connect(root / "instance" / "storykit.db", isolation_level=None)
    conn.executescript(LEGACY_1 + (LEGACY_2 if version >= 2 else ""))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO distributions (story_id, consent_version, use, format, sha256, "
                 "path, created_at, created_by) VALUES ('st-board1', 1, 'board', 'pdf', 'ab', "
                 "'/packs/a.pdf', '2026-01-01T00:00:00Z', 'jo')")
    if version >= 2:
        conn.execute("INSERT INTO users (name, display_name, password_hash, created_at, "
                     "password_changed_at) VALUES ('ann', 'Ann', 'x', 'then', 'then')")
        prev = GENESIS
        for n in range(3):  # the chain as the old code wrote it
            fields = (f"2026-01-0{n + 1}T00:00:00.000000Z", "jo", "story.saved", "st-board1",
                      None, None, f"revision {n}")
            digest = _row_hash(prev, fields)
            conn.execute("INSERT INTO audit_log (at, actor, action, story_id, etag, ip, detail, "
                         "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)", (*fields, prev, digest))
            prev = digest
    conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_a_database_from_before_alembic_is_adopted_with_every_row(make_site, version):
    root = make_site()
    write_story(root, "st-board1", story_front(title="A board story", slug="a-board-story"))
    legacy_database(root, version)
    for command in (("user", "list"), ("serve", "--port", "8999"), ("build",)):
        refused = cli(root, *command)
        assert refused.returncode == 1 and "made by an older storykit" in refused.stderr
        assert "Run: storykit db upgrade" in refused.stderr and "Serving" not in refused.stdout
    from storykit.web import create_app

    with pytest.raises(NotReadyError, match="storykit db upgrade"):
        create_app(Site.open(root))
    upgraded = cli(root, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    site = Site.open(root)
    assert [d.path for d in site.distributions.all()] == ["/packs/a.pdf"]
    conn = site.database.connection()
    fresh = Site.open(make_site("fresh")).database.connection()
    assert conn.tables() == fresh.tables()
    indexes = "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
    assert {r[0] for r in conn.all(indexes)} == {r[0] for r in fresh.all(indexes)}
    if version == 2:
        assert [r["name"] for r in conn.all("SELECT name FROM users")] == ["ann"]
        assert site.audit.count() == 3 and site.audit.verify() is None
    site.audit.record("story.saved", actor="jo", story_id="st-board1")
    assert site.audit.verify() is None
    with pytest.raises(IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")


# --- private files ------------------------------------------------------------------------------

def test_the_database_files_are_private_from_the_first_write(make_site):
    root = make_site()
    write_story(root, "st-board1", story_front(title="A board story", slug="a-board-story"))
    result = cli(root, "user", "list", umask=0o022)
    assert result.returncode == 0, result.stderr
    instance = root / "instance"
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    for name in ("storykit.db", "storykit.db-wal", "storykit.db-shm"):
        assert (instance / name).exists(), name
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600, name


def test_an_older_readable_database_is_made_private_when_opened(site):
    site.database.connection()
    db = site.instance / "storykit.db"
    for file in (site.instance, db, db.with_name("storykit.db-wal")):
        os.chmod(file, 0o755 if file.is_dir() else 0o644)
    Site.open(site.root).database.connection()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(site.instance.stat().st_mode) == 0o700


# --- the command line stays fast: no SQLAlchemy, no Alembic ---------------------------------------

def loaded_by(root: Path, tmp_path: Path, *args: str) -> list[str]:
    return modules_loaded_by(root, tmp_path, ("sqlalchemy", "alembic", "psycopg"), *args)


def test_no_command_but_db_imports_sqlalchemy_or_alembic(empty_root, engine, tmp_path):
    """Importing SQLAlchemy costs about 150 ms: only ``storykit db upgrade`` may pay it."""
    write_story(empty_root, "st-board1", story_front(title="A board story", slug="a-board-story"))
    assert loaded_by(empty_root, tmp_path, "db", "upgrade")[:2] == ["sqlalchemy", "alembic"]
    commands = [("build",), ("user", "list"), ("db", "status")]
    if engine.name == "sqlite":  # the rest are the same code on either engine
        commands += [("list",), ("check",), ("history", "st-board1"), ("formats",),
                     ("consent", "show", "st-board1"), ("new", "A second story"),
                     ("render", "st-board1", "--use", "board", "--format", "pptx", "--out",
                      str(tmp_path / "packs")),
                     ("consent", "withdraw", "st-board1", "--scope", "stop_future_use",
                      "--reason", "Changed their mind")]
    for args in commands:
        loaded = loaded_by(empty_root, tmp_path, *args)
        assert "sqlalchemy" not in loaded and "alembic" not in loaded, args
        assert engine.name == "postgresql" or "psycopg" not in loaded, args


# --- the audit and distribution logs on both engines ----------------------------------------------

def test_the_audit_chain_stays_whole_under_concurrent_writers(root):
    """Threads in one process and three other processes append at once."""
    site = Site.open(root)
    site.audit.record("test.start", actor="jo")
    code = ("import sys; from storykit.site import Site; log = Site.open(sys.argv[1]).audit\n"
            "for n in range(20): log.record('test.process', actor='p', detail=str(n))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(root)]) for _ in range(3)]

    def write() -> None:
        for n in range(20):
            site.audit.record("test.thread", actor="t", detail=str(n))

    assert in_threads(write, 6) == []
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert site.audit.count() == 1 + 6 * 20 + 3 * 20
    assert site.audit.verify() is None
    ids = [e.id for e in site.audit.query(limit=1000)]
    assert len(set(ids)) == len(ids)


def test_the_audit_log_refuses_changes_and_finds_tampering(root):
    site = Site.open(root)
    first = site.audit.record("story.saved", actor="jo", story_id="st-board1", detail="rev 1")
    site.audit.record("story.saved", actor="jo", story_id="st-board1", detail="rev 2")
    conn = site.database.connection()
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(IntegrityError, match="append-only"):
            conn.execute(sql)
    assert site.audit.count() == 2 and site.audit.verify() is None
    assert [e.detail for e in site.audit.query()] == ["rev 2", "rev 1"]
    from storykit.audit import AuditFilter

    assert site.audit.count(AuditFilter(actor="jo", story_id="st-board1")) == 2
    assert site.audit.actions() == ["story.saved"]
    if conn.dialect == "sqlite":
        conn.execute("DROP TRIGGER audit_log_no_delete")
    else:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    conn.execute("DELETE FROM audit_log WHERE id = :id", {"id": first})
    assert site.audit.verify() is not None


def test_the_distribution_log_records_finds_and_takes_down(root):
    log = Site.open(root).distributions
    one = log.record(story_id="st-board1", consent_version=1, use="board", format="pdf",
                     sha256="aa", path="/packs/board/a.pdf", created_by="jo")
    two = log.record(story_id="st-board1", consent_version=1, use="public_website",
                     format="web", sha256="bb", path="/site/out/stories/a.html",
                     created_by="jo", url="https://example.org/stories/a.html", job="web-build")
    three = log.record(story_id="st-other", consent_version=2, use="press", format="pdf",
                       sha256="cc", path="/packs/press/b.pdf", created_by="jo", removable=False)
    assert one < two < three
    assert [d.id for d in log.all()] == [one, two, three]
    assert log.current("st-board1", "/packs/board/a.pdf").sha256 == "aa"
    assert log.current("st-board1", "/nowhere") is None
    assert [d.id for d in log.live_at_paths("/site/out/", "web")] == [two]
    assert log.live_at_paths("/site/out/", "pdf") == []
    assert log.live_at_paths("/site/o%t/", "web") == []  # the prefix is text, not a pattern
    assert log.for_story("st-other")[0].removable is False
    log.mark_removed([one, two])
    assert [d.id for d in log.for_story("st-board1", live_only=True)] == []
    assert all(d.removed_at for d in log.for_story("st-board1"))


def test_distribution_log_records_many_in_one_batch_as_one_by_one(root):
    """record_many (a site build's pages) logs the same rows as record, in order; an entry
    that breaks a rule or names an unknown field logs none of the batch."""
    log = Site.open(root).distributions
    entries = [{"story_id": f"st-board{n}", "consent_version": n, "use": "public_website",
                "format": "web", "sha256": f"{n:064x}", "path": f"/site/out/{n}.html",
                "url": f"https://example.org/{n}.html", "job": "web-build", "created_by": "jo"}
               for n in range(1, 251)]
    entries[3].update(removable=False, pack_id="pk-0001", url=None)
    one = [log.record(**entries[0])]
    with log.transaction():
        assert log.record_many(entries[1:]) == 249
    assert log.record_many([]) == 0
    got = log.all()
    assert [d.id for d in got][0] == one[0] and len({d.id for d in got}) == 250
    fields = ("story_id", "consent_version", "use", "format", "sha256", "path", "url", "job",
              "created_by", "removable", "pack_id", "removed_at")
    assert [tuple(getattr(d, f) for f in fields) for d in got] == [
        (e["story_id"], e["consent_version"], e["use"], e["format"], e["sha256"], e["path"],
         e["url"], e["job"], e["created_by"], e.get("removable", True), e.get("pack_id"), None)
        for e in entries]
    assert len({d.created_at for d in got[1:]}) == 1
    bad = dict(entries[0], sha256=None)
    with pytest.raises(IntegrityError):
        log.record_many([dict(entries[0], path="/site/out/new.html"), bad])
    with pytest.raises(TypeError, match="colour"):
        log.record_many([dict(entries[0], path="/site/out/new.html"), dict(bad, colour="red")])
    assert len(log.all()) == 250 and log.current("st-board1", "/site/out/new.html") is None


def test_distribution_log_transaction_keeps_all_or_nothing(root):
    log = Site.open(root).distributions
    kept = log.record(story_id="st-board1", consent_version=1, use="board", format="pdf",
                      sha256="aa", path="/packs/a.pdf", created_by="jo")
    with pytest.raises(RuntimeError), log.transaction():
        log.mark_removed([kept])
        log.record(story_id="st-board1", consent_version=2, use="board", format="pdf",
                   sha256="bb", path="/packs/a.pdf", created_by="jo")
        raise RuntimeError("the build stopped")
    assert [(d.id, d.removed_at) for d in log.all()] == [(kept, None)]
    with log.transaction():
        log.mark_removed([kept])
        new = log.record(story_id="st-board1", consent_version=2, use="board", format="pdf",
                         sha256="bb", path="/packs/a.pdf", created_by="jo")
    assert log.current("st-board1", "/packs/a.pdf").id == new


def test_database_errors_are_storykit_errors():
    from storykit.errors import StorykitError

    assert issubclass(NotReadyError, DatabaseError) and issubclass(IntegrityError, StorykitError)


def test_revisions_are_read_however_the_file_writes_them(tmp_path):
    (tmp_path / "a_0001.py").write_text('revision: str = "a_0001"  # first\n'
                                        "down_revision: str | None = None\n")
    (tmp_path / "a_0002.py").write_text('"""revision = "not this one" (a docstring)."""\n'
                                        'revision = "a_0002"\ndown_revision = (\n'
                                        '    "a_0001",\n)\n')
    (tmp_path / "__init__.py").write_text("")
    assert read_revisions([tmp_path]) == {"a_0001": (), "a_0002": ("a_0001",)}
    assert heads_of(read_revisions([tmp_path])) == {"a_0002"}
    (tmp_path / "broken.py").write_text("down_revision = None\n")
    with pytest.raises(DatabaseError, match="broken.py: a migration needs revision"):
        read_revisions([tmp_path])
