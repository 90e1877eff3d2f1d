"""Strict reading of YAML against a small declarative schema, with file and line in every error.

PyYAML's C composer gives us nodes with positions; we interpret each scalar by the field's
declared kind instead of letting YAML 1.1 guess. So `consent: yes` never becomes ``True``,
duplicate keys and aliases are refused, tags such as ``!!python/object`` are never constructed,
and an error always says where it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from .dates import DateError, parse_date, parse_datetime
from .errors import Problem

_STD = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _STD + "str", _STD + "seq", _STD + "map"


#: PyYAML and the loader made with it, set by :func:`_import_yaml` the first time a file is
#: read the strict way. The quick way (:func:`quick_read`) reads ordinary files without
#: them, so a load that meets none never imports PyYAML (about 10 ms in every process).
yaml: Any = None
_LOADER: Any = None
_LIBYAML = False


def _import_yaml() -> Any:
    """The loader the strict way composes with (PyYAML imported now if it was not yet)."""
    global yaml, _LOADER, _LIBYAML
    if _LOADER is None:
        import yaml as pyyaml

        yaml = pyyaml
        _LOADER, _LIBYAML = _make_loader(pyyaml)
    return _LOADER


def _make_loader(yaml: Any) -> tuple[type, bool]:
    """A loader: libyaml's parser (or PyYAML's own, which behaves the same) composing
    nodes tagged by the resolver below; and whether it is libyaml's."""
    wanted = {_STD + t for t in ("int", "merge", "value", "yaml")}
    implicit = {first: found for first, pairs in
                yaml.resolver.Resolver.yaml_implicit_resolvers.items()
                if (found := [(tag, regexp) for tag, regexp in pairs if tag in wanted])}
    scalar, sequence = yaml.ScalarNode, yaml.SequenceNode

    class _Resolver(yaml.resolver.BaseResolver):
        """PyYAML's implicit tags, narrowed to the ones storykit looks at, for speed.

        The schema reads every scalar from its text, so of YAML 1.1's implicit types only
        these matter: ``int`` (kept as a number in ``extra:``) and ``merge`` (``<<``),
        ``value`` (``=``) and ``yaml`` (``!``, ``&``, ``*``), which are refused. A plain
        scalar gets exactly the tag PyYAML's full resolver would give it if that is one of
        these, and ``str`` otherwise (where PyYAML says bool, float, null or timestamp: all
        allowed, and read by the schema alike). The composer calls these methods once per
        node, so they are as cheap as can be.
        """

        def resolve(self, kind, value, implicit_flags):
            if kind is scalar:
                if implicit_flags[0]:
                    for tag, regexp in implicit.get(value[:1], ()):
                        if regexp.match(value):
                            return tag
                return _STR
            return _SEQ if kind is sequence else _MAP

        # Path resolvers are never used, so these are no-ops (PyYAML's return early when
        # there are none); C built-ins that accept the same arguments cost far less than
        # Python calls.
        descend_resolver = staticmethod(slice)  # called as descend_resolver(parent, index)
        ascend_resolver = staticmethod(tuple)  # called as ascend_resolver()

    try:  # libyaml is much faster; the pure-Python composer behaves the same.
        from yaml.cyaml import CParser
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        class _PyLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                        yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
            def __init__(self, stream):
                yaml.reader.Reader.__init__(self, stream)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
                yaml.composer.Composer.__init__(self)
                yaml.constructor.SafeConstructor.__init__(self)
                _Resolver.__init__(self)

        return _PyLoader, False

    class _Loader(CParser, yaml.constructor.SafeConstructor, _Resolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    return _Loader, True


_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}
_NULL_WORDS = {"", "~", "null"}
_SHORT = max(len(w) for w in _BOOL_WORDS | _NULL_WORDS)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DEPTH = 12


# --- field kinds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What a field holds. ``describe`` is used in error messages."""

    def describe(self) -> str:  # pragma: no cover - overridden
        return "a value"


@dataclass(frozen=True)
class Text(Kind):
    max_len: int = 20_000
    multiline: bool = True

    def describe(self) -> str:
        return "text"


@dataclass(frozen=True)
class Enum(Kind):
    values: tuple[str, ...] = ()
    label: str = "value"

    def describe(self) -> str:
        return f"one of: {', '.join(self.values)}"


