"""Making the PDFs: story views -> HTML (theme templates) -> WeasyPrint, safely.

Each render runs in a forked child with a time and memory limit (storykit.weasy.run_limited),
fetches only the theme's static files and the job's own pictures, and writes the PDF
atomically, so a failed render leaves nothing half-made.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import jinja2
from weasyprint.urls import path2url

from storykit import Artefact, Job, StorykitError, StoryView, Theme
from storykit.kit import (
    file_stem,
    html_to_pdf,
    nice_date,
    picture_path,
    prepare_images,
    run_limited,
    write_atomic,
)

from . import style
from .settings import PdfSettings, resolve

TEMPLATES = Path(__file__).parent / "templates"
#: A theme may add print rules in this static file.
THEME_CSS = "css/pdf.css"
MEDIA_TYPE = "application/pdf"
_HINT = ("Make fewer stories at once, or raise timeout or memory_mb under "
         "[plugins.storykit_pdf] in storykit.toml.")


def render_pdf(job: Job) -> list[Artefact]:
    """Format ``pdf``: one PDF per story, named after its slug."""
    settings = resolve(job.config, job.options)
    artefacts = []
    for view in job.stories:
        out = job.out_dir / f"{file_stem(view.slug, view.id)}.pdf"
        make(job, "pdf/story.html", [view], out, settings, title=view.title,
             label=f"the PDF of story {view.id}")
        artefacts.append(Artefact(out, job.format, (view.id,), MEDIA_TYPE))
    return artefacts


def render_booklet(job: Job) -> list[Artefact]:
    """Format ``booklet``: every story of the job in one PDF with a cover and contents."""
    settings = resolve(job.config, job.options)
    out = job.out_dir / f"booklet-{job.use}.pdf"
    title = f"{job.site.title} - {job.use_label}"
    make(job, "pdf/booklet.html", job.stories, out, settings, title=title, label="the booklet")
    return [Artefact(out, job.format, tuple(v.id for v in job.stories), MEDIA_TYPE)]


def make(job: Job, template: str, views: list[StoryView], out: Path, settings: PdfSettings,
         *, title: str, label: str) -> Path:
    """Write ``views`` through ``template`` to ``out`` as a PDF, within the limits.

    Everything that could run away (pictures, the theme's template, WeasyPrint) runs in a
    child process with a time and memory limit, writing into a private temporary folder;
    only a finished PDF is copied into place, so a stopped render leaves nothing behind."""
    check_alt_text(views)
    with tempfile.TemporaryDirectory(prefix="storykit-pdf-") as tmp:
        task = partial(_make_pdf, job, template, views, settings, title, Path(tmp))
        made = run_limited(task, timeout=settings.timeout, memory_mb=settings.memory_mb,
                           label=label, hint=_HINT)
        with made.open("rb") as src:
            write_atomic(out, lambda f: shutil.copyfileobj(src, f, 1 << 20))
    return out


def _make_pdf(job: Job, template: str, views: list[StoryView], settings: PdfSettings,
              title: str, work: Path) -> Path:
    """In the child: pictures, HTML, then the PDF in ``work``."""
    draft = next((v.draft_mark for v in views if v.draft), None)
    pictures, picture_files = prepare_pictures(views, work, settings.image_max_width)
    html = page_html(job, template, views, pictures, title=title, draft=draft)
    sheets: list[str | Path] = [style.stylesheet(job.theme, draft_mark=draft,
                                                 variant=settings.variant)]
    theme_css = job.theme.static(THEME_CSS)
    if theme_css is not None:
        sheets.append(theme_css)
    allowed = [*static_roots(job.theme), work, *picture_files]
    return html_to_pdf(html, work / "out.pdf", base_dir=work, allowed=allowed,
                       variant=settings.variant, stylesheets=sheets)


def check_alt_text(views: list[StoryView]) -> None:
    """Every picture needs words for people who cannot see it (PDF/UA, WCAG 1.1.1)."""
    for view in views:
        for image in view.images:
            if not (image.alt or "").strip():
                raise StorykitError(f"story {view.id}: the picture {image.file!r} has no alt "
                                    "text; describe it in the story's images list first")


def prepare_pictures(views: list[StoryView], work: Path,
                     max_width: int) -> tuple[dict[str, list[tuple[object, str]]], list[Path]]:
    """Pre-sized pictures per story: ``({story id: [(image, file URL)]}, files used)``."""
    pictures: dict[str, list[tuple[object, str]]] = {}
    files: list[Path] = []
    for view in views:
        try:  # each picture's path passes the media rule again before it is read
            checked = [replace(image, path=picture_path(image)) for image in view.images]
            ready = prepare_images(checked, work / view.id, max_width)
        except StorykitError as exc:
            raise StorykitError(f"story {view.id}: {exc}") from None
        pictures[view.id] = [(image, path2url(str(path))) for image, path in ready]
        files += [path for _, path in ready]
    return pictures, files


def static_roots(theme: Theme) -> list[Path]:
    """The theme's static folders (its own, its parents' and the site's overrides)."""
    return [folder / "static" for folder in theme.folders if (folder / "static").is_dir()]


def static_url(theme: Theme, rel: str) -> str:
    """The address of one of the theme's static files (e.g. a logo) for a template;
    an empty string if the theme has no such file."""
    path = theme.static(rel)
    return path2url(str(path.resolve())) if path is not None else ""


def consent_line(view: StoryView, use_label: str) -> str:
    """The footer line, e.g. "Shared with consent for: Trust board. Consent expires
    21 September 2029." """
    line = f"Shared with consent for: {use_label}."
    if view.consent_expires:
        line += f" Consent expires {nice_date(view.consent_expires)}."
    return line


def page_html(job: Job, template: str, views: list[StoryView],
              pictures: dict[str, list[tuple[object, str]]], *, title: str,
              draft: str | None) -> str:
    """The HTML for WeasyPrint, from the theme's (or this plugin's) template."""
    env = job.environment(TEMPLATES)
    where = job.site.organisation or job.site.title
    values = {
        "stories": views, "title": title, "pictures": pictures, "draft_mark": draft,
        "consent_lines": {v.id: consent_line(v, job.use_label) for v in views},
        "made_on": nice_date(job.on),
        "description": f"{'A story' if len(views) == 1 else 'Stories'} from {where}, "
                       f"shared for: {job.use_label}",
        "static_url": partial(static_url, job.theme),
        "notice": job.notice,
    }
    try:
        return env.get_template(template).render(job.context(template, **values))
    except jinja2.TemplateError as exc:
        raise StorykitError(f"theme {job.theme.name!r}: the template {template} cannot be "
                            f"used ({type(exc).__name__}: {exc})") from None
