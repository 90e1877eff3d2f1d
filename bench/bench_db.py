"""Benchmark: the database layer on SQLite and on PostgreSQL.

Run: ``python bench/bench_db.py``. Prints medians (wall and CPU seconds) of:

- importing SQLAlchemy and Alembic in a fresh process, against importing storykit.db: why
  storykit talks to the database through its own small wrapper at run time (the command
  line's one-edit rebuild must stay under 0.3 s);
- opening a site's database and checking it is at head (what every command that uses the
  database pays once);
- making a brand-new site's SQLite database in a fresh process: from the schema snapshot
  (storykit.schema_snapshot: what a clean build pays), with the real Alembic upgrade (what it
  paid before, and still pays for migrations the snapshot does not cover), and the same
  process opening the site without its database, to subtract;
- one audit-log append, one sign-in throttle reservation, and recording 100 distributions in
  one transaction, then 1,000 one by one against one batch (``record_many``: a site build),
  on SQLite (``instance/storykit.db``) and on a throwaway PostgreSQL server (Debian's,
  started as the tests start it: tests/database_support.py).

The machine is noisy (2 shared cores), so only medians mean anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from database_support import Cluster, server_bin  # noqa: E402

from storykit.db import Database  # noqa: E402
from storykit.site import Site  # noqa: E402
from storykit.web.throttle import Limits, reserve  # noqa: E402

TOML = '[site]\ntitle = "Bench"\n'
#: A fresh process opening a new, empty site (its folder removed at exit); then the lines
#: of each measure.
NEW_SITE = ("import atexit, pathlib, shutil, tempfile\n"
            "from storykit.site import Site\n"
            "root = pathlib.Path(tempfile.mkdtemp(prefix='bench-db-new-'))\n"
            "atexit.register(shutil.rmtree, root)\n"
            "(root / 'stories').mkdir()\n"
            f"(root / 'storykit.toml').write_text({TOML!r})\n"
            "database = Site.open(root).database\n")
NEW_DATABASE = (
    ("open a new site, no database (fresh process)", ""),
    ("new SQLite database from the snapshot (fresh process)", "database.connection()\n"),
    ("new SQLite database with Alembic (fresh process)",
     "from storykit.migrate import upgrade\nupgrade(database)\ndatabase.connection()\n"),
)


def fresh_process(code: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``python -c code`` in new processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user + after.children_system
                    - before.children_user - before.children_system)
    return statistics.median(walls), statistics.median(cpus)


def timed(work, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = time.process_time(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def site_on(folder: Path, url: str | None) -> Site:
    folder.mkdir(parents=True)
    (folder / "stories").mkdir()
    toml = TOML + (f'\n[database]\nurl = "{url}"\n' if url else "")
    (folder / "storykit.toml").write_text(toml, encoding="utf-8")
    return Site.open(folder)


def engine_rows(name: str, make_site, runs: int) -> list[tuple[str, float, float]]:
    site = make_site()
    site.database.connection()  # made (SQLite) or checked, once
    counter = iter(range(10**9))

    def ready() -> None:
        Database(site.database.url, site.database.migrations).connection().close()

    def append() -> None:
        site.audit.record("bench.append", actor="bench", story_id="st-bench", detail="x")

    def throttle() -> None:
        reserve(site.database.connection(), Limits(), f"bench{next(counter)}", "127.0.0.1")

    def hundred() -> None:
        log = site.distributions
        with log.transaction():
            for n in range(100):
                log.record(story_id=f"st-{n}", consent_version=1, use="board", format="pdf",
                           sha256="ab" * 32, path=f"/packs/{n}.pdf", created_by="bench")

    def entries(n: int) -> list[dict]:
        return [{"story_id": f"st-{n}-{i}", "consent_version": 1, "use": "public_website",
                 "format": "web", "sha256": "ab" * 32, "path": f"/site/out/{n}/{i}.html",
                 "url": f"https://example.org/{i}.html", "job": "web-build",
                 "created_by": "bench"} for i in range(1000)]

    def thousand_one_by_one() -> None:
        log = site.distributions
        with log.transaction():
            for entry in entries(next(counter)):
                log.record(**entry)

    def thousand_batch() -> None:
        site.distributions.record_many(entries(next(counter)))

    return [(f"{name}: {label}", *timed(work, runs)) for label, work in (
        ("connect and check the schema is at head", ready), ("one audit append", append),
        ("one throttle reservation", throttle), ("100 distributions, one transaction", hundred),
        ("1,000 distributions, one by one, one transaction", thousand_one_by_one),
        ("1,000 distributions, one batch (record_many)", thousand_batch))]


def server_programs() -> bool:
    try:
        server_bin()
    except AssertionError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per measure (median)")
    parser.add_argument("--no-postgresql", action="store_true",
                        help="SQLite only (no throwaway PostgreSQL server)")
    args = parser.parse_args()
    rows = [("import sqlalchemy + alembic (fresh process)",
             *fresh_process("import sqlalchemy, alembic.command", 5)),
            ("import storykit.db (fresh process)", *fresh_process("import storykit.db", 5)),
            ("python -c pass (fresh process)", *fresh_process("pass", 5))]
    rows += [(label, *fresh_process(NEW_SITE + code, 5)) for label, code in NEW_DATABASE]
    work = Path(tempfile.mkdtemp(prefix="bench-db-"))
    sites = iter(range(1000))
    rows += engine_rows("sqlite", lambda: site_on(work / f"s{next(sites)}", None), args.runs)
    if not args.no_postgresql and not server_programs():
        print("PostgreSQL's server programs are missing (apt-get install postgresql): "
              "SQLite only")
    elif not args.no_postgresql:
        cluster = Cluster.start()
        try:
            rows += engine_rows("postgresql", lambda: site_on(
                work / f"s{next(sites)}", cluster.fresh_database()), args.runs)
        finally:
            cluster.stop()
    print(f"\nmedians ({args.runs} runs; fresh processes: 5), machine shared")
    print(f"{'measure':60} {'wall ms':>9} {'cpu ms':>9}")
    for label, wall, cpu in rows:
        print(f"{label:60} {wall * 1000:9.2f} {cpu * 1000:9.2f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
