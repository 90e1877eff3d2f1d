"""Benchmark: PDFs with storykit_pdf against raw WeasyPrint.

Targets (issue 4):
  * a 50-story booklet within 1.10x of raw WeasyPrint rendering the same HTML with the same
    options (PDF/UA-1, same stylesheet, same pictures), both measured in this run;
  * 50 single-story PDFs at least 1.7x faster on 2 workers than on 1
    (``storykit.render.run_jobs`` forks one process per core for parallel formats).

"ours" is the whole ``storykit.render.render`` call: consent decisions, the child process
with its time and memory limits, pictures, templates, WeasyPrint, copying the PDF into place
and the distribution log. Peak memory is measured in a fresh process for each case (the
larger of the process's own peak RSS and its biggest child's).

The 50 stories are generated: about 600 words each, one 1000-pixel photo each, stored as the
upload step stores them. Everything is fictional.

Run: . .venv/bin/activate && python bench/bench_pdf.py
The machine has 2 noisy shared cores: read medians, not single runs.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import weasyprint
import yaml
from PIL import Image, ImageDraw

from storykit.images import prepare_image
from storykit.render import make_job, render
from storykit.site import Site

RUNS = 5
STORIES = 50
ON = dt.date(2027, 3, 1)
WORDS = ["ward", "night", "nurse", "baby", "feed", "help", "bed", "tea", "window", "garden",
         "shift", "doctor", "leaflet", "kind", "bell", "sleep", "morning", "visit", "family",
         "chair", "care", "plan", "talk", "listen", "wait", "home", "week", "day", "small",
         "quiet", "door", "light", "buzzer", "scan", "clinic", "team", "walk", "hand", "smile",
         "question", "answer"]
TOML = '[site]\ntitle = "Benchmark stories"\norganisation = "Example NHS Trust"\n'


# --- a generated site ----------------------------------------------------------------------

def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def body(rng: random.Random) -> str:
    parts = []
    for heading in ("What happened", "What helped", "What could be better", "Now"):
        parts.append(f"## {heading}")
        parts += [" ".join(sentence(rng) for _ in range(5)) for _ in range(3)]
    return "\n\n".join(parts) + "\n"


def photo(folder: Path, rng: random.Random) -> None:
    im = Image.new("RGB", (1600, 1067), tuple(rng.randint(150, 250) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y = rng.randint(0, 1500), rng.randint(0, 950)
        draw.ellipse((x, y, x + rng.randint(20, 300), y + rng.randint(20, 300)),
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))
    raw = folder / "raw.jpg"
    im.save(raw, quality=92)
    prepare_image(raw, folder / "media" / "photo.jpg", max_width=1000)
    raw.unlink()


def make_site(root: Path) -> list[str]:
    rng = random.Random(4)
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    ids = []
    for n in range(STORIES):
        story_id = f"st-bench{n:03d}"
        folder = root / "stories" / story_id
        folder.mkdir()
        front = {"title": f"Story {n + 1}: {sentence(rng)[:40].rstrip('.')}",
                 "slug": f"bench-story-{n:03d}", "status": "approved", "service": "Maternity",
                 "summary": sentence(rng), "storyteller": {"name": f"Bench Person {n}",
                                                           "pseudonym": "Sam", "role": "patient"},
                 "quotes": [sentence(rng)],
                 "images": [{"file": "media/photo.jpg", "alt": "A made-up picture of shapes",
                             "kind": "photo"}]}
        consent = {"versions": [{
            "version": 1, "recorded": dt.datetime(2026, 9, 2, 9, 0, tzinfo=dt.UTC),
            "status": "active", "given_by": "self", "method": "written",
            "granted": dt.date(2026, 9, 2), "expires": dt.date(2029, 9, 2),
            "uses": ["board"], "media": ["text", "quotes", "photo"],
            "identification": "pseudonym", "signoff_required": False}]}
        (folder / "story.md").write_text(
            "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body(rng), "utf-8")
        (folder / "consent.yml").write_text(yaml.safe_dump(consent, sort_keys=False), "utf-8")
        photo(folder, rng)
        ids.append(story_id)
    return ids


# --- the cases ------------------------------------------------------------------------------

def ours_booklet(site: Site, ids: list[str], out: Path) -> None:
    result = render(site, [site.store.get(i) for i in ids], "board", "booklet", out, on=ON)
    assert result.ok and len(result.artefacts) == 1


def singles(site: Site, ids: list[str], out: Path, workers: int) -> None:
    result = render(site, [site.store.get(i) for i in ids], "board", "pdf", out, on=ON,
                    workers=workers)
    assert len(result.artefacts) == len(ids)


def same_html(site: Site, ids: list[str], work: Path) -> tuple[str, str]:
    """The exact HTML and stylesheet the plugin gives WeasyPrint for the booklet."""
    from storykit_pdf import build, style

    views = [site.decide(site.store.get(i), "board", ON).view.without_notes() for i in ids]
    fmt = site.formats()["booklet"]
    job = make_job(site, fmt, "board", views, work, on=ON)
    pictures, _ = build.prepare_pictures(views, work, 1200)
    html = build.page_html(job, "pdf/booklet.html", views, pictures,
                           title="Benchmark stories - Trust board", draft=None)
    return html, style.stylesheet(job.theme, draft_mark=None, variant="pdf/ua-1")


def raw_weasyprint(html: str, css: str, base: Path, out: Path) -> None:
    """Plain WeasyPrint: same HTML, stylesheet and options, default fetcher, no limits."""
    fonts = weasyprint.text.fonts.FontConfiguration()
    sheet = weasyprint.CSS(string=css, font_config=fonts)
    weasyprint.HTML(string=html, base_url=str(base)).write_pdf(
        out, stylesheets=[sheet], font_config=fonts, pdf_variant="pdf/ua-1", pdf_tags=True)


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_check(workers: int) -> None:
    """Pure-Python work split over ``workers`` processes: the speed-up this machine can give
    right now (other people's jobs on the same cores lower it), for reading the PDF result."""
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(spin, [4_000_000] * 8))


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


