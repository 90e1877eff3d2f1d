"""``storykit check``: every file valid, no blocking finding left, and warnings about consent
that needs attention."""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import asdict, dataclass, field, replace

from .dates import today
from .errors import Problem
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
    on = on or today()
    site.plugins  # noqa: B018 - load plugins first: their settings are checked too
    from .evidence import git_findings

    loaded = site.store.load_all()
    ids = {story.id for story in loaded.stories}
    broken = {_story_of(p.file) or p.file for p in loaded.problems} - ids  # once per story
    report = Report(stories=len(ids) + len(broken))
    report.findings += [_from_problem(p) for p in loaded.problems]
    report.findings += all_story_findings(site, loaded.stories, on)
    report.findings += git_findings(site.root, site.config.path("stories"))
    relative = functools.lru_cache(maxsize=None)(functools.partial(_relative, root=site.root))
    report.findings = [replace(f, file=relative(f.file)) if f.file else f
                       for f in report.findings]
    return report


#: Fewer stories than this are checked in this process alone (forking costs more).
PARALLEL_MIN = 400
_CHECKING: tuple[Site, list[Story], dt.date] | None = None


def all_story_findings(site: Site, stories: list[Story], on: dt.date) -> list[Finding]:
    """Every story's findings, in the stories' order. A big site is checked on every core
    (forked workers take a share each, this process one too), as ``storykit check`` of
    10,000 stories is mostly privacy checks: 7 s of CPU."""
    cores = min(os.cpu_count() or 1, 4)
    if len(stories) < PARALLEL_MIN or cores < 2 or not hasattr(os, "fork"):
        return [f for story in stories for f in story_findings(site, story, on)]
    import concurrent.futures
    import multiprocessing

    global _CHECKING
    _CHECKING = (site, stories, on)
    shares = [range(i, len(stories), cores) for i in range(cores)]
    try:
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=ctx) as pool:
            theirs = [pool.submit(_check_share, share) for share in shares[1:]]
            found = {0: _check_share(shares[0])}
            for i, future in enumerate(theirs, 1):
                found[i] = future.result()
    finally:
        _CHECKING = None
    by_story: list[list[Finding]] = [[] for _ in stories]
    for i, share in enumerate(shares):
        for index, findings in zip(share, found[i], strict=True):
            by_story[index] = findings
    return [f for findings in by_story for f in findings]


def _check_share(share: range) -> list[list[Finding]]:
    """In a forked worker (or this process): the findings of these stories."""
    assert _CHECKING is not None
    site, stories, on = _CHECKING
    return [story_findings(site, stories[i], on) for i in share]


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


def story_findings(site: Site, story: Story, on: dt.date) -> list[Finding]:
    """Every plugin's findings for one valid story (the built-in ones are in default_checks
    and default_privacy), a blocking one a reviewer dismissed shown as a note."""
    from .findings import with_dismissals

    return with_dismissals(story, list(site.plugins.story_findings(story, on)))
