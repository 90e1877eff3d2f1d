"""Benchmark: quote cards (target: one card in under 50 ms).

Prints medians of 7 runs and peak memory for:
  * one card per size: layout + drawing + PNG encoding, in memory (fonts warm);
  * one story through ``storykit.render.render`` (consent decision, 3 cards written
    atomically with alt-text files and the JSON list, distribution log).

Run: . .venv/bin/activate && python bench/bench_cards.py
The machine has 2 noisy shared cores: read medians, not single runs.
"""

from __future__ import annotations

import datetime as dt
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from storykit_cards.cards import Palette, draw_card, png_bytes
from storykit_cards.layout import SIZES, Fonts, card_quote, fit_card

from storykit.render import render
from storykit.site import Site

RUNS = 7
THEMES = Path(__file__).resolve().parent.parent / "themes"
FONTS = Fonts(THEMES / "nhs/static/fonts/LiberationSans-Regular.ttf",
              THEMES / "nhs/static/fonts/LiberationSans-Bold.ttf")
PALETTE = Palette(primary="#005EB8", on_primary="#FFFFFF", text="#212B32", background="#FFFFFF")
QUOTE = ("At three in the morning, one kind sentence from the night midwife was worth more "
         "than a leaflet. She showed me the buzzer and said it was fine to press it.")

STORY = f"""---
title: Night feeds on the postnatal ward
slug: night-feeds
status: approved
storyteller:
  name: Bench Person
  pseudonym: Leila
  role: patient
quotes:
  - "{QUOTE}"
---
A fictional story used only for benchmarking.
"""
CONSENT = """versions:
  - version: 1
    recorded: 2026-09-02T14:10:00Z
    status: active
    given_by: self
    method: written
    granted: 2026-09-02
    expires: 2029-09-02
    uses: [social_media]
    media: [text, quotes]
    identification: pseudonym
    signoff_required: false
"""


def timed(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float, float]:
    """(median, min, max) milliseconds of ``runs`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def traced_peak(fn: Callable[[], object]) -> float:
    """Peak Python-allocated memory (MB) during one call. Pillow's image buffers are
    allocated in C and not traced: the raw RGB image adds width x height x 3 bytes."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def one_card(size) -> bytes:
    layout = fit_card(card_quote(QUOTE), "\u2014 Leila, patient (not their real name)",
                      ["Example NHS Trust"], size, FONTS)
    return png_bytes(draw_card(layout, PALETTE, FONTS))


def make_site(root: Path) -> Site:
    folder = root / "stories" / "st-bench01"
    folder.mkdir(parents=True)
    (root / "storykit.toml").write_text('[site]\ntitle = "Bench"\norganisation = '
                                        '"Example NHS Trust"\n', encoding="utf-8")
    (folder / "story.md").write_text(STORY, encoding="utf-8")
    (folder / "consent.yml").write_text(CONSENT, encoding="utf-8")
    return Site.open(root)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    print(f"quote card benchmark: medians of {RUNS} runs (2 noisy shared cores)")
    print(f"  peak RSS after imports: {peak_rss_mb():.0f} MB")
    start = time.perf_counter()
    one_card(SIZES[0])
    print(f"  first card in a fresh process (fonts loading): "
          f"{(time.perf_counter() - start) * 1000:.1f} ms")
    for size in SIZES:
        med, lo, hi = timed(lambda size=size: one_card(size))
        png_kb = len(one_card(size)) / 1024
        raw_mb = size.width * size.height * 3 / 1e6
        print(f"  one {size.name} card (layout + draw + PNG): median {med:.1f} ms "
              f"(min {lo:.1f}, max {hi:.1f}), PNG {png_kb:.0f} KB, peak traced Python "
              f"{traced_peak(lambda size=size: one_card(size)):.1f} MB + {raw_mb:.1f} MB image")
    print(f"  peak RSS after the cards: {peak_rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        site = make_site(Path(tmp))
        story = site.store.find("st-bench01")
        out = Path(tmp) / "out"

        def whole_story():
            result = render(site, [story], "social_media", "card", out, on=dt.date(2027, 3, 1),
                            by="bench")
            assert len(result.artefacts) == 7, result

        med, lo, hi = timed(whole_story)
        print(f"  one story via render() (3 sizes, files written with fsync, log): "
              f"median {med:.1f} ms (min {lo:.1f}, max {hi:.1f})")
    print(f"  peak RSS after render(): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