@dataclass(frozen=True)
class Bool(Kind):
    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Int(Kind):
    minimum: int = 0

    def describe(self) -> str:
        return "a whole number"


@dataclass(frozen=True)
class Date(Kind):
    def describe(self) -> str:
        return "a date written YYYY-MM-DD"


@dataclass(frozen=True)
class DateTime(Kind):
    def describe(self) -> str:
        return "a date and time with a time zone, e.g. 2026-09-02T14:10:00Z"


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind = field(default_factory=Text)
    unique: bool = False
    max_items: int = 500

    def describe(self) -> str:
        return f"a list of {self.item.describe()}"


@dataclass(frozen=True)
class Obj(Kind):
    fields: dict[str, Field] = field(default_factory=dict)
    name: str = "section"

    def describe(self) -> str:
        return f"a {self.name} (key: value lines)"

    def __hash__(self) -> int:  # dicts are unhashable; identity is enough for a schema
        return id(self)


@dataclass(frozen=True)
class Anything(Kind):
    """Free-form data (e.g. ``extra:``): plain YAML values, still without tags or aliases."""

    def describe(self) -> str:
        return "any plain YAML value"


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = False


# --- reading -----------------------------------------------------------------------------


class Reader:
    """Converts YAML nodes to Python values by schema, collecting problems as it goes."""

    def __init__(self, file: str, line_offset: int = 0):
        self.file = file
        self.offset = line_offset
        self.problems: list[Problem] = []
        self.lines: dict[tuple, int] = {}
        self._seen: set[int] = set()

    # public ---------------------------------------------------------------------------

    def compose(self, text: str) -> yaml.Node | None:
        loader = _import_yaml()
        try:
            return yaml.compose(text, Loader=loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 + self.offset if mark else None
            what = exc.problem or "not valid YAML"
            if exc.context and exc.context_mark and exc.problem_mark:
                what += f" ({exc.context} on line {exc.context_mark.line + 1 + self.offset})"
            self.problems.append(Problem(self.file, line, f"YAML syntax: {what}", "yaml"))
        except yaml.reader.ReaderError as exc:  # e.g. a control character pasted into a field
            # libyaml counts bytes of the UTF-8 text, the pure-Python reader characters
            data = text.encode("utf-8") if _LIBYAML else text
            line = data.count("\n" if isinstance(data, str) else b"\n", 0, exc.position) + 1
            line += self.offset
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            self.problems.append(Problem(self.file, line, "YAML syntax: control characters "
                                         f"(here U+{code:04X}) are not allowed", "yaml"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.file, None, f"YAML syntax: {exc}", "yaml"))
        return None

    def read(self, node: yaml.Node | None, schema: Obj) -> dict[str, Any]:
        if node is None:
            return {}
        _import_yaml()  # (nodes come from PyYAML: imported already, but maybe not here)
        value = self._convert(node, schema, (), 0)
        return value if isinstance(value, dict) else {}

    def line_of(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def error(self, node: yaml.Node | None, message: str, code: str = "invalid") -> None:
        line = self.line_of(node) if node is not None else None
        self.problems.append(Problem(self.file, line, message, code))

    # conversion -----------------------------------------------------------------------

    def _convert(self, node: yaml.Node, kind: Kind, path: tuple, depth: int) -> Any:
        # The hot path of every load: keep it lean (see bench/bench_load.py).
        key = id(node)
        if key in self._seen:
            self.error(node, "YAML anchors and aliases (& and *) are not allowed", "alias")
            return None
        self._seen.add(key)
        if node.tag not in _ALLOWED_TAGS:
            self.error(node, f"the YAML tag {node.tag!r} is not allowed here", "tag")
            return None
        if depth > MAX_DEPTH:
            self.error(node, "nested too deeply", "depth")
            return None
        self.lines[path] = node.start_mark.line + 1 + self.offset
        if isinstance(kind, _SCALAR_KINDS):
            if not isinstance(node, yaml.ScalarNode):
                self.error(node, f"{_name(path)} should be {kind.describe()}, not a list or "
                                 "section")
                return None
            return self._scalar(node, kind, path)
        if isinstance(kind, Obj):
            return self._mapping(node, kind, path, depth)
        if isinstance(kind, ListOf):
            return self._sequence(node, kind, path, depth)
        if isinstance(kind, Anything):
            return self._anything(node, path, depth)
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"{_name(path)} should be {kind.describe()}, not a list or section")
            return None
        return self._scalar(node, kind, path)

    def _mapping(self, node: yaml.Node, kind: Obj, path: tuple, depth: int) -> dict | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{_name(path) if path else 'this'} should be {kind.describe()}")
            return None
        fields = kind.fields
        problems = self.problems
        out: dict[str, Any] = {}
        written: set[str] = set()  # every key, valid or not, to find duplicates
        invalid: set[str] = set()  # present but wrong: already reported, not "missing" too
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _ALLOWED_TAGS:
                self.error(knode, "keys must be plain words")
                continue
            key = knode.value
            if key in written:
                self.error(knode, f"duplicate key {key!r} (each field may appear once)", "duplicate")
                continue
            written.add(key)
            spec = fields.get(key)
            if spec is None:
                hint = _close_matches(key, fields)
                extra = f"; did you mean {hint[0]!r}?" if hint else ""
                self.error(knode, f"unknown field {key!r} in {kind.name}{extra}", "unknown")
                continue
            before = len(problems)
            value = self._convert(vnode, spec.kind, path + (key,), depth + 1)
            if value is not None:
                out[key] = value
            elif len(problems) > before:
                invalid.add(key)
        for key in _required(kind):
            if key not in out and key not in invalid:
                problems.append(
                    Problem(self.file, self.line_of(node), _missing(path, key, kind), "required")
                )
        return out

    def _sequence(self, node: yaml.Node, kind: ListOf, path: tuple, depth: int) -> list | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{_name(path)} should be {kind.describe()}, e.g. [a, b]")
            return None
        if len(node.value) > kind.max_items:
            self.error(node, f"{_name(path)} has more than {kind.max_items} items")
            return None
        out = []
        for i, child in enumerate(node.value):
            value = self._convert(child, kind.item, path + (i,), depth + 1)
            if value is None:
                continue
            if kind.unique and value in out:
                self.error(child, f"{value!r} is listed twice in {_name(path)}", "duplicate")
                continue
            out.append(value)
        return out

    def _anything(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    self.error(knode, "keys must be plain words")
                    continue
                if knode.value in out:
                    self.error(knode, f"duplicate key {knode.value!r}", "duplicate")
                    continue
                out[knode.value] = self._convert(vnode, Anything(), path + (knode.value,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(c, Anything(), path + (i,), depth + 1) for i, c in enumerate(node.value)]
        if not node.style and node.value.lower() in _NULL_WORDS:
            return None
        if node.tag == _STD + "int" and re.fullmatch(r"-?\d+", node.value):
            return int(node.value)
        if not node.style and node.value in ("true", "false"):
            return node.value == "true"
        return node.value

    def _scalar(self, node: yaml.ScalarNode, kind: Kind, path: tuple) -> Any:
        raw = node.value
        plain = not node.style
        ambiguous = False
        if plain and len(raw) <= _SHORT:  # only short words can be null or yes/no words
            low = raw.lower()
            if low in _NULL_WORDS:
                return None  # an empty field counts as absent
            ambiguous = low in _BOOL_WORDS
        if isinstance(kind, Bool):
            if plain and raw in ("true", "false", "True", "False"):
                return raw.lower() == "true"
            self.error(node, f"{_name(path)} should be true or false, not {raw!r}", "type")
            return None
        if ambiguous and not isinstance(kind, Enum):
            self.error(node, f"{_name(path)}: {raw!r} is ambiguous in YAML; quote it if you mean "
                             "the word, or use true/false", "ambiguous")
            return None
        if isinstance(kind, Text):
            if len(raw) > kind.max_len:
                self.error(node, f"{_name(path)} is longer than {kind.max_len} characters", "too_long")
                return None
            if not kind.multiline and "\n" in raw:
                self.error(node, f"{_name(path)} should be on one line")
                return None
            return raw
        if isinstance(kind, Enum):
            if raw in kind.values:
                return raw
            hint = _close_matches(raw, kind.values)
            extra = f" Did you mean {hint[0]!r}?" if hint else ""
            self.error(node, f"{_name(path)}: {raw!r} is not a valid {kind.label}; "
                             f"use {kind.describe()}.{extra}", "enum")
            return None
        if isinstance(kind, Int):
            if plain and re.fullmatch(r"\d{1,9}", raw) and int(raw) >= kind.minimum:
                return int(raw)
            self.error(node, f"{_name(path)} should be a whole number of at least {kind.minimum}, "
                             f"not {raw!r}", "type")
            return None
        if isinstance(kind, Date):
            return self._date(node, raw, path)
        if isinstance(kind, DateTime):
            return self._datetime(node, raw, path)
        raise AssertionError(f"unhandled kind {kind!r}")  # pragma: no cover

    def _date(self, node: yaml.Node, raw: str, path: tuple) -> dt.date | None:
        if not _DATE_RE.match(raw):
            self.error(node, f"{_name(path)} should be a date written YYYY-MM-DD, not {raw!r}", "type")
            return None
        try:
            return parse_date(raw)
        except DateError as exc:
            self.error(node, f"{_name(path)}: {exc}", "type")
            return None

    def _datetime(self, node: yaml.Node, raw: str, path: tuple) -> dt.datetime | None:
        try:
            return parse_datetime(raw)
        except DateError as exc:
            self.error(node, f"{_name(path)}: {exc}", "type")
            return None


_SCALAR_KINDS = (Text, Enum, Bool, Int, Date, DateTime)


def _close_matches(word: str, known) -> list[str]:
    """The known word most like ``word`` (for "did you mean"), if one is close."""
    import difflib

    return difflib.get_close_matches(word, known, n=1)


def _required(kind: Obj) -> tuple[str, ...]:
    """The required keys of a section, worked out once per schema object."""
    keys = kind.__dict__.get("_required")
    if keys is None:
        keys = tuple(k for k, spec in kind.fields.items() if spec.required)
        object.__setattr__(kind, "_required", keys)  # a cache on a frozen dataclass
    return keys


def _name(path: tuple) -> str:
    parts = []
    for p in path:
        if isinstance(p, int):
            parts.append(f"[{p + 1}]")
        else:
            parts.append(("." if parts else "") + p)
    return "".join(parts) or "the file"


def _missing(path: tuple, key: str, kind: Obj) -> str:
    where = f" in {_name(path)}" if path else ""
    return f"missing required field {key!r}{where}"


# --- the quick way for ordinary files ----------------------------------------------------------
#
# Composing YAML nodes (even with libyaml) and walking them costs far more than the text is
# worth: most of it is making Python objects for every node and its positions. Files as
# storykit and people usually write them use a small part of YAML: ``key: value`` lines,
# nested sections and ``-`` lists by indentation, ``[a, b]`` and ``{k: v}`` on one line,
# quoted strings and ``|`` blocks. :func:`quick_read` reads exactly that part straight into
# values and checks them by the same rules as :class:`Reader`; at anything else (any other
# YAML, any value the rules would refuse or leave out) it gives up, returning None, and the
# caller reads the file the strict way, which reports every problem with its line. So the
# quick way never accepts a file the strict way refuses, and gives the same values when it
# accepts (tests/test_storyfile.py compares the two on generated and mutated files).


class _Quoted(str):
    """A quoted or block scalar (the schema reads plain ones differently)."""

    __slots__ = ()


class _GiveUp(Exception):
    pass


#: One line: indentation, "- ", "key:", and the rest (found for every line at once, in C).
_TOKENS = re.compile(r"^( *)(- )?(?:([A-Za-z_][A-Za-z0-9_]*):(?: +|(?=\n)|\Z))?(.*)$", re.M)
#: Characters the quick reader leaves to libyaml: controls and the line breaks of YAML 1.1
#: (NEL, LS, PS), tabs, the byte-order mark, noncharacters, lone surrogates.
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "/": "/"}
_ESCAPE = re.compile(r"\\(?:([\\\"nt/])|u([0-9A-Fa-f]{4}))")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_FLOW_PLAIN = re.compile(r"[^\s,\[\]{}#&*!|>'\"%@`?:-][^,\[\]{}:#]*")
_FLOW_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*): +")


def quick_read(text: str, schema: Obj) -> dict[str, Any] | None:
    """The values of ``text`` by ``schema`` when it is an ordinary, valid file; else None
    (read it with :class:`Reader` then)."""
    if _UNUSUAL.search(text) is not None:
        return None
    try:
        tokens = _TOKENS.findall(text)
        lines = text.split("\n")
        if len(tokens) != len(lines):
            return None
        at = _skip(tokens, 0)
        value, at = _block(tokens, lines, at, 0)
        if _skip(tokens, at) < len(tokens) or type(value) is not dict:
            return None
        return _quick(value, schema)
    except (_GiveUp, RecursionError, ValueError, IndexError, KeyError):
        return None


def _skip(tokens: list[tuple[str, str, str, str]], at: int) -> int:
    """The next line that holds something (not blank, not a whole-line comment)."""
    n = len(tokens)
    while at < n:
        _, dash, key, rest = tokens[at]
        if dash or key or (rest and rest[0] != "#"):
            return at
        at += 1
    return at


def _block(tokens, lines, at: int, indent: int) -> tuple[Any, int]:
    """The section or list starting on line ``at`` at ``indent``, and the line after it."""
    if at >= len(tokens) or len(tokens[at][0]) != indent:
        raise _GiveUp
    if tokens[at][1]:
        return _sequence(tokens, lines, at, indent)
    return _mapping(tokens, lines, at, indent, {})


def _mapping(tokens, lines, at: int, indent: int, out: dict) -> tuple[dict, int]:
    n = len(tokens)
    while at < n:
        spaces, dash, key, rest = tokens[at]
        if len(spaces) != indent or dash:
            break
        if not key or key in out:
            raise _GiveUp  # not a plain key, or a duplicate: the strict way says which
        if rest and rest[0] != "#" and rest[0] != "|":  # the usual: a value on its line
            out[key] = _inline(rest)
            at += 1
        else:
            out[key], at = _value(tokens, lines, at, indent, rest, False)
        while at < n:  # past blank and comment lines
            _, dash, key, rest = tokens[at]
            if dash or key or (rest and rest[0] != "#"):
                break
            at += 1
    if at < n and len(tokens[at][0]) > indent:
        raise _GiveUp
    return out, at


def _sequence(tokens, lines, at: int, indent: int) -> tuple[list, int]:
    out: list[Any] = []
    n = len(tokens)
    while at < n:
        spaces, dash, key, rest = tokens[at]
        if len(spaces) != indent or not dash:
            break
        if key:  # "- key: value" opens a section at the key's column
            section: dict[str, Any] = {}
            section[key], at = _value(tokens, lines, at, indent + 2, rest, False)
            item, at = _mapping(tokens, lines, _skip(tokens, at), indent + 2, section)
        else:
            item, at = _value(tokens, lines, at, indent, rest, True)
        out.append(item)
        at = _skip(tokens, at)
    if at < n and len(tokens[at][0]) > indent:
        raise _GiveUp
    return out, at


def _value(tokens, lines, at: int, indent: int, rest: str, item: bool) -> tuple[Any, int]:
    """The value after ``key:`` (or ``-``) on line ``at``: on the line, a ``|`` block, or
    a section or list on the lines below."""
    if not rest or rest[0] == "#":
        if rest and not rest.startswith("# "):
            raise _GiveUp
        nxt = _skip(tokens, at + 1)
        if nxt >= len(tokens):
            raise _GiveUp  # an empty value: absent, the strict way decides
        child = len(tokens[nxt][0])
        if child > indent or (child == indent and tokens[nxt][1] and not item):
            return _block(tokens, lines, nxt, child)
        raise _GiveUp
    if rest == "|" or rest == "|-":
        return _literal(lines, at + 1, indent, rest == "|")
    return _inline(rest), at + 1


def _literal(lines: list[str], at: int, indent: int, keep_end: bool) -> tuple[_Quoted, int]:
    """A ``|`` block: its lines less their common indentation."""
    if at >= len(lines) or not lines[at].strip():
        raise _GiveUp  # leading blank lines, or nothing: the strict way
    inner = len(lines[at]) - len(lines[at].lstrip(" "))
    if inner <= indent:
        raise _GiveUp
    body: list[str] = []
    n = len(lines)
    while at < n:
        line = lines[at]
        if not line.strip():
            if len(line) > inner:
                raise _GiveUp  # spaces that would be text
            body.append("")
        elif line.startswith(" " * inner):
            body.append(line[inner:])
        elif len(line) - len(line.lstrip(" ")) > indent:
            raise _GiveUp
        else:
            break
        at += 1
    while body and not body[-1]:
        body.pop()
    return _Quoted("\n".join(body) + ("\n" if keep_end else "")), at


def _inline(text: str) -> Any:
    """A value written on its line: quoted, ``[...]``, ``{...}`` or plain (short ones read
    once: statuses, dates, ``[board, print]`` and the like recur in file after file)."""
    value = _INLINE.get(text, _UNSEEN)
    if value is _UNSEEN:
        value = _read_inline(text)
        if len(text) <= _INLINE_LONGEST:
            if len(_INLINE) >= _INLINE_MAX:
                _INLINE.clear()
            _INLINE[text] = value
    return value


#: Values read by :func:`_inline`. Safe to share: the converters below build new lists and
#: sections from them, so these are never handed out or changed. Only what was read is kept
#: (text the quick way gives up on is looked at again each time).
_INLINE: dict[str, Any] = {}
_INLINE_LONGEST = 100
_INLINE_MAX = 50_000
_UNSEEN = object()


def _read_inline(text: str) -> Any:
    text = text.rstrip(" ")
    first = text[0]
    if first == '"' or first == "'":
        quoted = _quoted(text)
        if quoted is None:
            raise _GiveUp
        return quoted
    if first == "[":
        if text[-1] != "]":
            raise _GiveUp
        return _flow(text[1:-1], False)
    if first == "{":
        if text[-1] != "}":
            raise _GiveUp
        return _flow(text[1:-1], True)
    if first in _PLAIN_START or ": " in text or " #" in text or text[-1] == ":":
        raise _GiveUp
    return _plain(text)


#: Plain scalars PyYAML's resolver tags as merge (``<<``), value (``=``) or yaml (``!``,
#: ``&``, ``*``): the strict way refuses those tags (its other implicit ones read as text).
_YAML_WORDS = frozenset({"<<", "=", "!", "&", "*"})


def _plain(text: str) -> str:
    """A plain scalar the strict way reads as text too."""
    if text in _YAML_WORDS:
        raise _GiveUp
    return text


def _quoted(text: str) -> _Quoted | None:
    """A whole ``"..."`` or ``'...'`` scalar's text, or None if ``text`` is not one."""
    inner = text[1:-1]
    if text[0] == '"':
        if len(text) > 1 and text[-1] == '"' and '"' not in inner and "\\" not in inner:
            return _Quoted(inner)  # the usual: no escapes
        match = _DOUBLE.fullmatch(text)
        return None if match is None else _unescape(match.group(1))
    match = _SINGLE.fullmatch(text)
    return None if match is None else _Quoted(match.group(1).replace("''", "'"))


def _unescape(text: str) -> _Quoted:
    if "\\" not in text:
        return _Quoted(text)
    if "\\" in _ESCAPE.sub("", text):
        raise _GiveUp  # an escape the quick way does not know
    return _Quoted(_ESCAPE.sub(lambda m: _ESCAPES[m.group(1)] if m.group(1)
                               else chr(int(m.group(2), 16)), text))


def _flow(text: str, mapping: bool) -> Any:
    """``a, "b", c`` (or ``k: v, k: "v"``) on one line: scalars only."""
    if not text.strip():
        if mapping:
            raise _GiveUp
        return []
    if "[" in text or "{" in text or " #" in text:
        raise _GiveUp
    simple = _simple_flow(text, mapping)
    if simple is not None:
        return simple
    out: Any = {} if mapping else []
    at, end = 0, len(text)
    while True:
        key = None
        if mapping:
            match = _FLOW_KEY.match(text, at)
            if match is None or match.group(1) in out:
                raise _GiveUp
            key, at = match.group(1), match.end()
        while at < end and text[at] == " ":
            at += 1
        first = text[at]
        if first == '"':
            match = _DOUBLE.match(text, at)
            value = None if match is None else _unescape(match.group(1))
        elif first == "'":
            match = _SINGLE.match(text, at)
            value = None if match is None else _Quoted(match.group(1).replace("''", "'"))
        else:
            match = _FLOW_PLAIN.match(text, at)
            value = None if match is None else _plain(match.group(0).rstrip(" "))
        if match is None:
            raise _GiveUp
        at = match.end()
        while at < end and text[at] == " ":
            at += 1
        if mapping:
            out[key] = value
        else:
            out.append(value)
        if at == end:
            return out
        if text[at] != "," or at + 1 == end:
            raise _GiveUp
        at += 1


def _simple_flow(text: str, mapping: bool) -> Any:
    """:func:`_flow` for the usual case, split at commas (None when a piece is not a whole
    scalar or ``key: scalar``, e.g. a comma inside quotes: then the careful way)."""
    out: Any = {} if mapping else []
    for piece in text.split(","):
        if mapping:
            key, colon, piece = piece.partition(": ")
            key = key.strip(" ")
            if not colon or _FLOW_NAME.fullmatch(key) is None or key in out:
                return None
        piece = piece.strip(" ")
        if not piece:
            return None
        first = piece[0]
        if first == '"' or first == "'":
            value = _quoted(piece)
        else:
            value = _plain(piece) if _FLOW_PLAIN.fullmatch(piece) is not None else None
        if value is None:
            return None
        if mapping:
            out[key] = value
        else:
            out.append(value)
    return out


_FLOW_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _quick(value: Any, kind: Kind) -> Any:
    """``value`` read as ``kind`` by the rules of :class:`Reader`, or _GiveUp wherever those
    rules would report a problem or leave the value out."""
    return _converter(kind)(value)


def _converter(kind: Kind):
    """A function doing :func:`_quick` for one kind, made once per schema object."""
    made = kind.__dict__.get("_quick")
    if made is None:
        made = _make_converter(kind)
        object.__setattr__(kind, "_quick", made)  # a cache on a frozen dataclass
    return made


def _make_converter(kind: Kind):  # noqa: C901 - one small function per kind
    if isinstance(kind, Obj):
        fields = {key: _converter(spec.kind) for key, spec in kind.fields.items()}
        required = _required(kind)

        def section(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise _GiveUp
            out = {key: fields[key](item) for key, item in value.items()}  # KeyError: unknown
            for key in required:
                if key not in out:
                    raise _GiveUp
            return out
        return section
    if isinstance(kind, ListOf):
        item, most, unique = _converter(kind.item), kind.max_items, kind.unique

        def sequence(value: Any) -> list[Any]:
            if type(value) is not list or len(value) > most:
                raise _GiveUp
            out = [item(v) for v in value]
            if unique and len(set(map(repr, out))) != len(out):
                raise _GiveUp
            return out
        return sequence
    if isinstance(kind, Text):
        longest, multiline = kind.max_len, kind.multiline

        def text(value: Any) -> str:
            if type(value) is str:  # plain: not a null or yes/no word
                if len(value) <= _SHORT and value.lower() in _NOT_TEXT:
                    raise _GiveUp
            elif not isinstance(value, str):
                raise _GiveUp
            if len(value) > longest or (not multiline and "\n" in value):
                raise _GiveUp
            return str(value)
        return text
    if isinstance(kind, Enum):
        values = frozenset(kind.values)

        def enum(value: Any) -> str:
            if not isinstance(value, str) or value not in values:
                raise _GiveUp
            return str(value)
        return enum
    if isinstance(kind, Bool):
        def boolean(value: Any) -> bool:
            if type(value) is not str or value not in ("true", "false", "True", "False"):
                raise _GiveUp
            return value.lower() == "true"
        return boolean
    if isinstance(kind, Int):
        minimum = kind.minimum

        def number(value: Any) -> int:
            if type(value) is not str or _DIGITS.fullmatch(value) is None or int(value) < minimum:
                raise _GiveUp
            return int(value)
        return number
    if isinstance(kind, Date):
        def date(value: Any) -> dt.date:  # the strict way's parser: the same values, by
            if not isinstance(value, str) or not _DATE_RE.match(value):  # construction
                raise _GiveUp
            try:
                return parse_date(value)
            except DateError:
                raise _GiveUp from None
        return date
    if isinstance(kind, DateTime):
        def moment(value: Any) -> dt.datetime:
            if not isinstance(value, str):
                raise _GiveUp
            try:
                return parse_datetime(value)
            except DateError:
                raise _GiveUp from None
        return moment

    def anything(value: Any) -> Any:  # free-form data: the strict way
        raise _GiveUp
    return anything


#: Plain words the strict way leaves out (null) or refuses where text is expected (yes/no).
_NOT_TEXT = _NULL_WORDS | _BOOL_WORDS


_DIGITS = re.compile(r"\d{1,9}")
