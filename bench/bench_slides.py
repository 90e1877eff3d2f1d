"""Benchmark: slide decks (targets: a 50-slide deck to ``slides-pdf`` in under 2 s, and a
50-slide PowerPoint in under 1 s).

Builds a throw-away site whose four fictional stories (two photos) plan to exactly 50 slides,
then times ``storykit.render.render`` end to end (consent decision, slide plan, rendering,
atomic write, distribution log) for each format. Prints the first (cold) run, the median of
5 warm runs (wall clock, and CPU time including the WeasyPrint child, which shows the cost when
other work shares the cores), and peak memory: this process's, and the WeasyPrint child's
(the PDF formats run WeasyPrint in a forked child with time and memory limits).

Run: . .venv/bin/activate && python bench/bench_slides.py
The machine has 2 noisy shared cores: read medians, not single runs.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image, ImageDraw
from storykit_slides.plan import plan_deck

from storykit.render import make_job, render
from storykit.site import Site

RUNS = 5
TARGET_SLIDES = 50
ON = dt.date(2027, 3, 1)
TARGETS = {"slides-pdf": 2.0, "pptx": 1.0}
TOML = '[site]\ntitle = "Bench stories"\norganisation = "Example NHS Trust"\n'
PARAGRAPH = ("On the second night the nurse sat with me while the baby fed, and she showed me "
             "which buzzer to press and told me it was fine to press it. ")


def consent() -> str:
    version = {"version": 1, "recorded": dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC),
               "status": "active", "given_by": "self", "method": "written",
               "granted": dt.date(2026, 9, 2), "expires": dt.date(2029, 9, 2),
               "uses": ["board"], "media": ["text", "quotes", "photo"],
               "identification": "pseudonym", "signoff_required": False}
    return yaml.safe_dump({"versions": [version]}, sort_keys=False)


def write_story(root: Path, index: int, sections: int) -> None:
    folder = root / "stories" / f"st-bench{index:02d}"
    (folder / "media").mkdir(parents=True, exist_ok=True)
    front = {"title": f"Bench story {index}", "slug": f"bench-{index}", "status": "approved",
             "service": "Maternity", "storyteller": {"name": "Bench Person", "pseudonym": "Leila",
                                                     "role": "patient"},
             "content_warning": "Talks about a baby being unwell.",
             "quotes": ["One kind sentence at three in the morning is worth more than a leaflet."],
             "speaker_notes": "Pause after the quote.",
             "changes": ["We explain the call bell to every new parent."],
             "asks": ["Fund a night feeding adviser."]}
    if index < 2:
        front["images"] = [{"file": "media/ward.jpg", "alt": "A hospital cot by a bed",
                            "kind": "photo"}]
        im = Image.new("RGB", (1600, 1000), (240, 228, 200))
        ImageDraw.Draw(im).rectangle((300, 500, 1300, 900), fill=(0, 94, 184))
        im.save(folder / "media" / "ward.jpg", quality=85)
    body = "\n\n".join(f"## Part {s + 1}\n\n{PARAGRAPH * 3}\n\n{PARAGRAPH * 2}"
                       for s in range(sections))
    text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body + "\n"
    (folder / "story.md").write_text(text, encoding="utf-8")
    (folder / "consent.yml").write_text(consent(), encoding="utf-8")


def build_site(root: Path) -> tuple[Site, list]:
    """Four stories whose deck is exactly 50 slides (more sections until it is)."""
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    sections = [1, 1, 1, 1]
    while True:
        for i, n in enumerate(sections):
            write_story(root, i, n)
        site = Site.open(root)
        stories = [site.store.get(f"st-bench{i:02d}") for i in range(4)]
        count = slide_count(site, stories)
        if count >= TARGET_SLIDES:
            break
        sections[count % 4] += 1
    if count != TARGET_SLIDES:
        sys.exit(f"could not make exactly {TARGET_SLIDES} slides (got {count})")
    return site, stories


def slide_count(site: Site, stories: list) -> int:
    fmt = site.formats()["slides"]
    views = [site.decide(s, "board", ON).view for s in stories]
    job = make_job(site, fmt, "board", views, Path("/nonexistent"), on=ON)
    return len(plan_deck(job))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the WeasyPrint forks)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_format(site: Site, stories: list, fmt: str,
                out: Path) -> tuple[float, list[float], list[float]]:
    """``(cold wall time, warm wall times, warm CPU times)`` of rendering the deck."""
    walls, cpus = [], []
    for _ in range(RUNS + 1):
        start, cpu = time.perf_counter(), cpu_seconds()
        result = render(site, stories, "board", fmt, out / fmt, on=ON, by="bench")
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
        assert result.ok and len(result.artefacts) == 1
    return walls[0], walls[1:], cpus[1:]


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="storykit-bench-slides-") as tmp:
        site, stories = build_site(Path(tmp) / "site")
        print(f"deck: {TARGET_SLIDES} slides from {len(stories)} stories, 2 photos; "
              f"medians of {RUNS} warm runs (2 noisy shared cores)")
        failed = False
        print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for fmt in ("slides", "pptx", "slides-pdf", "handout"):
            cold, warm, cpus = time_format(site, stories, fmt, Path(tmp) / "out")
            median = statistics.median(warm)
            target = TARGETS.get(fmt)
            verdict = ""
            if target is not None:
                ok = median < target
                failed |= not ok
                verdict = f"  target < {target:.1f} s: {'met' if ok else 'MISSED'}"
            print(f"{fmt:11} cold {cold:6.3f} s   median {median:6.3f} s   "
                  f"(min {min(warm):.3f}, max {max(warm):.3f}; median CPU "
                  f"{statistics.median(cpus):.3f} s){verdict}")
        print(f"peak memory: this process {peak_mb(resource.RUSAGE_SELF):.0f} MB, "
              f"largest WeasyPrint child {peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")
        if failed:
            sys.exit(1)


if __name__ == "__main__":
    main()
