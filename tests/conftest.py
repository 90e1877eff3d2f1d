"""Fixtures that build throw-away sites in tmp_path. All names and details are fictional."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from database_support import ENGINES, Cluster, Engine

from storykit import model as m
from storykit.db import PASSWORD_ENV, URL_ENV
from storykit.site import Site

# A database named in the environment that runs the tests is never touched by them.
for _name in (URL_ENV, PASSWORD_ENV):
    os.environ.pop(_name, None)

try:  # browser assertions wait longer: CI runs on two shared, busy cores
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=20_000)
except ImportError:  # pragma: no cover - playwright is a test dependency
    pass

#: The date decisions and checks are made on, unless a test says otherwise.
ON = dt.date(2027, 3, 1)

BASIC_TOML = """\
[site]
title = "Test stories"
organisation = "Example NHS Trust"
"""

BODY = (
    "On our second night, Midwife Carol Pegg sat with me while the baby finally fed.\n\n"
    "I was there for three nights, and I wanted the ward to know what helped.\n\n"
    "## What would have helped\n\n"
    "Being told at the start which buzzer to press, and that it was fine to press it.\n"
)


def story_front(**over: Any) -> dict[str, Any]:
    """A valid story.md front matter (as a dict), approved and signed off at revision 3."""
    front: dict[str, Any] = {
        "title": "Night feeds on the postnatal ward",
        "slug": "night-feeds",
        "status": "approved",
        "service": "Maternity",
        "tags": ["infant feeding", "night staff"],
        "summary": "What helped during three nights on the ward.",
        "storyteller": {"name": "Aisha Rahman", "pseudonym": "Leila", "role": "patient"},
        "people": [{"name": "Midwife Carol Pegg", "render_as": "the night midwife"}],
        "quotes": ["At three in the morning, one kind sentence is worth more than a leaflet."],
        "speaker_notes": "Pause after the quote.\n",
        "created": dt.date(2026, 9, 2),
        "updated": dt.date(2026, 9, 20),
        "revision": 3,
    }
    front.update(over)
    return {k: v for k, v in front.items() if v is not None}


def consent_version(**over: Any) -> dict[str, Any]:
    """A valid, active consent version (as a dict) covering the story in story_front()."""
    version: dict[str, Any] = {
        "version": 1,
        "recorded": dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC),
        "recorded_by": "jo.advocate",
        "status": "active",
        "given_by": "self",
        "method": "written",
        "granted": dt.date(2026, 9, 2),
        "expires": dt.date(2029, 9, 2),
        "uses": ["board", "staff_training", "clinical_teams", "public_website"],
        "media": ["text", "quotes", "photo"],
        "identification": "pseudonym",
        "signoff_required": True,
        "signed_off": dt.date(2026, 9, 20),
        "signed_off_revision": 3,
    }
    version.update(over)
    return {k: v for k, v in version.items() if v is not None}


def front_text(front: dict[str, Any]) -> str:
    return yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=4096)


def story_text(front: dict[str, Any] | None = None, body: str = BODY) -> str:
    return "---\n" + front_text(front if front is not None else story_front()) + "---\n" + body


def consent_text(versions: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"versions": versions}, sort_keys=False, allow_unicode=True, width=4096)


def write_story(root: Path, story_id: str, front: dict[str, Any] | str | None = None,
                body: str = BODY, consent: list[dict[str, Any]] | str | None = "default") -> Path:
    """Write ``stories/<story_id>/story.md`` (and consent.yml) into the site at ``root``.

    ``front`` and ``consent`` may be dicts (dumped as YAML) or exact text (written as is);
    ``consent=None`` writes no consent file.
    """
    folder = root / "stories" / story_id
    folder.mkdir(parents=True, exist_ok=True)
    text = front if isinstance(front, str) else story_text(front, body)
    (folder / "story.md").write_text(text, encoding="utf-8")
    if consent == "default":
        consent = [consent_version()]
    if isinstance(consent, str):
        (folder / "consent.yml").write_text(consent, encoding="utf-8")
    elif consent is not None:
        (folder / "consent.yml").write_text(consent_text(consent), encoding="utf-8")
    return folder


def dismiss_blocking(root: Path, story_id: str, reason: str = "Outputs swap the name for what "
                     "the consent allows.", by: str = "rita") -> int:
    """Dismiss every blocking finding of a story as a reviewer would (kept in its
    review.yml): for stories whose text names the storyteller on purpose, to show that
    outputs still never do. Returns how many were dismissed."""
    from storykit.findings import dismiss, story_findings

    site = Site.open(root)
    count = 0
    while True:
        story = site.store.get(story_id)
        blocking = story_findings(site, story).blocking
        if not blocking:
            return count
        dismiss(site, story, blocking[0].ref, reason, by=by, etag=story.etag)
        count += 1


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_storykit(capsys, monkeypatch):
    """``run_storykit(root, *args, stdin=None)``: the real ``storykit`` command line on the
    site at ``root``, in this process (through ``storykit.cli.main``); never a traceback."""
    import io
    import sys

    from storykit.cli import main

    def run(root: Path, *args: str, stdin: str | None = None) -> CliResult:
        monkeypatch.delenv("STORYKIT_DEBUG", raising=False)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(["--site", str(root), *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        code = info.value.code
        return CliResult(code if isinstance(code, int) else (0 if code is None else 1), out, err)

    return run


@contextlib.contextmanager
def on_day(day: dt.date = ON):
    """Within the block, renders and builds decide as if today were ``day`` (for fixtures
    shared by a module, where the ``test_day`` fixture cannot be used)."""
    from storykit import dates

    before, dates.FIXED_TODAY = dates.FIXED_TODAY, day
    try:
        yield day
    finally:
        dates.FIXED_TODAY = before


@pytest.fixture
def test_day(monkeypatch) -> dt.date:
    """Renders and builds decide as if today were ``ON`` (storykit.dates is the one clock
    they read), so recorded decisions do not depend on when the tests run."""
    from storykit import dates

    monkeypatch.setattr(dates, "FIXED_TODAY", ON)
    return ON


@pytest.fixture
def make_site(tmp_path: Path):
    """``make_site(name="site", toml=BASIC_TOML)`` creates an empty site and returns its root."""

    def make(name: str = "site", toml: str = BASIC_TOML) -> Path:
        root = tmp_path / name
        (root / "stories").mkdir(parents=True)
        (root / "storykit.toml").write_text(toml, encoding="utf-8")
        return root

    return make


@pytest.fixture
def site_root(make_site) -> Path:
    return make_site()


@pytest.fixture
def site(site_root: Path) -> Site:
    return Site.open(site_root)


def build_story(front: dict[str, Any] | None = None, consent: list[dict[str, Any]] | None = None,
                body: str = BODY, story_id: str = "st-test01") -> m.Story:
    """A Story object built in memory (no files), for the pure consent decision."""
    fields = dict(front if front is not None else story_front())
    story = m.Story.from_fields(story_id, fields, body)
    story.consent = [m.ConsentVersion.from_dict(v) for v in (consent or [])]
    return story


def wait_for(check, what: str = "it", timeout: float = 30.0, every: float = 0.05):
    """Call ``check`` until it returns something true (returned), or fail after ``timeout``
    seconds saying what was awaited (for work done by a worker or a server)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


