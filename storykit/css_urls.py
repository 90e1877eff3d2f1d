"""Every address a style sheet could make a browser or WeasyPrint load, found by tokenising it
as they do (tinycss2, the tokenizer WeasyPrint uses), not by searching its text.

A regular expression reads ``@import"file:///etc/passwd"``, ``u\\72l(...)`` (an escaped
``url``) or ``url(/**/...)`` differently from a browser; the tokenizer decodes escapes,
drops comments and knows where strings end, so what is checked is what gets fetched:

* ``url(...)`` and ``src(...)``, with or without quotes, anywhere (``@font-face src:``,
  ``background``, ``cursor``, ``mask``...);
* ``@import`` with a string or a ``url()``;
* the strings inside ``image-set()`` and ``image()``, which browsers load like ``url()``.

What cannot be read as plain CSS is refused rather than guessed at: an escaped character in
an address or in the name of the function or rule that fetches it (storykit's own tools
rewrite addresses and expect them written plainly), ``var()`` inside a fetching function (its
value would be chosen elsewhere), a ``url()`` CSS itself cannot read, and a file that is not
UTF-8 (a browser could decode it differently from the check).

Tokenising costs a theme load about 15 ms (and importing tinycss2 about 10 ms), which every
build, render and editor preview pays, so :func:`addresses` keeps what it found for a style
sheet's exact bytes: in memory, and in the instance folder's cache for the next command. The
key also covers this module's code and tinycss2's, so an upgrade of either looks again. Only
the addresses are kept: whether each stays inside its theme is decided afresh every time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .fsio import read_cache, write_cache

#: Functions whose string arguments are addresses to fetch.
FETCHING = frozenset({"url", "src"})
IMAGE_LISTS = frozenset({"image-set", "-webkit-image-set", "image", "-webkit-image"})
#: Functions inside which a value may be substituted from elsewhere.
SUBSTITUTING = frozenset({"var", "env", "attr"})


@dataclass(frozen=True)
class CssUrl:
    """An address in a style sheet (``target``, escapes decoded), or a construct that cannot
    be checked (``problem`` says what, in words); ``line`` counts from 1."""

    line: int
    target: str = ""
    problem: str | None = None


CACHE_FILE = "css-addresses.pickle"
CACHE_SIZE = 64  # style sheets remembered (a site has a handful)
_memo: dict[str, tuple[CssUrl, ...]] = {}
_memo_lock = threading.Lock()


def addresses(data: bytes, cache_dir: Path | None = None) -> tuple[CssUrl, ...]:
    """:func:`css_urls` of ``data``, remembered (see the module's docstring)."""
    key = hashlib.sha256(_code_key() + data).hexdigest()
    found = _memo.get(key)
    if found is None and cache_dir is not None:
        kept = read_cache(cache_dir / CACHE_FILE)
        found = kept.get(key) if isinstance(kept, dict) else None
    if found is None:
        found = tuple(css_urls(data))
        if cache_dir is not None:
            _keep(cache_dir / CACHE_FILE, key, found)
    with _memo_lock:
        _memo[key] = found
    return found


def _keep(path: Path, key: str, found: tuple[CssUrl, ...]) -> None:
    kept = read_cache(path)
    kept = dict(kept) if isinstance(kept, dict) else {}
    kept.pop(key, None)
    kept[key] = found
    write_cache(path, dict(list(kept.items())[-CACHE_SIZE:]))


@lru_cache(maxsize=1)
def _code_key() -> bytes:
    """This module's code and tinycss2's, found without importing tinycss2."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    spec = importlib.util.find_spec("tinycss2")
    folder = Path(spec.origin).parent if spec and spec.origin else None
    for path in sorted(folder.glob("*.py")) if folder else []:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def css_urls(data: bytes) -> Iterator[CssUrl]:
    """Each address ``data`` (a style sheet's bytes) can load, and each thing that cannot be
    checked, in the order they appear."""
    import tinycss2  # about 10 ms: only when a theme is loaded

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield CssUrl(line, problem="the file is not UTF-8 text; save it as UTF-8")
        return
    # as tinycss2 reads it, so its lines and columns point into this text
    text = (text.removeprefix("\ufeff").replace("\0", "\ufffd").replace("\r\n", "\n")
            .replace("\r", "\n").replace("\f", "\n"))
    lines = [0] + [m.end() for m in re.finditer("\n", text)]
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    yield from _walk(rules, text, lines)


def _walk(nodes: list, text: str, lines: list[int]) -> Iterator[CssUrl]:
    for node in nodes:
        kind = node.type
        if kind == "error":
            yield CssUrl(node.source_line, problem=f"CSS that cannot be read ({node.message})")
        elif kind == "at-rule":
            yield from _at_rule(node, text, lines)
        elif kind == "qualified-rule":
            yield from _walk(node.prelude, text, lines)
            yield from _walk(node.content or [], text, lines)
        elif kind == "url":
            yield _address(node, node.value, ")", text, lines)
        elif kind == "at-keyword" and node.lower_value == "import":
            yield CssUrl(node.source_line, problem="an @import inside a block; imports "
                                                   "belong at the top of the file")
        elif kind == "function":
            yield from _function(node, text, lines)
        elif kind in ("() block", "[] block", "{} block"):
            yield from _walk(node.content, text, lines)


def _at_rule(node, text: str, lines: list[int]) -> Iterator[CssUrl]:
    if not _written_plainly(node, "@" + node.lower_at_keyword, text, lines):
        yield CssUrl(node.source_line, problem=f"an escaped character in @{node.at_keyword}; "
                                               "write the rule's name plainly")
        return
    if node.lower_at_keyword == "import":
        first = next((t for t in node.prelude if t.type not in ("whitespace", "comment")), None)
        if first is not None and first.type == "string":
            yield _address(first, first.value, first.representation[:1], text, lines)
        elif first is None or not (first.type == "url" or (
                first.type == "function" and first.lower_name in FETCHING)):
            yield CssUrl(node.source_line, problem="an @import without an address storykit "
                                                   "can read")
    elif node.lower_at_keyword == "namespace":  # names a namespace; loads nothing
        yield from _walk(node.content or [], text, lines)
        return
    yield from _walk(node.prelude, text, lines)
    yield from _walk(node.content or [], text, lines)


def _function(node, text: str, lines: list[int]) -> Iterator[CssUrl]:
    name = node.lower_name
    fetching, images = name in FETCHING, name in IMAGE_LISTS
    if not (fetching or images):
        yield from _walk(node.arguments, text, lines)
        return
    if not _written_plainly(node, name + "(", text, lines):
        yield CssUrl(node.source_line, problem=f"an escaped character in {node.name}(); "
                                               "write the function's name plainly")
        return
    found = False
    for arg in node.arguments:
        if arg.type == "string":
            found = True
            yield _address(arg, arg.value, arg.representation[:1], text, lines)
        elif arg.type == "function" and arg.lower_name in SUBSTITUTING:
            yield CssUrl(arg.source_line, problem=f"{arg.name}() inside {node.name}(); write "
                                                  "the file's address there itself")
        elif arg.type in ("url", "function", "error") or arg.type.endswith("block"):
            found = True
            yield from _walk([arg], text, lines)
    if fetching and not found:
        yield CssUrl(node.source_line, problem=f"a {node.name}() without an address storykit "
                                               "can read")


def _address(token, target: str, closing: str, text: str, lines: list[int]) -> CssUrl:
    """The address, unless the source writes it with an escape (found between the token's
    start and the character that ends it: a backslash before an escaped one too)."""
    start = _offset(token, text, lines)
    end = text.find(closing or ")", start + 1)
    raw = text[start:len(text) if end < 0 else end + 1]
    if "\\" in raw:
        return CssUrl(token.source_line, target,
                      "escaped characters in a CSS address are not allowed")
    return CssUrl(token.source_line, target)


def _written_plainly(token, name: str, text: str, lines: list[int]) -> bool:
    start = _offset(token, text, lines)
    return text[start:start + len(name)].lower() == name


def _offset(token, text: str, lines: list[int]) -> int:
    return lines[token.source_line - 1] + token.source_column - 1
