"""What a slide plan is made of: runs of text with their style, list items, table cells,
blocks, pictures and slides. Story text is held as plain text runs, never as HTML, so every
renderer escapes it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from storykit import StorykitError


class SlideError(StorykitError):
    """The slides cannot be made as asked (for example, theme colours that are hard to read)."""


@dataclass(frozen=True)
class Run:
    """A piece of text with one style. ``href`` is set only for http, https and mailto links."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Item:
    """A list item: its text and any list nested inside it."""

    runs: tuple[Run, ...]
    items: tuple[Item, ...] = ()
    ordered: bool = False


@dataclass(frozen=True)
class Cell:
    runs: tuple[Run, ...]
    header: bool = False


@dataclass(frozen=True)
class Block:
    """One block of slide content: ``paragraph``, ``heading``, ``list``, ``quote`` (holding
    paragraphs in ``children``), ``table`` or ``pre``; ``break`` only while planning."""

    kind: str
    runs: tuple[Run, ...] = ()
    level: int = 0
    ordered: bool = False
    start: int = 1
    items: tuple[Item, ...] = ()
    children: tuple[Block, ...] = ()
    head: tuple[Cell, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()

    @property
    def text(self) -> str:
        """The block as plain text (for measuring, counting words and searching)."""
        parts = [runs_text(self.runs)]
        parts += [_item_text(i) for i in self.items]
        parts += [c.text for c in self.children]
        parts += [runs_text(c.runs) for row in (self.head, *self.rows) for c in row]
        return " ".join(p for p in parts if p)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class SlideImage:
    """A picture the consent allows, with its alt text (already reduced by consent)."""

    path: Path | None
    alt: str
    kind: str
    file: str = ""


@dataclass(frozen=True)
class Slide:
    """One slide. ``kind`` is deck, contents, title, warning, content, quote, image, closing
    or consent. ``notes`` is empty unless the job was rendered with notes. ``title_offset``
    and ``body_offset`` (px from the top of their boxes) centre the title in its bar (or set
    it on the bottom of a cover) and a quote on its slide, without flexible layouts, which
    WeasyPrint lays out slowly."""

    kind: str
    title: str
    blocks: tuple[Block, ...] = ()
    quote: tuple[Run, ...] = ()
    attribution: str | None = None
    image: SlideImage | None = None
    notes: tuple[str, ...] = ()
    number: int = 0
    total: int = 0
    story_id: str | None = None
    story_title: str = ""
    draft: bool = False
    title_size: int = 44
    text_size: int = 32
    title_offset: int = 0
    body_offset: int = 0

    @property
    def text(self) -> str:
        """Everything the audience can read on the slide, as plain text."""
        parts = [self.title, *(b.text for b in self.blocks), runs_text(self.quote),
                 self.attribution or "", self.image.alt if self.image else ""]
        return " ".join(p for p in parts if p)


def runs_text(runs: Iterable[Run]) -> str:
    return "".join(r.text for r in runs).strip()


def _item_text(item: Item) -> str:
    return " ".join([runs_text(item.runs), *(_item_text(i) for i in item.items)]).strip()
