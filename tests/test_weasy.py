"""storykit.weasy: the safe fetcher, HTML to tagged PDF, the time and memory limits, and
pre-sized pictures. The PDFs are opened with pypdf, as a reader would."""

from __future__ import annotations

import os
import signal
import time
from functools import partial
from pathlib import Path

import pytest
import weasyprint
from pdfcheck import (
    assert_accessible,
    attachments,
    font_names,
    image_count,
    read,
    texts,
    xmp,
)
from PIL import Image

from storykit.consent import ViewImage
from storykit.errors import NotSavedError, StorykitError
from storykit.images import ImageError, prepare_image
from storykit.weasy import (
    VARIANTS,
    RenderBlocked,
    RenderLimitExceeded,
    SafeFetcher,
    clean_jpeg,
    describe_url,
    html_to_pdf,
    prepare_images,
    run_limited,
    write_atomic,
)

SECRET = "Rosalind Quarry told us about her night on Ward 9"  # stands in for story text


def page(body: str, head: str = "", title: str = "A test page") -> str:
    return (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title}'
            f"</title>{head}</head><body><p>{SECRET}</p>{body}</body></html>")


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    Image.new("RGB", (40, 30), (0, 94, 184)).save(folder / "blue.png")
    (folder / "ok.css").write_text("p { color: #212B32; }", encoding="utf-8")
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


# --- the fetcher on its own --------------------------------------------------------------------

def test_fetcher_reads_files_under_an_allowed_folder(assets: Path):
    fetcher = SafeFetcher([assets])
    response = fetcher.fetch((assets / "ok.css").as_uri())
    assert response.read() == b"p { color: #212B32; }"
    assert response.content_type == "text/css"
    response.close()
    assert fetcher.allows("data:text/plain,hello")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "https://example.org/font.woff",
    "ftp://example.org/x.png",
    "file://fileserver/share/x.png",
    "file:///dev/urandom",
    "gopher://example.org/",
])
def test_fetcher_refuses_everything_else(assets: Path, url: str):
    fetcher = SafeFetcher([assets])
    assert not fetcher.allows(url)
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.blocked, "the refusal is remembered for the error message"


