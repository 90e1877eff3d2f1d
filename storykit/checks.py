"""``storykit check``: every file valid, and warnings about consent that needs attention."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

from .dates import today
from .errors import Problem
from .model import Story
from .site import Site
from .store import CONSENT_FILE  # noqa: F401

ERROR = "error"
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
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == NOTE]

    @property
    def ok(self) -> bool:
        return not self.errors


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
    for story in loaded.stories:
        report.findings += list(story_findings(site, story, on))
    report.findings += git_findings(site.root, site.config.path("stories"))
    report.findings = [_relative(f, site.root) for f in report.findings]
    return report


def _relative(finding: Finding, root) -> Finding:
    """Show files relative to the site folder, as people type them."""
    if not finding.file:
        return finding
    try:
        rel = os.path.relpath(finding.file, root)
    except ValueError:  # pragma: no cover - different drive on Windows
        return finding
    return finding if rel.startswith("..") else replace(finding, file=rel)


def _from_problem(p: Problem) -> Finding:
    return Finding(ERROR, p.message, p.file, p.line, _story_of(p.file), p.code)


def _story_of(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-1] in ("story.md", CONSENT_FILE) else None


def story_findings(site: Site, story: Story, on: dt.date) -> Iterator[Finding]:
    """Every plugin's findings for one valid story (the built-in ones are in default_checks)."""
    yield from site.plugins.story_findings(story, on)