PROBE = """
import atexit, json, os, sys
from storykit.cli import main
names = json.loads(os.environ["PROBE_NAMES"])
atexit.register(lambda: open(os.environ["PROBE_OUT"], "w").write(json.dumps(
    [m for m in names if m in sys.modules])))
main(sys.argv[1:])
"""


def modules_loaded_by(root: Path, tmp_path: Path, names: tuple[str, ...], *args: str) -> list[str]:
    """Which of the modules ``names`` a fresh ``storykit --site ROOT ARGS`` imported."""
    import json
    import subprocess
    import sys

    out = tmp_path / "probe.json"
    result = subprocess.run([sys.executable, "-c", PROBE, "--site", str(root), *args],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PROBE_OUT": str(out),
                                 "PROBE_NAMES": json.dumps(names)})
    assert result.returncode == 0, (args, result.stderr)
    return json.loads(out.read_text())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# --- database engines (database_support.py) ---------------------------------------------------

@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for this test session (started on first use)."""
    global _CLUSTER
    _CLUSTER = Cluster.start()
    yield _CLUSTER
    _CLUSTER.stop()
    _CLUSTER = None


_CLUSTER: Cluster | None = None


@pytest.fixture(autouse=True)
def _give_back_databases() -> Iterator[None]:
    """PostgreSQL databases a test took (directly or through its function-scoped fixtures)
    are handed back when it ends, to be emptied for the next test."""
    mark = _CLUSTER.mark() if _CLUSTER else 0
    yield
    if _CLUSTER:
        _CLUSTER.give_back(mark)


@pytest.fixture(scope="module", params=ENGINES)
def engine(request) -> Iterator[Engine]:
    """The database engine: every test that uses it runs on SQLite and on PostgreSQL (module
    scope, so a module's shared app is made once per engine; its database is handed back
    after the module)."""
    if request.param != "postgresql":
        yield Engine("sqlite")
        return
    cluster = request.getfixturevalue("pg_cluster")
    mark = cluster.mark()
    yield Engine("postgresql", cluster)
    cluster.give_back(mark)


@pytest.fixture
def database_env(engine: Engine, monkeypatch) -> Engine:
    """Sites opened in this test use a fresh database on ``engine``, named by the
    ``STORYKIT_DATABASE_URL`` environment variable (for SQLite: unset, the default file)."""
    url = engine.fresh_url()
    if url:
        monkeypatch.setenv(URL_ENV, url)
    return engine


@contextlib.contextmanager
def lock_held_elsewhere(site_root: Path, name: str) -> Iterator[None]:
    """The store lock ``name`` held by another thread meanwhile: a lock file of its own, or on
    PostgreSQL another database session (as another process or machine would hold it)."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with Site.open(site_root).store.locks.hold(name):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join(10)
