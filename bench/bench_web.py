"""Benchmark ``storykit build`` on realistic stories, with Pelican side by side on the same
content: cold, clean, no-change and one-edit builds, with and without pictures.

Generates N fictional published stories allowed for ``public_website`` (about 640 words
each, written as people write them: ``##`` headings, paragraphs with *emphasis*, **bold**
and links, bullet and numbered lists (one story in ten with a point nested in one), block
quotes, and one story in twenty writing _emphasis_ with underscores, which only
Python-Markdown converts; a service, a few tags, a summary, a pull quote) into a temporary
site, in two kinds:

- *text only*: no pictures;
- *pictured*: one story in five has a photo of its own, a distinct 1600x1200 JPEG from a
  phone (with EXIF), added as the browser app adds a picture (``storykit.web.uploads``: a
  clean 1600-pixel copy, which story.md names, and an 800-pixel one beside it);
- *hand-placed* (``--hand-placed``): the same, but each camera file copied into ``media/``
  as it is, with its EXIF, and no smaller copy: every picture must be decoded and re-encoded.

Each scenario runs 5 times, every run in a FRESH process (so no in-memory cache helps), and
the table has medians of: the whole process (``wall``: interpreter start, imports, plugin
loading, build), the build alone inside the process (``build``), the CPU seconds used by the
process and its worker processes (``cpu``: steadier than wall time when other work shares
the machine), the part of it spent in the kernel (``sys``: mostly creating files), and the
peak resident memory (getrusage) of the process and its workers. Last come ``storykit
build`` on the command line with no change and with one story edited.

**Pelican** (``pip install -e '.[bench]'``; ``./dev bench`` installs it) builds the same
stories (the same Markdown, title, date, service as category, tags, summary; pictures as
static files it copies without resizing; 50 stories a page, an Atom feed) from a folder of
its own, in fresh processes too: cold (no cache, no output) and a rebuild with its content
cache. The cold builds of the two take turns, run by run, before any other scenario, so
both meet the disk in the same state (see the notes on deleting below). The last lines
compare the cold builds (wall and CPU) with the targets.

    python bench/bench_web.py                     # 1000 stories, both kinds, Pelican too
    python bench/bench_web.py --stories 10000 --no-pelican
    python bench/bench_web.py --kinds pictured --hand-placed --runs 3
    python bench/bench_web.py --all-plugins       # also load every installed plugin

The scenarios:

- *cold (no instance, no output)*: the instance folder (parse cache, build caches, kept
  pictures) and the output removed before each build: a fresh clone on a new server;
- *first build of a new site*: a copy of the generated site, made before anything was
  built or deleted, built once: what a new site (or a fresh clone) gets;
- *clean, into a new folder*: the site's stories are known (store cache warm), the output
  goes to a folder no build has used;
- *clean (no output, store cache warm)*, *output deleted*: the build's caches and the
  output, or only the output, removed before the build (moved aside, and deleted after
  measuring);
- *clean, the last build deleted just before*: the built site and the build's caches
  deleted (``rm -rf``) just before each build;
- *no-change rebuild* and *one story edited*.

**Deleting just before a build costs the build time on some machines.** The test machine's
disk is ext4 without a journal. There, Linux does not reuse an inode freed in the last 60
seconds (300 while its inode table block is not yet written), and each new file searches
past every such inode of its block group first (``recently_deleted`` in
``fs/ext4/ialloc.c``). So for a minute or more after thousands of files were deleted, each
new file nearby takes up to 0.8 ms of kernel time instead of 0.02 ms, and the more files
were deleted, the longer. A bench that deleted the last run's output before every run would
pile up several runs' deletions and bill them to each build; so the scenarios above move
what they remove aside, except the one that shows this cost on its own (see its ``sys``
column: kernel time). The last line of the output measures it without storykit: creating
as many files where the built site was just deleted, and in a new folder. A disk with a
journal does not do this. After each deletion the bench calls ``sync``, so writing the
deletion back is not billed to the build either. Pelican's output is moved aside the same
way. Before each kind's cold builds, the bench waits (two minutes at most) until creating
300 files takes under 0.03 s again, and says how long it waited.

storykit's modules are compiled to bytecode first, as in an installed copy (a machine with
PYTHONDONTWRITEBYTECODE set would otherwise compile them again in every run).

To see storykit's own time without the disk's, put the generated site in memory:
``TMPDIR=/dev/shm python bench/bench_web.py``.

By default only the storykit_web plugin is loaded (``STORYKIT_LOAD_PLUGINS=storykit_web``),
so the figures are the web build's own; ``--all-plugins`` shows what other plugins' import
time adds to every command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
SETTLE_FAST, SETTLE_WAIT = 0.03, 120  # 0.1 ms a new file is a settled disk; seconds at most
PROBE = ".settle-probe-"  # folders the wait makes in the sites (not copied with them)
TARGETS = {"text": 5.0, "pictured": 3.0, "hand-placed": 3.0}  # times faster than Pelican
NO_CHANGE_TARGET, ONE_EDIT_TARGET = 0.15, 0.3  # seconds
KIND_LABELS = {"text": "text only", "pictured": "one in five pictured",
               "hand-placed": "one in five pictured, hand-placed camera files"}
TOML = """\
[site]
title = "Benchmark stories"
organisation = "Example NHS Trust"
base_url = "https://stories.example.nhs.uk/"
"""
SERVICES = ["Maternity", "Stroke rehabilitation", "District nursing", "Children's diabetes",
            "Dementia care", "Mental health crisis team", "Emergency department",
            "Neonatal unit", "Sexual health", "Cancer care", "Outpatients", "Physiotherapy"]
TAGS = ["carers", "discharge", "waiting", "communication", "kindness", "night staff",
        "children", "older people", "learning disability", "pain", "food", "visiting",
        "transport", "appointments", "families", "language", "dignity", "privacy", "noise",
        "sleep", "medicines", "continuity", "home care", "telephone", "letters"]
WORD_TEXT = ("the ward nurse came over and sat with me while I waited for news about my mum she "
             "explained what would happen next and I felt less afraid we had been there since "
             "morning nobody told us where to go the doctor listened carefully then drew a "
             "little picture on the back of a leaflet my daughter held my hand the tea trolley "
             "came round twice everyone was busy but somebody always stopped to check on us at "
             "home things were harder than we expected the district team rang every week it "
             "made a big difference to know someone would answer")
WORDS = WORD_TEXT.split()
HEADINGS = ["What happened", "What helped", "What could be better", "What I would say to staff",
            "Coming home", "The first night", "Since then", "What made the difference"]
LINKS = [("the leaflet about the ward", "https://www.nhs.uk/conditions/stroke/"),
         ("patient advice and liaison service", "https://www.nhs.uk/nhs-services/hospitals/"),
         ("the carers' support page", "https://www.nhs.uk/conditions/social-care-and-support/"),
         ("NHS 111", "https://111.nhs.uk/")]
BODY_WORDS = 435

RUNNER = """
import json, resource, sys, time
t0 = time.perf_counter()
from storykit.site import Site
site = Site.open(sys.argv[1])
site.plugins  # load plugins as the CLI does
from storykit_web.build import build_site
t1 = time.perf_counter()
out = sys.argv[2] if len(sys.argv) > 2 else None  # default: the site's build/site
report = build_site(site, out, by="bench")
t2 = time.perf_counter()
own = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"startup": t1 - t0, "build": t2 - t1, "rendered": report.rendered,
                  "listings": report.listings, "stories": report.stories,
                  "cpu": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
                  "sys": own.ru_stime + kids.ru_stime,
                  "rss_mb": max(own.ru_maxrss, kids.ru_maxrss) / 1024}))
