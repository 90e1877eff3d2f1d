"""Blocking findings: what stops a story going anywhere until a person has dealt with it.

A story's findings are its privacy findings (:mod:`storykit.privacy`) and what plugins report
through the ``story_checks`` hook. Each is *blocking* or *advisory*. Blocking ones are NHS
numbers, phone numbers, email addresses, postcodes, dates of birth, the storyteller's name
where the consent hides it, and any plugin finding with severity ``"blocking"``.

An unresolved blocking finding stops the story being sent for review, approved or published
(:mod:`storykit.lifecycle`), every recorded render for a use (:func:`storykit.render.decide_for`)
and the site build (:func:`storykit.publication.publication_set`), and makes
``storykit check`` exit 1, until it is fixed in the text or a reviewer dismisses it with a
reason (:func:`dismiss`). Dismissals are kept with the story (``review.yml``,
:mod:`storykit.reviewfile`) and tied to the finding's *fingerprint*: the detail, its kind
and field, keyed by the sentence it is in. So an edit elsewhere keeps a dismissal, while the
same detail written into new text, or its sentence rewritten, is blocking again.

Nothing here puts the detail itself into a message, an error or the audit log: only its kind
in words ("a phone number") and its masked shape.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .consent import Reason
from .errors import ConflictError, StorykitError
from .privacy import ADVISORY, BLOCKING, PrivacyFinding, field_label, field_text
from .reviewfile import REASON_MAX, Dismissal, ReviewRecord, read_review, update_review

if TYPE_CHECKING:  # pragma: no cover
    from .checks import Finding
    from .model import Story
    from .site import Site

#: The code of the refusal a blocking finding gives (renders, builds, status changes).
BLOCKED = "blocking_findings"
#: The audit log's action for a dismissal.
DISMISSED = "finding.dismissed"
#: The built-in plugin whose findings are the privacy findings (handled here directly).
PRIVACY_PLUGIN = "storykit.default_privacy"
#: Built-in ``story_checks`` plugins that never report a blocking finding (errors and
#: warnings only: tests/test_findings.py holds them to it), so what blocks a story need not
#: ask them: a build of a thousand stories saved a fifth of its deciding time.
NEVER_BLOCKING = ("storykit.default_checks",)

_PLURALS = {"an NHS number": "NHS numbers", "a phone number": "phone numbers",
            "an email address": "email addresses", "a postcode": "postcodes",
            "a date of birth": "dates of birth", "a long number": "long numbers",
            "a name listed under people": "names listed under people"}


@dataclass(frozen=True)
class Issue:
    """One finding as people see it. ``what`` is its kind in words, ``message`` the whole
    sentence (with the detail masked), ``fix`` the replacement a one-click fix puts in (for
    privacy findings), ``dismissal`` the reviewer's decision when there is one."""

    code: str
    severity: str
    what: str
    message: str
    field: str | None = None
    shown_as: str | None = None
    fix: str | None = None
    privacy: PrivacyFinding | None = dataclasses.field(default=None, repr=False)
    fingerprint: str = ""
    dismissal: Dismissal | None = None

    @property
    def blocking(self) -> bool:
        """Blocking and not dismissed: it stops the story until someone deals with it."""
        return self.severity == BLOCKING and self.dismissal is None

    @property
    def where(self) -> str | None:
        """The part of the story it is in, in words ("the story text", "quote 2")."""
        return field_label(self.field) if self.field else None

    @property
    def ref(self) -> str:
        """A name for this finding in a form or on the command line, the same for as long as
        the story's text is (no personal detail: a hash of where it is and its kind)."""
        f = self.privacy
        place = f"{f.field}:{f.start}:{f.end}" if f else f"{self.field}:{self.message}"
        return hashlib.sha256(f"{self.code}|{place}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class StoryFindings:
    """Every finding of one story as read now, blocking ones first, then dismissed, then
    advisory; and the ``review.yml`` record they were matched with."""

    story_id: str
    issues: tuple[Issue, ...]
    record: ReviewRecord = dataclasses.field(default_factory=ReviewRecord, repr=False)

    @property
    def blocking(self) -> list[Issue]:
        return [i for i in self.issues if i.blocking]

    @property
    def dismissed(self) -> list[Issue]:
        return [i for i in self.issues if i.dismissal is not None]

    @property
    def advisory(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ADVISORY]

    def get(self, ref: str) -> Issue | None:
        return next((i for i in self.issues if i.ref == ref), None)

    def reason(self) -> Reason | None:
        """Why the story is stopped, in words naming the kinds of finding (never the
        details); None when nothing blocks."""
        if not self.blocking:
            return None
        return Reason(BLOCKED, blocked_words(self.blocking))


def blocked_words(issues: list[Issue]) -> str:
    """"it has 2 findings a reviewer must fix or dismiss first: an NHS number and the
    storyteller's name"."""
    count = len(issues)
    return (f"it has {'a finding' if count == 1 else f'{count} findings'} that must be fixed, "
            f"or dismissed by a reviewer, first: {kinds_in_words(issues)}")


def kinds_in_words(issues: list[Issue]) -> str:
    """"an NHS number, 2 phone numbers and the storyteller's name"."""
    counts = Counter(i.what for i in issues)
    parts = []
    for what, n in counts.items():
        if n == 1:
            parts.append(what)
        elif what in _PLURALS:
            parts.append(f"{n} {_PLURALS[what]}")
        else:
            parts.append(f"{what} ({n} times)")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# --- finding them ----------------------------------------------------------------------------

def story_findings(site: Site, story: Story, on: dt.date | None = None, *,
                   plugin_findings: list[Finding] | None = None) -> StoryFindings:
    """The story's privacy findings and the plugins' blocking findings, with reviewers'
    dismissals applied. What status changes, renders and builds ask. ``plugin_findings``:
    what :func:`plugin_findings_of` gave, when the caller has it already (else only the
    plugins that may report a blocking finding are asked)."""
    plugin = plugin_findings if plugin_findings is not None else \
        _blocking_plugin_findings(site, story, on)
    issues = _privacy_issues(story) + [_plugin_issue(f) for f in plugin if _plugin_blocking(f)]
    return _matched(story, issues)


def dismissals_of(story: Story, record: ReviewRecord, found: list[PrivacyFinding]
                  ) -> dict[int, Dismissal]:
    """The dismissal of each of ``found`` (a story's privacy findings) that ``record`` holds,
    by ``id(finding)``."""
    issues = [_privacy_issue(f) for f in found]
    prints = fingerprints(story, record.salt, issues)
    out = {}
    for issue in issues:
        dismissal = _dismissal_of(record, prints.get(id(issue), ""))
        if dismissal is not None and issue.privacy is not None:
            out[id(issue.privacy)] = dismissal
    return out


def plugin_findings_of(site: Site, story: Story, on: dt.date | None = None) -> list[Finding]:
    """Every plugin's ``story_checks`` findings but the privacy findings (which
    :func:`story_findings` makes itself, with their places in the text)."""
    from .dates import today

    return list(site.plugins.story_findings(story, on or today(), skip=PRIVACY_PLUGIN))


def _blocking_plugin_findings(site: Site, story: Story, on: dt.date | None) -> list[Finding]:
    """:func:`plugin_findings_of`, without the built-in plugins that never block (only the
    blocking findings of plugins count in :func:`story_findings`)."""
    from .dates import today

    skip = (PRIVACY_PLUGIN, *(name for name in NEVER_BLOCKING if _is_builtin(site, name)))
    return list(site.plugins.story_findings(story, on or today(), skip=skip))


def _is_builtin(site: Site, name: str) -> bool:
    """Whether the plugin registered as ``name`` is storykit's own module of that name."""
    import sys

    module = sys.modules.get(name)
    return module is not None and site.plugins.pm.get_plugin(name) is module


def privacy_findings(story: Story, record: ReviewRecord | None = None) -> StoryFindings:
    """The story's privacy findings alone, with dismissals applied (``review.yml`` is read
    only when something blocks, unless ``record`` is what it holds)."""
    return _matched(story, _privacy_issues(story), record)


def _privacy_issues(story: Story) -> list[Issue]:
    from .privacy import find_privacy_issues

    return [_privacy_issue(f) for f in find_privacy_issues(story)]


def with_dismissals(story: Story, findings: list[Finding]) -> list[Finding]:
    """Plugins' findings as ``storykit check`` shows them: a blocking one a reviewer has
    dismissed becomes a note."""
    from .checks import NOTE

    if not any(_plugin_blocking(f) for f in findings):
        return findings
    record = _record(story)
    if not record.dismissed:
        return findings
    out = []
    for f in findings:
        dismissal = None
        if _plugin_blocking(f):
            dismissal = _dismissal_of(record, _plugin_fingerprint(record.salt, _plugin_issue(f)))
        out.append(replace(f, severity=NOTE, message=f"{f.message} ({dismissed_words(dismissal)})")
                   if dismissal else f)
    return out


def dismissed_words(dismissal: Dismissal) -> str:
    """"dismissed by rita on 1 March 2027 (version 4 of the story)": no reason (it is the
    reviewer's words, kept in the story folder, not in logs)."""
    from .dates import nice_date

    return (f"dismissed by {dismissal.by} on {nice_date(dismissal.at.date())} "
            f"(version {dismissal.revision} of the story)")


def _plugin_blocking(finding: Finding) -> bool:
    """A blocking finding of a plugin (the privacy findings are matched here directly)."""
    return finding.severity == BLOCKING and not finding.code.startswith("privacy_")


def in_its_sentence(story: Story, issue: Issue, reach: int = 160) -> tuple[str, str, str] | None:
    """The sentence a privacy finding is in, as (before, the detail, after), cut to about
    ``reach`` characters either side: for staff who may read the story, never for logs."""
    import re

    from .privacy import sentence_span

    f = issue.privacy
    if f is None:
        return None
    text = field_text(story, f.field)
    first, last = sentence_span(text, f)
    if last < len(text) and text[last] in ".!?":
        last += 1  # show the full stop that ends it
    start, end = max(first, f.start - reach), max(f.end, min(last, f.end + reach))
    before = ("\u2026" if start > first else "") + text[start:f.start].lstrip()
    after = text[f.end:end].rstrip() + ("\u2026" if end < last else "")

    def squash(part: str) -> str:
        return re.sub(r"\s+", " ", part)

    return squash(before), squash(text[f.start:f.end]), squash(after)


def _privacy_issue(f: PrivacyFinding) -> Issue:
    return Issue(code=f.code, severity=f.severity, what=f.what, message=f.message,
                 field=f.field, shown_as=f.excerpt_masked, fix=f.replacement, privacy=f)


def _plugin_issue(f: Finding) -> Issue:
    return Issue(code=f.code or "plugin", severity=f.severity, what=f.message,
                 message=f.message)


def _record(story: Story) -> ReviewRecord:
    """The story's review record; a broken file counts as none (nothing is dismissed, so
    nothing unsafe follows) and ``storykit check`` reports it."""
    from .errors import ValidationError

    try:
        return read_review(story.folder)
    except (ValidationError, OSError):
        return ReviewRecord()


def _matched(story: Story, issues: list[Issue], record: ReviewRecord | None = None
             ) -> StoryFindings:
    blocking = any(i.severity == BLOCKING for i in issues)
    if record is None:
        record = _record(story) if blocking else ReviewRecord()
    if record.salt and record.dismissed:
        prints = fingerprints(story, record.salt, issues)
        issues = [replace(i, fingerprint=prints.get(id(i), ""),
                          dismissal=_dismissal_of(record, prints.get(id(i), "")))
                  if i.severity == BLOCKING else i for i in issues]
    # blocking first, then dismissed, then advice; each in reading order (the sort is stable)
    issues.sort(key=lambda i: (not i.blocking, i.severity != BLOCKING))
    return StoryFindings(story.id, tuple(issues), record)


def _dismissal_of(record: ReviewRecord, fingerprint: str) -> Dismissal | None:
    if not fingerprint:
        return None
    return next((d for d in record.dismissed if hmac.compare_digest(d.finding, fingerprint)),
                None)


# --- fingerprints ----------------------------------------------------------------------------

def fingerprints(story: Story, salt: str, issues: list[Issue]) -> dict[int, str]:
    """Each blocking issue's fingerprint, by ``id(issue)``."""
    from .privacy import normal_value, sentence_span

    out: dict[int, str] = {}
    seen: Counter[tuple] = Counter()
    texts: dict[str, str] = {}
    for issue in issues:
        if issue.severity != BLOCKING:
            continue
        f = issue.privacy
        if f is None:
            out[id(issue)] = _plugin_fingerprint(salt, issue)
            continue
        text = texts.setdefault(f.field, field_text(story, f.field))
        start, end = sentence_span(text, f)
        sentence = " ".join(text[start:end].split())
        value = normal_value(text[f.start:f.end])
        place = (f.field, start, f.code, value)
        seen[place] += 1  # the same detail twice in one sentence: each is its own finding
        out[id(issue)] = fingerprint(salt, sentence, f.code, f.field, value, seen[place])
    return out


def fingerprint(salt: str, sentence: str, code: str, field_name: str, value: str,
                nth: int) -> str:
    """A finding's name in ``review.yml``: HMAC-SHA256 of its kind, field, detail and place
    in the sentence, keyed by the story's salt and the sentence it is in. Without the text
    of the sentence it cannot be turned back into the detail."""
    key = f"{salt}\x1f{sentence}".encode()
    message = "\x1f".join((code, field_name, value, str(nth))).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def _plugin_fingerprint(salt: str, issue: Issue) -> str:
    message = "\x1f".join(("plugin", issue.code, issue.message)).encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:24]


