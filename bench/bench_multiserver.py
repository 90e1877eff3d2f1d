"""Benchmark several app servers on one site of 10,000 stories: the must-show of issue 16.

Each setup runs real processes on loopback, sharing one site folder: ``storykit serve
--workers 0`` app servers and ``storykit worker`` processes, driven over HTTP by simulated
people who use the real forms (tests/multiserver_support.py: half edit the same 10 stories,
the rest browse lists, story pages and previews; one publishes stories, one withdraws them):

1. SQLite (the default), one app server and one worker (SQLite queue);
2. PostgreSQL and Redis, one app server and two workers;
3. PostgreSQL and Redis, two app servers and two workers.

Each setup runs ``--runs`` times (default 3), the setups taking turns so that the machine's
other load falls on each alike. For each run it prints requests per second, the median and
95th percentile of the story list and of a save (opening the editor and pressing Save), the
errors (target 0: conflict pages are expected, not errors), lost updates and withdrawn
stories that still rendered (target 0), the CPU seconds of the storykit processes and the
machine's load average. At the end it prints, per setup, the median over the runs of list
p95, save p95, requests per second and CPU seconds, and PostgreSQL's list and save p95 over
SQLite's (of those medians). The PostgreSQL server is a throwaway cluster
(Debian's initdb and pg_ctl, as the tests use), the queue a private redis-server.

Target (issue 16): list p95 and save p95 on PostgreSQL within 1.5 times SQLite's.
The machine may be shared with other work: compare CPU seconds, and run setups back to back.

    python bench/bench_multiserver.py          # 10,000 stories, 20 people, 60 s, 3 runs each
    python bench/bench_multiserver.py --stories 2000 --seconds 15 --runs 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from database_support import Cluster  # noqa: E402
from multiserver_support import (  # noqa: E402
    Servers,
    make_shared_site,
    process_env,
    run_load,
    start_redis,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS
    return total


def lost_updates(root: Path, saved: dict[str, list[str]]) -> int:
    from storykit.site import Site

    store = Site.open(root).store
    lost = 0
    for story_id, markers in saved.items():
        kept = "\n".join(store.revision_text(story_id, r) for r in store.revisions(story_id))
        lost += sum(1 for m in markers if m not in kept)
    return lost


def run_setup(name: str, template: Path, work: Path, database_url: str | None,
              redis_url: str | None, apps: int, workers: int, seconds: int,
              users: int, stories: int) -> dict:
    root = work / name / "site"
    root.parent.mkdir(parents=True)
    shutil.copytree(template, root, symlinks=True)
    make_shared_site(root, database_url, extra_stories=0, write_stories=False)
    env = process_env(**({"STORYKIT_REDIS_URL": redis_url} if redis_url else {}))
    servers = Servers(root, env, logs=root.parent)
    try:
        for _ in range(apps):
            servers.start_app()
        for _ in range(workers):
            servers.start_worker()
        servers.wait_ready(timeout=600)
        pids = [p.pid for p in servers.apps + servers.workers]
        cpu0 = cpu_seconds(pids)
        load = run_load(servers.ports, seconds, users=users,
                        browse_ids=[f"st-more{n:05d}" for n in range(0, stories, 97)])
        cpu = cpu_seconds(pids) - cpu0
    finally:
        servers.stop()
    lost = lost_updates(root, load.saved)
    shutil.rmtree(root.parent, ignore_errors=True)  # 10,000 stories a run: keep the disk free
    return {"name": name, "load": load, "cpu": cpu, "lost": lost}


SETUPS = {  # name, database, app servers, workers
    "sqlite": ("SQLite, 1 app server, 1 worker", False, 1, 1),
    "pg1": ("PostgreSQL + Redis, 1 app server, 2 workers", True, 1, 2),
    "pg2": ("PostgreSQL + Redis, 2 app servers, 2 workers", True, 2, 2),
}


def ms(values: list[float], q: str) -> str:
    if len(values) < 20:
        return "   n/a"
    value = statistics.median(values) if q == "median" else statistics.quantiles(values, n=20)[18]
    return f"{value * 1000:6.0f}"


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def report(result: dict) -> None:
    load = result["load"]
    print(f"\n{result['name']} (run {result['run']}): {load.requests} requests in "
          f"{load.seconds:.0f} s = {load.requests / load.seconds:.1f} requests/s; storykit CPU "
          f"{result['cpu']:.0f} s; {result['loadavg']}")
    for kind in ("list", "save", "story", "preview"):
        values = load.times[kind]
        print(f"  {kind:8} median {ms(values, 'median')} ms   p95 {ms(values, 'p95')} ms   "
              f"({len(values)} requests)")
    print(f"  saves accepted {sum(map(len, load.saved.values()))}, conflict pages "
          f"{load.conflicts}, errors {len(load.errors)}, lost updates {result['lost']}, "
          f"published {len(load.published)}, withdrawn {len(load.withdrawn)}, still open after "
          f"withdrawal {len(load.not_honoured)}")
    for error in load.errors[:5]:
        print(f"  error: {error}")


def figures(result: dict) -> dict[str, float]:
    """One run's figures: list and save p95 (ms), requests/s, CPU seconds."""
    load = result["load"]
    return {"list": load.p95("list") * 1000, "save": load.p95("save") * 1000,
            "rps": load.requests / load.seconds, "cpu": result["cpu"]}


