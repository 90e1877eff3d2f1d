"""Safe images: only JPEG, PNG and WebP, never too big, without metadata, sized for the output.

Every picture storykit publishes (web pages, PDFs, slides, uploads) goes through
:func:`prepare_image`, so untrusted files are decoded once by Pillow with a format allow-list
(SVG, TIFF, FITS, PSD and friends are refused before any decoder runs), decompression bombs
are refused, the EXIF orientation is applied, and only the pixels are written back out:
EXIF (with GPS), XMP, comments and ICC profiles are dropped (colours are first converted to
sRGB so they still look right).

Decoded pictures are big (a 36-megapixel PNG is 144 MB of pixels), so picture work in a
process shares a memory budget (:data:`MEMORY_BUDGET`): each decode holds its share until its
copies are written, and waits while others hold the rest. Callers serving people (uploads)
wait a little and then get :class:`ImageBusy` ("busy, try again"); builds wait their turn.

A picture that is already clean is not decoded again: :func:`clean_copy` uses a JPEG without
metadata as it is, and the smaller copy that :func:`prepare_variants` made beside it when that
copy says (in a comment the web copy drops) which exact bytes it was made with.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import os
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from .errors import StorykitError
from .fsio import atomic_write

#: The only formats storykit decodes (Pillow names).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
#: Refuse pictures with more pixels than this (Pillow's own limit is about 89 Mpx).
MAX_PIXELS = 40_000_000
#: Refuse files bigger than this before decoding anything.
MAX_BYTES = 25 * 1024 * 1024
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
_QUALITY = {"JPEG": 85, "WEBP": 82}
_LOADING = threading.Lock()
#: Memory (bytes) that picture work in one process may hold at once: decoded pixels (4 bytes
#: each, as Pillow keeps RGB) and one working copy. One picture at the pixel limit fits alone.
MEMORY_BUDGET = max(int(os.environ.get("STORYKIT_PICTURE_MEMORY_MB") or 384), 64) * 2**20
#: The comment a smaller copy made by :func:`prepare_variants` carries: the SHA-256 of the
#: largest copy's bytes, so a build can tell it was made from exactly that picture.
_COPY_OF = b"storykit-copy-of:"


class ImageError(StorykitError):
    """A picture cannot be used: wrong type, damaged, animated or too big."""


class ImageTooLarge(ImageError):
    """A picture has too many pixels or bytes (a possible decompression bomb)."""


class ImageBusy(ImageError):
    """Other pictures are using the memory picture work may have; try again in a moment."""


class _Budget:
    """Bytes of picture memory, shared by the threads of one process (each forked process
    starts with the whole budget: see the ``register_at_fork`` below)."""

    def __init__(self, total: int):
        self.total = total
        self.used = 0
        self.cond = threading.Condition()

    @contextlib.contextmanager
    def hold(self, cost: int, wait: float | None) -> Iterator[None]:
        """Hold ``cost`` bytes (at most the whole budget) while the block runs; wait up to
        ``wait`` seconds (None: as long as it takes) for them, then raise ImageBusy."""
        cost = min(cost, self.total)
        with self.cond:
            if not self.cond.wait_for(lambda: self.used + cost <= self.total, wait):
                raise ImageBusy("other pictures are being prepared just now; try again in a "
                                "moment")
            self.used += cost
        try:
            yield
        finally:
            with self.cond:
                self.used -= cost
                self.cond.notify_all()


_BUDGET = _Budget(MEMORY_BUDGET)


def _fresh_budget() -> None:
    global _BUDGET
    _BUDGET = _Budget(MEMORY_BUDGET)


os.register_at_fork(after_in_child=_fresh_budget)  # a lock held by another thread stays held


def picture_cost(size: tuple[int, int]) -> int:
    """Bytes of the budget a picture of ``size`` pixels (as decoded) holds while worked on."""
    return size[0] * size[1] * 4 * 2


def image_format(src: Path) -> str:
    """The real format of ``src`` (``JPEG``, ``PNG`` or ``WEBP``), read from its header,
    whatever its file name says. Raises :class:`ImageError` for anything else."""
    with _open(src) as im:
        return str(im.format)


def prepare_image(src: Path, dest: Path, *, max_width: int, fmt: str | None = None,
                  wait: float | None = None) -> tuple[int, int]:
    """Write a clean copy of ``src`` to ``dest`` (atomically) no wider than ``max_width``.

    ``fmt`` is ``JPEG``, ``PNG`` or ``WEBP``; by default the source's own format. Returns the
    written picture's ``(width, height)``, for ``width``/``height`` attributes. ``wait``:
    seconds to wait for picture memory before :class:`ImageBusy` (None: no limit)."""
    data, size = _clean_bytes(src, max_width, fmt, wait)
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, data)
    return size


def prepare_variants(src: Path, targets: dict[int, Path], *, fmt: str | None = None,
                     wait: float | None = None) -> dict[int, tuple[int, int]]:
    """Clean copies of ``src`` at several widths (``{1600: big, 800: small}``), decoding once.

    The same checks and cleaning as :func:`prepare_image`. A JPEG is decoded at a reduced
    scale when even the widest copy needs fewer pixels (Pillow's draft mode), so a
    12-megapixel photo from a phone is quick and small in memory. Each smaller JPEG copy
    names the widest one's bytes (see :func:`clean_copy`). Returns each width's written
    ``(width, height)``. Files already written stay if a later one fails: the caller
    removes them (their names are its own)."""
    if not targets or min(targets) < 1:
        raise ValueError("give at least one width, each at least 1")
    im = _open(src)
    try:
        target = _target_format(fmt, str(im.format))
        _draft(im, max(targets))
        with _BUDGET.hold(picture_cost(im.size), wait):
            picture = _to_srgb(_decode(im, src))
            im = picture
            sizes: dict[int, tuple[int, int]] = {}
            widest: bytes | None = None
            for width in sorted(targets, reverse=True):
                picture = _fit(picture, width)  # each smaller copy from the one before: quicker
                comment = _COPY_OF + hashlib.sha256(widest).hexdigest().encode() if widest else b""
                data, sizes[width] = _encode(picture, target, comment)
                widest = widest or data
                targets[width].parent.mkdir(parents=True, exist_ok=True)
                atomic_write(targets[width], data)
    finally:
        im.close()
    return sizes


def _draft(im: Image.Image, max_width: int) -> None:
    """Ask the JPEG decoder for a smaller picture (1/2, 1/4 or 1/8 scale) that is still at
    least ``max_width`` wide once the EXIF orientation is applied."""
    if im.format != "JPEG":
        return
    turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # shown rotated by 90 degrees
    shown_width = im.height if turned else im.width
    if shown_width <= max_width:
        return
    scale = max_width / shown_width
    im.draft(im.mode, (math.ceil(im.width * scale), math.ceil(im.height * scale)))


def variant_file(file: str, width: int) -> str:
    """The name of the ``width``-pixel copy kept beside a picture: ``media/img-x.jpg`` ->
    ``media/img-x-800.jpg`` (the browser app keeps an 800-pixel copy of every upload)."""
    stem, dot, ext = file.rpartition(".")
    return f"{stem}-{width}.{ext}" if dot else f"{file}-{width}"


def clean_copy(src: Path, max_width: int, fmt: str | None = None, *, data: bytes | None = None,
               wait: float | None = None) -> tuple[bytes, tuple[int, int]]:
    """The bytes of a clean copy of ``src`` no wider than ``max_width`` (as
    :func:`prepare_image` writes), and its size, decoding only when it must.

    A JPEG without metadata (nothing but the picture: no EXIF, XMP, ICC profile, comment or
    anything after its end) that is narrow enough is used as it is, once it has been checked
    to decode. Otherwise, when the copy of that width kept beside it (:func:`variant_file`)
    is such a JPEG and names exactly ``src``'s bytes as the picture it was made with, that
    copy is used, without its comment. Anything else is decoded, resized and encoded again.
    ``data`` is ``src``'s bytes when the caller has read them already."""
    if data is None:
        data = read_picture(src)
    target = _target_format(fmt, _sniff(data))
    if target == "JPEG":
        ready = _ready_jpeg(data, max_width, src.name, None) or _ready_variant(src, data, max_width)
        if ready is not None:
            return ready
    return _clean_bytes(io.BytesIO(data), max_width, fmt, wait, src.name)


def read_picture(src: Path) -> bytes:
    """The bytes of a picture file (ImageTooLarge past :data:`MAX_BYTES`, naming it)."""
    try:
        if src.stat().st_size > MAX_BYTES:
            _open(src)  # raises ImageTooLarge, naming the file
        return src.read_bytes()
    except OSError as exc:
        raise ImageError(f"{src.name}: cannot read the picture ({exc.strerror})") from None


def _ready_variant(src: Path, data: bytes, max_width: int) -> tuple[bytes, tuple[int, int]] | None:
    """The copy of ``max_width`` kept beside ``src``, if it was made from these bytes."""
    variant = src.with_name(variant_file(src.name, max_width))
    try:
        if not variant.is_file() or variant.is_symlink():
            return None
        copy = variant.read_bytes() if variant.stat().st_size <= MAX_BYTES else b""
    except OSError:
        return None
    made_from = _COPY_OF + hashlib.sha256(data).hexdigest().encode()
    return _ready_jpeg(copy, max_width, variant.name, made_from)


def _ready_jpeg(data: bytes, max_width: int, name: str,
                comment: bytes | None) -> tuple[bytes, tuple[int, int]] | None:
    """``data`` without its comment and its size, if it is a clean JPEG (see
    :func:`jpeg_layout`) no wider than ``max_width`` that carries exactly ``comment``, or,
    with ``comment`` None, no comment (or one of ours) and decodes; else None. (A copy
    whose comment names its source's bytes was made by :func:`prepare_variants`.)"""
    size = _jpeg_size(data)
    if size is None or size[0] > max_width or size[0] * size[1] > MAX_PIXELS:
        return None  # known from the header: no need to read the rest
    layout = jpeg_layout(data)
    if layout is None:
        return None
    if comment is None and layout.comment and not layout.comment.startswith(_COPY_OF):
        return None
    if comment is not None and layout.comment != comment:
        return None
    clean = data[:layout.comment_at] + data[layout.comment_end:] if layout.comment else data
    if comment is None:
        try:  # damaged pixels: decoded at an eighth of the size, which reads every byte
            im = _open(io.BytesIO(clean), name)
            with im:
                im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
                _decode(im, io.BytesIO(), name)
        except ImageError:
            return None
    return clean, layout.size


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """A JPEG's size from its frame header (segments before it only), or None."""
    at, end = 2, len(data)
    if not data.startswith(b"\xff\xd8"):
        return None
    while at + 9 <= end and data[at] == 0xFF:
        marker = data[at + 1]
        if marker in _FRAMES:
            return (int.from_bytes(data[at + 7:at + 9], "big"),
                    int.from_bytes(data[at + 5:at + 7], "big"))
        if marker == 0xDA or marker == 0xD9:
            return None
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return None


class JpegLayout:
    """What :func:`jpeg_layout` found: the picture's size and our comment, if any."""

    __slots__ = ("size", "comment", "comment_at", "comment_end")

    def __init__(self, size: tuple[int, int], comment: bytes, at: int, end: int):
        self.size, self.comment, self.comment_at, self.comment_end = size, comment, at, end


#: Markers a clean JPEG may hold besides SOI and EOI: JFIF header, tables, restart interval,
#: baseline, extended or progressive frame (8-bit, grey or colour), scans. APP1 (EXIF, XMP),
#: APP2 (ICC), APP13 (IPTC), Adobe, other frames... are metadata or unusual: re-encode.
_CLEAN_MARKERS = frozenset({0xE0, 0xDB, 0xC4, 0xDD, 0xC0, 0xC1, 0xC2, 0xDA, 0xFE})
_FRAMES = frozenset({0xC0, 0xC1, 0xC2})


def jpeg_layout(data: bytes) -> JpegLayout | None:
    """The layout of a JPEG that holds nothing but its picture (the markers above, at most
    one comment, one 8-bit grey or colour frame, nothing after the end), or None. Reads the
    segments and scans the compressed data for markers; decodes nothing."""
    if not data.startswith(b"\xff\xd8"):
        return None
    end = len(data)
    at, size, comment, comment_at, comment_end = 2, None, b"", 0, 0
    while at + 2 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xD9:  # end of image: nothing may follow it
            return JpegLayout(size, comment, comment_at, comment_end) if (
                size and at + 2 == end) else None
        if marker not in _CLEAN_MARKERS:
            return None
        length = int.from_bytes(data[at + 2:at + 4], "big")
        body = data[at + 4:at + 2 + length]
        if length < 2 or len(body) != length - 2:
            return None
        if marker == 0xE0 and (length != 16 or not body.startswith(b"JFIF\0")):
            return None  # 16 bytes: a JFIF header without a thumbnail (of what picture?)
        if marker == 0xFE:
            if comment or comment_at:
                return None
            comment, comment_at, comment_end = body, at, at + 2 + length
        if marker in _FRAMES:
            if size or len(body) < 6 or body[0] != 8 or body[5] not in (1, 3):
                return None
            size = (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big"))
            if not size[0] or not size[1]:
                return None
        at += 2 + length
        if marker == 0xDA:  # compressed data follows, up to the next marker
            at = _after_scan(data, at)
            if at < 0:
                return None
    return None


def _after_scan(data: bytes, at: int) -> int:
    """Where the marker after the compressed data starting at ``at`` is (-1 for none):
    inside it, 0xFF is followed by 0 (a data byte), a restart marker or more 0xFF fill."""
    found = _MARKER.search(data, at)
    return -1 if found is None else found.start()


_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def image_data_uri(path: Path, max_width: int, fmt: str | None = None) -> str:
    """A ``data:`` URI of a clean, resized copy of ``path``, for self-contained pages."""
    uri, _size = image_data_uri_and_size(path, max_width, fmt)
    return uri


def image_data_uri_and_size(path: Path, max_width: int,
                            fmt: str | None = None) -> tuple[str, tuple[int, int]]:
    """Like :func:`image_data_uri`, also returning the picture's ``(width, height)``."""
    data, size = _clean_bytes(path, max_width, fmt)
    kind = MEDIA_TYPES[_target_format(fmt, _sniff(data))]
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}", size


# --- the steps -----------------------------------------------------------------------------

def _clean_bytes(src: Path | io.BytesIO, max_width: int, fmt: str | None,
                 wait: float | None = None, name: str = "") -> tuple[bytes, tuple[int, int]]:
    if max_width < 1:
        raise ValueError("max_width must be at least 1")
    im = _open(src, name)
    try:
        target = _target_format(fmt, str(im.format))
        _draft(im, max_width)
        with _BUDGET.hold(picture_cost(im.size), wait):
            picture = _decode(im, src, name)
            im = picture
            return _encode(_fit(_to_srgb(picture), max_width), target)
    finally:
        im.close()


def _encode(picture: Image.Image, target: str, comment: bytes = b"") -> tuple[bytes, tuple[int, int]]:
    """The picture's pixels alone in ``target`` format, and its size (and, for a JPEG made
    here, ``comment``: nothing of the source's)."""
    picture = _convert_mode(picture, target)
    picture.info = {}  # nothing from the source travels on: comments, ICC, EXIF, XMP
    out = io.BytesIO()
    options = {"quality": _QUALITY[target]} if target in _QUALITY else {"optimize": True}
    if comment and target == "JPEG":
        options["comment"] = comment
    picture.save(out, format=target, **options)
    return out.getvalue(), picture.size


def _open(src: Path | io.BytesIO, name: str = "") -> Image.Image:
    """Open the header only, refusing unknown formats, huge files and huge pictures
    (``src`` is a file, or its bytes already read, then ``name`` is the file's name)."""
    if isinstance(src, Path):
        name = src.name
        try:
            size = src.stat().st_size
        except OSError as exc:
            raise ImageError(f"{name}: cannot read the picture ({exc.strerror})") from None
    else:
        size = src.getbuffer().nbytes
    if size > MAX_BYTES:
        raise ImageTooLarge(f"{name}: the file is {size // (1024 * 1024)} MB; pictures "
                            f"may be at most {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src, formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{name}: the picture has too many pixels") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a JPEG, PNG or WebP picture") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read the picture ({exc})") from None
    _check_size(im, name)
    return im


