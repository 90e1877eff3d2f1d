"""``storykit check``: every file valid, no blocking finding left, and warnings about consent
that needs attention."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .dates import today
from .errors import Problem
from .fsio import read_cache, write_cache
from .model import Story
from .site import Site
from .store import CONSENT_FILE  # noqa: F401

ERROR = "error"
#: A finding that stops the story being submitted, approved, published or rendered for a
#: use until it is fixed or a reviewer dismisses it (storykit.findings). Plugins may use it.
BLOCKING = "blocking"
WARNING = "warning"
NOTE = "note"  #: worth a look, shown by ``storykit check --all`` and in the editor


@dataclass(frozen=True)
class Finding:
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    story: str | None = None
    code: str = ""

    def __str__(self) -> str:
        where = self.file or self.story or "site"
        if self.line:
            where += f":{self.line}"
        return f"{self.severity}: {where}: {self.message}"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    stories: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCKING]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == NOTE]

    @property
    def ok(self) -> bool:
        """Every file valid and nothing blocking left."""
        return not self.errors and not self.blocking


def check_site(site: Site, on: dt.date | None = None) -> Report:
    """Validate every story and consent file, then look for consent needing attention and
    signed consent forms that git would keep."""
    from .store import gc_paused

    with gc_paused():  # a big site's stories and findings: see storykit.store._gc_paused
        return _check_site(site, on or today())


def _check_site(site: Site, on: dt.date) -> Report:
    site.plugins  # noqa: B018 - load plugins first: their settings are checked too
    from .evidence import git_findings

    loaded = site.store.load_all()
    cache = PrivacyCache(site, on)
    ids = {story.id for story in loaded.stories}
    broken = {_story_of(p.file) or p.file for p in loaded.problems} - ids  # once per story
    report = Report(stories=len(ids) + len(broken))
    report.findings += [_from_problem(p) for p in loaded.problems]
    report.findings += all_story_findings(site, loaded.stories, on, cache)
    cache.save(ids)
    report.findings += git_findings(site.root, site.config.path("stories"))
    relative = functools.lru_cache(maxsize=None)(functools.partial(_relative, root=site.root))
    report.findings = [Finding(f.severity, f.message, relative(f.file), f.line, f.story, f.code)
                       if f.file else f for f in report.findings]  # (replace() is slower)
    return report


#: Fewer stories than this are checked in this process alone (forking costs more).
PARALLEL_MIN = 400
#: Stories a process takes at a time: small enough that the processes finish together.
CHUNK = 50
_CHECKING: tuple[Site, list[Story], dt.date, Any, PrivacyCache | None] | None = None


def all_story_findings(site: Site, stories: list[Story], on: dt.date,
                       cache: PrivacyCache | None = None) -> list[Finding]:
    """Every story's findings, in the stories' order. A big site is checked on every core:
    forked workers and this process take chunks of stories in turn until none are left
    (``storykit check`` of 10,000 stories is mostly privacy checks: 6 s of CPU)."""
    cores = min(os.cpu_count() or 1, 4)
    if len(stories) < PARALLEL_MIN or cores < 2 or not hasattr(os, "fork"):
        return [f for story in stories for f in story_findings(site, story, on, cache)]
    import concurrent.futures
    import multiprocessing

    global _CHECKING
    ctx = multiprocessing.get_context("fork")
    _CHECKING = (site, stories, on, ctx.Value("i", 0), cache)
    # The collector would walk every loaded story again and again as findings pile up (a
    # sixth of the time), and in a worker copy each page it touches: set them aside.
    gc.freeze()
    try:
        with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=ctx) as pool:
            theirs = [pool.submit(_check_chunks) for _ in range(cores - 1)]
            found, _ = _check_chunks()
            for future in theirs:
                chunks, new = future.result()
                found.update(chunks)
                if cache is not None:
                    cache.new.update(new)
    finally:
        _CHECKING = None
        gc.unfreeze()
    return [Finding(*row) for chunk in sorted(found) for row in found[chunk]]


def _check_chunks() -> tuple[dict[int, list[tuple]], dict[str, Any]]:
    """In a forked worker (or this process): take the next chunk of stories until none is
    left; their findings as plain tuples (quicker to send back), by chunk, and the privacy
    cache's new entries."""
    assert _CHECKING is not None
    site, stories, on, taken, cache = _CHECKING
    out: dict[int, list[tuple]] = {}
    while True:
        with taken.get_lock():
            chunk = taken.value
            taken.value += 1
        start = chunk * CHUNK
        if start >= len(stories):
            return out, (cache.new if cache is not None else {})
        out[chunk] = [astuple_finding(f) for story in stories[start:start + CHUNK]
                      for f in story_findings(site, story, on, cache)]