"""

PELICAN_RUNNER = """
import json, logging, resource, sys, time
t0 = time.perf_counter()
from pelican import main
t1 = time.perf_counter()
main([sys.argv[1], "-o", sys.argv[2], "-s", sys.argv[3], "-q"])
t2 = time.perf_counter()
own = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"startup": t1 - t0, "build": t2 - t1, "rendered": 0, "listings": 0,
                  "stories": 0, "cpu": own.ru_utime + own.ru_stime + kids.ru_utime
                  + kids.ru_stime, "sys": own.ru_stime + kids.ru_stime,
                  "rss_mb": max(own.ru_maxrss, kids.ru_maxrss) / 1024}))
"""

PELICAN_CONF = """\
SITENAME = "Benchmark stories"
SITEURL = ""
RELATIVE_URLS = True
PATH = "content"
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 50
STATIC_PATHS = ["images"]
ARTICLE_URL = ARTICLE_SAVE_AS = "stories/{{slug}}.html"
FEED_ALL_ATOM = "feed.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
AUTHOR_SAVE_AS = AUTHORS_SAVE_AS = ""
CACHE_PATH = "cache"
CACHE_CONTENT = {cache}
LOAD_CONTENT_CACHE = {cache}
"""


# --- realistic stories ---------------------------------------------------------------------

def words(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(count)]


def sentence(rng: random.Random, count: int, marks: bool = True, star: str = "*") -> str:
    """A sentence of ``count`` words; with ``marks``, some emphasis (``star``), bold or a
    link."""
    parts = words(rng, count)
    if marks and count > 6:
        roll = rng.random()
        at = rng.randrange(1, count - 2)
        if roll < 0.25:
            parts[at] = f"{star}{parts[at]}{star}"
        elif roll < 0.40:
            parts[at:at + 2] = [f"**{parts[at]} {parts[at + 1]}**"]
        elif roll < 0.50:
            label, url = rng.choice(LINKS)
            parts.insert(at, f"[{label}]({url})")
    text = " ".join(parts)
    return text[0].upper() + text[1:] + rng.choice("....!?")


def paragraph(rng: random.Random, count: int, star: str = "*") -> str:
    out, done = [], 0
    while done < count:
        n = rng.randint(8, 18)
        out.append(sentence(rng, n, star=star))
        done += n
    return " ".join(out)


def story_body(rng: random.Random) -> str:
    """About 640 words: four sections, each a heading, paragraphs and one of a bullet list,
    a numbered list, a block quote or a sub-heading. One story in ten nests a point inside
    a bullet list; one in twenty writes emphasis with underscores (only Python-Markdown
    converts those)."""
    blocks: list[str] = []
    done = 0
    nested = rng.random() < 0.1
    star = "_" if rng.random() < 0.05 else "*"
    for i, heading in enumerate(rng.sample(HEADINGS, 4)):
        blocks.append(f"## {heading}")
        n = rng.randint(60, 80)
        blocks.append(paragraph(rng, n, star))
        done += n
        kind = rng.randrange(4) if i else 2
        if kind == 0:
            items = [f"- {sentence(rng, rng.randint(5, 11))}" for _ in range(rng.randint(3, 5))]
            if nested:
                items.insert(1, f"    - {sentence(rng, rng.randint(5, 9))}")
        elif kind == 1:
            items = [f"{k}. {sentence(rng, rng.randint(5, 11))}"
                     for k in range(1, rng.randint(3, 5) + 1)]
        elif kind == 2:
            items = [f"> {sentence(rng, rng.randint(14, 24))}",
                     f"> {sentence(rng, rng.randint(10, 18))}"]
        else:
            items = [f"### {rng.choice(['Afterwards', 'At night', 'The next day'])}"]
        blocks.append("\n".join(items))
        done += sum(len(item.split()) for item in items)
        n = max(30, (BODY_WORDS - done) // (4 - i)) if i < 3 else max(20, BODY_WORDS - done)
        blocks.append(paragraph(rng, n, star))
        done += n
    return "\n\n".join(blocks) + "\n"


class Story:
    """One generated story: what both storykit and Pelican are given."""

    def __init__(self, n: int, rng: random.Random, today: dt.date):
        self.n = n
        self.id = f"bn-{n:06d}"
        self.slug = f"story-{n}"
        self.title = f"Story number {n}: {' '.join(words(rng, 3))}"
        self.service = rng.choice(SERVICES)
        self.tags = rng.sample(TAGS, rng.randint(1, 4))
        self.summary = sentence(rng, 20, marks=False)
        self.quote = sentence(rng, 12, marks=False)
        self.day = today - dt.timedelta(days=30 + n % 300)
        self.body = story_body(rng)
        self.alt = "A hospital ward with a window and a chair by the bed"


def write_story(root: Path, story: Story, today: dt.date, picture: str | None) -> None:
    folder = root / "stories" / story.id
    folder.mkdir(parents=True, exist_ok=True)
    images = (f"images:\n  - {{file: {picture}, alt: \"{story.alt}\", kind: photo}}\n"
              if picture else "")
    (folder / "story.md").write_text(
        "---\n"
        f"title: \"{story.title}\"\n"
        f"slug: {story.slug}\nstatus: published\nservice: \"{story.service}\"\n"
        f"tags: [{', '.join(story.tags)}]\n"
        f"summary: \"{story.summary}\"\n"
        "storyteller: {name: \"Sam Example\", pseudonym: \"Robin\", role: patient}\n"
        f"quotes:\n  - \"{story.quote}\"\n{images}"
        f"created: {story.day}\nupdated: {story.day}\nrevision: 1\n---\n" + story.body,
        encoding="utf-8")
    granted = today - dt.timedelta(days=400)
    (folder / "consent.yml").write_text(
        "versions:\n  - version: 1\n    recorded: 2025-01-01T10:00:00Z\n    status: active\n"
        f"    given_by: self\n    method: written\n    granted: {granted}\n"
        f"    expires: {today + dt.timedelta(days=1000)}\n    uses: [public_website, board]\n"
        "    media: [text, quotes, photo]\n    identification: pseudonym\n"
        "    signoff_required: false\n", encoding="utf-8")


class Photos:
    """Distinct 1600x1200 phone photos (smooth shapes, a gradient and sensor noise, so they
    compress and decode like real ones), each saved with EXIF as a camera does."""

    def __init__(self, seed: int):
        from PIL import Image

        self.rng = random.Random(seed)
        self.noise = Image.effect_noise((1800, 1400), 28).convert("RGB")

    def make(self, path: Path) -> None:
        from PIL import Image, ImageDraw, ImageFilter, ImageOps

        rng = self.rng
        small = ImageOps.colorize(Image.linear_gradient("L").resize((400, 300)).rotate(
            rng.randint(0, 359)), self._colour(), self._colour())
        draw = ImageDraw.Draw(small)
        for _ in range(rng.randint(12, 30)):
            x, y = rng.randint(-50, 400), rng.randint(-50, 300)
            box = [x, y, x + rng.randint(10, 160), y + rng.randint(10, 160)]
            (draw.ellipse if rng.random() < 0.6 else draw.rectangle)(box, fill=self._colour())
        big = small.filter(ImageFilter.GaussianBlur(1.5)).resize((1600, 1200),
                                                                 Image.Resampling.BICUBIC)
        x, y = rng.randint(0, 200), rng.randint(0, 200)
        photo = Image.blend(big, self.noise.crop((x, y, x + 1600, y + 1200)), 0.1)
        exif = Image.Exif()
        exif[0x010F], exif[0x0110], exif[0x0112] = "ExamplePhone", "Model 7", 1
        photo.save(path, quality=90, exif=exif.tobytes())

    def _colour(self) -> tuple[int, int, int]:
        return (self.rng.randint(0, 255), self.rng.randint(0, 255), self.rng.randint(0, 255))


def make_sites(workdir: Path, count: int, kinds: list[str]) -> dict[str, tuple[Path, Path]]:
    """Generate each kind of site (storykit's and Pelican's) from the same stories."""
    today = dt.date.today()
    rng = random.Random(20261126)
    stories = [Story(n, rng, today) for n in range(count)]
    photos = Photos(7) if set(kinds) - {"text"} else None
    camera = workdir / "camera"
    if photos:
        camera.mkdir()
        for story in stories:
            if story.n % 5 == 2:
                photos.make(camera / f"{story.id}.jpg")
    sites = {}
    for kind in kinds:
        root, pelican = workdir / f"{kind}-site", workdir / f"{kind}-pelican"
        root.mkdir()
        (root / "storykit.toml").write_text(TOML, encoding="utf-8")
        (pelican / "content" / "images").mkdir(parents=True)
        for story in stories:
            picture = None
            if kind != "text" and story.n % 5 == 2:
                picture = add_picture(root / "stories" / story.id / "media",
                                      camera / f"{story.id}.jpg", kind)
                shutil.copy(root / "stories" / story.id / picture,
                            pelican / "content" / "images" / f"{story.slug}.jpg")
            write_story(root, story, today, picture)
            write_pelican_story(pelican, story, picture is not None)
        for cache in (False, True):
            (pelican / f"pelicanconf-{'cache' if cache else 'cold'}.py").write_text(
                PELICAN_CONF.format(cache=cache), encoding="utf-8")
        sites[kind] = (root, pelican)
    shutil.rmtree(camera, ignore_errors=True)
    return sites


def add_picture(media: Path, photo: Path, kind: str) -> str:
    """Put the camera file into the story's media/ folder as ``kind`` says; returns the
    file name story.md lists."""
    media.mkdir(parents=True)
    if kind == "hand-placed":
        shutil.copy(photo, media / "photo.jpg")
        return "media/photo.jpg"
    from storykit.web.uploads import store_image

    return store_image(photo, media).file


def write_pelican_story(pelican: Path, story: Story, pictured: bool) -> None:
    picture = (f"![{story.alt}]({{static}}/images/{story.slug}.jpg)\n\n" if pictured else "")
    (pelican / "content" / f"{story.slug}.md").write_text(
        f"Title: {story.title}\nDate: {story.day} 10:00\nCategory: {story.service}\n"
        f"Tags: {', '.join(story.tags)}\nSlug: {story.slug}\nSummary: {story.summary}\n\n"
        f"{picture}> {story.quote}\n\n{story.body}", encoding="utf-8")


# --- running -------------------------------------------------------------------------------

def run_build(site: Path, env: dict[str, str], out: Path | None = None) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(site), *([str(out)] if out else [])],
                          env=env, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def run_pelican(pelican: Path, env: dict[str, str], cache: bool) -> dict:
    conf = pelican / f"pelicanconf-{'cache' if cache else 'cold'}.py"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PELICAN_RUNNER, "content", "output", str(conf)],
                          cwd=pelican, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"Pelican failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def run_cli(site: Path, env: dict[str, str], edit: int | None = None) -> float:
    """Wall seconds of ``storykit build`` on the command line (after editing story ``edit``
    and waiting until the edit is older than the two seconds storykit does not trust)."""
    if edit is not None:
        edit_one(site, edit, settle=True)
    program = Path(sys.executable).with_name("storykit")  # the installed command
    command = [str(program)] if program.exists() else [sys.executable, "-m", "storykit"]
    start = time.perf_counter()
    subprocess.run([*command, "--site", str(site), "build"], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def move_aside(folder: Path, trash: Path | None) -> None:
    """Remove ``folder``; with ``trash``, move it there, to be deleted after measuring."""
    if not folder.exists():
        return
    if trash is None:
        shutil.rmtree(folder)
    else:
        trash.mkdir(exist_ok=True)
        folder.rename(trash / f"{len(os.listdir(trash))}-{folder.name}")


def forget_build(site: Path, cold: bool, keep_build_cache: bool = False,
                 trash: Path | None = None) -> None:
    """Remove the built site (and the build's caches, or the whole instance folder when
    ``cold``). With ``trash``, move them into that folder instead, to be deleted after the
    measuring: see the module's notes on deleting just before a build."""
    gone = [site / "build"]
    if not keep_build_cache:
        gone.append(site / "instance" / "cache" / "web-build")
    if cold:
        gone.append(site / "instance")
    for folder in gone:
        move_aside(folder, trash)
    os.sync()