def _check_size(im: Image.Image, name: str) -> None:
    width, height = im.size
    if width * height > MAX_PIXELS:
        im.close()
        raise ImageTooLarge(f"{name}: the picture is {width} x {height} pixels; at most "
                            f"{MAX_PIXELS // 1_000_000} million pixels are allowed")
    if getattr(im, "n_frames", 1) > 1:
        im.close()
        raise ImageError(f"{name}: animated pictures are not allowed; use a still picture")


@contextlib.contextmanager
def _strict_loading() -> Iterator[None]:
    """Pillow's LOAD_TRUNCATED_IMAGES is process-wide and WeasyPrint sets it to True when it
    is imported; a damaged file must still be an error here."""
    with _LOADING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _decode(im: Image.Image, src: Path | io.BytesIO, name: str = "") -> Image.Image:
    """Decode the pixels and apply the EXIF orientation (a damaged file is an error). The
    picture itself when it needs no turning: no second copy of its pixels."""
    try:
        with warnings.catch_warnings(), _strict_loading():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
            return ImageOps.exif_transpose(im) or im
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        name = src.name if isinstance(src, Path) else name
        raise ImageError(f"{name}: the picture is damaged or incomplete ({exc})") from None


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert colours with an embedded ICC profile to sRGB, so dropping it changes nothing."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"),
                                              outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im
    return converted or im


def _fit(im: Image.Image, max_width: int) -> Image.Image:
    width, height = im.size
    if width <= max_width:
        return im
    new_height = max(1, round(height * max_width / width))
    # Bicubic: nearly as sharp as Lanczos for pictures shrunk on screen, in two thirds of
    # the time (the resize is most of the cost of each picture on a site).
    return im.resize((max_width, new_height), Image.Resampling.BICUBIC, reducing_gap=3.0)


def _convert_mode(im: Image.Image, target: str) -> Image.Image:
    """JPEG has no transparency: flatten onto white. Others keep alpha when there is any."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    if target == "JPEG":
        if has_alpha:
            rgba = im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return im if im.mode in ("RGB", "L") else im.convert("RGB")
    if has_alpha:
        return im if im.mode == "RGBA" else im.convert("RGBA")
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def _target_format(fmt: str | None, source: str) -> str:
    target = (fmt or source).upper()
    target = "JPEG" if target == "JPG" else target
    if target not in ALLOWED_FORMATS:
        raise ImageError(f"cannot write pictures as {fmt!r}; use JPEG, PNG or WEBP")
    return target


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return "JPEG"
