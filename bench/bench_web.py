"""Benchmark ``storykit build``: clean build, no-change rebuild and one-edit rebuild.

Generates N synthetic published stories (invented text, about 600 words each, a few tags, a
service, a picture on one story in a hundred) allowed for ``public_website`` into a temporary
site, then runs each scenario 5 times, every run in a FRESH process (so no in-memory cache
helps), and prints medians of: the whole process (``wall``: interpreter start, imports,
plugin loading, build), the build alone inside the process (``build``), the CPU seconds
used by the process and its worker processes (``cpu``: steadier than wall time when other
work shares the machine), the part of it spent in the kernel (``sys``: mostly creating
files), and the peak resident memory (getrusage) of the process and its workers. Last come
``storykit build`` on the command line, with no change and with one story edited.

    python bench/bench_web.py                     # 1000 stories
    python bench/bench_web.py --stories 10000
    python bench/bench_web.py --all-plugins       # also load every installed plugin

The scenarios:

- *first build of a new site*: a copy of the generated site, made before anything was
  built or deleted, built once: what a new site (or a fresh clone) gets;
- *clean, into a new folder*: the site's stories are known (store cache warm), the output
  goes to a folder no build has used;
- *cold*, *clean*, *output deleted*: the instance folder, the build's caches or only the
  output folder removed before the build (moved aside, and deleted after measuring);
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
deletion back is not billed to the build either.

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
         "morning nobody told us where to go the doctor listened carefully then drew a little "
         "picture on the back of a leaflet my daughter held my hand the tea trolley came round "
         "twice everyone was busy but somebody always stopped to check on us at home things "
         "were harder than we expected the district team rang every week it made a big "
         "difference to know someone would answer")
WORDS = WORD_TEXT.split()

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


# --- the synthetic site ----------------------------------------------------------------------

def paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def story_body(rng: random.Random) -> str:
    parts = []
    for heading in ("What happened", "What helped", "What could be better"):
        parts.append(f"## {heading}\n")
        parts += [paragraph(rng, rng.randint(45, 75)) + "\n" for _ in range(3)]
    return "\n".join(parts)


def write_story(root: Path, n: int, rng: random.Random, picture: Path | None) -> None:
    folder = root / "stories" / f"bn-{n:06d}"
    folder.mkdir(parents=True)
    tags = rng.sample(TAGS, rng.randint(1, 4))
    images = ""
    if picture is not None:
        (folder / "media").mkdir()
        shutil.copy(picture, folder / "media" / "ward.jpg")
        images = ("images:\n  - {file: media/ward.jpg, alt: \"A hospital ward with a window "
                  "and a chair by the bed\", kind: illustration}\n")
    day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
    (folder / "story.md").write_text(
        "---\n"
        f"title: \"Story number {n}: {rng.choice(WORDS)} {rng.choice(WORDS)}\"\n"
        f"slug: story-{n}\nstatus: published\nservice: \"{rng.choice(SERVICES)}\"\n"
        f"tags: [{', '.join(tags)}]\n"
        f"summary: \"{paragraph(rng, 20)}\"\n"
        "storyteller: {name: \"Sam Example\", pseudonym: \"Robin\", role: patient}\n"
        f"quotes:\n  - \"{paragraph(rng, 12)}\"\n{images}"
        f"created: {day}\nupdated: {day}\nrevision: 1\n---\n" + story_body(rng),
        encoding="utf-8")
    (folder / "consent.yml").write_text(
        "versions:\n  - version: 1\n    recorded: 2026-01-01T10:00:00Z\n    status: active\n"
        "    given_by: self\n    method: written\n    granted: 2026-01-01\n"
        "    expires: 2029-01-01\n    uses: [public_website, board]\n"
        "    media: [text, quotes, photo]\n    identification: pseudonym\n"
        "    signoff_required: false\n", encoding="utf-8")


def make_site(root: Path, count: int) -> None:
    from PIL import Image

    rng = random.Random(20261126)
    root.mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    picture = root / "picture.jpg"
    Image.new("RGB", (1600, 1000), (120, 160, 200)).save(picture, quality=80)
    for n in range(count):
        write_story(root, n, rng, picture if n % 100 == 7 else None)
    picture.unlink()


# --- running ---------------------------------------------------------------------------------

def run_build(site: Path, env: dict[str, str], out: Path | None = None) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(site), *([str(out)] if out else [])],
                          env=env, check=True, capture_output=True, text=True)
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
    subprocess.run([*command, "--site", str(site), "build"], env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - start


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
        if not folder.exists():
            continue
        if trash is None:
            shutil.rmtree(folder)
        else:
            trash.mkdir(exist_ok=True)
            folder.rename(trash / f"{len(os.listdir(trash))}-{folder.name}")
    os.sync()


def create_files(folder: Path, count: int) -> float:
    """Seconds to create ``count`` small files in a new ``folder``."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for n in range(count):
        with open(folder / f"page-{n}.html", "wb") as f:
            f.write(b"x" * 12_000)
    return time.perf_counter() - start


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
                 "storykit_cards"):
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


