"""storykit.images: only JPEG, PNG and WebP, no bombs, no metadata, the right way up, sized.

Rows 17 to 22 of the bad-input catalogue (research/security.md, section 5)."""

from __future__ import annotations

import base64
import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile

from storykit.errors import StorykitError
from storykit.images import (
    MAX_BYTES,
    ImageError,
    ImageTooLarge,
    image_data_uri,
    image_format,
    prepare_image,
)


def phone_photo(path: Path, size=(3000, 2000), orientation: int = 1) -> Path:
    """A JPEG as a phone writes it: EXIF with GPS, orientation, a comment and XMP."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Example phone maker"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    picture = Image.new("RGB", size, (200, 40, 40))
    picture.paste((40, 40, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    picture.save(path, exif=exif.tobytes(), comment=b"Ward 7, bed 3", quality=90,
                 xmp=b"<x:xmpmeta>Ward 7</x:xmpmeta>")
    return path


def png_header(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file whose header claims a huge picture (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def test_a_phone_photo_loses_every_trace_of_metadata_and_is_resized(tmp_path):
    src = phone_photo(tmp_path / "photo.jpg")
    size = prepare_image(src, tmp_path / "out" / "photo.jpg", max_width=1024)
    assert size == (1024, 683)
    data = (tmp_path / "out" / "photo.jpg").read_bytes()
    assert b"Ward 7" not in data and b"Example phone" not in data and b"Exif" not in data
    with Image.open(tmp_path / "out" / "photo.jpg") as out:
        assert out.format == "JPEG" and out.size == size
        assert not out.getexif() and not out.getexif().get_ifd(0x8825)
        assert "exif" not in out.info and "comment" not in out.info and "xmp" not in out.info


def test_the_exif_orientation_is_applied_before_it_is_dropped(tmp_path):
    src = phone_photo(tmp_path / "sideways.jpg", size=(400, 200), orientation=6)
    assert prepare_image(src, tmp_path / "upright.jpg", max_width=1000) == (200, 400)
    with Image.open(tmp_path / "upright.jpg") as out:
        top, bottom = out.getpixel((100, 20)), out.getpixel((100, 380))
    assert top[2] > 150 and bottom[0] > 150  # the blue half is now on top


def test_small_pictures_are_not_enlarged_and_png_keeps_transparency(tmp_path):
    src = tmp_path / "drawing.png"
    Image.new("RGBA", (300, 100), (0, 94, 184, 128)).save(src)
    assert prepare_image(src, tmp_path / "drawing-out.png", max_width=1024) == (300, 100)
    with Image.open(tmp_path / "drawing-out.png") as out:
        assert out.format == "PNG" and out.mode == "RGBA" and out.getpixel((5, 5))[3] == 128
    prepare_image(src, tmp_path / "flat.jpg", max_width=1024, fmt="JPEG")
    with Image.open(tmp_path / "flat.jpg") as flat:
        assert flat.mode == "RGB" and flat.getpixel((5, 5))[0] > 100  # flattened onto white


def test_an_icc_profile_is_converted_then_dropped(tmp_path):
    src = tmp_path / "wide.png"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (50, 50), (10, 200, 30)).save(src, icc_profile=profile)
    prepare_image(src, tmp_path / "out.png", max_width=100)
    with Image.open(tmp_path / "out.png") as out:
        assert "icc_profile" not in out.info


def test_webp_works_and_a_data_uri_is_a_real_picture(tmp_path):
    src = tmp_path / "p.webp"
    Image.new("RGB", (2000, 1000), (1, 2, 3)).save(src, format="WEBP")
    assert image_format(src) == "WEBP"
    uri = image_data_uri(src, max_width=500)
    assert uri.startswith("data:image/webp;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as decoded:
        assert decoded.size == (500, 250)


@pytest.mark.parametrize("name, data", [
    ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("evil.jpg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("page.jpg", b"<html><script>alert(1)</script></html>"),
    ("empty.png", b""),
])
def test_files_that_are_not_jpeg_png_or_webp_are_refused(tmp_path, name, data):
    src = tmp_path / name
    src.write_bytes(data)
    with pytest.raises(ImageError, match=f"{name}: not a JPEG, PNG or WebP picture"):
        prepare_image(src, tmp_path / "out.jpg", max_width=100)
    assert not (tmp_path / "out.jpg").exists()


@pytest.mark.parametrize("fmt", ["TIFF", "GIF", "BMP", "PPM"])
def test_other_real_picture_formats_are_refused_before_decoding(tmp_path, fmt):
    src = tmp_path / f"picture.{fmt.lower()}"
    Image.new("RGB", (20, 20)).save(src, format=fmt)
    with pytest.raises(ImageError, match="not a JPEG, PNG or WebP"):
        image_format(src)


@pytest.mark.parametrize("width, height", [(20_000, 20_000), (7_000, 7_000)])
def test_decompression_bombs_are_refused_quickly(tmp_path, width, height):
    src = png_header(tmp_path / "bomb.png", width, height)
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="bomb.png: .*(too many pixels|million pixels)"):
        prepare_image(src, tmp_path / "out.png", max_width=100)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("pillow_lenient", [False, True], ids=["alone", "after weasyprint"])
def test_a_truncated_picture_is_refused(tmp_path, monkeypatch, pillow_lenient):
    # importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES to True
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", pillow_lenient)
    whole = phone_photo(tmp_path / "whole.jpg", size=(800, 600))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:3000])
    with pytest.raises(ImageError, match="cut.jpg: the picture is damaged or incomplete"):
        prepare_image(cut, tmp_path / "out.jpg", max_width=100)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is pillow_lenient  # put back as it was


def test_animated_pictures_are_refused(tmp_path):
    src = tmp_path / "moving.png"
    frames = [Image.new("RGB", (10, 10), (i, 0, 0)) for i in range(0, 250, 50)]
    frames[0].save(src, save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="animated pictures are not allowed"):
        prepare_image(src, tmp_path / "out.png", max_width=100)


def test_huge_files_are_refused_before_reading(tmp_path):
    src = tmp_path / "huge.jpg"
    with src.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(ImageTooLarge, match="huge.jpg: the file is"):
        prepare_image(src, tmp_path / "out.jpg", max_width=100)


def test_a_refused_picture_leaves_the_old_output_as_it_was(tmp_path):
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"the previous picture")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"GIF89a not really")
    with pytest.raises(ImageError):
        prepare_image(bad, dest, max_width=100)
    assert dest.read_bytes() == b"the previous picture"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_errors_are_storykit_errors_that_name_only_the_file(tmp_path):
    src = tmp_path / "secret-folder" / "x.jpg"
    src.parent.mkdir()
    src.write_bytes(b"nope")
    with pytest.raises(StorykitError) as raised:
        prepare_image(src, tmp_path / "o.jpg", max_width=10)
    assert "secret-folder" not in str(raised.value)
    with pytest.raises(ValueError):
        prepare_image(phone_photo(tmp_path / "ok.jpg", (10, 10)), tmp_path / "o.jpg",
                      max_width=0)


# --- clean copies without decoding again (the web build) -----------------------------------

def plain_jpeg(path: Path, size=(800, 600), colour=(40, 120, 200)) -> Path:
    """A JPEG with nothing but its picture, as storykit writes them."""
    Image.new("RGB", size, colour).save(path, quality=85)
    return path


def test_a_clean_narrow_jpeg_is_used_as_it_is(tmp_path):
    from storykit.images import clean_copy

    src = plain_jpeg(tmp_path / "clean.jpg")
    data, size = clean_copy(src, 800, "JPEG")
    assert data == src.read_bytes() and size == (800, 600)


@pytest.mark.parametrize("change", ["zip after the end", "comment", "exif", "too wide",
                                    "damaged pixels", "jfif thumbnail"])
def test_a_jpeg_that_is_not_clean_is_made_again(tmp_path, change):
    """Anything besides the picture (hidden data after its end, a comment, EXIF) or a
    picture too wide or damaged is never passed on as it is."""
    from storykit.images import ImageError, clean_copy

    src = tmp_path / "photo.jpg"
    if change == "zip after the end":
        src.write_bytes(plain_jpeg(src).read_bytes() + b"PK\x03\x04 consent-form.pdf")
    elif change == "comment":
        Image.new("RGB", (800, 600), (40, 120, 200)).save(src, comment=b"Ward 7, bed 3")
    elif change == "exif":
        phone_photo(src, size=(800, 600))
    elif change == "too wide":
        plain_jpeg(src, size=(1000, 750))
    elif change == "jfif thumbnail":  # a 1x1 thumbnail in the JFIF header: of what picture?
        data = plain_jpeg(src).read_bytes()
        app0 = b"\xff\xe0\x00\x13JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01Ward"[:21]
        src.write_bytes(data[:2] + app0 + data[2 + 18:])
    else:
        data = plain_jpeg(src).read_bytes()
        src.write_bytes(data[:len(data) // 2])  # cut short: no end marker
    if change == "damaged pixels":
        with pytest.raises(ImageError, match="damaged"):
            clean_copy(src, 800, "JPEG")
        return
    data, size = clean_copy(src, 800, "JPEG")
    assert data != src.read_bytes() and size[0] <= 800
    assert b"PK\x03" not in data and b"Ward 7" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert "comment" not in im.info and not im.getexif()


def test_the_apps_small_copy_is_used_only_while_it_was_made_from_the_picture(tmp_path):
    """An upload's 800-pixel copy is used as it is (without the note naming the picture it
    was made from); once the big picture is replaced by hand, the old small copy no longer
    names it, and the new picture is made instead."""
    from storykit.images import clean_copy, jpeg_layout, prepare_variants, variant_file

    media = tmp_path / "media"
    big, small = media / "img-x.jpg", media / variant_file("img-x.jpg", 800)
    prepare_variants(phone_photo(tmp_path / "phone.jpg", size=(2400, 1800)),
                     {1600: big, 800: small}, fmt="JPEG")
    data, size = clean_copy(big, 800, "JPEG")
    assert size == (800, 600) and b"storykit-copy-of" not in data
    kept = small.read_bytes()
    layout = jpeg_layout(kept)
    assert layout.comment.startswith(b"storykit-copy-of:")
    assert data == kept[:layout.comment_at] + kept[layout.comment_end:]  # not encoded again

    Image.new("RGB", (1600, 1200), (250, 250, 0)).save(big, quality=85)  # a new picture
    data, size = clean_copy(big, 800, "JPEG")
    with Image.open(io.BytesIO(data)) as im:
        assert im.getpixel((400, 300))[2] < 60  # yellow: the new picture, not the old copy
    small.unlink()
    small.symlink_to(tmp_path / "phone.jpg")  # a link is never followed
    data, _ = clean_copy(big, 800, "JPEG")
    with Image.open(io.BytesIO(data)) as im:
        assert im.getpixel((400, 300))[2] < 60


# --- the memory budget (hardening 8: concurrent big pictures) ------------------------------

BUDGET_ATTACK = r"""
import json, resource, sys, threading, time
from pathlib import Path
from PIL import Image
from storykit import images
from storykit.web.uploads import UploadError, store_image

