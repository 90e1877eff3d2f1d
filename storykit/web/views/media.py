"""A story's pictures: upload one (with alt text, photo or illustration), change its alt
text, take it out; and serve the stored copies to people who may see the story.

Uploads are checked by content and stored under generated names (storykit.web.uploads). A
picture is served only to signed-in users allowed to view its story, only if the story lists
it (or it is the small copy of one it lists), as ``image/*`` with ``nosniff`` and
``Cache-Control: no-store`` (the app's headers on every answer).
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from ...media import MediaError, media_file
from ...model import IMAGE_KINDS, Image, Story
from ..auth import deny
from ..forms import Form
from ..state import state
from ..storyform import clean
from ..uploads import (
    LISTED_NAME,
    MEDIA_TYPES,
    UploadError,
    receive,
    remove_image_files,
    small_variant,
    sniff,
    store_image,
    upload_limit,
)
from .editor import editable, gone, save_story
from .stories import viewable

bp = Blueprint("media", __name__, url_prefix="/stories")
ALT_MAX = 1000
KIND_LABELS = {"photo": "A photo (of a real person or place)",
               "illustration": "A drawing, diagram or other illustration"}
_FILE_LIKE = re.compile(r"^\S+\.(?:jpe?g|png|webp|gif|heic|tiff?|bmp|svg)\Z", re.I)


@bp.route("/<story_id>/images", methods=["GET", "POST"])
def images(story_id: str):
    """The story's pictures and the upload form."""
    story = editable(story_id, "images")
    if request.method == "GET":
        return _page(story, Form())
    form = Form(request.form)
    upload = request.files.get("picture")
    base_etag = form.get("base_etag")
    alt = _alt(form, upload.filename if upload else "")
    kind = form.get("kind")
    if kind not in IMAGE_KINDS:
        form.error("kind", "Choose whether it is a photo or an illustration.")
    if upload is None or not upload.filename and not upload.mimetype:
        form.error("picture", "Choose a picture to upload.")
    if not base_etag:
        form.error("picture", "This page was out of date. Open it again.")
    if not form.ok:
        return _page(story, form), 422
    return _upload(story, form, upload, alt, kind, base_etag)


def _alt(form: Form, filename: str) -> str:
    alt = " ".join(clean(form.get("alt")).split())
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()
    if not alt:
        form.error("alt", "Describe the picture for people who cannot see it.")
    elif len(alt) > ALT_MAX:
        form.error("alt", f"The description must be {ALT_MAX} characters or fewer.")
    elif (name and alt.casefold() == name.casefold()) or _FILE_LIKE.match(alt):
        form.error("alt", "Describe what the picture shows in words, not its file name.")
    return alt


def _upload(story: Story, form: Form, upload, alt: str, kind: str, base_etag: str):
    site = state().site
    folder = site.store.folder(story.id)
    try:
        tmp = receive(upload.stream, site.instance / "tmp", upload_limit())
    except UploadError as exc:
        form.error("picture", exc.message)
        return _page(story, form), exc.status
    try:
        stored = store_image(tmp, folder / "media")
    except UploadError as exc:
        form.error("picture", exc.message)
        return _page(story, form), exc.status
    finally:
        tmp.unlink(missing_ok=True)
    added = Image(file=stored.file, alt=alt, kind=kind)
    outcome = save_story(story, story.copy(images=[*story.images, added]), base_etag,
                         f"picture added ({kind})")
    if isinstance(outcome, tuple) and outcome[0] == "conflict":
        # Adding a picture does not touch anything else: add it to the latest version.
        latest = state().index.story(story.id)
        outcome = save_story(latest, latest.copy(images=[*latest.images, added]),
                             latest.etag, f"picture added ({kind})")
    if isinstance(outcome, Story):
        flash("The picture was added.")
        return redirect(url_for("media.images", story_id=story.id), 303)
    remove_image_files(folder, stored.file)
    return _failed(story, form, outcome)


def _failed(story: Story, form: Form, outcome: tuple[str, str]):
    kind, detail = outcome
    if kind == "gone":
        return gone(story, "images")
    form.error("picture", "The picture was not saved. " + (detail.split(" Your text")[0]
                                                           if detail else "Try again."))
    return _page(story, form), 409 if kind == "conflict" else 503


def _page(story: Story, form: Form):
    return render_template("media/images.html", story=story, form=form, kinds=KIND_LABELS,
                           limit_mb=upload_limit() // (1024 * 1024), alt_max=ALT_MAX)


@bp.route("/<story_id>/images/change", methods=["POST"])
def change(story_id: str):
    """Change a picture's alt text or kind (``action=update``) or take it out (``remove``)."""
    story = editable(story_id, "images")
    form = Form(request.form)
    file = form.get("file")
    position = next((i for i, img in enumerate(story.images) if img.file == file), None)
    if position is None:
        form.error("picture", "That picture is not in the story any more. Check the "
                              "pictures below.")
        return _page(story, form), 422
    if form.get("base_etag") != story.etag:
        form.error(f"alt-{position}", "The story changed after you opened this page. Check "
                                      "the pictures below and try again.")
        return _page(story, form), 409
    pictures = list(story.images)
    if form.get("action") == "remove":
        del pictures[position]
        what = "picture removed"
    else:
        alt = _alt_for(form, position, file)
        kind = form.get(f"kind-{position}")
        if kind not in IMAGE_KINDS:
            form.error(f"kind-{position}", "Choose whether it is a photo or an illustration.")
        if not form.ok:
            return _page(story, form), 422
        pictures[position] = Image(file=file, alt=alt, kind=kind)
        what = "picture description changed"
    outcome = save_story(story, story.copy(images=pictures), story.etag, what)
    if not isinstance(outcome, Story):
        return _failed(story, form, outcome)
    if what == "picture removed":
        remove_image_files(state().site.store.folder(story.id), file)
    flash("The picture was taken out." if what == "picture removed" else
          "The description was changed.")
    return redirect(url_for("media.images", story_id=story.id), 303)


def _alt_for(form: Form, position: int, file: str) -> str:
    alt = " ".join(clean(form.get(f"alt-{position}")).split())
    if not alt:
        form.error(f"alt-{position}", "Describe the picture for people who cannot see it.")
    elif len(alt) > ALT_MAX:
        form.error(f"alt-{position}", f"The description must be {ALT_MAX} characters or fewer.")
    elif _FILE_LIKE.match(alt) or alt == file.rsplit("/", 1)[-1]:
        form.error(f"alt-{position}", "Describe what the picture shows in words, not its "
                                      "file name.")
    return alt


@bp.route("/<story_id>/media/<name>")
def file(story_id: str, name: str):
    """A stored picture of a story the user may view."""
    story = viewable(story_id, "media")
    if not LISTED_NAME.match(name) or ".." in name or not _listed(story, name):
        deny(404, "media (not in the story)", story.id)  # probing for files: audited
    try:  # the one media rule: a regular file in the story's own media/, no links
        path = media_file(state().site.store.folder(story.id), f"media/{name}")
    except MediaError:
        abort(404)
    kind = sniff(path)
    if kind not in ("jpeg", "png", "webp"):
        abort(404)
    response = send_file(path, mimetype=MEDIA_TYPES[kind], conditional=False, etag=False)
    response.headers["Content-Disposition"] = "inline"
    return response


def _listed(story: Story, name: str) -> bool:
    files = {img.file for img in story.images}
    return f"media/{name}" in files or any(small_variant(f) == f"media/{name}" for f in files)