def summary(results: list[dict]) -> None:
    """The median of each figure over the runs of each setup, and PostgreSQL / SQLite."""
    by_setup: dict[str, list[dict[str, float]]] = {}
    for result in results:
        by_setup.setdefault(result["name"], []).append(figures(result))
    runs = max(len(v) for v in by_setup.values())
    print(f"\nMedians over {runs} run(s) per setup (ms; the machine may be shared):")
    print(f"  {'setup':46} {'list p95':>9} {'save p95':>9} {'requests/s':>11} {'CPU s':>6}")
    medians = {}
    for name, rows in by_setup.items():
        medians[name] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        m = medians[name]
        print(f"  {name:46} {m['list']:9.0f} {m['save']:9.0f} {m['rps']:11.1f} {m['cpu']:6.0f}")
    base = medians.get(SETUPS["sqlite"][0])
    if base is None:
        return
    for name, m in medians.items():
        if name == SETUPS["sqlite"][0]:
            continue
        for kind in ("list", "save"):
            ratio = m[kind] / base[kind]
            print(f"{kind} p95, {name} / SQLite (medians): {ratio:.2f} "
                  f"({'within' if ratio <= 1.5 else 'NOT within'} the 1.5 target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--runs", type=positive, default=3,
                        help="runs of each setup, interleaved; medians are reported (3)")
    parser.add_argument("--only", choices=tuple(SETUPS), action="append")
    args = parser.parse_args()
    only = [key for key in SETUPS if key in (args.only or SETUPS)]
    print(f"{os.cpu_count()} cores; the machine may be shared: compare CPU seconds. "
          f"{args.stories:,} stories, {args.users} people, {args.seconds} s per setup, "
          f"{args.runs} run(s) each; {load_average()}.")
    work = Path(tempfile.mkdtemp(prefix="bench-multi-"))
    template = work / "template"
    make_shared_site(template, None, extra_stories=args.stories, people=False)
    cluster, redis_pid, redis_url = None, None, None
    results = []
    try:
        if any(SETUPS[key][1] for key in only):
            cluster = Cluster.start()
            redis_url, redis_pid = start_redis(work / "redis")
        for run in range(1, args.runs + 1):
            for key in only:  # setups take turns, so the machine's other load falls on each
                name, postgres, apps, workers = SETUPS[key]
                result = run_setup(name, template, work / f"run{run}",
                                   cluster.fresh_database() if postgres else None,
                                   redis_url if postgres else None, apps, workers,
                                   args.seconds, args.users, args.stories)
                result.update(run=run, loadavg=load_average())
                results.append(result)
                report(result)
    finally:
        if redis_pid:
            os.kill(redis_pid, signal.SIGTERM)
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary(results)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


if __name__ == "__main__":
    main()
