"""Benchmark: privacy checks over 1,000 stories of about 600 words each.

Run: ``python bench/bench_privacy.py``. Prints the median of 5 runs (time per 1,000 stories and
per story) and peak memory. The target is well under 1 ms per story. The machine is noisy
(2 shared cores), so only the median means anything.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import tracemalloc

from storykit import model as m
from storykit.privacy import find_privacy_issues

STORIES = 1000
WORDS = 600
RUNS = 5
PROSE = ("the ward was quiet at night and the midwife came when I pressed the buzzer "
         "we waited for the scan results for three weeks in 2019 my mum was worried "
         "nobody told us which bay to go to the parking cost £12.50 a day on Ward 7 "
         "I wanted to know what would happen next and who to ask at the front desk")
VOCAB = PROSE.split()
EXTRAS = ["999 000 0018", "07700 900123", "SW1A 2AA", "jo@example.org", "born on 12/03/1984",
          "Aisha", "Mrs Rahman", "Carol Pegg", "B12 2nd", "12345678"]


def make_story(rng: random.Random, i: int) -> m.Story:
    """A story of WORDS words in paragraphs, with a few details the checks should find."""
    words = [rng.choice(VOCAB) for _ in range(WORDS)]
    for _ in range(3):
        words[rng.randrange(WORDS)] = rng.choice(EXTRAS)
    paragraphs = [" ".join(words[j:j + 60]) + "." for j in range(0, WORDS, 60)]
    story = m.Story(
        id=f"st-bench{i:04d}", title=f"Story {i}", slug=f"story-{i}", status="approved",
        storyteller=m.Storyteller("Aisha Rahman", "patient", "Leila"),
        body="\n\n".join(paragraphs), summary="What helped on the ward.",
        people=[m.Person("Midwife Carol Pegg", "the night midwife")],
        quotes=["One kind sentence is worth more than a leaflet."],
    )
    story.consent = [m.ConsentVersion(
        version=1, recorded=dt.datetime(2026, 9, 2, tzinfo=dt.UTC), status="active",
        given_by="self", method="written", granted=dt.date(2026, 9, 2),
        expires=dt.date(2029, 9, 2), uses=["board"], media=["text", "quotes"],
        identification="pseudonym", signoff_required=False)]
    return story


def run(stories: list[m.Story]) -> tuple[float, int]:
    start = time.perf_counter()
    found = sum(len(find_privacy_issues(s)) for s in stories)
    return time.perf_counter() - start, found


def main() -> None:
    rng = random.Random(42)
    stories = [make_story(rng, i) for i in range(STORIES)]
    run(stories[:50])  # warm up (regex compilation)
    times = []
    for _ in range(RUNS):
        seconds, found = run(stories)
        times.append(seconds)
    tracemalloc.start()
    run(stories)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(times)
    print(f"privacy checks: {STORIES} stories x {WORDS} words, {found} findings")
    print(f"  median of {RUNS}: {median * 1000:.0f} ms per {STORIES} stories, "
          f"{median / STORIES * 1e6:.0f} us per story (runs: "
          + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms)")
    print(f"  peak memory while scanning (tracemalloc): {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
