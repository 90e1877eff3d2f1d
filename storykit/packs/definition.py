"""What a pack is asked to be: its use, formats, stories (named and by filter), title, length,
theme, and who it is for. A definition is plain data: saved as JSON, rebuilt later."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..dates import DateError, parse_date
from ..errors import StorykitError

LENGTHS = ("full", "summary")
MAX_FORMATS = 12
MAX_STORIES = 500
MAX_RECIPIENTS = 50
MAX_TEXT = 200


class PackError(StorykitError):
    """The pack cannot be made as asked; the message says why in words."""


@dataclass(frozen=True)
class PackDefinition:
    """A pack's recipe. ``stories`` are ids or slugs (saved as ids); ``services`` and
    ``tags`` add every story of those services or with those tags. ``meeting``,
    ``meeting_date`` and ``recipients`` say who the copies go to."""

    use: str
    formats: tuple[str, ...]
    stories: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    title: str = ""
    length: str = "full"
    theme: str | None = None
    with_notes: bool = False
    meeting: str | None = None
    meeting_date: dt.date | None = None
    recipients: tuple[str, ...] = field(default=())
    #: End with "What happened after the last stories": outcomes of stories in earlier
    #: packs for the same use (docs/outcomes.md).
    follow_up: bool = False

    def problems(self) -> list[str]:
        """What is wrong with the definition itself, as sentences (the site's uses and
        formats are checked when it is built)."""
        found: list[str] = []
        if not self.formats:
            found.append("choose at least one format")
        if len(set(self.formats)) != len(self.formats):
            found.append("a format is listed twice")
        if len(self.formats) > MAX_FORMATS:
            found.append(f"a pack may have at most {MAX_FORMATS} formats")
        if not (self.stories or self.services or self.tags):
            found.append("choose the stories: name them, or pick a service or a tag")
        if len(self.stories) > MAX_STORIES:
            found.append(f"a pack may name at most {MAX_STORIES} stories")
        if self.length not in LENGTHS:
            found.append(f"length must be one of: {', '.join(LENGTHS)}")
        if len(self.recipients) > MAX_RECIPIENTS:
            found.append(f"a pack may list at most {MAX_RECIPIENTS} recipients")
        texts = [("title", self.title), ("meeting", self.meeting or ""),
                 *(("a recipient", r) for r in self.recipients),
                 *(("a service", s) for s in self.services), *(("a tag", t) for t in self.tags)]
        for what, text in texts:
            problem = _text_problem(text)
            if problem:
                found.append(f"{what} {problem}")
        if any(not r.strip() for r in self.recipients):
            found.append("a recipient is empty")
        return found

    def checked(self) -> PackDefinition:
        """This definition, or :class:`PackError` listing every problem."""
        problems = self.problems()
        if problems:
            raise PackError("the pack cannot be made: " + "; ".join(problems))
        return self

    def to_json(self) -> str:
        data = asdict(self)
        data["meeting_date"] = self.meeting_date.isoformat() if self.meeting_date else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PackDefinition:
        """A definition saved with :meth:`to_json` (PackError when it is not one)."""
        try:
            data = json.loads(text)
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise PackError(f"a saved pack definition cannot be read ({exc})") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PackDefinition:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise PackError(f"unknown pack settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        for key in ("formats", "stories", "services", "tags", "recipients"):
            if key in values:
                if not isinstance(values[key], list | tuple) or \
                        not all(isinstance(x, str) for x in values[key]):
                    raise PackError(f"{key} must be a list of words")
                values[key] = tuple(values[key])
        day = values.get("meeting_date")
        if isinstance(day, str):
            try:
                values["meeting_date"] = parse_date(day)
            except DateError as exc:
                raise PackError(f"meeting date: {exc}") from None
        return cls(**values)

    def with_story_ids(self, ids: tuple[str, ...]) -> PackDefinition:
        """The same definition naming its stories by id (what is saved: slugs may change)."""
        return replace(self, stories=ids)


def _text_problem(text: str) -> str | None:
    if len(text) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        return "has control characters or line breaks in it"
    return None
