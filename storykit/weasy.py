"""WeasyPrint, safely: the one way storykit plugins turn HTML into PDF.

Theme files and story HTML are untrusted. WeasyPrint will happily read ``file:///etc/passwd``,
call ``http://169.254.169.254/`` or embed any file named by ``<link rel=attachment>``, so every
fetch goes through :class:`SafeFetcher`, which allows only regular files under a short list of
folders (the theme's and the story's) and ``data:`` URIs. A blocked fetch stops the render
with :class:`RenderBlocked`; nothing half-written is left behind.

Big documents can also take a long time or a lot of memory, so :func:`run_limited` runs work
in a forked child with a wall-clock timeout and a memory limit, and :func:`prepare_images`
shrinks pictures (and strips their metadata) with Pillow before WeasyPrint sees them.

Error messages name the blocked URL's scheme and host (or a file path), never story text.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import pickle
import resource
import select
import shutil
import signal
import stat
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from .errors import StorykitError
from .fsio import write_atomic  # noqa: F401 - re-exported (it used to live here)
from .pdf_variants import DEFAULT_VARIANT, VARIANTS  # noqa: E402,F401 - re-exported

#: A single fetched file bigger than this is refused (pictures are pre-sized well below it).
MAX_FETCH_BYTES = 50 * 1024 * 1024
T = TypeVar("T")


class RenderBlocked(StorykitError):
    """The document tried to reach something outside the theme and story folders."""


class RenderLimitExceeded(StorykitError):
    """A render took longer, or needed more memory, than its limit allows."""


class _Blocked(ValueError):
    """Raised inside the fetcher; WeasyPrint turns it into FatalURLFetchingError."""


# --- fetching ------------------------------------------------------------------------------

class SafeFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that reads only regular files under ``allowed`` folders
    (after resolving symlinks and ``..``) and ``data:`` URIs. Everything else (http, https,
    ftp, other files, devices such as /dev/urandom) is refused, and the refusal stops the
    render because ``fail_on_errors`` is on."""

    def __init__(self, allowed: Sequence[Path | str], *, max_bytes: int = MAX_FETCH_BYTES):
        super().__init__(timeout=5, allowed_protocols={"file", "data"}, allow_redirects=False,
                         fail_on_errors=True)
        self.roots = tuple(os.path.realpath(os.fspath(p)) for p in allowed)
        self.max_bytes = max_bytes
        self.blocked: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            return self._refuse(f"{describe_url(url)} (only files from the theme and the "
                                "story folders may be used; no network access)")
        path, problem = self._local_path(url)
        if problem:
            return self._refuse(problem)
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        body = open(path, "rb")  # noqa: SIM115 - WeasyPrint closes the response
        return URLFetcherResponse(url, body, {"Content-Type": mime})

    def _local_path(self, url: str) -> tuple[str, str | None]:
        """The real path ``url`` names, or a reason it may not be read."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return "", f"{describe_url(url)} (files on other machines are not allowed)"
        path = os.path.realpath(url2pathname(parts.path))  # url2pathname unquotes
        inside = any(path == root or path.startswith(root.rstrip(os.sep) + os.sep)
                     for root in self.roots)
        if not inside:
            return "", f"file {path} (outside the theme and story folders)"
        try:
            info = os.stat(path)
        except OSError:
            return "", f"file {path} (it does not exist)"
        if not stat.S_ISREG(info.st_mode):
            return "", f"file {path} (not a regular file)"
        if info.st_size > self.max_bytes:
            return "", f"file {path} (bigger than {self.max_bytes // (1024 * 1024)} MB)"
        return path, None

    def _refuse(self, problem: str) -> URLFetcherResponse:
        self.blocked.append(problem)
        raise _Blocked(problem)

    def allows(self, url: str) -> bool:
        """Whether :meth:`fetch` would read ``url`` (for tests and checks)."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return scheme == "data" or (scheme == "file" and self._local_path(url)[1] is None)


