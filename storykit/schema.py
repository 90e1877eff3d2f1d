"""Strict reading of YAML against a small declarative schema, with file and line in every error.

PyYAML's C composer gives us nodes with positions; we interpret each scalar by the field's
declared kind instead of letting YAML 1.1 guess. So `consent: yes` never becomes ``True``,
duplicate keys and aliases are refused, tags such as ``!!python/object`` are never constructed,
and an error always says where it is.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .dates import DateError, parse_date, parse_datetime
from .errors import Problem

_STD = "tag:yaml.org,2002:"


_WANTED = {_STD + t for t in ("int", "merge", "value", "yaml")}
_IMPLICIT = {first: wanted for first, pairs in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
             if (wanted := [(tag, regexp) for tag, regexp in pairs if tag in _WANTED])}
_STR, _SEQ, _MAP = _STD + "str", _STD + "seq", _STD + "map"


class _Resolver(yaml.resolver.BaseResolver):
    """PyYAML's implicit tags, narrowed to the ones storykit looks at, for speed.

    The schema reads every scalar from its text, so of YAML 1.1's implicit types only these
    matter: ``int`` (kept as a number in ``extra:``) and ``merge`` (``<<``), ``value`` (``=``)
    and ``yaml`` (``!``, ``&``, ``*``), which are refused. A plain scalar gets exactly the tag
    PyYAML's full resolver would give it if that is one of these, and ``str`` otherwise (where
    PyYAML says bool, float, null or timestamp: all allowed, and read by the schema alike).
    The composer calls these methods once per node, so they are as cheap as can be.
    """

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    # Path resolvers are never used, so these are no-ops (PyYAML's return early when there are
    # none); C built-ins that accept the same arguments cost far less than Python calls.
    descend_resolver = staticmethod(slice)  # called as descend_resolver(parent, index)
    ascend_resolver = staticmethod(tuple)  # called as ascend_resolver()


try:  # libyaml is much faster; the pure-Python composer behaves the same.
    from yaml.cyaml import CParser as _CParser

    class _Loader(_CParser, yaml.constructor.SafeConstructor, _Resolver):
        def __init__(self, stream):
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    _LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _LIBYAML = False

    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore
                  yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)


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
        try:
            return yaml.compose(text, Loader=_Loader)
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
                hint = difflib.get_close_matches(key, fields, n=1)
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
            hint = difflib.get_close_matches(raw, kind.values, n=1)
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
