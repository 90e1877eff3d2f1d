"""Reading the sanitised Markdown HTML of a story into blocks of styled runs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

from .parts import Block, Cell, Item, Run, runs_text


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _Tree(HTMLParser):
    """A small tree of the (already sanitised) HTML that ``job.markdown`` returns."""

    VOID = frozenset({"br", "hr", "img", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


_BOLD = frozenset({"strong", "b", "th", "dt"})
_ITALIC = frozenset({"em", "i", "cite"})
_LINK = re.compile(r"^(https?:|mailto:)", re.I)
_BLOCKS = frozenset({"p", "ul", "ol", "blockquote", "table", "pre", "div", "dl", "hr",
                     "h1", "h2", "h3", "h4", "h5", "h6"})


def _inline(node: _Node, style: dict, pre: bool = False) -> list[Run]:
    runs: list[Run] = []
    for child in node.children:
        if isinstance(child, str):
            text = child if pre else re.sub(r"\s+", " ", child)
            if text:
                runs.append(Run(text, **style))
            continue
        tag = child.tag
        if tag == "br":
            runs.append(Run("\n", **style))
        elif tag == "a" and "footnote-backref" in child.attrs.get("class", ""):
            continue
        elif tag in ("ul", "ol", "table"):
            continue  # nested lists are handled by the list item; tables never appear inline
        else:
            inner = dict(style)
            inner["bold"] = style.get("bold", False) or tag in _BOLD
            inner["italic"] = style.get("italic", False) or tag in _ITALIC
            inner["code"] = style.get("code", False) or tag in ("code", "pre")
            href = child.attrs.get("href", "")
            if tag == "a":
                inner["href"] = href if _LINK.match(href) else None
            if tag in _BLOCKS and runs and not runs[-1].text.endswith("\n"):
                runs.append(Run("\n", **style))
            runs.extend(_inline(child, inner, pre or tag == "pre"))
    return runs


def tidy_runs(runs: Iterable[Run]) -> tuple[Run, ...]:
    """Merge neighbours with the same style; trim the ends."""
    out: list[Run] = []
    for run in runs:
        if out and _same_style(out[-1], run):
            out[-1] = replace(out[-1], text=out[-1].text + run.text)
        elif run.text:
            out.append(run)
    while out and not out[0].text.strip():
        out.pop(0)
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        out[0] = replace(out[0], text=out[0].text.lstrip())
        out[-1] = replace(out[-1], text=out[-1].text.rstrip())
    return tuple(out)


def _same_style(a: Run, b: Run) -> bool:
    return (a.bold, a.italic, a.code, a.href) == (b.bold, b.italic, b.code, b.href)


def _item(node: _Node, ordered: bool) -> Item:
    nested: list[Item] = []
    for child in node.children:
        if isinstance(child, _Node) and child.tag in ("ul", "ol"):
            nested += [_item(li, child.tag == "ol") for li in _elements(child, "li")]
    return Item(tidy_runs(_inline(node, {})), tuple(nested), ordered)


def _elements(node: _Node, *tags: str) -> list[_Node]:
    return [c for c in node.children if isinstance(c, _Node) and c.tag in tags]


def _cells(row: _Node) -> tuple[Cell, ...]:
    return tuple(Cell(tidy_runs(_inline(c, {"bold": c.tag == "th"})), c.tag == "th")
                 for c in _elements(row, "td", "th"))


def _table(node: _Node) -> Block:
    rows: list[tuple[Cell, ...]] = []
    for part in _elements(node, "thead", "tbody", "tfoot", "tr"):
        rows += [_cells(tr) for tr in ([part] if part.tag == "tr" else _elements(part, "tr"))]
    rows = [r for r in rows if r]
    head = rows.pop(0) if rows and all(c.header for c in rows[0]) else ()
    return Block("table", head=head, rows=tuple(rows))


def markdown_blocks(html: str) -> list[Block | tuple[str, str]]:
    """Blocks of sanitised Markdown HTML. Top-level headings (``h1``/``h2``) come back as
    ``("section", title)`` markers: each starts new slides with that title."""
    tree = _Tree()
    tree.feed(str(html))
    tree.close()
    return _blocks(tree.root)


def _blocks(node: _Node) -> list[Block | tuple[str, str]]:
    out: list[Block | tuple[str, str]] = []
    for child in node.children:
        if isinstance(child, str):
            runs = tidy_runs([Run(re.sub(r"\s+", " ", child))])
            if runs:
                out.append(Block("paragraph", runs))
            continue
        out += _block(child)
    return out


def _block(node: _Node) -> list[Block | tuple[str, str]]:
    tag = node.tag
    if tag in ("h1", "h2"):
        return [("section", runs_text(tidy_runs(_inline(node, {}))))]
    if tag in ("h3", "h4", "h5", "h6"):
        runs = tidy_runs(_inline(node, {}))
        return [Block("heading", runs, level=int(tag[1]))] if runs else []
    if tag in ("ul", "ol"):
        items = tuple(_item(li, tag == "ol") for li in _elements(node, "li"))
        start_attr = node.attrs.get("start", "")
        start = int(start_attr) if start_attr.isdigit() else 1
        return [Block("list", ordered=tag == "ol", start=start, items=items)] if items else []
    if tag == "blockquote":
        paras = [b for b in _blocks(node) if isinstance(b, Block)]
        children = tuple(Block("paragraph", b.runs or tidy_runs([Run(b.text)])) for b in paras)
        return [Block("quote", children=children)] if children else []
    if tag == "table":
        return [_table(node)]
    if tag == "pre":
        runs = tidy_runs(_inline(node, {"code": True}, pre=True))
        return [Block("pre", runs)] if runs else []
    if tag == "hr":
        return [Block("break")]
    if tag in ("div", "dl", "section"):
        return _blocks(node)
    if tag in ("dt", "dd"):
        runs = tidy_runs(_inline(node, {"bold": tag == "dt"}))
        return [Block("paragraph", runs)] if runs else []
    runs = tidy_runs(_inline(node, {}))
    return [Block("paragraph", runs)] if runs else []
