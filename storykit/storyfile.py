"""Reading and writing ``story.md`` and ``consent.yml``: the formats users hand-edit.

Reading is strict (see :mod:`storykit.schema`). Writing keeps what the user wrote: updating a
story changes only the fields whose values changed, keeping key order and comments (ruamel.yaml
round-trip); a new consent version is appended to ``consent.yml`` as text, so earlier versions
stay byte-for-byte as they were.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from . import model as m
from .errors import Problem, ValidationError
from .schema import (
    Anything,
    Bool,
    Date,
    DateTime,
    Enum,
    Field,
    Int,
    ListOf,
    Obj,
    Reader,
    Text,
    quick_read,
)
from .slugs import slug_problem

if TYPE_CHECKING:  # pragma: no cover
    import yaml

# PyYAML is imported where a file is read the strict way or written: ordinary files are read
# the quick way (storykit.schema.quick_read), so a load of them never needs it.

MAX_FRONT_MATTER = 64 * 1024
MAX_STORY_BYTES = 2 * 1024 * 1024
MAX_CONSENT_BYTES = 512 * 1024
_MEDIA_RE = re.compile(r"^media/[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_EVIDENCE_RE = re.compile(r"^evidence/[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_FENCE = re.compile(r"^---[ \t]*$")
_CLOSE = re.compile(r"^(---|\.\.\.)[ \t]*$")
_CLOSE_LINE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


# --- schemas -------------------------------------------------------------------------------

def _line(n: int = 200) -> Text:
    return Text(max_len=n, multiline=False)


def _req(kind) -> Field:
    return Field(kind, required=True)


STORY_SCHEMA = Obj(name="story front matter", fields={
    "title": _req(_line(200)),
    "slug": _req(_line(200)),
    "status": _req(Enum(m.STORY_STATUSES, "story status")),
    "service": Field(_line(200)),
    "tags": Field(ListOf(_line(60), unique=True, max_items=30)),
    "summary": Field(Text(1000)),
    "content_warning": Field(Text(500)),
    "storyteller": _req(Obj(name="storyteller", fields={
        "name": _req(_line(200)),
        "pseudonym": Field(_line(200)),
        "role": _req(Enum(m.ROLES, "storyteller role")),
    })),
    "people": Field(ListOf(Obj(name="person", fields={
        "name": _req(_line(200)),
        "render_as": _req(_line(200)),
    }), max_items=100)),
    "quotes": Field(ListOf(Text(1000), max_items=50)),
    "speaker_notes": Field(Text(20_000)),
    "changes": Field(ListOf(Text(1000), max_items=30)),
    "asks": Field(ListOf(Text(1000), max_items=30)),
    "images": Field(ListOf(Obj(name="image", fields={
        "file": _req(_line(200)),
        "alt": _req(Text(1000)),
        "kind": Field(Enum(m.IMAGE_KINDS, "image kind")),
    }), max_items=50)),
    "created": Field(Date()),
    "updated": Field(Date()),
    "revision": Field(Int(0)),
    "extra": Field(Anything()),
})


#: How to reach the storyteller (private: only letters to them use it; see docs/formats.md).
CONTACT_SCHEMA = Obj(name="contact", fields={
    "agrees_to_contact": _req(Bool()),
    "name": Field(_line(200)),
    "email": Field(_line(254)),
    "address": Field(ListOf(_line(100), max_items=8)),
    "phone": Field(_line(40)),
    "preferred_format": Field(Enum(m.LETTER_FORMATS, "letter format")),
})
#: One @, something on each side, a dot in the domain, no spaces: a typing mistake check,
#: not a proof that the address works.
_EMAIL_RE = re.compile(r"^[^@\s<>,;:\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{5,38}$")


@functools.lru_cache(maxsize=32)
def consent_schema(uses: tuple[str, ...]) -> Obj:
    version = Obj(name="consent version", fields={
        "version": _req(Int(1)),
        "recorded": _req(DateTime()),
        "recorded_by": Field(_line(200)),
        "status": _req(Enum(m.CONSENT_STATUSES, "consent status")),
        "given_by": _req(Enum(m.GIVEN_BY, "given_by value")),
        "capacity": Field(Enum(m.CAPACITY, "capacity value")),
        "age_band": Field(Enum(m.AGE_BANDS, "age band")),
        "reconsent_due": Field(Date()),
        "method": _req(Enum(m.METHODS, "consent method")),
        "taken_by": Field(Obj(name="taken_by", fields={
            "name": Field(_line(200)),
            "role": Field(_line(200)),
            "involved_in_care": Field(Bool()),
        })),
        "granted": _req(Date()),
        "expires": _req(Date()),
        "uses": _req(ListOf(Enum(uses, "use"), unique=True)),
        "media": _req(ListOf(Enum(m.MEDIA, "media type"), unique=True)),
        "identification": _req(Enum(m.IDENTIFICATION, "identification level")),
        "signoff_required": _req(Bool()),
        "signed_off": Field(Date()),
        "signed_off_revision": Field(Int(0)),
        "project_class": Field(Enum(m.PROJECT_CLASSES, "project class")),
        "ethics_ref": Field(_line(200)),
        "withdrawal": Field(Obj(name="withdrawal", fields={
            "requested": Field(Date()),
            "scope": Field(Enum(m.WITHDRAWAL_SCOPES, "withdrawal scope")),
            "reason": Field(Text(2000)),
            "confirmed": Field(Date()),
        })),
        "evidence": Field(_line(300)),
        "notes": Field(Text(5000)),
        "contact": Field(CONTACT_SCHEMA),
    })
    return Obj(name="consent.yml", fields={"versions": _req(ListOf(version, max_items=1000))})


# --- decoding --------------------------------------------------------------------------------

def etag_of(data: bytes) -> str:
    """Identifies the exact bytes of a file: saves carry it to detect stale edits."""
    return hashlib.sha256(data).hexdigest()[:20]


def decode(data: bytes, file: str, limit: int) -> str:
    """Bytes to text: UTF-8 only, no NUL, BOM dropped, CRLF and CR made LF."""
    if len(data) > limit:
        raise ValidationError.single(file, None, f"file is larger than {limit // 1024} KiB", "size")
    nul = data.find(b"\0")
    if nul >= 0:
        raise ValidationError.single(file, data.count(b"\n", 0, nul) + 1,
                                     "contains a NUL byte (is it a binary file?)", "encoding")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValidationError.single(file, line, "is not valid UTF-8 text (save it as UTF-8)",
                                     "encoding") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str, file: str) -> tuple[str, str]:
    """``(front matter, body)``; the front matter starts on line 2 of the file."""
    first = text.find("\n")
    first = len(text) if first < 0 else first
    if not _FENCE.match(text[:first]):
        raise ValidationError.single(file, 1, "story.md must start with a line of three dashes "
                                     "(---), then the front matter, then another --- line",
                                     "front_matter")
    close = _CLOSE_LINE.search(text, first + 1)
    inside = text[first + 1:close.start() - 1 if close else len(text)]
    if len(inside) + 1 > MAX_FRONT_MATTER and len(inside.encode()) > MAX_FRONT_MATTER:
        raise ValidationError.single(file, 1, "front matter is larger than 64 KiB", "size")
    if close is None:
        raise ValidationError.single(file, 1, "the front matter has no closing --- line",
                                     "front_matter")
    front = text[first + 1:close.start()]  # with the newline before the closing line
    body = text[close.end() + 1:] if close.end() < len(text) else ""
    return front or "\n", body


# --- parsing ---------------------------------------------------------------------------------

def parse_story(data: bytes, file: str, story_id: str) -> m.Story:
    """Parse ``story.md`` bytes. Raises :class:`ValidationError` naming file and line.

    An ordinary valid file is read the quick way (:func:`storykit.schema.quick_read`);
    any other is read node by node, which finds and places every problem."""
    text = decode(data, file, MAX_STORY_BYTES)
    front, body = split_front_matter(text, file)
    fields = quick_read(front, STORY_SCHEMA)
    if fields is not None:
        checked = Reader(file, line_offset=1)
        _check_story_fields(fields, checked)
        if not checked.problems:
            return _story(story_id, fields, body, data)
    return parse_story_strictly(text, front, body, file, story_id, data)


def parse_story_strictly(text: str, front: str, body: str, file: str, story_id: str,
                         data: bytes) -> m.Story:
    """:func:`parse_story` node by node: every problem, with its line."""
    import yaml

    reader = Reader(file, line_offset=1)
    node = reader.compose(front)
    if node is not None and not isinstance(node, yaml.MappingNode):
        reader.error(node, "the front matter must be a set of 'field: value' lines", "shape")
        node = None
    elif node is None and not reader.problems:
        reader.problems.append(Problem(file, 1, "the front matter is empty", "shape"))
    fields = reader.read(node, STORY_SCHEMA)
    _check_story_fields(fields, reader)
    if reader.problems:
        raise ValidationError(reader.problems)
    return _story(story_id, fields, body, data)


def _story(story_id: str, fields: dict[str, Any], body: str, data: bytes) -> m.Story:
    story = m.Story.from_fields(story_id, fields, body)
    story.etag = etag_of(data)
    story.source_fields = fields
    return story


def _check_story_fields(fields: dict[str, Any], reader: Reader) -> None:
    def problem(path: tuple, message: str, code: str = "invalid") -> None:
        reader.problems.append(Problem(reader.file, reader.lines.get(path), message, code))

    if "slug" in fields and (why := slug_problem(fields["slug"])):
        problem(("slug",), why, "slug")
    for i, image in enumerate(fields.get("images", [])):
        file = image.get("file", "")
        if file and (not _MEDIA_RE.match(file) or ".." in file):
            problem(("images", i, "file"), f"image file {file!r} must be a file name inside "
                    "media/, e.g. media/ward.jpg", "path")
        alt = image.get("alt", "")
        if "alt" in image and (not alt.strip() or alt.strip() == file.rsplit("/", 1)[-1]):
            problem(("images", i, "alt"), "alt text must describe the image in words", "alt")
    for key in ("title",):
        if key in fields and not fields[key].strip():
            problem((key,), f"{key} is empty", "required")
    teller = fields.get("storyteller", {})
    if "name" in teller and not teller["name"].strip():
        problem(("storyteller", "name"), "storyteller.name is empty", "required")


def loaded_text(story: m.Story) -> str | None:
    """The text of ``story``'s story.md, or None when there is no file or it changed since
    the story was loaded (then line numbers found in it would point at the wrong place)."""
    if story.path is None or story.etag is None:
        return None
    try:
        data = story.path.read_bytes()
    except OSError:
        return None
    if etag_of(data) != story.etag:
        return None
    text = decode(data, "story.md", MAX_STORY_BYTES)
    return text if text.endswith(story.body) else None


def front_node(root: yaml.Node | None, path: tuple[str | int, ...]) -> yaml.Node | None:
    """The YAML node at ``path`` (e.g. ``("images", 0, "file")``) under ``root``, or None."""
    node = root
    for part in path:
        node = _child(node, part)
    return node


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    import yaml

    if isinstance(part, int):
        if isinstance(node, yaml.SequenceNode) and part < len(node.value):
            return node.value[part]
        return None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    return None


def field_line(story: m.Story, path: tuple[str | int, ...]) -> int | None:
    """The line of story.md holding the front-matter field at ``path``, for messages that
    name file and line; None when the file changed since loading or has no such field."""
    text = loaded_text(story)
    if text is None:
        return None
    front, _body = split_front_matter(text, "story.md")
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the parser storyfile uses
    node = front_node(yaml.compose(front, Loader=loader), path)
    return None if node is None else 2 + node.start_mark.line


def parse_consent(data: bytes, file: str, uses: tuple[str, ...]) -> list[m.ConsentVersion]:
    """Parse ``consent.yml`` bytes into its versions, oldest first (the quick way for an
    ordinary valid file, as :func:`parse_story` does)."""
    text = decode(data, file, MAX_CONSENT_BYTES)
    fields = quick_read(text, consent_schema(uses))
    if fields is not None:
        checked = Reader(file)
        _check_versions(fields["versions"], checked)
        if not checked.problems:
            return [m.ConsentVersion.from_dict(v) for v in fields["versions"]]
    return parse_consent_strictly(text, file, uses)


def parse_consent_strictly(text: str, file: str, uses: tuple[str, ...]) -> list[m.ConsentVersion]:
    """:func:`parse_consent` node by node: every problem, with its line."""
    import yaml

    reader = Reader(file)
    node = reader.compose(text)
    if node is not None and not isinstance(node, yaml.MappingNode):
        reader.error(node, "consent.yml must start with 'versions:' and a list of versions",
                     "shape")
        node = None
    elif node is None and not reader.problems:
        reader.error(None, "consent.yml is empty: it needs 'versions:'", "shape")
    fields = reader.read(node, consent_schema(uses))
    versions = fields.get("versions", [])
    _check_versions(versions, reader)
    if reader.problems:
        raise ValidationError(reader.problems)
    return [m.ConsentVersion.from_dict(v) for v in versions]


def _check_versions(versions: list[dict], reader: Reader) -> None:
    def problem(path: tuple, message: str, code: str = "invalid") -> None:
        reader.problems.append(Problem(reader.file, reader.lines.get(path), message, code))

    for i, v in enumerate(versions):
        path = ("versions", i)
        if "version" in v and v["version"] != i + 1:
            problem(path + ("version",), f"version numbers must count up from 1: expected "
                    f"{i + 1}, found {v['version']}", "order")
        if "granted" in v and "expires" in v and v["expires"] <= v["granted"]:
            problem(path + ("expires",), "expires must be after granted", "dates")
        ev = v.get("evidence")
        if ev and (not _EVIDENCE_RE.match(ev) or ".." in ev):
            problem(path + ("evidence",), f"evidence {ev!r} must be a file name inside "
                    "evidence/, e.g. evidence/consent-form.pdf", "path")
        if v.get("status") == "withdrawn" and "withdrawal" not in v:
            problem(path + ("status",), "a withdrawn version needs a 'withdrawal:' section "
                    "(requested, scope, reason)", "required")
        _check_contact(v.get("contact"), path + ("contact",), problem)


def _check_contact(contact: dict | None, path: tuple, problem) -> None:
    if not contact:
        return
    email = contact.get("email")
    if email is not None and not _EMAIL_RE.match(email):
        problem(path + ("email",), "the contact email does not look like an email address "
                "(name@example.org)", "email")
    phone = contact.get("phone")
    if phone is not None and not _PHONE_RE.match(phone):
        problem(path + ("phone",), "contact phone should be a phone number: digits, spaces, "
                "brackets and dashes, e.g. 01632 960 123", "phone")


# --- writing ---------------------------------------------------------------------------------

def _ruamel():
    """ruamel.yaml, imported only when writing (reading uses PyYAML's C parser)."""
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    # Anchors are refused when reading, so never write one (e.g. for ``created`` and ``updated``
    # holding the same date object). Containers are still tracked: ruamel writes an empty value
    # as ``key:`` rather than ``key: null`` only once it has seen the enclosing mapping.
    y.representer.ignore_aliases = lambda data: not isinstance(data, (dict, list))
    return y


_AMBIGUOUS = {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", ""}


# Characters YAML can carry only as escapes in a double-quoted string: controls, C1 controls,
# the byte-order mark, and NEL / LS / PS, which YAML 1.1 readers treat as line breaks.
@functools.cache
def _needs_escape() -> re.Pattern[str]:
    """Compiled on first use: the class is large (5 ms), and only writing files needs it."""
    return re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe"
                      "\uff00-\ufffd\U00010000-\U0010ffff]")


_TAB_AT_LINE_START = re.compile(r"(^|\n)\t")
# Text that reads the same as a plain (unquoted) scalar under YAML 1.1 and 1.2, in block and
# flow context alike; anything else is written double-quoted.
_SAFE_PLAIN = re.compile(r"[^\W\d_][\w .'()/&+!?%-]*")


def _to_ruamel(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    if isinstance(value, str):
        if _needs_escape().search(value):
            return DoubleQuotedScalarString(value)
        if "\n" in value.strip("\n"):
            if _TAB_AT_LINE_START.search(value):
                return DoubleQuotedScalarString(value)
            return LiteralScalarString(value)
        if value.lower() in _AMBIGUOUS or not _SAFE_PLAIN.fullmatch(value) or value != value.strip():
            return DoubleQuotedScalarString(value)
        return value
    if isinstance(value, dict):
        cm = CommentedMap()
        for k, v in value.items():
            cm[k] = _to_ruamel(v)
        return cm
    if isinstance(value, list):
        seq = CommentedSeq(_to_ruamel(v) for v in value)
        if all(isinstance(v, str) and len(v) <= 40 and "\n" not in v for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def dump_story(story: m.Story, original: str | None = None) -> str:
    """The full ``story.md`` text. With ``original`` (the text the story was read from),
    only changed fields are rewritten, in place."""
    from ruamel.yaml.comments import CommentedMap

    fields = story.fields_dict()
    y = _ruamel()
    if original is not None:
        front, _ = split_front_matter(original, "story.md")
        doc = y.load(front)
        if not isinstance(doc, CommentedMap):
            doc = CommentedMap()
    else:
        doc = CommentedMap()
    old = story.source_fields if original is not None else {}
    for key in list(doc):
        if key in old and key not in fields:
            del doc[key]
    for key, value in fields.items():
        if key in doc and key in old and old[key] == value:
            continue
        if key in doc:
            doc[key] = _to_ruamel(value)
        else:
            doc.insert(_position(doc, key), key, _to_ruamel(value))
    out = io.StringIO()
    y.dump(doc, out)
    body = story.body
    return "---\n" + out.getvalue() + "---\n" + body


def _position(doc: Any, key: str) -> int:
    """Where a new key goes: after the last existing key that comes before it canonically."""
    order = m.STORY_ORDER
    rank = order.index(key) if key in order else len(order)
    pos = 0
    for i, existing in enumerate(doc):
        if existing in order and order.index(existing) < rank:
            pos = i + 1
    return pos


@cache
def _consent_dumper() -> type:
    """PyYAML's safe dumper, writing no anchors, times in UTC with a Z and the lists of
    :class:`_Flow` on one line (made when first needed: only writing uses it)."""
    import yaml

    class _ConsentDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # anchors are refused when reading

    _ConsentDumper.add_representer(dt.datetime, _repr_datetime)
    _ConsentDumper.add_representer(
        _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
    return _ConsentDumper


class _Flow(list):
    pass


def _repr_datetime(dumper: yaml.SafeDumper, value: dt.datetime) -> yaml.Node:
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _consent_plain(version: m.ConsentVersion) -> dict[str, Any]:
    data = version.to_dict()
    for key in ("uses", "media"):
        if key in data:
            data[key] = _Flow(data[key])
    return data


def dump_yaml(data: Any) -> str:
    """Plain YAML for a file storykit writes whole (``review.yml``): no anchors, times in
    UTC with a Z, lists in block style, keys in the order given."""
    import yaml

    return yaml.dump(data, Dumper=_consent_dumper(), sort_keys=False, allow_unicode=True,
                     width=4096, default_flow_style=False)


def dump_consent_version(version: m.ConsentVersion, indent: int = 2) -> str:
    """One version as a block-sequence item, indented to sit under ``versions:``."""
    import yaml

    text = yaml.dump([_consent_plain(version)], Dumper=_consent_dumper(), sort_keys=False,
                     allow_unicode=True, width=4096, default_flow_style=False)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def dump_consent(versions: list[m.ConsentVersion]) -> str:
    """A whole new ``consent.yml``."""
    return "versions:\n" + "".join(dump_consent_version(v) for v in versions)


def append_consent_text(original: str | None, versions: list[m.ConsentVersion],
                        new: m.ConsentVersion, uses: tuple[str, ...]) -> str:
    """``consent.yml`` text with ``new`` appended, leaving the earlier text untouched.

    The result is parsed again and must hold the old versions unchanged plus the new one;
    if the file's layout makes a plain append impossible, the file is written afresh. Raises
    :class:`ValidationError` if ``new`` itself is not valid (nothing should then be written).
    """
    if original:
        indent = _item_indent(original)
        sep = "" if original.endswith("\n") else "\n"
        candidate = original + sep + dump_consent_version(new, indent)
        try:
            again = parse_consent(candidate.encode(), "consent.yml", uses)
        except ValidationError:
            again = None
        if again is not None and _same(again, versions + [new]):
            return candidate
    fresh = dump_consent(versions + [new])
    again = parse_consent(fresh.encode(), "consent.yml", uses)  # raises if ``new`` is invalid
    if not _same(again, versions + [new]):  # pragma: no cover - the dumper lost something
        raise ValidationError.single("consent.yml", None, "the new consent version could not "
                                     "be written faithfully", "write")
    return fresh


def _item_indent(text: str) -> int:
    """Column of the dashes of the top-level ``versions:`` items (2 if unknown)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return 2
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "versions" and isinstance(value, yaml.SequenceNode) and value.value:
                return value.start_mark.column
    return 2


def _same(a: list[m.ConsentVersion], b: list[m.ConsentVersion]) -> bool:
    # A file ending in a block of text (``notes: |``) without a final newline gains one when
    # a version is appended after it; the note itself is unchanged.
    return _trim([v.to_dict() for v in a]) == _trim([v.to_dict() for v in b])


def _trim(value: Any) -> Any:
    if isinstance(value, str):
        return value.rstrip("\n")
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trim(v) for v in value]
    return value
