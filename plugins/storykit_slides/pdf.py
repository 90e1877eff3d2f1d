"""``slides-pdf`` (one slide a page) and ``handout`` (A4, slides with notes) via WeasyPrint.

No browser is needed: the same slide plan and slide markup as the HTML deck are laid out by
WeasyPrint through :mod:`storykit.weasy` (a fetcher that reads only the theme's fonts and the
pictures, tagged PDF/UA-1 by default, a time and memory limit). The handout shows speaker
notes only for ``--with-notes`` copies; an audience handout has lines for people's own notes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from storykit import Artefact, Job, StorykitError
from storykit.kit import html_to_pdf, nice_date, picture_path, prepare_images, run_limited

from .plan import DEFAULT_GEOMETRY, Slide, deck_basename, deck_title, palette, plan_deck
from .settings import resolve
from .styles import (
    FAMILY,
    css_vars,
    font_stack,
    geometry_css,
    inline_vars,
    offset_css,
    static_text,
)

IMAGE_WIDTH = 1920
#: Handout slides are 100 mm wide: 100 mm / 1280 px (at 96 px to the inch).
HANDOUT_SCALE = 100 / 25.4 * 96 / 1280
_PX = re.compile(r"(-?\d+(?:\.\d+)?)px\b")
_HINT = "Make fewer stories at once, or raise timeout or memory_mb under [plugins.storykit_slides]."


def render_slides_pdf(job: Job) -> list[Artefact]:
    """One page per slide, 13.333 x 7.5 in; never any speaker notes."""
    return [_render(job, "slides/print.html", "print.css", "-slides", "the slide PDF",
                    notes_in_name=False)]


def render_handout(job: Job) -> list[Artefact]:
    """A4 pages: each slide small, beside its notes (presenter copies) or note lines."""
    return [_render(job, "slides/handout.html", "handout.css", "-handout", "the handout",
                    scale=HANDOUT_SCALE)]


def _render(job: Job, template: str, sheet: str, suffix: str, label: str,
            scale: float = 1.0, notes_in_name: bool | None = None) -> Artefact:
    settings = resolve(job.config)
    slides = plan_deck(job)
    out = job.out_dir / (deck_basename(job, suffix, notes=notes_in_name) + ".pdf")
    with tempfile.TemporaryDirectory(prefix="storykit-slides-") as tmp:
        work = Path(tmp)
        images, picture_files = _pictures(slides, work)
        html = _page_html(job, slides, template, images)
        css = _stylesheet(job, slides, sheet, scale)
        fonts = [p.parent for p in (job.theme.font_file("regular"), job.theme.font_file("bold"))
                 if p is not None]
        allowed = [work, *fonts, *picture_files]
        task = partial(html_to_pdf, html, out, base_dir=work, allowed=allowed,
                       variant=settings.variant, stylesheets=[css])
        run_limited(task, timeout=settings.timeout, memory_mb=settings.memory_mb,
                    label=label, hint=_HINT)
    return Artefact(out, job.format, tuple(v.id for v in job.stories), "application/pdf")


def _pictures(slides: Sequence[Slide], work: Path) -> tuple[dict[int, str], list[Path]]:
    """Pre-sized, metadata-free pictures: slide number -> file URL, and the files used."""
    wanted = [s for s in slides if s.image is not None]
    uris: dict[int, str] = {}
    files: list[Path] = []
    for index, slide in enumerate(wanted):
        try:
            checked = replace(slide.image, path=picture_path(slide.image))  # the media rule
            [(_, path)] = prepare_images([checked], work / f"s{index:03d}", IMAGE_WIDTH)
        except StorykitError as exc:
            raise StorykitError(f"story {slide.story_id}: {exc}") from None
        uris[slide.number] = path.resolve().as_uri()
        files.append(path)
    return uris, files


def _page_html(job: Job, slides: Sequence[Slide], template: str, images: dict[int, str]) -> str:
    from . import TEMPLATES

    env = job.environment(TEMPLATES)
    about = f"For: {job.use_label}. Made on {nice_date(job.on)}."
    values = {"slides": slides, "title": deck_title(job), "lang": job.site.language or "en-GB",
              "images": images, "with_notes": job.with_notes, "draft_mark": job.draft_mark,
              "organisation": job.site.organisation, "about": about}
    return env.get_template(template).render(job.context(template, **values))


def _stylesheet(job: Job, slides: Sequence[Slide], sheet: str, scale: float) -> str:
    """Fonts (the theme's own files, which WeasyPrint subsets), colours, geometry, look.

    The handout's small slides are the same slides with every length scaled: WeasyPrint
    would split a 720 px slide shrunk with ``transform`` across pages, as its layout box
    stays full size."""
    faces = []
    for key, weight in (("regular", 400), ("bold", 700)):
        path = job.theme.font_file(key) or job.theme.font_file("regular")
        if path is not None:
            faces.append(f'@font-face{{font-family:"{FAMILY}";font-weight:{weight};'
                         f'src:url("{path.resolve().as_uri()}")}}')
    layout = "\n".join([geometry_css(DEFAULT_GEOMETRY), offset_css(slides),
                        static_text("slide.css")])
    css = "\n".join([*faces, scale_px(layout, scale), static_text(sheet)])
    return inline_vars(css, css_vars(palette(job.theme), font_stack(job.theme)))


def scale_px(css: str, scale: float) -> str:
    """``css`` with every ``px`` length multiplied by ``scale``."""
    if scale == 1.0:
        return css
    return _PX.sub(lambda m: f"{float(m.group(1)) * scale:.3f}px", css)
