"""Reading PDFs the way a reader (and an accessibility checker) does, with pypdf.

Shared by the PDF tests: structure tags, alt text, bookmarks, metadata, pictures, attachments.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject


def read(path: Path) -> PdfReader:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes().startswith(b"%PDF-"), f"{path} is not a PDF"
    return PdfReader(path)


def catalog(reader: PdfReader) -> DictionaryObject:
    return reader.trailer["/Root"].get_object()


def structure(reader: PdfReader) -> tuple[Counter, list[DictionaryObject]]:
    """``(count of each structure type, the /Figure elements)`` from the StructTreeRoot."""
    counts: Counter = Counter()
    figures: list[DictionaryObject] = []
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                return
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, ArrayObject):
            for item in node:
                walk(item)
            return
        if not isinstance(node, DictionaryObject):
            return
        kind = node.get("/S")
        if kind is not None:
            counts[str(kind)] += 1
            if kind == "/Figure":
                figures.append(node)
        if "/K" in node:
            walk(node["/K"])

    walk(catalog(reader)["/StructTreeRoot"])
    return counts, figures


def image_count(reader: PdfReader) -> int:
    """How many /Image XObjects the pages use (looking inside form XObjects too)."""
    found: set[int] = set()

    def visit(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/XObject") or {}).values():
            obj = ref.get_object()
            key = ref.idnum if isinstance(ref, IndirectObject) else id(obj)
            if obj.get("/Subtype") == "/Image":
                found.add(key)
            elif obj.get("/Subtype") == "/Form" and key not in found:
                found.add(-key - 1)
                visit(obj.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return len([k for k in found if k >= 0])


def attachments(reader: PdfReader) -> list[str]:
    """Names of embedded files: document-level ones and file-attachment annotations."""
    names = list(reader.attachments)
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                names.append("annotation")
    return names


def texts(reader: PdfReader) -> list[str]:
    """The text of each page, with runs of white space made single spaces."""
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def outline(reader: PdfReader) -> list[tuple[str, int]]:
    """Top-level bookmarks as ``(title, page index)``."""
    return [(item.title, reader.get_destination_page_number(item))
            for item in reader.outline if not isinstance(item, list)]


def xmp(reader: PdfReader) -> str:
    meta = catalog(reader).get("/Metadata")
    return meta.get_object().get_data().decode("utf-8") if meta is not None else ""


def font_names(reader: PdfReader) -> set[str]:
    """Names of the fonts the pages use; each must be embedded in the PDF."""
    names: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources").get_object()
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
                f"{font.get('/BaseFont')} is not embedded"
            names.add(str(font.get("/BaseFont")))
    return names


def assert_accessible(reader: PdfReader, *, title: str, lang: str = "en-GB") -> Counter:
    """What PDF/UA asks of any storykit PDF; returns the structure counts for more checks."""
    root = catalog(reader)
    assert bool(root["/MarkInfo"]["/Marked"]) is True, "not a tagged PDF"
    assert root["/Lang"] == lang
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert reader.metadata.title == title
    counts, figures = structure(reader)
    assert counts["/Document"] == 1
    for figure in figures:
        assert str(figure.get("/Alt", "")).strip(), "a /Figure has no /Alt text"
    assert counts["/Figure"] == len(figures)
    return counts