def scenario(name: str, env: dict[str, str], before, runs: int = RUNS) -> dict:
    """Run a build ``runs`` times, calling ``before(i)`` first; it returns the site to build
    and the output folder (None: the site's own build/site)."""
    results = []
    for i in range(runs):
        site, out = before(i)
        results.append(run_build(site, env, out))
    summary = {"scenario": name, "runs": runs}
    for key in ("wall", "startup", "build", "cpu", "sys"):
        summary[key] = statistics.median(r[key] for r in results)
    summary["rss_mb"] = max(r["rss_mb"] for r in results)
    summary["rendered"] = results[-1]["rendered"]
    summary["listings"] = results[-1]["listings"]
    summary["stories"] = results[-1]["stories"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--all-plugins", action="store_true",
                        help="load every installed plugin (default: storykit_web only)")
    parser.add_argument("--keep", action="store_true", help="keep the generated site")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per scenario (median)")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.all_plugins:
        env["STORYKIT_LOAD_PLUGINS"] = "storykit_web"
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    site = workdir / "site"
    start = time.perf_counter()
    make_site(site, args.stories)
    n = args.runs
    copies = [workdir / f"new-site-{i}" for i in range(n)]
    for copy in copies:  # made now, before the bench deletes anything
        shutil.copytree(site, copy)
    compile_storykit()
    print(f"generated {args.stories} stories and {n} copies in "
          f"{time.perf_counter() - start:.1f} s ({site})")
    probe = create_files(workdir / "probe-start", 300)  # kept until the end: deletes cost
    if probe > 0.03:  # 0.1 ms a file: a disk still busy with recent deletions
        print(f"warning: creating 300 files took {probe:.2f} s; this disk is slow to create "
              "files just now (files deleted in the last few minutes?), so the clean builds "
              "will take longer: see the notes at the top of this file")
    trash = workdir / "trash"  # what the scenarios remove, deleted after measuring
    rows = [
        scenario("first build of a new site", env, lambda i: (copies[i], None), n),
        scenario("clean, into a new folder each run", env,
                 lambda i: (site, new_folder(workdir / f"new-{i}")), n),
        scenario("cold (no instance folder)", env,
                 lambda i: (site, forget_build(site, True, trash=trash)), n),
        scenario("clean (no output, store cache warm)", env,
                 lambda i: (site, forget_build(site, False, trash=trash)), n),
        scenario("output deleted (instance caches kept)", env,
                 lambda i: (site, forget_build(site, False, keep_build_cache=True, trash=trash)),
                 n),
        scenario("clean, the last build deleted just before", env,
                 lambda i: (site, forget_build(site, False)), n),
        scenario("no-change rebuild", env, lambda i: (site, None), n),
    ]
    run_cli(site, env)  # once first: the command keeps its own list of installed plugins
    cli = statistics.median(run_cli(site, env) for _ in range(n))  # before any edit
    rows.append(scenario("one story edited", env,
                         lambda i: (site, edit_one(site, i * 37 % args.stories, settle=True)),
                         n))
    cli_edit = statistics.median(run_cli(site, env, edit=i * 53 % args.stories)
                                 for i in range(n))
    print(f"\n{args.stories} stories, medians of {args.runs} fresh processes "
          f"({'all plugins' if args.all_plugins else 'storykit_web only'}):")
    print(f"{'scenario':38} {'wall s':>7} {'start s':>8} {'build s':>8} {'cpu s':>7} "
          f"{'sys s':>6} {'peak MB':>8} {'pages':>6} {'lists':>6}")
    for r in rows:
        print(f"{r['scenario']:38} {r['wall']:7.3f} {r['startup']:8.3f} {r['build']:8.3f} "
              f"{r['cpu']:7.3f} {r['sys']:6.3f} {r['rss_mb']:8.1f} {r['rendered']:6d} "
              f"{r['listings']:6d}")
    print(f"{'storykit build CLI, no change':38} {cli:7.3f}")
    print(f"{'storykit build CLI, one story edited':38} {cli_edit:7.3f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(other work on the machine slows the wall times)")
    after_delete, elsewhere = file_system_probe(site, workdir, args.stories)
    print(f"file system: creating {args.stories:,} small files took {after_delete:.3f} s where "
          f"the built site was just deleted, {elsewhere:.3f} s in a new folder")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        shutil.rmtree(trash, ignore_errors=True)


if __name__ == "__main__":
    main()
