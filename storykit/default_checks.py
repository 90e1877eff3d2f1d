"""Built-in story checks: missing files, consent that needs attention, and text too long or
too complex to show (a plugin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from .checks import ERROR, WARNING, Finding
from .hookspecs import hookimpl
from .model import Story
from .store import CONSENT_FILE


@hookimpl
def story_checks(site, story: Story, on: dt.date) -> list[Finding]:
    return (list(_media_findings(story)) + list(_consent_findings(site, story, on))
            + list(_label_findings(story)) + list(_text_findings(story)))


def _text_findings(story: Story) -> Iterator[Finding]:
    """Text every output would refuse (too long, or too complex to render in bounded time:
    storykit.markup), found before a render or build stops on it."""
    from .markup import story_text_problem

    problem = story_text_problem(story)
    if problem:
        yield Finding(ERROR, problem, str(story.path) if story.path else None, None, story.id,
                      "text_too_complex")


def _media_findings(story: Story) -> Iterator[Finding]:
    """Each listed picture that the media rule (storykit.media) would not let any output
    read: missing, a link, a folder, or a path outside the story's media folder."""
    from .media import media_problem
    from .storyfile import field_line

    folder = story.folder
    if folder is None:
        return
    for index, image in enumerate(story.images):
        problem = media_problem(folder, image.file)
        if problem is not None:
            yield Finding(ERROR, f"{problem}. Until this is fixed the story cannot be rendered "
                          "or published", str(story.path),
                          field_line(story, ("images", index, "file")), story.id, problem.code)


def _consent_findings(site, story: Story, on: dt.date) -> Iterator[Finding]:
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


def _date_findings(site, c, on: dt.date, warn) -> Iterator[Finding]:
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


def _label_findings(story: Story) -> Iterator[Finding]:
    """A slug or tag naming someone the consent hides: outputs leave it out, so say so (the
    message does not repeat the name)."""
    from .consent import public_labels

    c = story.current_consent
    if c is None or c.status == "withdrawn":
        return
    file = str(story.path) if story.path else None
    slug, tags = public_labels(story, c)
    if slug != story.slug:
        yield Finding(WARNING, "the slug names someone the consent does not let outputs name, "
                      f"so their addresses use {story.id} instead; choose a slug without the "
                      "name", file, None, story.id, "slug_names_someone")
    hidden = len(story.tags) - len(tags)
    if hidden:
        yield Finding(WARNING, f"{hidden} tag{'s' if hidden > 1 else ''} name{'' if hidden > 1 else 's'} "
                      "someone the consent does not let outputs name, so outputs leave "
                      f"{'them' if hidden > 1 else 'it'} out", file, None, story.id,
                      "tag_names_someone")
