"""Benchmark: a 30-story pack (target: under 15 s on 2 cores) with ``pdf``, ``booklet``,
``slides``, ``pptx`` and ``card``, built by ``storykit.packs.build_pack`` end to end:
consent decided for each story, every format rendered (one PDF a story, on both cores),
the zip with its manifest and consent notice written, and the pack and every artefact
recorded in the distribution log.

Builds a throw-away site of 30 fictional stories (a few sections each, two quotes, a
picture in every fifth), for ``social_media`` (quote cards are made only for that use).
Prints the first (cold) build and the median of the warm ones: wall clock, CPU seconds
(this process and every child it waited for: the PDF renders run in forked children), the
peak memory of this process and of the largest child, and the zip's size.

Run: . .venv/bin/activate && python bench/bench_packs.py [--runs N] [--stories N]
The machine may be shared: CPU seconds are steadier than wall time; read medians.
"""

from __future__ import annotations

import argparse
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

from storykit import dates
from storykit.packs import PackDefinition, build_pack
from storykit.site import Site

TARGET_SECONDS = 15.0
FORMATS = ("pdf", "booklet", "slides", "pptx", "card")
USE = "social_media"
ON = dt.date(2027, 3, 1)
TOML = '[site]\ntitle = "Bench stories"\norganisation = "Example NHS Trust"\n'
PARAGRAPH = ("On the second night the nurse sat with me while the baby fed, and she showed me "
             "which buzzer to press and told me it was fine to press it. ")


def consent() -> str:
    version = {"version": 1, "recorded": dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC),
               "status": "active", "given_by": "self", "method": "written",
               "granted": dt.date(2026, 9, 2), "expires": dt.date(2029, 9, 2),
               "uses": [USE, "board"], "media": ["text", "quotes", "photo"],
               "identification": "pseudonym", "signoff_required": False}
    return yaml.safe_dump({"versions": [version]}, sort_keys=False)


def write_story(root: Path, index: int) -> None:
    folder = root / "stories" / f"st-bench{index:02d}"
    (folder / "media").mkdir(parents=True, exist_ok=True)
    front = {"title": f"Bench story {index}", "slug": f"bench-{index}", "status": "approved",
             "service": "Maternity", "summary": "What helped during three nights on the ward.",
             "storyteller": {"name": "Morwenna Tregarthen", "pseudonym": "Leila", "role": "patient"},
             "quotes": ["One kind sentence at three in the morning is worth more than a "
                        "leaflet.", "Nobody rushed me, and I felt like a person again."],
             "changes": ["We explain the call bell to every new parent."],
             "asks": ["Fund a night feeding adviser."]}
    if index % 5 == 0:
        front["images"] = [{"file": "media/ward.jpg", "alt": "A hospital cot by a bed",
                            "kind": "photo"}]
        image = Image.new("RGB", (1600, 1000), (240, 228, 200))
        ImageDraw.Draw(image).rectangle((300, 500, 1300, 900), fill=(0, 94, 184))
        image.save(folder / "media" / "ward.jpg", quality=85)
    body = "\n\n".join(f"## Part {s + 1}\n\n{PARAGRAPH * 3}\n\n{PARAGRAPH * 2}"
                       for s in range(3))
    text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body + "\n"
    (folder / "story.md").write_text(text, encoding="utf-8")
    (folder / "consent.yml").write_text(consent(), encoding="utf-8")


def make_site(root: Path, stories: int) -> Site:
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    for index in range(stories):
        write_story(root, index)
    return Site.open(root)


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_once(site: Site, definition: PackDefinition, out: Path) -> tuple[float, float, int]:
    """``(wall seconds, CPU seconds, zip bytes)`` of one build."""
    if out.exists():
        out.unlink()
    cpu = cpu_seconds()
    start = time.perf_counter()
    result = build_pack(site, definition, out, by="bench")
    wall = time.perf_counter() - start
    assert len(result.views) == len(definition.stories), "every story should be in the pack"
    return wall, cpu_seconds() - cpu, out.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="warm builds to take the median "
                                                             "of (default 3)")
    parser.add_argument("--stories", type=int, default=30, help="stories in the pack (30)")
    args = parser.parse_args()
    dates.FIXED_TODAY = ON  # decide as of the stories' fictional dates
    with tempfile.TemporaryDirectory(prefix="bench-packs-") as tmp:
        root = Path(tmp)
        site = make_site(root / "site", args.stories)
        site.database.connection()  # the database is made before timing starts
        definition = PackDefinition(use=USE, formats=FORMATS, stories=tuple(
            f"st-bench{i:02d}" for i in range(args.stories)), length="summary",
            meeting="Bench meeting", recipients=("Bench readers",))
        out = root / "pack.zip"
        cold = build_once(site, definition, out)
        warm = [build_once(site, definition, out) for _ in range(args.runs)]
    walls = [w for w, _c, _s in warm]
    cpus = [c for _w, c, _s in warm]
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    median = statistics.median(walls)
    print(f"{args.stories}-story pack, formats {', '.join(FORMATS)} (summary decks), "
          f"{os.cpu_count()} cores")
    print(f"  cold build:           {cold[0]:6.2f} s wall, {cold[1]:6.2f} s CPU")
    print(f"  warm builds (median of {len(warm)}): {median:6.2f} s wall, "
          f"{statistics.median(cpus):6.2f} s CPU (range {min(walls):.2f}-{max(walls):.2f} s)")
    print(f"  zip: {warm[-1][2] / 1e6:.1f} MB; peak memory: this process {peak_self:.0f} MB, "
          f"largest child {peak_child:.0f} MB")
    print(f"  target: under {TARGET_SECONDS:.0f} s -> "
          f"{'met' if median < TARGET_SECONDS else 'NOT met'} "
          "(wall time on a shared machine; CPU seconds show the work itself)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