# --- peak memory, one case per fresh process ----------------------------------------------------

def peak_mb() -> float:
    """The biggest peak resident set of this process and the children it forked.

    The process's own peak is read from VmHWM: ``ru_maxrss`` would carry over the peak of
    the benchmark process that started it (Linux keeps it across exec)."""
    status = Path("/proc/self/status").read_text()
    own = int(status.split("VmHWM:")[1].split()[0])  # kB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB, forked only
    return max(own, children) / 1024


def one_case(case: str, root: Path) -> None:
    site = Site.open(root)
    ids = sorted(p.name for p in (root / "stories").iterdir())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if case == "raw":
            html, css = same_html(site, ids, out / "work")
            raw_weasyprint(html, css, out, out / "raw.pdf")
        elif case == "booklet":
            ours_booklet(site, ids, out / "ours")
        else:
            singles(site, ids, out / "singles", int(case[-1]))
    print(json.dumps({"case": case, "peak_mb": round(peak_mb(), 1)}))


def measure_peak(case: str, root: Path) -> float:
    done = subprocess.run([sys.executable, __file__, "--peak", case, str(root)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


# --- main -----------------------------------------------------------------------------------------

def main() -> None:
    with tempfile.TemporaryDirectory(prefix="storykit-bench-pdf-") as tmp:
        root = Path(tmp) / "site"
        ids = make_site(root)
        site = Site.open(root)
        out = Path(tmp) / "out"
        html, css = same_html(site, ids, out / "work")
        ours_booklet(site, ids, out / "warm")  # warm fonts and imports for both
        times: dict[str, list[float]] = {"raw": [], "booklet": [], "1 worker": [],
                                         "2 workers": [], "cpu 1": [], "cpu 2": []}
        cases = {"raw": lambda run: raw_weasyprint(html, css, out, out / "raw.pdf"),
                 "booklet": lambda run: ours_booklet(site, ids, out / f"b{run}"),
                 "1 worker": lambda run: singles(site, ids, out / f"s1-{run}", 1),
                 "2 workers": lambda run: singles(site, ids, out / f"s2-{run}", 2),
                 "cpu 1": lambda run: cpu_check(1), "cpu 2": lambda run: cpu_check(2)}
        for run in range(RUNS):  # interleaved, so noise hits every case alike
            for name, case in cases.items():
                times[name].append(timed(partial(case, run)))
        med = {k: statistics.median(v) for k, v in times.items()}
        pages = same_output(out / "raw.pdf", out / "b0" / "booklet-board.pdf")
        peaks = {"raw": measure_peak("raw", root), "booklet": measure_peak("booklet", root),
                 "1 worker": measure_peak("singles1", root),
                 "2 workers": measure_peak("singles2", root)}
    report(med, times, peaks, pages)


def same_output(raw: Path, ours: Path) -> int:
    """Check both booklets are the same document (pages, pictures, size); their page count."""
    from pypdf import PdfReader

    a, b = PdfReader(raw), PdfReader(ours)
    assert len(a.pages) == len(b.pages), (len(a.pages), len(b.pages))
    sizes = raw.stat().st_size, ours.stat().st_size
    assert abs(sizes[0] - sizes[1]) < 0.02 * sizes[0], sizes
    return len(a.pages)


def report(med: dict[str, float], times: dict[str, list[float]], peaks: dict[str, float],
           pages: int) -> None:
    print(f"storykit_pdf benchmark: {STORIES} generated stories, medians of {RUNS} runs "
          "(2 noisy shared cores)")
    labels = {"raw": f"raw WeasyPrint, booklet HTML ({pages} pages)",
              "booklet": "storykit booklet (render(), limits, log)",
              "1 worker": f"{STORIES} single PDFs, 1 worker",
              "2 workers": f"{STORIES} single PDFs, 2 workers"}
    for key, label in labels.items():
        runs = ", ".join(f"{t:.2f}" for t in times[key])
        print(f"  {label:46} median {med[key]:6.2f} s  peak {peaks[key]:6.0f} MB  ({runs})")
    ratio = med["booklet"] / med["raw"]
    speedup = med["1 worker"] / med["2 workers"]
    print(f"booklet / raw WeasyPrint: {ratio:.3f}x (target <= 1.10x) "
          f"{'PASS' if ratio <= 1.10 else 'FAIL'}")
    print(f"single PDFs, 2 workers vs 1: {speedup:.2f}x faster (target >= 1.7x) "
          f"{'PASS' if speedup >= 1.7 else 'FAIL'}")
    ceiling = med["cpu 1"] / med["cpu 2"]
    print(f"machine check: a pure-Python loop on 2 processes vs 1 ran {ceiling:.2f}x faster in "
          f"this run (medians {med['cpu 1']:.2f} s / {med['cpu 2']:.2f} s); load average now "
          f"{Path('/proc/loadavg').read_text().split()[0]}. Below about 1.9x, other jobs are "
          "using the cores and the PDF speed-up cannot reach its target either.")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--peak":
        one_case(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
