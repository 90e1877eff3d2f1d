"""Reading and writing ``review.yml``: reviewers' dismissals of a story's blocking findings.

The file sits in the story's folder beside ``story.md`` and ``consent.yml``, so every tool
that reads the story (the app, the command line, renders, the site build) sees the same
decisions. storykit writes it; people may read it. It is read as strictly as the other story
files (:mod:`storykit.schema`): unknown fields, wrong types, duplicate keys, a bad
fingerprint or a missing field are errors naming the file and line.

It never holds the personal detail a finding is about: each dismissal names its finding by a
*fingerprint*, a keyed hash of the detail whose key includes the sentence it is in
(:func:`storykit.findings.fingerprint`), so it cannot be turned back into the detail without
the story's text; plus the detail's masked shape (``077** ******``) and plain facts (who,
when, which revision, why).

    salt: 9f2c...                       # 32 hex digits, random, one per story
    dismissed:
      - finding: 4be1...                # 24 hex digits
        code: privacy_phone
        field: body
        shown_as: 077** ******
        by: rita
        at: 2027-03-01T10:20:00Z
        revision: 4
        reason: The trust's public PALS line, printed on every leaflet.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import Problem, ValidationError
from .fsio import atomic_write, locked
from .schema import DateTime, Field, Int, ListOf, Obj, Reader, Text

REVIEW_FILE = "review.yml"
MAX_REVIEW_BYTES = 512 * 1024
REASON_MAX = 2000
#: Dismissals kept at most (a story has far fewer findings; a longer file is not ours).
MAX_DISMISSALS = 2000
_HEX = re.compile(r"[0-9a-f]+")
FINGERPRINT_LENGTH, SALT_LENGTH = 24, 32


def _line(n: int) -> Text:
    return Text(max_len=n, multiline=False)


REVIEW_SCHEMA = Obj(name="review.yml", fields={
    "salt": Field(_line(SALT_LENGTH), required=True),
    "dismissed": Field(ListOf(Obj(name="dismissal", fields={
        "finding": Field(_line(FINGERPRINT_LENGTH), required=True),
        "code": Field(_line(80), required=True),
        "field": Field(_line(40)),
        "shown_as": Field(_line(200)),
        "by": Field(_line(64), required=True),
        "at": Field(DateTime(), required=True),
        "revision": Field(Int(0), required=True),
        "reason": Field(Text(REASON_MAX), required=True),
    }), max_items=MAX_DISMISSALS)),
})


@dataclass(frozen=True)
class Dismissal:
    """A reviewer's decision that one finding may stay: who, when, at which revision of the
    story, and why (their words: kept with the story, never in logs or the audit log)."""

    finding: str
    code: str
    by: str
    at: dt.datetime
    revision: int
    reason: str
    field: str | None = None
    shown_as: str | None = None


@dataclass(frozen=True)
class ReviewRecord:
    """What ``review.yml`` holds (an empty record when there is no file)."""

    salt: str = ""
    dismissed: tuple[Dismissal, ...] = field(default=())

    def with_dismissal(self, dismissal: Dismissal) -> ReviewRecord:
        """A copy with ``dismissal`` added (replacing an earlier one of the same finding)."""
        kept = tuple(d for d in self.dismissed if d.finding != dismissal.finding)
        return replace(self, dismissed=(*kept, dismissal))


def new_salt() -> str:
    return secrets.token_hex(SALT_LENGTH // 2)


def review_path(folder: Path) -> Path:
    return folder / REVIEW_FILE


def read_review(folder: Path | None) -> ReviewRecord:
    """The record in ``folder`` (a story's folder); empty when there is none. Raises
    :class:`ValidationError` naming the file and line when it is not valid."""
    if folder is None:
        return ReviewRecord()
    path = f"{folder}/{REVIEW_FILE}"  # a plain string: asked of every story by `check`
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_REVIEW_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return ReviewRecord()
    return parse_review(data, path)


def parse_review(data: bytes, file: str) -> ReviewRecord:
    """Parse ``review.yml`` bytes strictly."""
    from .storyfile import decode

    reader = Reader(file)
    node = reader.compose(decode(data, file, MAX_REVIEW_BYTES))
    if node is None and not reader.problems:
        reader.error(None, "review.yml is empty: it needs 'salt:'", "shape")
    fields = reader.read(node, REVIEW_SCHEMA)
    _check(fields, reader)
    if reader.problems:
        raise ValidationError(reader.problems)
    dismissed = tuple(Dismissal(**d) for d in fields.get("dismissed", []))
    return ReviewRecord(fields["salt"], dismissed)


def _check(fields: dict, reader: Reader) -> None:
    def problem(path: tuple, message: str) -> None:
        reader.problems.append(Problem(reader.file, reader.lines.get(path), message, "invalid"))

    salt = fields.get("salt")
    if salt is not None and (len(salt) != SALT_LENGTH or not _HEX.fullmatch(salt)):
        problem(("salt",), f"salt must be {SALT_LENGTH} hexadecimal digits (0-9, a-f)")
    seen: set[str] = set()
    for i, item in enumerate(fields.get("dismissed", [])):
        finding = item.get("finding", "")
        if finding and (len(finding) != FINGERPRINT_LENGTH or not _HEX.fullmatch(finding)):
            problem(("dismissed", i, "finding"),
                    f"finding must be {FINGERPRINT_LENGTH} hexadecimal digits (0-9, a-f)")
        elif finding in seen:
            problem(("dismissed", i, "finding"), "this finding is dismissed twice")
        seen.add(finding)
        if "reason" in item and not item["reason"].strip():
            problem(("dismissed", i, "reason"), "a dismissal needs a reason")


def dump_review(record: ReviewRecord) -> str:
    """The whole file's text."""
    from .storyfile import dump_yaml

    items = []
    for d in record.dismissed:
        item = {"finding": d.finding, "code": d.code, "field": d.field, "shown_as": d.shown_as,
                "by": d.by, "at": d.at, "revision": d.revision, "reason": d.reason}
        items.append({k: v for k, v in item.items() if v is not None})
    head = ("# Reviewers' dismissals of this story's blocking findings (written by storykit;\n"
            "# see docs/formats.md). No personal details: findings are named by fingerprint.\n")
    return head + dump_yaml({"salt": record.salt, "dismissed": items})


def update_review(folder: Path, lock, change) -> ReviewRecord:
    """Read the record, apply ``change(record) -> record`` and write it, holding a lock so
    two reviewers dismissing at once both keep theirs. A new file gets a new salt. ``lock``
    is a lock file, or a held lock from the store's locks (``site.store.locks``)."""
    with locked(lock, what="this story's review") if isinstance(lock, Path) else lock:
        record = read_review(folder)
        if not record.salt:
            record = replace(record, salt=new_salt())
        new = change(record)
        text = dump_review(new)
        parse_review(text.encode(), str(review_path(folder)))  # never write what we cannot read
        atomic_write(review_path(folder), text)
        return new
