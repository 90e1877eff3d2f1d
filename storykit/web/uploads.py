"""Uploaded files: story pictures and signed consent forms, checked by what they contain.

Nothing about an upload's own name is ever used: files are stored under names made here
(``media/img-<12 letters>.jpg``, ``evidence/consent-<12 letters>.pdf``), so names such as
``../../etc/passwd``, ``CON`` or ``-rf`` cannot reach the file system.

Pictures go through :func:`storykit.images.prepare_variants`: only JPEG, PNG and WebP (by
content), at most 40 million pixels, no animations, damaged files refused, orientation
applied, metadata (EXIF with GPS, XMP, comments, ICC) dropped, and two sizes written: 1600 and
800 pixels wide. Re-encoding also drops anything hidden after the picture (a JPEG+HTML or
JPEG+ZIP "polyglot"). The small copy names the big one's bytes in a comment, so the web build
can use it as it is (see :func:`storykit.images.clean_copy`).

Decoding shares the process's picture memory budget (:data:`storykit.images.MEMORY_BUDGET`):
an upload waits up to :data:`PICTURE_WAIT` seconds for its share while other big pictures are
being prepared, then is answered "busy, try again" (503) with nothing stored.

Signed consent forms may be PDF, JPEG or PNG. Pictures are cleaned the same way (a photo of a
form may carry GPS); a PDF is kept exactly as it came, and is only ever downloaded as an
attachment by the story's owner or an admin, never shown in a page.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .. import images
from ..fsio import atomic_write, make_dirs
from ..media import MediaError, media_folder

#: Widths of the stored copies of a picture. The first is the one story.md names.
IMAGE_WIDTHS = (1600, 800)
SMALL = 800
EVIDENCE_MAX_WIDTH = 4000
#: Seconds an upload waits for picture memory before the person is asked to try again.
PICTURE_WAIT = 10.0
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Names storykit generates (the only ones uploads can create).
IMAGE_NAME = re.compile(r"^img-[a-z2-9]{12}(?:-800)?\.(?:jpg|png)\Z")
EVIDENCE_NAME = re.compile(r"^consent-[a-z2-9]{12}\.(?:pdf|jpg|png)\Z")
#: Any name a story file may list (hand-written stories too); see storykit.storyfile.
LISTED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}\Z")
_CHUNK = 1 << 16
#: Temporary files and folders in ``instance/tmp`` (uploads, previews) and their lifetime.
TEMP_PREFIXES = (".tmp-upload-", "preview-")
STALE_SECONDS = 3600


class UploadError(Exception):
    """An upload that cannot be used. ``message`` is plain English for the person; the HTTP
    status is 413 for too big and 422 otherwise."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class StoredImage:
    file: str                      # "media/img-....jpg", as story.md lists it
    size: tuple[int, int]          # of the largest copy


def token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def small_variant(file: str) -> str:
    """``media/img-x.jpg`` -> ``media/img-x-800.jpg`` (the smaller copy's name)."""
    return images.variant_file(file, SMALL)


def sweep(folder: Path, age: float = STALE_SECONDS) -> int:
    """Remove temporary uploads and previews left by a process that died mid-request (they
    hold health data). Returns how many were removed."""
    removed = 0
    cutoff = time.time() - age
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIXES):
            continue
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
    return removed


#: Endpoints whose POST carries a file: a picture, or a signed consent form.
UPLOAD_ENDPOINTS = frozenset({"media.images", "consent.form"})


def upload_limit() -> int:
    """The most an upload may be: ``STORYKIT_UPLOAD_MAX`` (other requests stay under
    ``MAX_CONTENT_LENGTH``)."""
    from flask import current_app

    return int(current_app.config["STORYKIT_UPLOAD_MAX"])


def allow_uploads() -> None:
    """Let a request to an upload endpoint be as big as :func:`upload_limit`. Runs before
    anything reads the form, as the CSRF check reads it whole."""
    from flask import request

    if request.method == "POST" and request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = upload_limit()


def receive(stream, folder: Path, limit: int) -> Path:
    """Copy an upload's bytes into a private temporary file in ``folder`` (at most ``limit``
    bytes: more is a 413). The caller deletes the file."""
    make_dirs(folder)
    sweep(folder)
    fd, name = tempfile.mkstemp(prefix=".tmp-upload-", dir=folder)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadError(f"The file is bigger than {limit // (1024 * 1024)} MB. "
                                      "Send a smaller one.", 413)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise UploadError("The file is empty. Choose the picture again.")
    return path


