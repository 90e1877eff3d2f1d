"""Backups and restores of a whole site (storykit backup / restore), and the app's health
probe for a load balancer. Both engines: a restored copy must hold every story, consent
version, revision, account, audit entry and distribution record."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from app_support import make_world, sign_in
from conftest import snapshot

from storykit import lifecycle
from storykit.audit import AuditLog
from storykit.db import URL_ENV
from storykit.render import render
from storykit.site import Site
from storykit.web import create_app

# --- a site with a history --------------------------------------------------------------------


@pytest.fixture
def busy(tmp_path, engine):
    """A site on ``engine`` with accounts, status changes, a render, a consent change and a
    withdrawal on record."""
    world = make_world(tmp_path / "site", engine=engine)
    site = world.site
    rita = lifecycle.Actor("rita", roles=frozenset({"reviewer"}))
    pete = lifecycle.Actor("pete", roles=frozenset({"publisher"}))
    story = site.store.get("st-review1")
    lifecycle.change(site, rita, story, "approve", story.etag)
    story = site.store.get("st-approved1")
    lifecycle.change(site, pete, story, "publish", story.etag)
    done = render(site, [site.store.get("st-published1")], "board", "pdf", tmp_path / "out",
                  by="pete")
    assert done.artefacts
    site.withdraw("st-draft1", "stop_future_use", "Moved away", by="ada")
    return world


def rows(site: Site) -> dict[str, list]:
    """Every row of every table, sorted, as plain values."""
    conn = site.database.connect()
    try:
        found = {}
        for table in sorted(conn.tables() - {"alembic_version"}):
            found[table] = sorted((tuple(r) for r in conn.all(f"SELECT * FROM {table}")),  # noqa: S608
                                  key=repr)
        return found
    finally:
        conn.close()


def restore_env(monkeypatch, engine) -> None:
    """The restored site uses an empty database of ``engine`` (SQLite: its own file)."""
    if engine.cluster is not None:
        monkeypatch.setenv(URL_ENV, engine.cluster.empty_database())
    else:
        monkeypatch.delenv(URL_ENV, raising=False)


# --- backup and restore -----------------------------------------------------------------------

def test_a_restored_copy_holds_everything(busy, tmp_path, engine, run_storykit, monkeypatch):
    root = busy.root
    before = rows(busy.site)
    assert before["audit_log"] and before["distributions"] and before["users"]
    made = run_storykit(root, "backup", "-o", str(tmp_path / "site.tar.gz"))
    assert made.code == 0, made.err
    assert "7 stories" in made.out
    assert (tmp_path / "site.tar.gz").stat().st_mode & 0o077 == 0  # only its owner reads it

    restore_env(monkeypatch, engine)
    done = run_storykit(root, "restore", str(tmp_path / "site.tar.gz"), "--into",
                        str(tmp_path / "copy"))
    assert done.code == 0, done.err
    copy = Site.open(tmp_path / "copy")
    assert snapshot(root / "stories") == snapshot(copy.root / "stories")
    assert snapshot(root / "instance" / "revisions") == snapshot(copy.instance / "revisions")
    assert rows(copy) == before  # every account, audit entry, distribution record, job
    assert AuditLog(copy.database).verify() is None  # the hash chain is whole
    withdrawn = copy.store.get("st-draft1")
    assert withdrawn.current_consent.status == "withdrawn"
    assert [v.version for v in withdrawn.consent] == [1, 2]
    # the restored site works: people sign in with their passwords, new entries follow on
    app = create_app(copy, STORYKIT_ARGON2=busy.app.config["STORYKIT_ARGON2"],
                     STORYKIT_INDEX_TTL=0)
    sign_in(app.test_client(), "rita")
    assert copy.audit.record("test.after_restore", actor="rita") > max(
        r[0] for r in before["audit_log"])
    assert AuditLog(copy.database).verify() is None


def test_a_sqlite_backup_restores_onto_postgresql(tmp_path, pg_cluster, monkeypatch):
    from storykit.backup import make_backup, restore_backup

    monkeypatch.delenv(URL_ENV, raising=False)
    world = make_world(tmp_path / "site")  # SQLite
    world.site.withdraw("st-draft1", "stop_future_use", "Moved away", by="ada")
    before = rows(world.site)
    make_backup(world.site, tmp_path / "b.tar.gz")
    # the restored storykit.toml names no database: the environment chooses PostgreSQL
    monkeypatch.setenv(URL_ENV, pg_cluster.empty_database())
    restore_backup(tmp_path / "b.tar.gz", tmp_path / "copy")
    copy = Site.open(tmp_path / "copy")
    assert copy.database.dialect == "postgresql"
    assert rows(copy) == before
    assert AuditLog(copy.database).verify() is None


def test_caches_locks_and_the_database_file_are_not_copied(busy, tmp_path):
    from storykit.backup import make_backup

    (busy.root / "instance" / "cache").mkdir(exist_ok=True)
    (busy.root / "instance" / "cache" / "x.pickle").write_bytes(b"cache")
    (busy.root / "stories" / "st-draft1" / "media").mkdir(exist_ok=True)
    (busy.root / "stories" / "st-draft1" / "media" / "link.jpg").symlink_to("/etc/passwd")
    report = make_backup(busy.site, tmp_path / "b.tar.gz")
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        names = tar.getnames()
    assert "site/storykit.toml" in names and "database/audit_log.jsonl" in names
    assert not [n for n in names if "/cache/" in n or "/locks/" in n or "storykit.db" in n]
    assert "stories/st-draft1/media/link.jpg" in report.left_out
    assert not [n for n in names if n.endswith("link.jpg")]


# --- bad input --------------------------------------------------------------------------------

def evil_backup(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A backup with a good manifest and one member of the attacker's choice."""
    with tarfile.open(path, "w:gz") as tar:
        manifest = json.dumps({"storykit_backup": 1, "revisions": []}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data) if data else None)
    return path


