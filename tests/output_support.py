"""Every output file as the text a reader could get out of it: for the tests that look for
words that must (a preview mark) or must not (a refused story's text) be in an output."""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

from pypdf import PdfReader

_TAGS = re.compile(r"<[^>]+>")


def output_text(path: Path) -> str:
    """The readable text of an output file: a web page's words (tags dropped, entities
    decoded, plus the raw markup), a PDF's extracted text, the text of every part of a
    PowerPoint file (slides, notes, properties), a picture's alt-text file (cards), or the
    file itself read as text (search index, feed, manifest...)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata or {}
        return "\n".join([*pages, *(str(v) for v in meta.values())])
    if suffix == ".pptx":
        with zipfile.ZipFile(path) as pptx:
            parts = [pptx.read(n).decode("utf-8", "replace") for n in pptx.namelist()
                     if n.endswith(".xml")]
        xml = "\n".join(parts)
        return xml + "\n" + html.unescape(_TAGS.sub(" ", xml))
    if suffix in (".png", ".jpg", ".jpeg", ".webp"):
        alt = path.with_suffix(".txt")
        return alt.read_text(encoding="utf-8") if alt.is_file() else ""
    text = path.read_bytes().decode("utf-8", "replace")
    if suffix in (".html", ".xml", ".js", ".css", ".json", ".txt"):
        return text + "\n" + html.unescape(_TAGS.sub(" ", text))
    return text


def words(text: str) -> str:
    """Text with runs of white space made one space (PDF and slide text wraps lines)."""
    return " ".join(text.split())


def every_output(folder: Path) -> dict[Path, str]:
    """Each file under ``folder`` and its readable text."""
    return {p: output_text(p) for p in sorted(folder.rglob("*")) if p.is_file()}
