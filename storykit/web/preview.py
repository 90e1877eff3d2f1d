"""The editor's preview: the story as the published web page shows it, in a chosen theme.

The page is made by the site's ``web`` format (a plugin, reached only through the public
render API: :func:`storykit.render.make_job` and :func:`storykit.render.run_jobs`), from the
story reduced by its consent exactly as for publishing (:func:`storykit.consent.reduce`:
names swapped, photos dropped without photo consent) and marked as a draft. So the preview
goes through the same Markdown sanitiser and the same templates as the real page.

That page is self-contained (its CSS in a ``<style>`` element, pictures as ``data:`` URIs).
The app's Content-Security-Policy allows neither, so before the page is shown its style sheet
is moved to a URL of the app (:func:`theme_css`) and its pictures are pointed at the story's
media URLs. The editor shows it in ``<iframe srcdoc sandbox>``: no script can run in it, and
it inherits the app's policy. Nothing is recorded in the distribution log (drafts never are).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app, url_for

from ..consent import StoryView, reduce
from ..errors import StorykitError
from ..model import MEDIA, ConsentVersion, Story, Storyteller
from ..render import make_job, run_jobs
from ..themes import ThemeError, load_theme, theme_sources
from .uploads import small_variant, sweep

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

FORMAT = "web"
PREVIEW_USE = "public_website"
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>', re.I)
_DATA_IMG = re.compile(r'(<img\b[^>]*?\ssrc=")data:[^"]*(")')
PREVIEW_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
               "base-uri 'none'; form-action 'none'")
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


def preview_view(site: Site, story: Story) -> tuple[StoryView | None, list[str]]:
    """The story as readers would see it now, marked as a draft, and notes on what the
    consent leaves out. Without (usable) consent the strictest reading is shown."""
    consent = story.current_consent
    notes: list[str] = []
    if consent is None or consent.status == "withdrawn":
        notes.append("No consent is recorded yet, so the preview does not name the "
                     "storyteller and hides the names of people in the story.")
        consent = _stand_in(story)
    media = set(consent.media)
    if story.images and "photo" not in media and any(i.kind == "photo" for i in story.images):
        notes.append("Photos are left out: the consent does not cover photos.")
    if story.quotes and "quotes" not in media:
        notes.append("Pull quotes are left out: the consent does not cover quotes.")
    if story.body.strip() and "text" not in media:
        notes.append("The story text is left out: the consent does not cover it.")
    view = reduce(story, consent, preview_use(site), draft=True)
    return view, notes


def _stand_in(story: Story) -> ConsentVersion:
    today = dt.date.today()
    return ConsentVersion(version=0, recorded=dt.datetime.now(dt.UTC), status="pending",
                          given_by="self", method="written", granted=today,
                          expires=today + dt.timedelta(days=1), uses=[], media=list(MEDIA),
                          identification="anonymous", signoff_required=False)


def render_preview(site: Site, story: Story, theme: str) -> Preview:
    """The preview page of ``story`` (saved or not) in ``theme``."""
    view, notes = preview_view(site, story)
    if view is None:
        return Preview(None, tuple(notes), "There is nothing to show yet: the consent covers "
                                           "neither the story text nor quotes.")
    fmt = site.formats().get(FORMAT)
    if fmt is None:
        return Preview(None, tuple(notes), "The web page format is not installed, so the "
                                           "preview cannot be shown.")
    try:
        html = _run(site, fmt, _small_pictures(view), theme)
    except ThemeError:
        return Preview(None, tuple(notes), "The theme has a problem, so the preview cannot "
                                           "be shown. Ask whoever runs the site to check it.")
    except StorykitError as exc:
        return Preview(None, tuple(notes), _why(exc))
    return Preview(_for_the_app(html, theme, view), tuple(notes))


def _why(exc: StorykitError) -> str:
    text = str(exc)
    if "picture" in text:
        return "A picture could not be read, so the preview cannot be shown."
    return ("The preview cannot be shown: the text is too long or has too much formatting. "
            "Split long paragraphs and remove some formatting.")


def _small_pictures(view: StoryView) -> StoryView:
    """Point the view at the 800-pixel copies (the preview is small, and quicker so)."""
    pictures = []
    for img in view.images:
        small = img.path.parent / small_variant(img.path.name) if img.path else None
        pictures.append(replace(img, path=small) if small and small.is_file() else img)
    return replace(view, images=tuple(pictures))


def _run(site: Site, fmt, view: StoryView, theme: str) -> str:
    loaded = load_theme(site, theme)
    tmp_root = site.instance / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    sweep(tmp_root)
    with tempfile.TemporaryDirectory(prefix="preview-", dir=tmp_root) as out:
        job = make_job(site, fmt, view.use, [view], Path(out), on=dt.date.today(),
                       theme=loaded)
        artefacts = run_jobs(fmt, [job])
        pages = [a.path for a in artefacts if a.path.suffix == ".html"]
        if not pages:
            raise StorykitError("the web format made no page")
        return pages[0].read_text(encoding="utf-8")


def _for_the_app(html: str, theme: str, view: StoryView) -> str:
    """Move the style sheet to the app's URL, point pictures at the app's media URLs and put
    a policy in the page that allows only the app's own files."""
    found = _STYLE.search(html)
    if found:
        _styles()[theme] = found.group(1)
        link = f'<link rel="stylesheet" href="{url_for("editor.theme_css", name=theme)}">'
        html = html[:found.start()] + link + html[found.end():]
    meta = f'<meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">'
    html = _META_CSP.sub(lambda _m: meta, html, count=1)
    urls = iter([url_for("media.file", story_id=view.id,
                         name=(img.path.name if img.path else img.file.rsplit("/", 1)[-1]))
                 for img in view.images])
    return _DATA_IMG.sub(lambda m: m.group(1) + next(urls, "") + m.group(2), html)


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
