"""Safe images: only JPEG, PNG and WebP, never too big, without metadata, sized for the output.

Every picture storykit publishes (web pages, PDFs, slides, uploads) goes through
:func:`prepare_image`, so untrusted files are decoded once by Pillow with a format allow-list
(SVG, TIFF, FITS, PSD and friends are refused before any decoder runs), decompression bombs
are refused, the EXIF orientation is applied, and only the pixels are written back out:
EXIF (with GPS), XMP, comments and ICC profiles are dropped (colours are first converted to
sRGB so they still look right).
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
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


class ImageError(StorykitError):
    """A picture cannot be used: wrong type, damaged, animated or too big."""


class ImageTooLarge(ImageError):
    """A picture has too many pixels or bytes (a possible decompression bomb)."""


def image_format(src: Path) -> str:
    """The real format of ``src`` (``JPEG``, ``PNG`` or ``WEBP``), read from its header,
    whatever its file name says. Raises :class:`ImageError` for anything else."""
    with _open(src) as im:
        return str(im.format)


def prepare_image(src: Path, dest: Path, *, max_width: int, fmt: str | None = None) -> tuple[int, int]:
    """Write a clean copy of ``src`` to ``dest`` (atomically) no wider than ``max_width``.

    ``fmt`` is ``JPEG``, ``PNG`` or ``WEBP``; by default the source's own format. Returns the
    written picture's ``(width, height)``, for ``width``/``height`` attributes."""
    data, size = _clean_bytes(src, max_width, fmt)
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, data)
    return size


def prepare_variants(src: Path, targets: dict[int, Path], *,
                     fmt: str | None = None) -> dict[int, tuple[int, int]]:
    """Clean copies of ``src`` at several widths (``{1600: big, 800: small}``), decoding once.

    The same checks and cleaning as :func:`prepare_image`. A JPEG is decoded at a reduced
    scale when even the widest copy needs fewer pixels (Pillow's draft mode), so a
    12-megapixel photo from a phone is quick and small in memory. Returns each width's
    written ``(width, height)``. Files already written stay if a later one fails: the caller
    removes them (their names are its own)."""
    if not targets or min(targets) < 1:
        raise ValueError("give at least one width, each at least 1")
    with _open(src) as im:
        target = _target_format(fmt, str(im.format))
        _draft(im, max(targets))
        picture = _to_srgb(_decode(im, src))
    sizes: dict[int, tuple[int, int]] = {}
    for width in sorted(targets, reverse=True):
        picture = _fit(picture, width)  # each smaller copy from the one before: quicker
        data, sizes[width] = _encode(picture, target)
        targets[width].parent.mkdir(parents=True, exist_ok=True)
        atomic_write(targets[width], data)
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

def _clean_bytes(src: Path, max_width: int, fmt: str | None) -> tuple[bytes, tuple[int, int]]:
    if max_width < 1:
        raise ValueError("max_width must be at least 1")
    with _open(src) as im:
        target = _target_format(fmt, str(im.format))
        _draft(im, max_width)
        picture = _decode(im, src)
    picture = _to_srgb(picture)
    return _encode(_fit(picture, max_width), target)


def _encode(picture: Image.Image, target: str) -> tuple[bytes, tuple[int, int]]:
    """The picture's pixels alone in ``target`` format, and its size."""
    picture = _convert_mode(picture, target)
    picture.info = {}  # nothing from the source travels on: comments, ICC, EXIF, XMP
    out = io.BytesIO()
    options = {"quality": _QUALITY[target]} if target in _QUALITY else {"optimize": True}
    picture.save(out, format=target, **options)
    return out.getvalue(), picture.size


def _open(src: Path) -> Image.Image:
    """Open the header only, refusing unknown formats, huge files and huge pictures."""
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise ImageError(f"{src.name}: cannot read the picture ({exc.strerror})") from None
    if size > MAX_BYTES:
        raise ImageTooLarge(f"{src.name}: the file is {size // (1024 * 1024)} MB; pictures "
                            f"may be at most {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src, formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{src.name}: the picture has too many pixels") from None
    except UnidentifiedImageError:
        raise ImageError(f"{src.name}: not a JPEG, PNG or WebP picture") from None
    except OSError as exc:
        raise ImageError(f"{src.name}: cannot read the picture ({exc})") from None
    _check_size(im, src)
    return im


def _check_size(im: Image.Image, src: Path) -> None:
    width, height = im.size
    if width * height > MAX_PIXELS:
        im.close()
        raise ImageTooLarge(f"{src.name}: the picture is {width} x {height} pixels; at most "
                            f"{MAX_PIXELS // 1_000_000} million pixels are allowed")
    if getattr(im, "n_frames", 1) > 1:
        im.close()
        raise ImageError(f"{src.name}: animated pictures are not allowed; use a still picture")


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


def _decode(im: Image.Image, src: Path) -> Image.Image:
    """Decode the pixels and apply the EXIF orientation (a damaged file is an error)."""
    try:
        with warnings.catch_warnings(), _strict_loading():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
            return ImageOps.exif_transpose(im) or im.copy()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{src.name}: the picture is damaged or incomplete ({exc})") from None


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