def describe_url(url: str) -> str:
    """A URL shortened to what a person needs to find the culprit: scheme and host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "a malformed URL"
    if parts.scheme.lower() == "data":
        return "a data: URI"
    if parts.netloc:
        return f"{parts.scheme}://{parts.hostname or parts.netloc}/"
    return f"a {parts.scheme or 'relative'}: URL"


# --- HTML to PDF ---------------------------------------------------------------------------

def check_variant(variant: str | None) -> None:
    """Raise a clear error unless ``variant`` is one storykit offers (None: tagged only)."""
    if variant is not None and variant not in VARIANTS:
        raise StorykitError(f"unknown PDF variant {variant!r}; choose one of: "
                            f"{', '.join(VARIANTS)}")


def html_to_pdf(html: str, out: Path, *, base_dir: Path, allowed: Sequence[Path],
                variant: str | None = DEFAULT_VARIANT, stylesheets: Sequence[str | Path] = (),
                attachments_forbidden: bool = True, max_pages: int | None = None,
                **options: Any) -> Path:
    """Write ``html`` as a tagged PDF to ``out`` and return ``out``.

    Relative URLs resolve against ``base_dir``; only files under ``allowed`` folders (and
    ``data:`` URIs) may be read. ``stylesheets`` are CSS text (``str``) or CSS files
    (``Path``, which must also be under ``allowed``). ``variant`` is one of :data:`VARIANTS`
    or None (tagged, without claiming a standard). Extra ``options`` go to WeasyPrint (for
    example ``dpi`` or ``jpeg_quality``).

    Raises :class:`RenderBlocked` naming what was refused; ``out`` is then not written.
    With ``max_pages``, a document longer than that raises :class:`TooManyPages` (saying how
    many it would have) and nothing is written: make it shorter and try again.
    """
    check_variant(variant)
    if attachments_forbidden and options.get("attachments"):
        raise RenderBlocked("the PDF was not made: attachments were asked for, but they are "
                            "switched off")
    fetcher = SafeFetcher(allowed)
    fonts = FontConfiguration()
    try:
        with _guarded(fetcher):
            document = render_document(html, base_dir=base_dir, fetcher=fetcher,
                                       variant=variant, stylesheets=stylesheets, fonts=fonts,
                                       **options)
            if attachments_forbidden:
                refuse_attachments(document)
            if max_pages is not None and len(document.pages) > max_pages:
                raise TooManyPages(len(document.pages), max_pages)
            # Made in memory first: a render stopped at its limit leaves no half-written file.
            data = document.write_pdf(pdf_variant=variant, pdf_tags=True, **options)
    finally:
        remove_font_files(fonts)
    write_atomic(out, lambda target: target.write(data))
    return out


def remove_font_files(fonts: FontConfiguration) -> None:
    """Delete the folder where WeasyPrint copied the document's @font-face fonts. WeasyPrint
    deletes it only when ``fonts`` is garbage-collected, which a render in a forked child
    (:func:`run_limited`) never lives to see: every such PDF left its fonts in the temporary
    folder."""
    folder = getattr(fonts, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        fonts._folder = None  # nothing left for WeasyPrint to delete


class TooManyPages(StorykitError):
    """A document that does not fit in the pages allowed (``pages``: what it would take)."""

    def __init__(self, pages: int, allowed: int):
        super().__init__(f"it takes {pages} pages, not {allowed}")
        self.pages = pages


def render_document(html: str, *, base_dir: Path, fetcher: SafeFetcher,
                    variant: str | None = DEFAULT_VARIANT,
                    stylesheets: Sequence[str | Path] = (),
                    fonts: FontConfiguration | None = None, **options: Any):
    """Lay out ``html`` fetching through ``fetcher``: a WeasyPrint ``Document``. Call it
    inside :func:`_guarded` (as :func:`html_to_pdf` does) to get storykit's errors; pass
    ``fonts`` to :func:`remove_font_files` once the document is written."""
    base_url = path2url(str(Path(base_dir).resolve())).rstrip("/") + "/"
    fonts = fonts if fonts is not None else FontConfiguration()
    css = [_stylesheet(s, base_url, fetcher, fonts) for s in stylesheets]
    page = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher,
                           media_type="print")
    return page.render(font_config=fonts, stylesheets=css, pdf_variant=variant, pdf_tags=True,
                       **options)


@contextlib.contextmanager
def _guarded(fetcher: SafeFetcher):
    """Turn WeasyPrint's failures into errors a person can act on."""
    try:
        yield
    except FatalURLFetchingError as exc:  # a BaseException: it must be caught by name
        raise RenderBlocked(_blocked_message(fetcher)) from exc.__cause__
    except RecursionError:
        raise StorykitError("the PDF was not made: the page is nested too deeply to lay "
                            "out. Check the theme's templates.") from None


