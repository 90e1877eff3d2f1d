"""Splitting blocks so that each slide fits, and fitting titles to their box."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from .blocks import tidy_runs
from .geometry import Box
from .measure import Layout, TextMeasure
from .parts import Block, Item, Run, SlideError

_SENTENCE = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]*\s+")


def split_runs(runs: Sequence[Run], at: int) -> tuple[tuple[Run, ...], tuple[Run, ...]]:
    """Split runs at character offset ``at`` of their joined text."""
    left: list[Run] = []
    right: list[Run] = []
    pos = 0
    for run in runs:
        end = pos + len(run.text)
        if end <= at:
            left.append(run)
        elif pos >= at:
            right.append(run)
        else:
            left.append(replace(run, text=run.text[: at - pos]))
            right.append(replace(run, text=run.text[at - pos:]))
        pos = end
    return tidy_runs(left), tidy_runs(right)


def _cut_points(text: str) -> list[int]:
    """Offsets where a paragraph may be split: after sentences, or else between words."""
    points = [m.end() for m in _SENTENCE.finditer(text)]
    return points or [m.end() for m in re.finditer(r"\s+", text)]


def split_runs_to_fit(runs: tuple[Run, ...], fits: Callable[[tuple[Run, ...]], bool]
                       ) -> tuple[tuple[Run, ...], tuple[Run, ...]] | None:
    """The longest head of ``runs`` (cut after a sentence, or else a word) that fits."""
    text = "".join(r.text for r in runs)
    for points in (_cut_points(text), [m.end() for m in re.finditer(r"\s+", text)]):
        best = None
        for at in points:
            head, tail = split_runs(runs, at)
            if not head or not tail:
                continue
            if not fits(head):
                break
            best = (head, tail)
        if best:
            return best
    return None


class Paginator:
    """Fills slides with blocks, splitting a block (between sentences, list items or table
    rows) when it does not fit, and keeping headings with what follows them."""

    def __init__(self, layout: Layout, height: float | None = None):
        self.layout = layout
        self.g = layout.g
        self.room = height if height is not None else layout.g.body_box.h

    def fits(self, blocks: Sequence[Block]) -> bool:
        words = sum(b.words for b in blocks)
        return (sum(self.layout.height(b) for b in blocks) <= self.room
                and (words <= self.g.max_words or len(blocks) <= 1 and self._one_fits(blocks)))

    def _one_fits(self, blocks: Sequence[Block]) -> bool:
        return bool(blocks) and blocks[0].kind == "table"

    def pages(self, blocks: Iterable[Block]) -> list[list[Block]]:
        pages: list[list[Block]] = [[]]
        queue = deque(blocks)
        while queue:
            block = queue.popleft()
            if block.kind == "break":
                if pages[-1]:
                    pages.append([])
                continue
            current = pages[-1]
            if self.fits([*current, block]) and not self._orphan(current, block, queue):
                current.append(block)
                continue
            parts = self.split(block, current)
            if parts is not None:
                current.append(parts[0])
                queue.appendleft(parts[1])
                pages.append([])
            elif current:
                pages.append([])
                queue.appendleft(block)
            else:
                raise SlideError("a block of text is too big for one slide and cannot be split")
        return [p for p in pages if p]

    def _orphan(self, current: list[Block], block: Block, queue: deque[Block]) -> bool:
        """A heading at the very bottom of a slide goes to the next slide instead."""
        if block.kind != "heading" or not current or not queue:
            return False
        following = queue[0]
        if following.kind == "break":
            return False
        probe = self.split(following, [*current, block])
        return not self.fits([*current, block, following]) and probe is None

    def split(self, block: Block, current: list[Block]) -> tuple[Block, Block] | None:
        """``(head, tail)`` with ``head`` fitting after ``current``; None if nothing fits."""

        def ok(candidate: Block) -> bool:
            return self.fits([*current, candidate])

        if block.kind in ("paragraph", "pre"):
            cut = split_runs_to_fit(block.runs, lambda r: ok(replace(block, runs=r)))
            return (replace(block, runs=cut[0]), replace(block, runs=cut[1])) if cut else None
        if block.kind == "list":
            return self._split_list(block, ok)
        if block.kind == "quote":
            return self._split_quote(block, ok)
        if block.kind == "table":
            return self._split_table(block, ok)
        return None

    def _split_list(self, block: Block, ok) -> tuple[Block, Block] | None:
        items = block.items
        for n in range(len(items) - 1, 0, -1):
            head = replace(block, items=items[:n])
            if ok(head):
                return head, replace(block, items=items[n:], start=block.start + n)
        first = items[0]
        cut = split_runs_to_fit(first.runs, lambda r: ok(replace(block, items=(Item(r),))))
        if cut is None:
            return None
        rest = (Item(cut[1], first.items, first.ordered), *items[1:])
        return replace(block, items=(Item(cut[0]),)), replace(block, items=rest,
                                                                start=block.start)

    def _split_quote(self, block: Block, ok) -> tuple[Block, Block] | None:
        paras = block.children
        for n in range(len(paras) - 1, 0, -1):
            head = replace(block, children=paras[:n])
            if ok(head):
                return head, replace(block, children=paras[n:])
        first = paras[0]
        cut = split_runs_to_fit(
            first.runs, lambda r: ok(replace(block, children=(replace(first, runs=r),))))
        if cut is None:
            return None
        rest = (replace(first, runs=cut[1]), *paras[1:])
        return (replace(block, children=(replace(first, runs=cut[0]),)),
                replace(block, children=rest))

    def _split_table(self, block: Block, ok) -> tuple[Block, Block] | None:
        rows = block.rows
        for n in range(len(rows) - 1, 0, -1):
            head = replace(block, rows=rows[:n])
            if ok(head):
                return head, replace(block, rows=rows[n:])
        return None


# --- titles -----------------------------------------------------------------------------------

def fit_title(text: str, measure: TextMeasure, box: Box, sizes: Sequence[int],
              lines: int, last_lines: int, line_height: float, fit: float) -> tuple[str, int]:
    """The largest size at which ``text`` fits ``box`` (bold); very long text is shortened
    with an ellipsis at the smallest size rather than overflow."""
    runs = (Run(text),)
    width = box.w * fit
    for i, size in enumerate(sizes):
        allowed = last_lines if i == len(sizes) - 1 else lines
        allowed = min(allowed, int(box.h // (size * line_height)))
        if measure.lines(runs, size, width, bold=True) <= allowed:
            return text, size
    size = sizes[-1]
    allowed = min(last_lines, int(box.h // (size * line_height)))
    words = text.split()
    while words and measure.lines((Run(" ".join(words) + "\u2026"),), size, width,
                                  bold=True) > allowed:
        words.pop()
    return (" ".join(words) + "\u2026") if words else text[:20] + "\u2026", size