folder = Path(sys.argv[1])
src = folder / "big.png"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}

def upload(n):
    try:
        stored = store_image(src, folder / f"story-{n}" / "media")
        results[n] = ["stored", stored.file]
    except UploadError as exc:
        results[n] = [exc.status, exc.message]

for n in range(8):
    (folder / f"story-{n}").mkdir()
threads = [threading.Thread(target=upload, args=(n,)) for n in range(8)]
start = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"added_mb": added, "results": results, "seconds": time.monotonic() - start}))
"""


def test_eight_big_uploads_at_once_stay_within_the_picture_memory_budget(tmp_path):
    """The attack: eight 36-megapixel PNGs (under the 40-megapixel limit) prepared at once.
    Unbounded, each holds its 144 MB of pixels and a copy (8 at once added over a gigabyte).
    With the budget, peak memory grows by at most the budget and a little more; each upload
    is stored or answered "busy, try again" (503) with nothing left behind."""
    import json
    import os
    import subprocess
    import sys

    from storykit.images import MEMORY_BUDGET

    Image.linear_gradient("L").resize((6000, 6000)).convert("RGB").save(tmp_path / "big.png")
    env = {**os.environ, "STORYKIT_PICTURE_MEMORY_MB": "320"}
    done = subprocess.run([sys.executable, "-c", BUDGET_ATTACK, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    bound = 320 + 40  # the budget, and the encoders' buffers (without it: about 480)
    assert report["added_mb"] < bound, report
    outcomes = report["results"]
    assert len(outcomes) == 8
    stored = [n for n, (kind, _) in outcomes.items() if kind == "stored"]
    assert stored, report  # the budget lets pictures through, one at a time
    for n, (kind, detail) in outcomes.items():
        files = sorted(p.name for p in (tmp_path / f"story-{n}" / "media").glob("*"))
        if kind == "stored":
            name = detail.removeprefix("media/")
            assert files == sorted([name, name.replace(".png", "-800.png")])
        else:
            assert kind == 503 and "busy" in detail and "send the file again" in detail
            assert files == []  # nothing half-stored
    assert MEMORY_BUDGET >= 64 * 2**20