def store_image(src: Path, media: Path) -> StoredImage:
    """Clean copies of the picture at ``src`` in ``media/`` under a new name (only into the
    story's own media folder: never through a link, see storykit.media)."""
    try:
        media = media_folder(media.parent, create=True)
    except MediaError:
        raise UploadError("The story's media folder is a link to somewhere else, so pictures "
                          "cannot be added. Ask whoever runs the site to replace it with a "
                          "real folder.", 409) from None
    fmt = _image_output(src)
    ext = images.EXTENSIONS[fmt]
    name = _free_name(media, "img-", ext)
    big = media / name
    targets = {IMAGE_WIDTHS[0]: big, SMALL: media / small_variant(name)}
    try:
        sizes = images.prepare_variants(src, targets, fmt=fmt, wait=PICTURE_WAIT)
    except images.ImageBusy:
        _remove(targets.values())
        raise UploadError(BUSY, 503) from None
    except images.ImageTooLarge as exc:
        _remove(targets.values())
        raise UploadError(_too_large(exc)) from None
    except images.ImageError as exc:
        _remove(targets.values())
        raise UploadError(_not_usable(exc)) from None
    except BaseException:
        _remove(targets.values())
        raise
    return StoredImage(f"media/{name}", sizes[IMAGE_WIDTHS[0]])


def _image_output(src: Path) -> str:
    """JPEG for photos, PNG for pictures with transparency or uploaded as PNG (WebP is not
    understood by every output storykit makes, e.g. PowerPoint)."""
    try:
        fmt = images.image_format(src)
    except images.ImageTooLarge as exc:
        raise UploadError(_too_large(exc)) from None
    except images.ImageError as exc:
        raise UploadError(_not_usable(exc)) from None
    if fmt == "PNG":
        return "PNG"
    if fmt == "WEBP":
        with Image.open(src, formats=["WEBP"]) as im:
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                return "PNG"
    return "JPEG"


BUSY = ("The server is busy with other pictures just now. Nothing was saved: wait a minute "
        "and send the file again.")


def _too_large(exc: Exception) -> str:
    text = str(exc)
    if "MB" in text:
        return "The picture file is too big. Send one under 25 MB."
    return (f"The picture has too many pixels (at most {images.MAX_PIXELS // 1_000_000} "
            "million). Make it smaller and try again.")


def _not_usable(exc: Exception) -> str:
    text = str(exc)
    if "animated" in text:
        return "Moving (animated) pictures cannot be used. Choose a still picture."
    if "damaged" in text or "incomplete" in text or "cannot read" in text:
        return "The picture is damaged or not complete. Save it again and try again."
    return "The file must be a JPEG, PNG or WebP picture."


def store_evidence(src: Path, evidence: Path) -> str:
    """Keep a signed consent form (PDF, JPEG or PNG, by content) under a new name; returns
    ``evidence/<name>`` for the consent record."""
    kind = sniff(src)
    if kind == "pdf":
        _check_pdf(src)
        name = _free_name(evidence, "consent-", ".pdf")
        make_dirs(evidence)
        atomic_write(evidence / name, src.read_bytes(), mode=0o600)
        return f"evidence/{name}"
    if kind not in ("jpeg", "png"):
        raise UploadError("The signed form must be a PDF, or a JPEG or PNG picture of it.")
    fmt = "PNG" if kind == "png" else "JPEG"
    name = _free_name(evidence, "consent-", images.EXTENSIONS[fmt])
    try:
        images.prepare_image(src, evidence / name, max_width=EVIDENCE_MAX_WIDTH, fmt=fmt,
                             wait=PICTURE_WAIT)
    except images.ImageBusy:
        raise UploadError(BUSY, 503) from None
    except images.ImageTooLarge as exc:
        raise UploadError(_too_large(exc)) from None
    except images.ImageError as exc:
        raise UploadError(_not_usable(exc).replace("a JPEG, PNG or WebP picture",
                                                   "a PDF, JPEG or PNG file")) from None
    os.chmod(evidence / name, 0o600)
    return f"evidence/{name}"


def _check_pdf(src: Path) -> None:
    size = src.stat().st_size
    with src.open("rb") as f:
        f.seek(max(0, size - 2048))
        tail = f.read()
    if b"%%EOF" not in tail:
        raise UploadError("The PDF is damaged or not complete. Save it again and try again.")


def sniff(path: Path) -> str | None:
    """What a file really is, from its first bytes: jpeg, png, webp, pdf or None."""
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if re.match(rb"%PDF-[12]\.\d", head):
        return "pdf"
    return None


MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
               "pdf": "application/pdf"}


def _free_name(folder: Path, prefix: str, ext: str) -> str:
    for _ in range(20):
        name = f"{prefix}{token()}{ext}"
        if not (folder / name).exists():
            return name
    raise UploadError("Could not find a free file name. Try again.", 503)  # pragma: no cover


def _remove(paths) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            Path(path).unlink()


def remove_image_files(folder: Path, file: str) -> None:
    """Delete a picture's stored copies (after the story no longer lists it)."""
    if file.startswith("media/") and LISTED_NAME.match(file.removeprefix("media/")):
        try:
            media_folder(folder)  # never delete through a linked media folder
        except MediaError:
            return
        _remove([folder / file, folder / small_variant(file)])