def test_fetcher_refuses_escapes_links_and_odd_files(assets: Path, tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the PDF", encoding="utf-8")
    (assets / "sneaky.png").symlink_to(outside)
    os.mkfifo(assets / "pipe.png")
    (assets / "big.png").write_bytes(b"x" * 2048)
    fetcher = SafeFetcher([assets], max_bytes=1024)
    for url in [(assets / ".." / "outside.txt").as_uri(), f"file://{assets}/../outside.txt",
                (assets / "sneaky.png").as_uri(), (assets / "pipe.png").as_uri(),
                (assets / "missing.png").as_uri(), (assets / "big.png").as_uri()]:
        assert not fetcher.allows(url), url
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    reasons = fetcher.blocked
    assert reasons[0] == f"file {outside} (outside the theme and story folders)"
    assert reasons[2] == reasons[0], "a link is followed to where it really points"
    assert reasons[3:] == [f"file {assets}/pipe.png (not a regular file)",
                           f"file {assets}/missing.png (it does not exist)",
                           f"file {assets}/big.png (bigger than 0 MB)"]


def test_fetcher_allows_single_files_as_roots(assets: Path):
    fetcher = SafeFetcher([assets / "blue.png"])
    assert fetcher.allows((assets / "blue.png").as_uri())
    assert not fetcher.allows((assets / "ok.css").as_uri())


def test_describe_url_keeps_only_scheme_and_host():
    assert describe_url("http://169.254.169.254/latest/meta-data/iam?x=1") == \
        "http://169.254.169.254/"
    assert describe_url("data:text/plain,a secret") == "a data: URI"
    assert describe_url("gopher:whatever") == "a gopher: URL"


# --- HTML to PDF -----------------------------------------------------------------------------

def test_html_to_pdf_makes_a_tagged_pdf(assets: Path, tmp_path: Path):
    out = tmp_path / "out" / "page.pdf"
    html = page('<h1>Heading</h1><img src="blue.png" alt="A blue square">'
                '<link rel="stylesheet" href="ok.css">')
    assert html_to_pdf(html, out, base_dir=assets, allowed=[assets]) == out
    reader = read(out)
    counts = assert_accessible(reader, title="A test page")
    assert counts["/Figure"] == 1 and counts["/H1"] == 1
    assert "pdfuaid:part=\"1\"" in xmp(reader)
    assert SECRET in texts(reader)[0]
    assert image_count(reader) == 1
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert leftovers(out.parent) == []


def test_pdf_a_3a_variant(assets: Path, tmp_path: Path):
    out = tmp_path / "a3a.pdf"
    html_to_pdf(page("<p>Archive copy</p>"), out, base_dir=assets, allowed=[assets],
                variant="pdf/a-3a")
    meta = xmp(read(out))
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="A"' in meta
    assert_accessible(read(out), title="A test page")


def test_unknown_variant_is_refused(assets: Path, tmp_path: Path):
    with pytest.raises(StorykitError, match="unknown PDF variant 'pdf/ua-9'.*pdf/ua-1"):
        html_to_pdf(page(""), tmp_path / "x.pdf", base_dir=assets, allowed=[assets],
                    variant="pdf/ua-9")
    assert "pdf/a-3a" in VARIANTS
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(("body", "head", "names"), [
    ('<img src="file:///etc/passwd" alt="x">', "", "file /etc/passwd"),
    ('<img src="../../../../../../etc/passwd" alt="x">', "", "/etc/passwd"),
    ('<img src="http://169.254.169.254/latest/meta-data/" alt="x">', "",
     "http://169.254.169.254/"),
    ("", "<style>body { background: url(file:///etc/passwd) }</style>", "/etc/passwd"),
    ("", "<style>@import url(http://169.254.169.254/x.css);</style>", "169.254.169.254"),
    ("", "<style>@font-face { font-family: X; src: url(http://169.254.169.254/f.ttf) }"
         " p { font-family: X }</style>", "169.254.169.254"),
    ("", '<link rel="stylesheet" href="file:///etc/passwd">', "/etc/passwd"),
    ('<p style="background: url(\'file:///etc/passwd\')">x</p>', "", "/etc/passwd"),
    ('<img src="/dev/urandom" alt="x">', "", "/dev/urandom"),
])
def test_blocked_fetches_stop_the_render(assets: Path, tmp_path: Path, body: str, head: str,
                                         names: str):
    out = tmp_path / "blocked.pdf"
    with pytest.raises(RenderBlocked) as caught:
        html_to_pdf(page(body, head), out, base_dir=assets, allowed=[assets])
    message = str(caught.value)
    assert names in message and "the PDF was not made" in message
    assert SECRET not in message and "Rosalind" not in message
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("html", [
    '<link rel="attachment" href="file:///etc/passwd">',
    '<link rel="attachment" href="ok.css">',
    '<a rel="attachment" href="ok.css">the style sheet</a>',
])
def test_attachments_are_refused(assets: Path, tmp_path: Path, html: str):
    out = tmp_path / "attach.pdf"
    with pytest.raises(RenderBlocked, match="attach files"):
        html_to_pdf(page(html), out, base_dir=assets, allowed=[assets])
    assert not out.exists()


def test_attachment_check_is_the_line_that_holds(assets: Path, tmp_path: Path):
    """Control: the same HTML with the check off embeds the (allowed) file, and WeasyPrint's
    own fetcher would even embed /etc/passwd. So the tests above can fail."""
    allowed = tmp_path / "allowed.pdf"
    html_to_pdf(page('<link rel="attachment" href="ok.css">'), allowed, base_dir=assets,
                allowed=[assets], attachments_forbidden=False)
    assert attachments(read(allowed)) == ["ok.css"]
    with pytest.raises(RenderBlocked, match="/etc/passwd"):
        html_to_pdf(page('<link rel="attachment" href="file:///etc/passwd">'),
                    tmp_path / "passwd.pdf", base_dir=assets, allowed=[assets],
                    attachments_forbidden=False)
    raw = weasyprint.HTML(string=page('<link rel="attachment" href="file:///etc/passwd">'))
    assert b"root:" in _embedded(raw.write_pdf())
    with pytest.raises(RenderBlocked, match="switched off"):
        html_to_pdf(page(""), tmp_path / "opt.pdf", base_dir=assets, allowed=[assets],
                    attachments=[str(assets / "ok.css")])


def _embedded(pdf: bytes) -> bytes:
    import io

    from pypdf import PdfReader

    return b"".join(data for files in PdfReader(io.BytesIO(pdf)).attachments.values()
                    for data in files)


def test_stylesheet_files_must_be_allowed_too(assets: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere.css"
    elsewhere.write_text("p { color: red }", encoding="utf-8")
    with pytest.raises(RenderBlocked, match="outside the theme and story folders"):
        html_to_pdf(page(""), tmp_path / "x.pdf", base_dir=assets, allowed=[assets],
                    stylesheets=[elsewhere])
    html_to_pdf(page(""), tmp_path / "y.pdf", base_dir=assets, allowed=[assets],
                stylesheets=["p { color: #003087 }", assets / "ok.css"])
    assert read(tmp_path / "y.pdf")


def test_deep_nesting_is_a_clear_error(assets: Path, tmp_path: Path):
    html = page("<div>" * 3000 + "deep" + "</div>" * 3000)
    with pytest.raises(StorykitError, match="nested too deeply"):
        html_to_pdf(html, tmp_path / "deep.pdf", base_dir=assets, allowed=[assets])


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path):
    out = tmp_path / "keep.pdf"
    out.write_bytes(b"old")

    def broken(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(NotSavedError, match="keep.pdf was not written: the disk is full"):
        write_atomic(out, broken)
    assert out.read_bytes() == b"old" and leftovers(tmp_path) == []


# --- limits ------------------------------------------------------------------------------------

def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def _allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def _crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would


def _unpicklable():
    return lambda: None


def test_run_limited_returns_the_result():
    assert run_limited(_allocate, 8, timeout=10, memory_mb=64) == 8 * 1024 * 1024


def test_run_limited_stops_slow_work():
    start = time.monotonic()
    with pytest.raises(RenderLimitExceeded, match=r"the booklet took longer than 0.5 s .*Try"):
        run_limited(_sleep, 30, timeout=0.5, memory_mb=64, label="the booklet", hint="Try less.")
    assert time.monotonic() - start < 5


def test_run_limited_stops_greedy_work():
    with pytest.raises(RenderLimitExceeded, match="the render needed more than 64 MB"):
        run_limited(_allocate, 400, timeout=30, memory_mb=64)


def test_run_limited_stops_a_greedy_weasyprint_render(assets: Path, tmp_path: Path):
    Image.new("RGB", (6000, 6000), (0, 94, 184)).save(assets / "huge.png")  # 120 kB, 108 MB
    html = page('<img src="huge.png" alt="A very big blue square">')
    out = tmp_path / "big.pdf"
    task = partial(html_to_pdf, html, out, base_dir=assets, allowed=[assets])
    with pytest.raises(RenderLimitExceeded, match="needed more than 64 MB"):
        run_limited(task, timeout=60, memory_mb=64)
    assert not out.exists() and leftovers(tmp_path) == []


def test_run_limited_passes_errors_back(assets: Path, tmp_path: Path):
    task = partial(html_to_pdf, page('<img src="file:///etc/passwd" alt="x">'),
                   tmp_path / "x.pdf", base_dir=assets, allowed=[assets])
    with pytest.raises(RenderBlocked, match="/etc/passwd"):
        run_limited(task, timeout=30, memory_mb=512)
    with pytest.raises(StorykitError, match=r"failed \(function\)"):
        run_limited(_unpicklable, timeout=10, memory_mb=64)
    with pytest.raises(RenderLimitExceeded,
                       match=r"stopped unexpectedly \(SIGKILL\); it may have needed more than 64"):
        run_limited(_crash, timeout=10, memory_mb=64)


@pytest.mark.parametrize(("timeout", "memory"), [(0, 64), (-1, 64), (5, 0)])
def test_run_limited_needs_positive_limits(timeout: float, memory: int):
    with pytest.raises(StorykitError, match="more than zero"):
        run_limited(_sleep, 0, timeout=timeout, memory_mb=memory)


# --- pictures ----------------------------------------------------------------------------------

def _photo(path: Path, size: tuple[int, int], **save) -> Path:
    im = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 50):
        im.paste((0, 94, 184), (x, 0, x + 10, size[1]))
    im.save(path, **save)
    return path


def _gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    return exif.tobytes()


def test_prepare_images_uses_clean_jpegs_and_cleans_the_rest(tmp_path: Path):
    media = tmp_path / "media"
    media.mkdir()
    clean = media / "clean.jpg"
    prepare_image(_photo(tmp_path / "raw.jpg", (900, 600)), clean, max_width=1000)
    gps = _photo(media / "gps.jpg", (800, 600), exif=_gps_exif())
    wide = _photo(media / "wide.jpg", (3000, 2000))
    png = _photo(media / "drawing.png", (500, 400))
    images = [ViewImage(p, f"media/{p.name}", "A picture", "photo")
              for p in (clean, gps, wide, png)]
    ready = prepare_images(images, tmp_path / "work", 1200)
    paths = [p for _, p in ready]
    assert paths[0] == clean, "an already clean picture is used as it is"
    assert all(p.parent == tmp_path / "work" for p in paths[1:])
    with Image.open(paths[1]) as im:
        assert "exif" not in im.info and not im.getexif()
    with Image.open(paths[2]) as im:
        assert im.size == (1200, 800)
    assert [i for i, _ in ready] == images
    assert clean_jpeg(clean, 1200) and not clean_jpeg(gps, 1200) and not clean_jpeg(wide, 1200)
    assert not clean_jpeg(png, 1200)


def test_a_jpeg_with_something_hidden_after_it_is_cleaned_before_a_pdf(tmp_path: Path):
    """A PDF embeds a JPEG's bytes as they are: a file with a ZIP (a consent form, say)
    appended after the picture's end is decoded and encoded again, so nothing follows it."""
    media = tmp_path / "media"
    media.mkdir()
    hidden = media / "hidden.jpg"
    prepare_image(_photo(tmp_path / "raw.jpg", (900, 600)), hidden, max_width=1000)
    hidden.write_bytes(hidden.read_bytes() + b"PK\x03\x04 consent-form.pdf")
    assert not clean_jpeg(hidden, 1200)
    [(_, ready)] = prepare_images([ViewImage(hidden, "media/hidden.jpg", "A picture", "photo")],
                                  tmp_path / "work", 1200)
    assert ready != hidden and b"PK\x03\x04" not in ready.read_bytes()


def test_prepare_images_refuses_missing_and_fake_pictures(tmp_path: Path):
    fake = tmp_path / "fake.jpg"
    fake.write_text("<svg onload=alert(1)>", encoding="utf-8")
    with pytest.raises(StorykitError, match="'media/gone.jpg' is missing"):
        prepare_images([ViewImage(tmp_path / "gone.jpg", "media/gone.jpg", "x", "photo")],
                       tmp_path / "work", 800)
    with pytest.raises(StorykitError, match="is missing"):
        prepare_images([ViewImage(None, "media/none.jpg", "x", "photo")], tmp_path / "w", 800)
    with pytest.raises(ImageError, match="not a JPEG, PNG or WebP"):
        prepare_images([ViewImage(fake, "media/fake.jpg", "x", "photo")], tmp_path / "w", 800)


def test_a_pdf_with_a_web_font_leaves_no_font_files_behind(assets: Path, tmp_path: Path,
                                                           monkeypatch):
    """WeasyPrint copies each @font-face font into a temporary folder and removes it only
    when its font configuration is garbage-collected, which a render in a forked child
    (run_limited, as every PDF plugin renders) never lives to see: each PDF left a folder of
    fonts in /tmp. The folder goes as soon as the PDF is written."""
    import shutil
    import tempfile

    font = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")
    shutil.copy(font, assets / "sans.ttf")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    head = ("<style>@font-face { font-family: Story; src: url(sans.ttf) } "
            "p { font-family: Story }</style>")
    out = tmp_path / "font.pdf"
    run_limited(partial(html_to_pdf, page("", head), out, base_dir=assets, allowed=[assets]),
                timeout=60, memory_mb=1024)
    assert SECRET in " ".join(texts(read(out)))
    assert any(name.endswith("+Story") for name in font_names(read(out)))  # the web font
    assert [p.name for p in temp.iterdir() if p.name.startswith("weasyprint-")] == []
