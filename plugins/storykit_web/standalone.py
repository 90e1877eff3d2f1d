"""The ``web`` format: one story as one self-contained, accessible HTML page.

``storykit render STORY --use U --format web --out DIR`` writes ``DIR/<slug>.html`` with the
theme's CSS inside the page and pictures as ``data:`` URIs, so the file can be emailed, put
on a shared drive or opened offline. Its Content-Security-Policy allows exactly that style
sheet (by hash) and ``data:`` pictures: nothing else loads, nothing runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from storykit.consent import StoryView
from storykit.fsio import replace_file
from storykit.images import ImageError, image_data_uri_and_size
from storykit.markup import MarkdownTooLong
from storykit.render import Artefact, Job
from storykit.themes import ThemeError, nice_date

from . import assets, pages
from .build import BuildError, story_picture

MAX_IMAGE_WIDTH = 1024


def render_web(job: Job) -> list[Artefact]:
    """Render each story of ``job`` (one per job: the format is not ``multi``)."""
    env = job.environment(assets.TEMPLATES)
    env.globals.update(nice_date=nice_date, service_page=pages.service_page,
                       tag_page=pages.tag_page)
    css = assets.bundle_css(job.theme, assets.static_files(job.theme), standalone=True)
    if "</" in css:
        raise ThemeError(f"theme {job.theme.name!r}: CSS may not contain '</'")
    csp = ("default-src 'none'; img-src data:; style-src " + assets.style_hash(css) +
           "; object-src 'none'; base-uri 'none'; form-action 'none'")
    out = []
    for view in job.stories:
        try:
            html = env.get_template("web/standalone.html").render(job.context(
                "web/standalone.html", story=view, images=_images(view),
                css=Markup(css), csp=csp, standalone=True, root="",  # noqa: S704 - checked CSS
                theme_name=job.theme.name))
        except MarkdownTooLong as exc:
            raise BuildError(f"story {view.id}: {exc}") from None
        path = job.out_dir / f"{view.slug}.html"
        _write(path, html)
        out.append(Artefact(path=path, format=job.format, story_ids=(view.id,),
                            media_type="text/html"))
    return out


def _images(view: StoryView) -> list[dict[str, Any]]:
    found = []
    for img in view.images:
        src = story_picture(view, img)
        try:
            uri, (width, height) = image_data_uri_and_size(src, MAX_IMAGE_WIDTH)
        except ImageError as exc:
            raise BuildError(f"story {view.id}: picture {img.file}: {exc}") from None
        found.append({"src": uri, "alt": img.alt, "width": width, "height": height,
                      "kind": img.kind})
    return found


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, text.encode("utf-8"))
