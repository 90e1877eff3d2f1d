"""The editor's preview: the story as the published web page shows it, in a chosen theme.

The page is made by the site's ``web`` format (a plugin) through the public render call
:func:`storykit.render.render_draft`: the story reduced by its consent exactly as for
publishing (names swapped, photos dropped without photo consent), its pictures checked by
the media rule, marked as a draft and never recorded in the distribution log. So the preview
goes through the same Markdown sanitiser and the same templates as the real page.

The app's Content-Security-Policy allows no inline CSS and no ``data:`` pictures, so the page
is asked for in the format's linked form (options ``stylesheet_url`` and ``picture_urls``):
its style sheet comes from a URL of the app (:func:`theme_css`, kept from the ``style.css``
the format writes) and its pictures from the story's media URLs. The editor shows it in
``<iframe srcdoc sandbox>``: no script can run in it, and it inherits the app's policy.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app, url_for

from ..errors import StorykitError
from ..media import media_problem
from ..model import Story, Storyteller
from ..render import render_draft
from ..themes import ThemeError, theme_sources
from .uploads import small_variant, sweep

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

FORMAT = "web"
PREVIEW_USE = "public_website"
_lock = threading.Lock()


@dataclass(frozen=True)
class Preview:
    """``html`` is the page for an ``<iframe srcdoc>`` (None when it cannot be shown, with
    ``problem`` saying why); ``notes`` say what the consent leaves out."""

    html: str | None
    notes: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def srcdoc(self) -> str:
        return self.html or ""


def theme_names(site: Site) -> list[str]:
    """Every theme the site can use, its own theme first."""
    names = sorted(theme_sources(site))
    default = site.config.theme
    return [default] + [n for n in names if n != default] if default in names else names


def preview_use(site: Site) -> str:
    uses = site.config.use_names
    return PREVIEW_USE if PREVIEW_USE in uses else uses[0]


def preview_notes(story: Story) -> list[str]:
    """What the consent leaves out of the preview, in words."""
    consent = story.current_consent
    notes: list[str] = []
    if consent is None:
        notes.append("No consent is recorded yet, so the preview does not name the "
                     "storyteller and hides the names of people in the story.")
        return notes  # the strictest reading shows every kind of content, named by no one
    media = set(consent.media)
    if story.images and "photo" not in media and any(i.kind == "photo" for i in story.images):
        notes.append("Photos are left out: the consent does not cover photos.")
    if story.quotes and "quotes" not in media:
        notes.append("Pull quotes are left out: the consent does not cover quotes.")
    if story.body.strip() and "text" not in media:
        notes.append("The story text is left out: the consent does not cover it.")
    return notes


#: The consent decision's reasons that mean the story may no longer be used at all.
ENDED = ("withdrawn", "expired", "reconsent_due")


def ended_words(site: Site, story: Story) -> str | None:
    """Why the story may no longer be used at all, in the app's words, once its consent was
    withdrawn or ended (None while it has not): its preview then shows none of its text."""
    from dataclasses import replace

    from ..consent import consent_ended
    from ..dates import today
    from .words import reasons

    consent = story.current_consent
    if consent is None or not consent_ended(consent, today()):
        return None
    decision = site.decide(story, preview_use(site), preview=True)
    ended = replace(decision, reasons=tuple(r for r in decision.reasons if r.code in ENDED))
    why = "; ".join(reasons(story, ended, site.config.label)) or "its consent ended"
    return (f"This story can no longer be used for anything: {why}. So the preview shows "
            "none of its text.")


def render_preview(site: Site, story: Story, theme: str) -> Preview:
    """The preview page of ``story`` (saved or not) in ``theme``; none, with words saying
    why, once its consent was withdrawn or ended."""
    ended = ended_words(site, story)
    if ended is not None:
        return Preview(None, (), ended)
    notes = tuple(preview_notes(story))
    if site.formats().get(FORMAT) is None:
        return Preview(None, notes, "The web page format is not installed, so the preview "
                                    "cannot be shown.")
    try:
        html = _run(site, story, theme)
    except ThemeError:
        return Preview(None, notes, "The theme has a problem, so the preview cannot be "
                                    "shown. Ask whoever runs the site to check it.")
    except StorykitError as exc:
        return Preview(None, notes, _why(exc))
    if html is None:
        return Preview(None, notes, "There is nothing to show yet: the consent covers "
                                    "neither the story text nor quotes.")
    return Preview(html, notes)


def _why(exc: StorykitError) -> str:
    text = str(exc)
    if "picture" in text:
        return "A picture could not be read, so the preview cannot be shown."
    return ("The preview cannot be shown: the text is too long or has too much formatting. "
            "Split long paragraphs and remove some formatting.")


def _picture_urls(story: Story) -> dict[str, str]:
    """The app's address of each picture: its 800-pixel copy when there is one (the
    preview is small, and quicker so)."""
    urls = {}
    for img in story.images:
        small = small_variant(img.file)
        shown = small if media_problem(story.folder, small) is None else img.file
        urls[img.file] = url_for("media.file", story_id=story.id,
                                 name=shown.rsplit("/", 1)[-1])
    return urls


def _run(site: Site, story: Story, theme: str) -> str | None:
    """The linked page (None when there is nothing to show); keeps the theme's style sheet."""
    tmp_root = site.instance / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    sweep(tmp_root)
    options = {"stylesheet_url": url_for("editor.theme_css", name=theme),
               "picture_urls": _picture_urls(story)}
    with tempfile.TemporaryDirectory(prefix="preview-", dir=tmp_root) as out:
        artefacts = render_draft(site, story, FORMAT, Path(out), use=preview_use(site),
                                 theme=theme, options=options)
        if not artefacts:
            return None
        sheets = [a.path for a in artefacts if a.media_type == "text/css"]
        page = [a.path for a in artefacts if a.story_ids]
        if not page or not sheets:
            raise StorykitError("the web format made no page")
        _styles()[theme] = sheets[0].read_text(encoding="utf-8")
        return page[0].read_text(encoding="utf-8")


def _styles() -> dict[str, str]:
    return current_app.extensions.setdefault("storykit_preview_css", {})


def theme_css(site: Site, theme: str) -> str | None:
    """The style sheet of ``theme``'s web page (None for an unknown theme)."""
    if theme not in theme_names(site):
        return None
    styles = _styles()
    if theme not in styles:
        with _lock:
            sample = Story(id="st-preview", title="Preview", slug="preview", status="draft",
                           storyteller=Storyteller(name="Sample", role="patient"),
                           body="Preview.\n")
            render_preview(site, sample, theme)
    return styles.get(theme)