def astuple_finding(f: Finding) -> tuple:
    return (f.severity, f.message, f.file, f.line, f.story, f.code)


def _relative(file: str, root) -> str:
    """Show files relative to the site folder, as people type them."""
    try:
        rel = os.path.relpath(file, root)
    except ValueError:  # pragma: no cover - different drive on Windows
        return file
    return file if rel.startswith("..") else rel


def _from_problem(p: Problem) -> Finding:
    return Finding(ERROR, p.message, p.file, p.line, _story_of(p.file), p.code)


def _story_of(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-1] in ("story.md", CONSENT_FILE) else None


def story_findings(site: Site, story: Story, on: dt.date,
                   cache: PrivacyCache | None = None) -> list[Finding]:
    """Every plugin's findings for one valid story (the built-in ones are in default_checks
    and default_privacy), a blocking one a reviewer dismissed shown as a note. With
    ``cache``, the privacy findings of an unchanged story are taken from it."""
    from .findings import PRIVACY_PLUGIN, with_dismissals

    key = cache.key(story) if cache is not None else None
    kept = cache.get(story.id, key) if cache is not None and key is not None else None
    given = None if kept is None else {PRIVACY_PLUGIN: [Finding(*row) for row in kept]}
    found: list[Finding] = []
    for name, findings in site.plugins.story_findings_by_plugin(story, on, given=given):
        if name == PRIVACY_PLUGIN and cache is not None and key is not None and kept is None:
            cache.put(story.id, key, [astuple_finding(f) for f in findings])
        found += findings
    return with_dismissals(story, found)


class PrivacyCache:
    """The built-in privacy checks' findings (default_privacy) of each story, kept between
    runs of ``storykit check`` in ``instance/cache/privacy.pickle``: on a big site they are
    most of its work, and most stories have not changed since the last run.

    An entry holds while the story's files hold the same bytes (story.md and consent.yml by
    their etags, review.yml by a hash of its bytes), and the whole cache while the code that
    makes the findings, the day checked and today are the same (dates of birth are judged
    against today). Delete it any time: the next run makes it again."""

    def __init__(self, site: Site, on: dt.date):
        self.path = site.instance / "cache" / "privacy.pickle"
        self.version = (_code_key(), on.isoformat(), today().isoformat(),
                        dt.date.today().isoformat(), str(site.root))
        data = read_cache(self.path)
        ok = isinstance(data, dict) and data.get("version") == self.version
        self.entries: dict[str, tuple[tuple, list[tuple]]] = data["stories"] if ok else {}
        self.new: dict[str, tuple[tuple, list[tuple]]] = {}

    def key(self, story: Story) -> tuple | None:
        if story.etag is None or story.folder is None:
            return None
        try:
            with open(f"{story.folder}/review.yml", "rb") as f:
                review = hashlib.sha256(f.read()).hexdigest()[:20]
        except OSError:
            review = ""
        return (story.etag, story.consent_etag, review)

    def get(self, story_id: str, key: tuple) -> list[tuple] | None:
        entry = self.entries.get(story_id)
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, story_id: str, key: tuple, rows: list[tuple]) -> None:
        self.new[story_id] = (key, rows)

    @staticmethod
    def forget(site: Site, story_id: str) -> None:
        """Drop one story's entry (its storyteller asked for everything to be deleted: the
        findings' messages hold what readers see instead of names)."""
        path = site.instance / "cache" / "privacy.pickle"
        data = read_cache(path)
        if isinstance(data, dict) and story_id in data.get("stories", {}):
            del data["stories"][story_id]
            write_cache(path, data)

    def save(self, ids: set[str]) -> None:
        """Keep the entries of the stories there are now, if anything changed."""
        if not self.new and set(self.entries) <= ids:
            return
        entries = {k: v for k, v in self.entries.items() if k in ids}
        entries.update(self.new)
        write_cache(self.path, {"version": self.version, "stories": entries})


@functools.cache
def _code_key() -> str:
    """A hash of the code whose findings the cache keeps."""
    from . import consent, default_privacy, findings, privacy, reviewfile, storyfile

    digest = hashlib.sha256()
    for module in (consent, default_privacy, findings, privacy, reviewfile, storyfile):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:20]
