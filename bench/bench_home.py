"""Benchmark each role's home page (its queues and the menu's counts) with N stories in every
state: some consent ending soon, some ended, some withdrawn with copies still out there,
and failed jobs.

Uses bench_app.py's synthetic site and 20 users (14 advocates owning the stories between
them, 2 reviewers, 2 publishers, 2 admins), then makes every 25th story's consent end within
60 days, every 40th story's consent ended, every 50th story withdrawn with two copies on
record, and 5 failed jobs. In-process (Flask test client, warm): 5 rounds of 100 requests
per page; prints the median of the rounds' medians and 95th percentiles, and the CPU
seconds per request. Target: every home page's p95 under 100 ms at 1,000 stories.

    python bench/bench_home.py                   # 1,000 stories
    python bench/bench_home.py --stories 10000

Figures are from a 2-core machine shared with other work: compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_app import make_site, make_users, p95, signed_in_client  # noqa: E402

ROUNDS = 5
PER_ROUND = 100


def add_states(root: Path, count: int) -> list[str]:
    """Consent ending soon, ended, and withdrawn stories; returns the withdrawn ids."""
    today = dt.date.today()
    withdrawn = []
    for n in range(count):
        folder = root / "stories" / f"st-b{n:05d}"
        consent = (folder / "consent.yml").read_text()
        if n % 50 == 0:
            story = (folder / "story.md").read_text()
            lines = [("status: withdrawn" if line.startswith("status: ") else line)
                     for line in story.splitlines()]
            (folder / "story.md").write_text("\n".join(lines) + "\n")
            withdrawn.append(folder.name)
        elif n % 40 == 0:
            (folder / "consent.yml").write_text(consent.replace(
                "expires: 2030-01-01", f"expires: {today - dt.timedelta(days=n % 90 + 1)}"))
        elif n % 25 == 0:
            (folder / "consent.yml").write_text(consent.replace(
                "expires: 2030-01-01", f"expires: {today + dt.timedelta(days=n % 59 + 1)}"))
    return withdrawn


def add_records(site, withdrawn: list[str]) -> None:
    """Two copies of each withdrawn story (a download and a render) and 5 failed jobs."""
    from storykit.jobs import FAILED, Jobs

    log = site.distributions
    for story_id in withdrawn:
        for job in ("download-1", "render-1"):
            log.record(story_id=story_id, consent_version=1, use="board", format="pdf",
                       sha256="0" * 64, path=f"/tmp/out/{story_id}-{job}.pdf",
                       created_by="adv01", job=job)
    jobs = Jobs(site)
    for n in range(5):
        job, _ = jobs.add("consent-sweep", {}, by="pub01", key=f"bench-{n}")
        jobs.claim(job.id, "bench")
        jobs.finish(job.id, "bench", state=FAILED, message="Failed.", error="Bench failure.")


def time_page(client, url: str) -> tuple[float, float, float]:
    """(median of round medians, median of round p95s, CPU ms per request)."""
    assert client.get(url).status_code == 200, url
    medians, p95s = [], []
    cpu_start = time.process_time()
    for _ in range(ROUNDS):
        times = []
        for _ in range(PER_ROUND):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        medians.append(statistics.median(times))
        p95s.append(p95(times))
    cpu = (time.process_time() - cpu_start) * 1000 / (ROUNDS * PER_ROUND)
    return statistics.median(medians), statistics.median(p95s), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    args = parser.parse_args()
    if args.stories < 100:
        parser.error("use at least 100 stories")

    from storykit.site import Site
    from storykit.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        make_site(root, args.stories)
        withdrawn = add_states(root, args.stories)
        site = Site.open(root)
        app = create_app(site)
        make_users(app, args.stories)
        add_records(site, withdrawn)
        app.extensions["storykit"].index.snapshot()
        pages = [("home: advocate (~1/14 of the stories)", "adv03", "/"),
                 ("home: reviewer", "rev01", "/"),
                 ("home: publisher", "pub01", "/"),
                 ("home: admin", "adm01", "/"),
                 ("story list, for the menu's counts (reviewer)", "rev01", "/stories")]
        print(f"{args.stories} stories ({len(withdrawn)} withdrawn with 2 copies each, "
              f"consent ending or ended on {args.stories // 25 + args.stories // 40}), "
              f"{ROUNDS} rounds x {PER_ROUND} requests, in-process, warm (ms):")
        print(f"  {'page':46} {'median':>8} {'p95':>8} {'CPU/req':>8}")
        slow = []
        for label, who, url in pages:
            median, pct95, cpu = time_page(signed_in_client(app, who), url)
            print(f"  {label:46} {median:8.1f} {pct95:8.1f} {cpu:8.1f}")
            if pct95 >= 100:
                slow.append(label)
        if slow:
            raise SystemExit(f"p95 over 100 ms: {slow}")
        print("OK: every home page's p95 under 100 ms")


if __name__ == "__main__":
    main()
