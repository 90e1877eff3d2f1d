"""Benchmark: load and validate every story of a large site, then decide consent for one use.

Generates N synthetic, fictional stories (default 10,000: about 600-word bodies, two consent
versions each, varied identification, uses and statuses) into a temporary site, then times

    Site.open(root); site.store.load_all(); site.decide(story, use) for every story

with a fresh Site each run (cold in-process caches). Two figures are printed:

* cold: the instance parse cache (instance/cache/stories.marshal) is deleted before each run,
  so every story.md and consent.yml is read, parsed and validated (this run also writes the
  cache, as a first run on a site would);
* warm instance cache: the cache file from the previous run is kept, so unchanged files are
  not parsed again (what every later command on an unchanged site pays).

CPU seconds include the worker processes a cold load parses in. On a shared machine, compare
CPU seconds and run before/after back to back.

Files are in the OS page cache either way (they were just written). Target: 10,000 stories
cold in under 2 s on the project's 2-core machine.

Run:   . .venv/bin/activate && python bench/bench_load.py [-n 10000] [--runs 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from storykit.model import DEFAULT_USES, IDENTIFICATION, ROLES
from storykit.site import Site

ON = dt.date(2027, 3, 1)
FIRST = ["Aisha", "Gareth", "Siobhan", "Tomasz", "Priya", "Oluwaseun", "Mei", "Callum", "Fatima",
         "Dylan", "Niamh", "Kwame", "Rhian", "Imran", "Beth", "Jonah"]
LAST = ["Rahman", "Lloyd", "Pegg", "O'Brien", "Nowak", "Okafor", "Smith-Jones", "Evans", "Khan",
        "Hughes", "Mensah", "Price", "Doyle", "Begum", "Walsh", "Morgan"]
STAFF = [("Midwife Carol Pegg", "the night midwife"), ("Dr Amir Jones", "the consultant"),
         ("Nurse Pat Lee", "a nurse on the front desk"), ("Sister Ruth Owen", "the ward sister"),
         ("Mr Dev Patel", "the surgeon"), ("Sam the porter", "a porter")]
SERVICES = ["Maternity", "Outpatients", "Emergency department", "Cardiology", "Mental health",
            "Children's ward", "Stroke unit", "Community nursing", "Oncology", "Diabetes clinic"]
TAGS = ["communication", "kindness", "waiting", "discharge", "night staff", "parking", "food",
        "pain", "carers", "letters", "language", "dignity", "access", "appointments"]
WORDS = [
    'the', 'a', 'and', 'to', 'of', 'in', 'was', 'it', 'I', 'we', 'my', 'me', 'that', 'they',
    'on', 'for', 'with', 'at', 'she', 'he', 'but', 'when', 'then', 'what', 'not', 'had', 'so',
    'could', 'would', 'were', 'ward', 'nurse', 'doctor', 'night', 'time', 'day', 'baby', 'mum',
    'dad', 'bed', 'letter', 'phone', 'appointment', 'waiting', 'room', 'clinic', 'hours',
    'told', 'asked', 'felt', 'knew', 'wanted', 'helped', 'kind', 'tired', 'scared', 'pain',
    'water', 'tea', 'chair', 'light', 'buzzer', 'door', 'corridor', 'sign', 'form', 'name',
    'list', 'test', 'result', 'plan', 'home', 'car', 'bus', 'family', 'sister', 'brother',
    'friend', 'morning', 'evening', 'week', 'month', 'nobody', 'somebody', 'everyone', 'again',
    'still', 'just', 'only', 'really'
]
HEADINGS = ["What happened", "What helped", "What could be better", "What I would say to staff",
            "Since then"]
STATUSES = (["published"] * 8 + ["approved"] * 4 + ["draft"] * 3 + ["in_review"] * 2
            + ["changes_requested", "withdrawn", "archived"])
USES = list(DEFAULT_USES)
TOML = '[site]\ntitle = "Benchmark stories"\norganisation = "Example NHS Trust"\n'


def sentence(rng: random.Random, names: list[str]) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    if names and rng.random() < 0.25:
        words.insert(rng.randrange(len(words)), rng.choice(names))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....!?")


def body_of(rng: random.Random, names: list[str], words: int = 600) -> str:
    out, count = [], 0
    headings = iter(rng.sample(HEADINGS, 3))
    while count < words:
        if out and rng.random() < 0.15:
            out.append("## " + next(headings, "And finally"))
        paragraph = " ".join(sentence(rng, names) for _ in range(rng.randint(3, 6)))
        count += len(paragraph.split())
        out.append(paragraph)
    return "\n\n".join(out) + "\n"


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def story_md(rng: random.Random, n: int) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    people = rng.sample(STAFF, rng.randint(0, 3))
    names = [first, f"{first} {last}"] + [p[0] for p in people]
    status = rng.choice(STATUSES)
    revision = rng.randint(1, 9)
    created = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
    updated = created + dt.timedelta(days=rng.randint(0, 60))
    lines = [
        "---",
        f"title: {q(f'Story {n}: ' + sentence(rng, [])[:-1])}",
        f"slug: story-{n}",
        f"status: {status}",
        f"service: {q(rng.choice(SERVICES))}",
        f"tags: [{', '.join(rng.sample(TAGS, rng.randint(2, 4)))}]",
        f"summary: {q(sentence(rng, []))}",
        "storyteller:",
        f"  name: {q(f'{first} {last}')}",
        f"  pseudonym: {rng.choice(['Leila', 'Sam', 'Robin', 'Alex'])}" if rng.random() < 0.8
        else None,
        f"  role: {rng.choice(ROLES)}",
    ]
    if people:
        lines.append("people:")
        for name, render_as in people:
            lines += [f"  - name: {q(name)}", f"    render_as: {q(render_as)}"]
    lines.append("quotes:")
    lines += [f"  - {q(sentence(rng, names))}" for _ in range(rng.randint(1, 3))]
    lines += ["speaker_notes: |", f"  {sentence(rng, [])}", f"  {sentence(rng, [])}"]
    if rng.random() < 0.3:
        lines += ["images:", f"  - file: media/photo-{n}.jpg", "    alt: \"A ward corridor at night\"",
                  "    kind: photo"]
    lines += [f"created: {created}", f"updated: {updated}", f"revision: {revision}", "---"]
    front = "\n".join(line for line in lines if line is not None)
    return front + "\n" + body_of(rng, names), f"{revision}"


def consent_yml(rng: random.Random, revision: int) -> str:
    granted = dt.date(2025, 6, 1) + dt.timedelta(days=rng.randint(0, 500))
    expires = granted + dt.timedelta(days=rng.choice([365, 730, 1095]))
    uses = rng.sample(USES, rng.randint(1, 7))
    ident = rng.choice(IDENTIFICATION)
    status = rng.choices(["active", "withdrawn", "pending"], [85, 5, 10])[0]
    child = rng.random() < 0.1
    version = [
        "    recorded: 2026-01-05T10:00:00Z",
        "    recorded_by: bench.advocate",
        "    status: {status}",
        f"    given_by: {'parent_with_pr' if child else rng.choice(['self'] * 9 + ['other'])}",
        "    capacity: presumed",
        f"    age_band: {'13_15' if child else 'adult'}",
        f"    reconsent_due: {granted + dt.timedelta(days=700)}" if child else None,
        "    method: written",
        "    taken_by: {name: \"Bench Advocate\", role: \"Patient experience\", "
        "involved_in_care: false}",
        f"    granted: {granted}",
        f"    expires: {expires}",
        f"    uses: [{', '.join(uses)}]",
        f"    media: [{', '.join(rng.sample(['text', 'quotes', 'photo'], rng.randint(1, 3)))}]",
        f"    identification: {ident}",
        "    signoff_required: true",
    ]
    v1 = "\n".join(x for x in version if x).replace("{status}", "pending")
    v2 = "\n".join(x for x in version if x).replace("{status}", status)
    v2 += f"\n    signed_off: {granted}\n    signed_off_revision: {revision}"
    if status == "withdrawn":
        v2 += ("\n    withdrawal: {requested: 2026-12-01, scope: stop_future_use, "
               "reason: \"Moved away\"}")
    v2 += "\n    notes: \"Widened after the storyteller read the final text.\""
    return f"versions:\n  - version: 1\n{v1}\n  - version: 2\n{v2}\n"


def generate(root: Path, count: int, seed: int = 2027) -> None:
    rng = random.Random(seed)
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    old = time.time() - 3600  # stories written an hour ago: settled for the instance cache
    for n in range(count):
        folder = root / "stories" / f"st-b{n:06d}"
        folder.mkdir()
        text, revision = story_md(rng, n)
        for name, data in (("story.md", text), ("consent.yml", consent_yml(rng, int(revision)))):
            path = folder / name
            path.write_text(data, encoding="utf-8")
            os.utime(path, (old, old))


def load_and_decide(root: Path, use: str) -> tuple[int, int, int]:
    site = Site.open(root)
    loaded = site.store.load_all()
    allowed = sum(site.decide(story, use, ON).allowed for story in loaded.stories)
    return len(loaded.stories), len(loaded.problems), allowed


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished worker processes (a cold load parses
    on every core)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_runs(root: Path, use: str, runs: int, cold: bool) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time is steadier on a busy machine)."""
    cache = root / "instance" / "cache"
    wall, cpu = [], []
    for _ in range(runs):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        start, start_cpu = time.perf_counter(), cpu_seconds()
        stories, problems, _ = load_and_decide(root, use)
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
        assert problems == 0, f"{problems} problems in generated stories"
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--stories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--use", default="board", choices=USES)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of a cold run")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args()

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="storykit-bench-"))
    root = base / "site"
    try:
        start = time.perf_counter()
        generate(root, args.stories)
        print(f"generated {args.stories} stories in {time.perf_counter() - start:.1f} s "
              f"({sum(p.stat().st_size for p in (root / 'stories').rglob('*.*')) / 1e6:.0f} MB)")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stories, problems, allowed = load_and_decide(root, args.use)  # warm the imports
        print(f"{stories} stories, {problems} problems, {allowed} allowed for {args.use}")

        cold = timed_runs(root, args.use, args.runs, cold=True)
        warm = timed_runs(root, args.use, args.runs, cold=False)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        shutil.rmtree(root / "instance" / "cache", ignore_errors=True)
        tracemalloc.start()
        load_and_decide(root, args.use)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        def show(label: str, times: tuple[list[float], list[float]]) -> None:
            wall, cpu = times
            print(f"{label:30} median {statistics.median(wall):6.3f} s wall, "
                  f"{statistics.median(cpu):6.3f} s CPU   "
                  f"(wall: {', '.join(f'{t:.2f}' for t in wall)})")

        print(f"load + validate + decide({args.use}) x {stories}, median of {args.runs}:")
        show("cold (every file parsed)", cold)
        show("warm instance cache", warm)
        print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"peak RSS: {rss_after / 1024:.0f} MiB (before loading: {rss_before / 1024:.0f} MiB); "
              f"peak Python heap for one cold load (tracemalloc): {traced_peak / 2**20:.0f} MiB")
        target = 2.0 * args.stories / 10_000
        verdict = "within" if statistics.median(cold[0]) < target else "OVER"
        print(f"target: {target:.2f} s cold -> {verdict} target")

        if args.profile:
            shutil.rmtree(root / "instance" / "cache", ignore_errors=True)
            profile = cProfile.Profile()
            profile.runcall(load_and_decide, root, args.use)
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
            print(out.getvalue())
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
