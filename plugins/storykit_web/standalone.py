"""The ``web`` format: one story as one self-contained, accessible HTML page.

``storykit render STORY --use U --format web --out DIR`` writes ``DIR/<slug>.html`` with the
theme's CSS inside the page and pictures as ``data:`` URIs, so the file can be emailed, put
on a shared drive or opened offline. Its Content-Security-Policy allows exactly that style
sheet (by hash) and ``data:`` pictures: nothing else loads, nothing runs.

For a page served next to its style sheet and pictures (the browser app's preview), two
options link them instead (docs/web.md): ``stylesheet_url`` (the style sheet is then also
written as ``style.css``, a supporting artefact) and ``picture_urls`` (story.md's picture
name -> address). Such a page's policy allows styles and pictures from its own site only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from storykit import Artefact, Job, StorykitError, StoryView
from storykit.kit import (
    ImageError,
    MarkdownTooLong,
    ThemeError,
    file_stem,
    image_data_uri_and_size,
    nice_date,
    picture_path,
    replace_file,
)

from . import assets, pages

MAX_IMAGE_WIDTH = 1024
LINKED_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
              "object-src 'none'; base-uri 'none'; form-action 'none'")
STYLESHEET = "style.css"


def render_web(job: Job) -> list[Artefact]:
    """Render each story of ``job`` (one per job: the format is not ``multi``)."""
    env = job.environment(assets.TEMPLATES)
    env.globals.update(nice_date=nice_date, service_page=pages.service_page,
                       tag_page=pages.tag_page)
    css = assets.bundle_css(job.theme, assets.static_files(job.theme), standalone=True)
    if "</" in css:
        raise ThemeError(f"theme {job.theme.name!r}: CSS may not contain '</'")
    linked = _linked(job.options)
    out: list[Artefact] = []
    if linked is None:
        csp = ("default-src 'none'; img-src data:; style-src " + assets.style_hash(css) +
               "; object-src 'none'; base-uri 'none'; form-action 'none'")
        style = {"css": Markup(css)}  # noqa: S704 - checked CSS
    else:
        csp, style = LINKED_CSP, {"css_href": linked[0]}
        sheet = job.out_dir / STYLESHEET
        _write(sheet, css)
        out.append(Artefact(path=sheet, format=job.format, media_type="text/css"))
    for view in job.stories:
        images = _images(view) if linked is None else _linked_images(view, linked[1])
        try:
            html = env.get_template("web/standalone.html").render(job.context(
                "web/standalone.html", story=view, images=images, csp=csp, standalone=True,
                root="", theme_name=job.theme.name, **style))
        except MarkdownTooLong as exc:
            raise StorykitError(f"story {view.id}: {exc}") from None
        path = job.out_dir / f"{file_stem(view.slug, view.id)}.html"
        _write(path, html)
        out.append(Artefact(path=path, format=job.format, story_ids=(view.id,),
                            media_type="text/html"))
    return out


def _linked(options: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """``(style sheet address, {picture name: address})`` for a linked page, else None."""
    href = options.get("stylesheet_url")
    if href is None:
        return None
    urls = options.get("picture_urls") or {}
    if not isinstance(href, str) or not isinstance(urls, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in urls.items()):
        raise StorykitError("the web format's stylesheet_url must be an address and "
                            "picture_urls a mapping of picture names to addresses")
    return href, urls


def _images(view: StoryView) -> list[dict[str, Any]]:
    found = []
    for img in view.images:
        src = picture_path(img)  # the media rule, again: nothing else is ever read
        try:
            uri, (width, height) = image_data_uri_and_size(src, MAX_IMAGE_WIDTH)
        except ImageError as exc:
            raise StorykitError(f"story {view.id}: picture {img.file}: {exc}") from None
        found.append({"src": uri, "alt": img.alt, "width": width, "height": height,
                      "kind": img.kind})
    return found


def _linked_images(view: StoryView, urls: dict[str, str]) -> list[dict[str, Any]]:
    """Pictures by address (only those the options name), sized from their headers."""
    found = []
    for img in view.images:
        url = urls.get(img.file)
        if url is None:
            continue
        width, height = _shown_size(picture_path(img))
        found.append({"src": url, "alt": img.alt, "width": width, "height": height,
                      "kind": img.kind})
    return found


def _shown_size(path: Path) -> tuple[int, int]:
    """A picture's size as shown (turned as its EXIF orientation says), shrunk to the width
    the page uses, read from its header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=["JPEG", "PNG", "WEBP"]) as im:
            width, height = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        raise StorykitError("a picture could not be read (not a JPEG, PNG or WebP)") from None
    if width > MAX_IMAGE_WIDTH:
        width, height = MAX_IMAGE_WIDTH, max(1, round(height * MAX_IMAGE_WIDTH / width))
    return width, height


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, text.encode("utf-8"))
