"""Helpers for the editor, upload, consent and history tests: form data for a story, files of
every kind (good pictures, pictures with GPS, bombs, polyglots, other formats, PDFs), uploads
with CSRF tokens read from the page, and a strict scan of pages for anything executable.

All names and details are fictional; NHS numbers come from the 999 test range.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from app_support import World, csrf_token, make_world
from conftest import BASIC_TOML
from database_support import Engine
from flask.testing import FlaskClient
from PIL import Image

from storykit.web.storyform import values_of

#: A fictional NHS number with a valid check digit (999 range: test numbers).
NHS_NUMBER = "999 000 0018"


def make_editor_world(root: Path, toml: str = BASIC_TOML, engine: Engine | None = None,
                      **overrides: Any) -> World:
    """app_support.make_world, with a chosen storykit.toml."""
    return make_world(root, toml, engine, **overrides)


def text(response) -> str:
    return response.get_data(as_text=True)


def editor_data(story, **changes: Any) -> dict[str, Any]:
    """The editor form as the page fills it for ``story``, with ``changes``."""
    data: dict[str, Any] = dict(values_of(story))
    data.update(base_etag=story.etag, action="save")
    data.update(changes)
    return data


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str, **kwargs: Any):
    """POST with the CSRF token of ``page`` (multipart when a file is in ``data``)."""
    payload = {"csrf_token": csrf_token(client, page), **data}
    return client.post(url, data=payload, **kwargs)


def save(client: FlaskClient, world: World, story_id: str, **changes: Any):
    story = world.site.store.get(story_id)
    return post_form(client, f"/stories/{story_id}/edit", editor_data(story, **changes),
                     page=f"/stories/{story_id}/edit")


# --- pictures ---------------------------------------------------------------------------------

def picture(size=(40, 20), fmt="JPEG", colour=(200, 30, 30), **save: Any) -> bytes:
    im = Image.new("RGB", size, colour)
    for x in range(size[0] // 2):  # a mark in the top-left corner, to check orientation
        for y in range(size[1] // 2):
            im.putpixel((x, y), (10, 200, 10))
    out = io.BytesIO()
    im.save(out, format=fmt, **save)
    return out.getvalue()


def gps_jpeg(size=(40, 20), orientation: int = 6) -> bytes:
    """A JPEG with EXIF (GPS position, camera, orientation), XMP and a comment."""
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"              # Make
    exif[0x0112] = orientation              # Orientation: rotate 90 degrees to show
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           b'02/22-rdf-syntax-ns#"><rdf:Description exif:GPSLatitude="51,30.2N" xmlns:exif='
           b'"http://ns.adobe.com/exif/1.0/"/></rdf:RDF></x:xmpmeta>')
    return picture(size, exif=exif.tobytes(), xmp=xmp, comment=b"taken at 1 Example Road")


def png_bomb_header(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG that claims to be huge (header only, a few bytes of data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def animated_webp(frames: int = 200) -> bytes:
    images = [Image.new("RGB", (8, 8), (i % 256, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="WEBP", save_all=True, append_images=images[1:], duration=10)
    return out.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
       b'<rect width="10" height="10"/></svg>')
PSD = b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03" + struct.pack(">II", 10, 10) + b"\x00\x08\x00\x03"
FITS = b"SIMPLE  =                    T" + b" " * 50 + b"BITPIX  =                    8"


def polyglot_html() -> bytes:
    return picture() + b"<html><body><script>alert(document.cookie)</script></body></html>"


def polyglot_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return picture() + out.getvalue()


def pdf_bytes(text: str = "Signed consent form") -> bytes:
    """A small, valid one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
               + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
              "%%EOF\n".encode())
    return out.getvalue()


def upload(client: FlaskClient, world: World, story_id: str, data: bytes,
           filename: str = "ward.jpg", alt: str = "A nurse holding a baby by a hospital cot",
           kind: str = "photo", etag: str | None = None):
    page = f"/stories/{story_id}/images"
    form = {"picture": (io.BytesIO(data), filename), "alt": alt, "kind": kind,
            "base_etag": etag or world.site.store.get(story_id).etag}
    return post_form(client, page, form, page=page, content_type="multipart/form-data")


def media_files(world: World, story_id: str) -> list[str]:
    folder = world.root / "stories" / story_id / "media"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- scanning pages for anything that could run ---------------------------------------------------

class _Scan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.srcdocs: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not values.get("src", "").startswith("/static/"):
            self.problems.append(f"<script> {values}")
        if tag in ("svg", "object", "embed", "base", "style", "math"):
            self.problems.append(f"<{tag}>")
        if tag == "iframe" and "preview-frame" not in values.get("class", ""):
            self.problems.append("a foreign <iframe>")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta refresh>")
        if tag == "form" and values.get("action", "/").startswith(("http", "//")):
            self.problems.append("a form posting elsewhere")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}=")
            squashed = re.sub(r"[\s\x00-\x1f]", "", html.unescape(value)).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    squashed.startswith(("javascript:", "data:text", "vbscript:")):
                self.problems.append(f"{tag} {name}={value[:40]}")
            if name == "srcdoc":
                self.srcdocs.append(value)


def executable_parts(page: str) -> list[str]:
    """Everything in a page (and in any preview frame inside it) that could run script."""
    scan = _Scan()
    scan.feed(page)
    problems = list(scan.problems)
    for inner in scan.srcdocs:
        problems += [f"in the preview: {p}" for p in executable_parts(inner)]
    return problems


def srcdoc_of(page: str) -> str:
    """The preview frame's page (the srcdoc attribute, unescaped)."""
    scan = _Scan()
    scan.feed(page)
    assert scan.srcdocs, "no preview frame on the page"
    return scan.srcdocs[0]
