"""Benchmark who-sees-which-stories (``storykit.web.listing.visible``) at 10,000 stories:
the list behind the story list, the packs form, the review and publishing queues and the
dashboards, for one person in each role.

Uses bench_app.py's synthetic site (mixed statuses; 14 advocates own the stories between
them, 2 reviewers, 2 publishers, 2 admins). For each role and each question (every story
they may see; only the approved ones), 7 rounds of 50 calls; prints the median over the
rounds of the CPU time of one call (process time: steadier than wall time on a busy machine)
and how many stories came back.

    python bench/bench_listing.py                  # 10,000 stories
    python bench/bench_listing.py --stories 2000

Figures are from a 2-core machine shared with other work: compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_app import make_site, make_users  # noqa: E402 - the same synthetic site

ROUNDS = 7
CALLS = 50
PEOPLE = (("advocate", "adv03"), ("reviewer", "rev01"), ("publisher", "pub01"),
          ("admin", "adm01"))
QUESTIONS = (("every story they may see", None), ("approved only", ("approved",)))


def cpu_ms(call) -> float:
    """The median over ROUNDS of the CPU milliseconds one ``call()`` takes."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(CALLS):
            call()
        rounds.append((time.process_time() - start) * 1000 / CALLS)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    args = parser.parse_args()
    if args.stories < 100:
        parser.error("use at least 100 stories")

    from storykit.site import Site
    from storykit.web import accounts, create_app
    from storykit.web.listing import visible

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        make_site(root, args.stories)
        app = create_app(Site.open(root))
        make_users(app, args.stories)
        st = app.extensions["storykit"]
        snap = st.index.snapshot()
        conn = st.db()
        print(f"{len(snap.stories)} stories; CPU ms of one call, median of {ROUNDS} rounds "
              f"of {CALLS}:")
        print(f"  {'who':10} {'question':26} {'stories':>8} {'CPU ms':>8}")
        for role, name in PEOPLE:
            user = accounts.by_name(conn, name)
            for label, statuses in QUESTIONS:
                found = visible(user, snap, statuses)
                took = cpu_ms(lambda u=user, s=statuses: visible(u, snap, s))
                print(f"  {role:10} {label:26} {len(found):8} {took:8.2f}")


if __name__ == "__main__":
    main()
