"""The ``slides`` format: one self-contained HTML file (CSS, script, font and pictures inline).

The file makes no network requests (a Content-Security-Policy with hashes allows only its
own style and script, and ``data:`` fonts and pictures), so it can be emailed and opened
on a locked-down laptop. Speaker notes are written into it only for ``--with-notes`` copies.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from markupsafe import Markup

from storykit import Artefact, Job, StorykitError
from storykit.kit import ImageError, MediaError, atomic_write, image_data_uri, picture_path

from .fonts import font_face_css
from .plan import DEFAULT_GEOMETRY, Slide, deck_basename, deck_title, palette, plan_deck
from .styles import colour_vars, css_vars, font_stack, geometry_css, offset_css, static_text

TEMPLATE = "slides/deck.html"
#: Pictures are embedded at most this wide: sharp on a 1080p projector, small enough to email.
IMAGE_WIDTH = 1920


def render_slides(job: Job) -> list[Artefact]:
    """Write the deck for ``job`` and return it as one artefact carrying every story."""
    from . import TEMPLATES

    slides = plan_deck(job)
    html = deck_html(job, slides, TEMPLATES)
    out = job.out_dir / (deck_basename(job, "-slides") + ".html")
    atomic_write(out, html)
    return [Artefact(out, job.format, tuple(v.id for v in job.stories), "text/html")]


def deck_html(job: Job, slides: Sequence[Slide], templates) -> str:
    colours = palette(job.theme)
    family = font_stack(job.theme)
    fonts = font_face_css(job.theme.font_file("regular"), job.theme.font_file("bold"),
                          _all_text(job, slides))
    css = "\n".join([fonts, colour_vars(css_vars(colours, family)),
                     geometry_css(DEFAULT_GEOMETRY), offset_css(slides),
                     static_text("slide.css"), static_text("deck.css")])
    js = static_text("deck.js")
    env = job.environment(templates)
    values = {
        "slides": slides, "title": deck_title(job), "lang": job.site.language or "en-GB",
        "css": Markup(css),  # noqa: S704 - the plugin's own CSS; colours checked as #hex
        "js": Markup(js),  # noqa: S704 - the plugin's own script
        "csp": content_security_policy(css, js), "images": picture_uris(slides),
        "with_notes": job.with_notes, "draft_mark": job.draft_mark,
    }
    return env.get_template(TEMPLATE).render(job.context(TEMPLATE, **values))


def content_security_policy(css: str, js: str) -> str:
    """Nothing may load from anywhere: only this file's own style and script (by hash) and
    ``data:`` pictures and fonts."""
    return ("default-src 'none'; img-src data:; font-src data:; "
            f"style-src '{_sha256(css)}'; script-src '{_sha256(js)}'; "
            "base-uri 'none'; form-action 'none'")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def picture_uris(slides: Sequence[Slide]) -> dict[int, str]:
    """Slide number -> ``data:`` URI of a clean, resized copy of its picture."""
    uris = {}
    for slide in slides:
        if slide.image is None:
            continue
        try:  # the media rule, again: nothing but the story's own media file is read
            uris[slide.number] = image_data_uri(picture_path(slide.image), IMAGE_WIDTH)
        except (ImageError, MediaError) as exc:
            raise StorykitError(f"story {slide.story_id}: {exc}") from None
    return uris


def _all_text(job: Job, slides: Sequence[Slide]) -> str:
    """Every letter the page may show, so the embedded font has them all."""
    parts = [deck_title(job), job.draft_mark or "", job.site.title]
    for slide in slides:
        parts += [slide.text, slide.story_title, *slide.notes]
    return "".join(parts)