def _stylesheet(sheet: str | Path, base_url: str, fetcher: SafeFetcher,
                fonts: FontConfiguration) -> weasyprint.CSS:
    if isinstance(sheet, Path):
        return weasyprint.CSS(url=path2url(str(sheet.resolve())), url_fetcher=fetcher,
                              font_config=fonts)
    return weasyprint.CSS(string=sheet, base_url=base_url, url_fetcher=fetcher,
                          font_config=fonts)


def _blocked_message(fetcher: SafeFetcher) -> str:
    what = fetcher.blocked[0] if fetcher.blocked else "a resource that could not be read"
    return (f"the PDF was not made: it tried to use {what}. Check the theme's CSS and "
            "templates.")


def refuse_attachments(document) -> None:
    """Fail if the document would embed files (``<link rel=attachment>``,
    ``<a rel=attachment>``): a PDF from storykit carries only what is printed in it."""
    found = bool(document.metadata.attachments)
    found = found or any(link[0] == "attachment" for page in document.pages
                         for link in page.links)
    if found:
        raise RenderBlocked("the PDF was not made: the document asks to attach files "
                            "(rel=attachment), which storykit does not allow. Check the "
                            "theme's templates.")


# --- limits --------------------------------------------------------------------------------

def run_limited(func: Callable[..., T], *args: Any, timeout: float, memory_mb: int,
                label: str = "the render", hint: str = "") -> T:
    """Run ``func(*args)`` in a forked child and return its (picklable) result.

    The child may use ``memory_mb`` megabytes of memory on top of what this process already
    uses, and ``timeout`` seconds of wall-clock time; past either it is stopped and
    :class:`RenderLimitExceeded` says which limit ("``label`` took longer than N s",
    "``label`` needed more than N MB"). ``hint`` is added to those messages (e.g. which
    setting to raise). An exception in the child is raised again here.

    Memory is watched twice: the parent samples the child's resident memory every few
    hundredths of a second, and an address-space limit (RLIMIT_AS) in the child stops a
    sudden huge allocation before the machine runs out.
    """
    if timeout <= 0 or memory_mb <= 0:
        raise StorykitError("time and memory limits must be more than zero")
    base = _resident(os.getpid())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child; its outcome is tested via the parent
        os.close(read_end)
        _child(write_end, func, args, memory_mb)
    os.close(write_end)
    data, stopped = _collect(read_end, pid, timeout, base + memory_mb * _MB)
    _, status = os.waitpid(pid, 0)
    extra = f" {hint}" if hint else ""
    if stopped == "time":
        raise RenderLimitExceeded(f"{label} took longer than {timeout:g} s and was "
                                  f"stopped.{extra}")
    if stopped == "memory":
        raise RenderLimitExceeded(f"{label} needed more than {memory_mb} MB and was "
                                  f"stopped.{extra}")
    return _outcome(data, status, label, memory_mb, extra)


_MB = 1024 * 1024
_POLL = 0.02  # seconds between memory samples


def _child(fd: int, func: Callable[..., Any], args: tuple, memory_mb: int) -> None:
    """Run in the forked child: limit memory, run, send ``(kind, value)`` back, exit."""
    code = 0
    sys.unraisablehook = lambda _info: None  # no noise from finalisers after a MemoryError
    try:
        try:
            _limit_address_space(memory_mb)
            result: tuple[str, Any] = ("ok", func(*args))
        except MemoryError:
            result = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
            result = ("error", exc)
        try:
            payload = pickle.dumps(result)
        except Exception:  # noqa: BLE001 - an unpicklable result or exception
            kind = type(result[1]).__name__
            payload = pickle.dumps(("error", StorykitError(f"the render failed ({kind})")))
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


