"""``storykit check``: every file valid, and warnings about consent that needs attention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from .errors import Problem
from .model import Story
from .site import Site
from .store import CONSENT_FILE

ERROR = "error"
WARNING = "warning"


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
    def ok(self) -> bool:
        return not self.errors


def check_site(site: Site, on: dt.date | None = None) -> Report:
    """Validate every story and consent file, then look for consent needing attention."""
    on = on or dt.date.today()
    loaded = site.store.load_all()
    report = Report(stories=len(loaded.stories) + len({p.file for p in loaded.problems}))
    report.findings += [_from_problem(p) for p in loaded.problems]
    for story in loaded.stories:
        report.findings += list(story_findings(site, story, on))
    return report


def _from_problem(p: Problem) -> Finding:
    return Finding(ERROR, p.message, p.file, p.line, _story_of(p.file), p.code)


def _story_of(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-1] in ("story.md", CONSENT_FILE) else None


def story_findings(site: Site, story: Story, on: dt.date) -> Iterator[Finding]:
    """Warnings (and file errors such as a missing image) for one valid story."""
    yield from _media_findings(story)
    yield from _consent_findings(site, story, on)
    plugins = site.__dict__.get("plugins")
    if plugins is not None:
        yield from plugins.story_findings(story, on)


def _media_findings(story: Story) -> Iterator[Finding]:
    folder = story.folder
    if folder is None:
        return
    for image in story.images:
        if not (folder / image.file).is_file():
            yield Finding(ERROR, f"image {image.file} is listed but the file is missing",
                          str(story.path), None, story.id, "missing_image")


def _consent_findings(site: Site, story: Story, on: dt.date) -> Iterator[Finding]:
    c = story.current_consent
    file = str(story.folder / CONSENT_FILE) if story.folder else None

    def warn(message: str, code: str) -> Finding:
        return Finding(WARNING, message, file, None, story.id, code)

    if c is None:
        yield warn("no consent recorded yet", "no_consent")
        return
    if c.status == "withdrawn":
        yield warn(f"consent withdrawn (version {c.version}); the story must not be used",
                   "withdrawn")
        if story.status not in ("withdrawn", "archived"):
            yield warn(f"consent is withdrawn but the story is still {story.status}",
                       "withdrawn_not_applied")
    elif c.status == "pending":
        yield warn("consent is pending: the storyteller has not yet given it", "consent_pending")
    if c.status != "withdrawn":
        yield from _date_findings(site, c, on, warn)
        if c.signoff_required and c.signed_off is None:
            yield warn("sign-off pending: the storyteller has not approved the final text",
                       "signoff_pending")
        elif c.signoff_required and story.updated and c.signed_off_revision is None \
                and story.updated > c.signed_off:
            yield warn(f"sign-off is out of date: the text changed on {story.updated}",
                       "signoff_stale")
        if c.identification == "pseudonym" and not story.storyteller.pseudonym:
            yield warn("consent asks for a pseudonym but storyteller.pseudonym is empty",
                       "no_pseudonym")
        if c.project_class == "research" and not c.ethics_ref:
            yield warn("research use needs an ethics approval reference (ethics_ref)",
                       "no_ethics_ref")
    if c.evidence and story.folder and not (story.folder / c.evidence).is_file():
        yield warn(f"consent evidence {c.evidence} is listed but the file is missing",
                   "missing_evidence")


def _date_findings(site: Site, c, on: dt.date, warn) -> Iterator[Finding]:
    soon = on + dt.timedelta(days=site.config.expiry_warning_days)
    if on > c.expires:
        yield warn(f"consent expired on {c.expires}", "expired")
    elif c.expires <= soon:
        yield warn(f"consent expires on {c.expires} (within "
                   f"{site.config.expiry_warning_days} days): ask the storyteller to renew it",
                   "expiring")
    if c.age_band != "adult":
        if c.reconsent_due is None:
            yield warn("consent for a child has no reconsent_due date", "no_reconsent_date")
        elif on > c.reconsent_due:
            yield warn(f"re-consent was due on {c.reconsent_due}", "reconsent_due")
        elif c.reconsent_due <= soon:
            yield warn(f"re-consent is due on {c.reconsent_due}", "reconsent_soon")