def link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.mark.parametrize("member", [
    tarfile.TarInfo("site/../../escaped.txt"),
    tarfile.TarInfo("/tmp/absolute.txt"),
    tarfile.TarInfo("elsewhere/file.txt"),
    tarfile.TarInfo("database/users;drop.jsonl"),
    link("site/stories/st-x/story.md", "/etc/passwd"),
], ids=["dotdot", "absolute", "outside", "odd-table", "symlink"])
def test_a_backup_edited_by_hand_is_refused_and_nothing_is_left(member, tmp_path,
                                                                run_storykit, monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    archive = evil_backup(tmp_path / "evil.tar.gz", member, b"" if member.issym() else b"x")
    done = run_storykit(tmp_path, "restore", str(archive), "--into", str(tmp_path / "copy"))
    assert done.code == 1
    assert "does not make" in done.err and "Nothing was restored" in done.err
    assert not (tmp_path / "copy").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


@pytest.mark.parametrize("content,words", [
    (b"not a tarball", "is not a storykit backup"),
    (None, "there is no file"),
], ids=["garbage", "missing"])
def test_a_file_that_is_not_a_backup_is_refused(content, words, tmp_path, run_storykit):
    archive = tmp_path / "b.tar.gz"
    if content is not None:
        archive.write_bytes(content)
    done = run_storykit(tmp_path, "restore", str(archive), "--into", str(tmp_path / "copy"))
    assert done.code == 1 and words in done.err
    assert not (tmp_path / "copy").exists()


def test_a_tarball_without_a_manifest_is_refused(tmp_path, run_storykit):
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("site/storykit.toml"), io.BytesIO(b""))
    done = run_storykit(tmp_path, "restore", str(tmp_path / "b.tar.gz"), "--into",
                        str(tmp_path / "copy"))
    assert done.code == 1 and "manifest.json is missing" in done.err


def test_restore_never_writes_into_a_folder_in_use(busy, tmp_path, run_storykit):
    made = run_storykit(busy.root, "backup", "-o", str(tmp_path / "b.tar.gz"))
    assert made.code == 0, made.err
    before = snapshot(busy.root)
    done = run_storykit(busy.root, "restore", str(tmp_path / "b.tar.gz"), "--into",
                        str(busy.root))
    assert done.code == 1 and "already exists and is not empty" in done.err
    assert snapshot(busy.root) == before


def test_restore_needs_an_empty_database(busy, tmp_path, run_storykit, monkeypatch):
    made = run_storykit(busy.root, "backup", "-o", str(tmp_path / "b.tar.gz"))
    assert made.code == 0, made.err
    url = busy.site.database.url
    monkeypatch.setenv(URL_ENV, url.conninfo or url.shown)  # the live site's own database
    before = rows(busy.site)
    done = run_storykit(busy.root, "restore", str(tmp_path / "b.tar.gz"), "--into",
                        str(tmp_path / "copy"))
    assert done.code == 1 and "is not empty: give it an empty one" in done.err
    assert not (tmp_path / "copy").exists()
    assert rows(busy.site) == before


def test_backup_refuses_to_write_inside_the_site(busy, run_storykit, tmp_path):
    done = run_storykit(busy.root, "backup", "-o", str(busy.root / "stories" / "b.tar.gz"))
    assert done.code == 1 and "outside the site's stories folder" in done.err
    assert not (busy.root / "stories" / "b.tar.gz").exists()
    done = run_storykit(busy.root, "backup", "-o", str(tmp_path / "no" / "such" / "b.tar.gz"))
    assert done.code == 1 and "does not exist" in done.err


# --- the health probe -------------------------------------------------------------------------

def test_health_says_ok_without_signing_in(busy):
    response = busy.app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {
        "database": "ok", "stories": "ok", "instance": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_answers_before_the_first_account(tmp_path):
    (tmp_path / "site" / "stories").mkdir(parents=True)
    (tmp_path / "site" / "storykit.toml").write_text('[site]\ntitle = "T"\n')
    app = create_app(Site.open(tmp_path / "site"))
    response = app.test_client().get("/health")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert app.test_client().get("/").status_code == 302  # everything else: make an admin


def test_health_fails_when_a_part_is_missing_and_says_no_more(busy):
    client = busy.app.test_client()
    (busy.root / "stories").rename(busy.root / "stories-moved")
    try:
        response = client.get("/health")
    finally:
        (busy.root / "stories-moved").rename(busy.root / "stories")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert response.get_json()["checks"]["stories"] == "failing"
    assert str(busy.root) not in body and "Errno" not in body
    conn = busy.site.database.connect()
    try:
        conn.execute("UPDATE alembic_version SET version_num = 'storykit_0099' "
                     "WHERE version_num LIKE 'storykit_0%'")
        if conn.dialect == "postgresql":
            conn.execute("COMMIT")
    finally:
        conn.close()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] != "ok"