# --- dismissing ------------------------------------------------------------------------------

def dismiss(site: Site, story: Story, ref: str, reason: str, *, by: str, etag: str | None,
            ip: str | None = None, log=None) -> Dismissal:
    """Record that reviewer ``by`` dismissed the finding ``ref`` (:attr:`Issue.ref`) of
    ``story`` as it was at ``etag`` (the text they read): kept in ``review.yml`` and
    audited (its kind, field and the story's revision: never the detail or the reason).
    Who may dismiss is :func:`storykit.lifecycle.dismissal_refusals`' question, asked by
    the caller. :class:`ConflictError` when the story changed since ``etag``."""
    from .dates import today

    reason = reason.strip()
    if not reason:
        raise StorykitError("say why this finding may stay (the reason is kept with the story)")
    if len(reason) > REASON_MAX:
        raise StorykitError(f"the reason must be {REASON_MAX:,} characters or fewer")
    if etag is not None and etag != story.etag:
        raise ConflictError(f"story {story.id} changed since it was read; read it again")
    folder = story.folder
    if folder is None:  # pragma: no cover - stories from the store have a folder
        raise StorykitError(f"story {story.id} has no folder")
    found = story_findings(site, story, today())
    issue = found.get(ref)
    if issue is None:
        raise ConflictError("that finding is no longer in the story (it may have been fixed); "
                            "read the story again")
    if issue.severity != BLOCKING:
        raise StorykitError("only blocking findings are dismissed; this one is advice")
    made: list[Dismissal] = []

    def add(record: ReviewRecord) -> ReviewRecord:
        printed = fingerprints(story, record.salt, list(found.issues))[id(issue)]
        dismissal = Dismissal(finding=printed, code=issue.code, by=by,
                              at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                              revision=story.revision, reason=reason, field=issue.field,
                              shown_as=issue.shown_as)
        made.append(dismissal)
        return record.with_dismissal(dismissal)

    update_review(folder, site.store.locks.hold(f"{story.id}.review",
                                                what="this story's review"), add)
    where = f" in {issue.where}" if issue.where else ""
    (log or site.audit).record(DISMISSED, actor=by, story_id=story.id, etag=story.etag, ip=ip,
                               detail=f"{issue.code}{where}, revision {story.revision}")
    return made[0]