def _limit_address_space(memory_mb: int) -> None:
    """The backstop: address space may grow by twice the limit (plus room for libraries'
    reservations) before allocations fail with MemoryError."""
    limit = _statm(os.getpid(), 0) + 2 * memory_mb * _MB + 64 * _MB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _statm(pid: int, field: int) -> int:
    """Bytes from /proc/<pid>/statm: field 0 is the address space, 1 the resident set."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[field])
    except (OSError, ValueError, IndexError):  # gone already, or not Linux
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _resident(pid: int) -> int:
    return _statm(pid, 1)


def _collect(fd: int, pid: int, timeout: float, max_resident: int) -> tuple[bytes, str | None]:
    """Read the child's answer until it closes the pipe. If time runs out or the child's
    resident memory passes ``max_resident``, kill it and say which (``"time"``/``"memory"``)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", _kill(pid, "time")
            ready, _, _ = select.select([fd], [], [], min(left, _POLL))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return b"".join(chunks), None
                chunks.append(chunk)
            elif _resident(pid) > max_resident:
                return b"", _kill(pid, "memory")
    except BaseException:
        _kill(pid, "interrupted")
        raise
    finally:
        os.close(fd)


def _kill(pid: int, why: str) -> str:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return why


def _outcome(data: bytes, status: int, label: str, memory_mb: int, extra: str) -> Any:
    if not data:
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            raise RenderLimitExceeded(f"{label} stopped unexpectedly ({name}); it may have "
                                      f"needed more than {memory_mb} MB.{extra}")
        raise StorykitError(f"{label} stopped without an answer (exit status "
                            f"{os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(data)  # noqa: S301 - our own child wrote it
    if kind == "ok":
        return value
    if kind == "memory":
        raise RenderLimitExceeded(f"{label} needed more than {memory_mb} MB and was "
                                  f"stopped.{extra}")
    raise value


# --- pictures --------------------------------------------------------------------------------

def prepare_images(view_images: Sequence[Any], dest_dir: Path,
                   max_width: int) -> list[tuple[Any, Path]]:
    """Pre-size pictures with Pillow before WeasyPrint sees them: ``(image, file)`` pairs.

    WeasyPrint embeds a picture at full size, so a phone photo costs time, memory and
    megabytes; :func:`storykit.images.prepare_image` shrinks it to ``max_width`` pixels,
    strips its metadata (GPS!) and refuses anything that is not a safe JPEG, PNG or WebP.
    A JPEG that is already clean and small enough (as the upload step leaves pictures in a
    story's ``media/`` folder) is used as it is, which keeps big booklets fast.
    ``view_images`` are :class:`~storykit.consent.ViewImage`-like objects with ``path`` and
    ``file``; new files go into ``dest_dir``.
    """
    from .images import prepare_image

    dest_dir = Path(dest_dir)
    out: list[tuple[Any, Path]] = []
    for index, image in enumerate(view_images):
        src = Path(image.path) if image.path else None
        if src is None or not src.is_file():
            raise StorykitError(f"the picture {image.file!r} is missing from the story's "
                                "folder")
        if clean_jpeg(src, max_width):
            out.append((image, src))
            continue
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / f"img-{index:03d}{src.suffix.lower() or '.img'}"
        prepare_image(src, dest, max_width=max_width)
        out.append((image, dest))
    return out


#: JPEG header fields that carry no personal data (anything else, such as EXIF, XMP,
#: ICC profiles or comments, sends the picture through Pillow again).
_PLAIN_JPEG_INFO = frozenset({"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi",
                              "progressive", "progression", "adobe", "adobe_transform"})


def clean_jpeg(src: Path, max_width: int) -> bool:
    """Whether ``src`` is a baseline RGB or grey JPEG no wider than ``max_width`` with no
    metadata and nothing hidden after the picture (a PDF embeds a JPEG's bytes as they are),
    so it can go into a PDF unchanged (decodes nothing)."""
    from PIL import Image

    from .images import MAX_BYTES, MAX_PIXELS, jpeg_layout

    try:
        if src.stat().st_size > MAX_BYTES or jpeg_layout(src.read_bytes()) is None:
            return False
        with Image.open(src, formats=["JPEG"]) as im:
            width, height = im.size
            return (im.mode in ("RGB", "L") and width <= max_width
                    and width * height <= MAX_PIXELS and set(im.info) <= _PLAIN_JPEG_INFO
                    and getattr(im, "n_frames", 1) == 1)
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