def create_files(folder: Path, count: int) -> float:
    """Seconds to create ``count`` small files in a new ``folder``."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for n in range(count):
        with open(folder / f"page-{n}.html", "wb") as f:
            f.write(b"x" * 12_000)
    return time.perf_counter() - start


def settle_disk(places: list[Path]) -> None:
    """Before the cold builds: wait (at most SETTLE_WAIT seconds) until creating files is
    quick again in each of ``places`` (the folders the builds write in), so neither tool's
    figures include the disk's bookkeeping of files deleted before (see the notes on
    deleting at the top of this file; the text kind's scenarios delete, then the next kind's
    cold builds come). Each probe is a new folder inside the place, as a build's output
    folder is. The probes' files are kept until the end: deleting them would start the
    wait again."""
    os.sync()
    start = time.perf_counter()
    while True:
        took = max(create_files(place / f"{PROBE}{time.time_ns()}", 300) for place in places)
        waited = time.perf_counter() - start
        if took <= SETTLE_FAST or waited > SETTLE_WAIT:
            break
        time.sleep(5)
    if waited > 1:
        print(f"waited {waited:.0f} s for the disk to settle (creating 300 files took "
              f"{took:.2f} s at the end{'' if took <= SETTLE_FAST else ': still slow'})")


def file_system_probe(site: Path, workdir: Path, count: int) -> tuple[float, float]:
    """Seconds to create ``count`` small files where the clean build writes its story pages,
    just after deleting the built site (as the clean scenarios do), and in a new folder."""
    forget_build(site, False)
    after_delete = create_files(site / "build" / "site" / "stories", count)
    elsewhere = create_files(workdir / "probe-new-folder", count)
    return after_delete, elsewhere


def new_folder(folder: Path) -> Path:
    """An output folder no build has used (so nothing of an earlier build is reused, and
    the file system has not just deleted a thousand files there)."""
    os.sync()
    return folder


def compile_storykit() -> None:
    """Bytecode for storykit and its first-party plugins, as an installed copy has."""
    import compileall
    import importlib.util

    for name in ("storykit", "storykit_web", "storykit_pdf", "storykit_slides", "storykit_pptx",
                 "storykit_cards", "pelican"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def edit_one(site: Path, n: int, settle: bool = False) -> None:
    """Add a line to story ``n``; with ``settle``, wait until the edit is older than the two
    seconds in which storykit does not trust a file's stat (so the build after it sees one
    edited story, not also the one edited by the run before)."""
    story = site / "stories" / f"bn-{n:06d}" / "story.md"
    with story.open("a", encoding="utf-8") as f:
        f.write(f"\nEdited for the benchmark, run {n}.\n")
    if settle:
        time.sleep(2.1)


def summarise(name: str, results: list[dict]) -> dict:
    summary = {"scenario": name, "runs": len(results)}
    for key in ("wall", "startup", "build", "cpu", "sys"):
        summary[key] = statistics.median(r[key] for r in results)
    summary["rss_mb"] = max(r["rss_mb"] for r in results)
    for key in ("rendered", "listings", "stories"):
        summary[key] = results[-1][key]
    return summary


def scenario(name: str, env: dict[str, str], before, runs: int = RUNS) -> dict:
    """Run a build ``runs`` times, calling ``before(i)`` first; it returns the site to build
    and the output folder (None: the site's own build/site)."""
    results = []
    for i in range(runs):
        site, out = before(i)
        results.append(run_build(site, env, out))
    return summarise(name, results)


def cold_side_by_side(site: Path, pelican: Path | None, env: dict[str, str], runs: int,
                      trash: Path) -> tuple[dict, list[dict]]:
    """The cold builds, storykit's and Pelican's taking turns run by run, so both meet the
    disk in the same state (see the notes on deleting at the top): storykit's row, and
    Pelican's results (none without ``pelican``)."""
    ours, theirs = [], []
    for _ in range(runs):
        forget_build(site, True, trash=trash)
        ours.append(run_build(site, env))
        if pelican is not None:
            move_aside(pelican / "output", trash)
            move_aside(pelican / "cache", trash)
            os.sync()
            theirs.append(run_pelican(pelican, env, cache=False))
    return summarise("cold (no instance, no output)", ours), theirs


def bench_kind(kind: str, site: Path, workdir: Path, env: dict[str, str], runs: int,
               count: int, cold: dict) -> tuple[list[dict], dict[str, float]]:
    """Every other storykit scenario on one kind of site, after ``cold``: table rows, and
    the command-line figures."""
    copies = [workdir / f"{kind}-new-site-{i}" for i in range(runs)]
    for copy in copies:  # made now, before the bench deletes anything
        shutil.copytree(site, copy, ignore=shutil.ignore_patterns(f"{PROBE}*"))
    trash = workdir / "trash"  # what the scenarios remove, deleted after measuring
    rows = [
        cold,
        scenario("first build of a new site", env, lambda i: (copies[i], None), runs),
        scenario("clean, into a new folder each run", env,
                 lambda i: (site, new_folder(workdir / f"{kind}-new-{i}")), runs),
        scenario("clean (no output, store cache warm)", env,
                 lambda i: (site, forget_build(site, False, trash=trash)), runs),
        scenario("output deleted (instance caches kept)", env,
                 lambda i: (site, forget_build(site, False, keep_build_cache=True, trash=trash)),
                 runs),
        scenario("clean, the last build deleted just before", env,
                 lambda i: (site, forget_build(site, False)), runs),
        scenario("no-change rebuild", env, lambda i: (site, None), runs),
    ]
    run_cli(site, env)  # once first: the command keeps its own list of installed plugins
    cli = {"no change": statistics.median(run_cli(site, env) for _ in range(runs))}
    rows.append(scenario("one story edited", env,
                         lambda i: (site, edit_one(site, i * 37 % count, settle=True)), runs))
    cli["one edit"] = statistics.median(run_cli(site, env, edit=i * 53 % count)
                                        for i in range(runs))
    for copy in copies:
        move_aside(copy, trash)
    return rows, cli


def bench_pelican(pelican: Path, env: dict[str, str], runs: int,
                  cold: list[dict]) -> list[dict]:
    """Pelican's rows: its ``cold`` builds (made in turns with storykit's), then rebuilds
    with its content cache."""
    run_pelican(pelican, env, cache=True)  # fills its content cache
    warm = [run_pelican(pelican, env, cache=True) for _ in range(runs)]
    return [summarise("Pelican: cold (no cache, no output)", cold),
            summarise("Pelican: rebuild, content cache warm", warm)]


def print_table(title: str, rows: list[dict], cli: dict[str, float] | None) -> None:
    print(f"\n{title}")
    print(f"| {'scenario':40} | {'wall s':>7} | {'start s':>7} | {'build s':>7} | {'cpu s':>6} "
          f"| {'sys s':>5} | {'peak MB':>7} | {'pages':>5} | {'lists':>5} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 7}|{'-' * 9}|{'-' * 7}"
          f"|{'-' * 7}|")
    for r in rows:
        print(f"| {r['scenario']:40} | {r['wall']:7.3f} | {r['startup']:7.3f} | "
              f"{r['build']:7.3f} | {r['cpu']:6.2f} | {r['sys']:5.2f} | {r['rss_mb']:7.1f} | "
              f"{r['rendered']:5d} | {r['listings']:5d} |")
    for name, seconds in (cli or {}).items():
        print(f"| {'storykit build CLI, ' + name:40} | {seconds:7.3f} | {'':7} | {'':7} | "
              f"{'':6} | {'':5} | {'':7} | {'':5} | {'':5} |")


def verdicts(kind: str, rows: list[dict], cli: dict[str, float],
             pelican: list[dict] | None) -> list[str]:
    """The lines for the issue note: ratios to Pelican and the targets."""
    cold = rows[0]
    label = KIND_LABELS[kind]
    lines = []
    if pelican:
        theirs = pelican[0]
        ratio, cpu_ratio = theirs["wall"] / cold["wall"], theirs["cpu"] / cold["cpu"]
        target = TARGETS[kind]
        lines.append(f"{label}: cold build {cold['wall']:.2f} s (cpu {cold['cpu']:.2f} s, "
                     f"{cold['rss_mb']:.0f} MB), Pelican {theirs['wall']:.2f} s (cpu "
                     f"{theirs['cpu']:.2f} s, {theirs['rss_mb']:.0f} MB): {ratio:.1f}x faster "
                     f"(cpu {cpu_ratio:.1f}x); target {target:.0f}x: "
                     f"{'met' if ratio >= target else 'NOT MET'}")
    lines.append(f"{label}: no-change rebuild (command line) {cli['no change']:.3f} s, target "
                 f"< {NO_CHANGE_TARGET} s: {'met' if cli['no change'] < NO_CHANGE_TARGET else 'NOT MET'}")
    lines.append(f"{label}: one story edited (command line) {cli['one edit']:.3f} s, target "
                 f"< {ONE_EDIT_TARGET} s: {'met' if cli['one edit'] < ONE_EDIT_TARGET else 'NOT MET'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--kinds", default="text,pictured",
                        help="comma-separated: text, pictured (default: both)")
    parser.add_argument("--hand-placed", action="store_true",
                        help="also a pictured site whose camera files were copied in by hand")
    parser.add_argument("--no-pelican", action="store_true", help="do not run Pelican")
    parser.add_argument("--all-plugins", action="store_true",
                        help="load every installed plugin (default: storykit_web only)")
    parser.add_argument("--keep", action="store_true", help="keep the generated sites")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per scenario (median)")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    kinds += ["hand-placed"] if args.hand_placed else []
    unknown = set(kinds) - set(KIND_LABELS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    pelican_ok = not args.no_pelican
    if pelican_ok:
        import importlib.util

        if importlib.util.find_spec("pelican") is None:
            print("Pelican is not installed (pip install -e '.[bench]'); running without it")
            pelican_ok = False
    env = dict(os.environ)
    if not args.all_plugins:
        env["STORYKIT_LOAD_PLUGINS"] = "storykit_web"
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    start = time.perf_counter()
    sites = make_sites(workdir, args.stories, kinds)
    compile_storykit()
    print(f"generated {args.stories} stories per site ({', '.join(kinds)}) in "
          f"{time.perf_counter() - start:.1f} s ({workdir})")
    trash = workdir / "trash"
    results = {}
    for kind in kinds:
        site, pelican = sites[kind]
        settle_disk([site] + ([pelican] if pelican_ok else []))
        cold, pelican_cold = cold_side_by_side(site, pelican if pelican_ok else None, env,
                                               args.runs, trash)
        rows, cli = bench_kind(kind, site, workdir, env, args.runs, args.stories, cold)
        theirs = bench_pelican(pelican, env, args.runs, pelican_cold) if pelican_ok else None
        results[kind] = (rows, cli, theirs)
    loads = os.getloadavg()
    print(f"\n{args.stories} stories, medians of {args.runs} fresh processes "
          f"({'all plugins' if args.all_plugins else 'storykit_web only'}), "
          f"{dt.date.today()}, load average {loads[0]:.2f} on {os.cpu_count()} cores:")
    for kind in kinds:
        rows, cli, theirs = results[kind]
        print_table(f"{KIND_LABELS[kind]}:", rows + (theirs or []), cli)
    print()
    for kind in kinds:
        rows, cli, theirs = results[kind]
        for line in verdicts(kind, rows, cli, theirs):
            print(line)
    print(f"load average while measuring: {loads[0]:.2f} on {os.cpu_count()} cores "
          "(other work on the machine slows the wall times; compare the cpu columns)")
    after_delete, elsewhere = file_system_probe(sites[kinds[0]][0], workdir, args.stories)
    print(f"file system: creating {args.stories:,} small files took {after_delete:.3f} s where "
          f"the built site was just deleted, {elsewhere:.3f} s in a new folder")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        shutil.rmtree(trash, ignore_errors=True)


if __name__ == "__main__":
    main()
