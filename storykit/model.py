"""The story and consent model: plain dataclasses mirroring the file formats in DESIGN.md."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

STORY_STATUSES = ("draft", "in_review", "changes_requested", "approved", "published",
                  "withdrawn", "archived")
RENDERABLE_STATUSES = ("approved", "published")
ROLES = ("patient", "carer", "parent", "relative", "staff", "other")
IMAGE_KINDS = ("photo", "illustration")
CONSENT_STATUSES = ("pending", "active", "withdrawn")
GIVEN_BY = ("self", "parent_with_pr", "lpa_health_welfare", "court_deputy", "other")
CAPACITY = ("presumed", "assessed_has", "assessed_lacks", "fluctuating")
AGE_BANDS = ("under_13", "13_15", "16_17", "adult")
METHODS = ("written", "e_signature", "recorded_verbal")
MEDIA = ("text", "quotes", "photo", "audio", "video")
IDENTIFICATION = ("full_name", "first_name", "pseudonym", "anonymous")
PROJECT_CLASSES = ("service_improvement", "service_evaluation", "audit", "research")
WITHDRAWAL_SCOPES = ("stop_future_use", "delete_everything")
#: How a storyteller prefers letters (the Accessible Information Standard: ask, record, act).
LETTER_FORMATS = ("standard", "large_print", "easy_read")

#: The uses every site has; a site may relabel them and add its own in storykit.toml.
DEFAULT_USES: dict[str, str] = {
    "clinical_teams": "Clinical teams",
    "staff_training": "Staff training",
    "board": "Trust board",
    "commissioners": "Commissioners",
    "conference": "Conferences and events",
    "print": "Printed materials",
    "public_website": "Public website",
    "social_media": "Social media",
    "press": "Press and media",
    "funders": "Funders",
    "research": "Research",
}
#: Uses that put a story outside the organisation.
EXTERNAL_USES = frozenset({"conference", "public_website", "social_media", "press", "funders"})


@dataclass
class Storyteller:
    name: str
    role: str
    pseudonym: str | None = None


@dataclass
class Person:
    """Someone named in the text, and how they must appear (e.g. "the night midwife")."""

    name: str
    render_as: str


@dataclass
class Image:
    file: str
    alt: str
    kind: str = "photo"


@dataclass
class TakenBy:
    name: str | None = None
    role: str | None = None
    involved_in_care: bool | None = None


@dataclass
class Withdrawal:
    requested: dt.date | None = None
    scope: str | None = None
    reason: str | None = None
    confirmed: dt.date | None = None


@dataclass
class Contact:
    """How to reach the storyteller (or whoever letters about the story go to), privately:
    never in a StoryView, never in any output but letters to them; erased by
    ``delete_everything``."""

    agrees_to_contact: bool
    name: str | None = None
    email: str | None = None
    address: list[str] = field(default_factory=list)
    phone: str | None = None
    preferred_format: str = "standard"

    @property
    def can_write(self) -> bool:
        """Whether a letter may be posted: they agreed, and there is an address."""
        return self.agrees_to_contact and bool(self.address)


@dataclass
class ConsentVersion:
    """One entry of consent.yml. Versions are appended, never rewritten."""

    version: int
    recorded: dt.datetime
    status: str
    given_by: str
    method: str
    granted: dt.date
    expires: dt.date
    uses: list[str]
    media: list[str]
    identification: str
    signoff_required: bool
    recorded_by: str | None = None
    capacity: str = "presumed"
    age_band: str = "adult"
    reconsent_due: dt.date | None = None
    taken_by: TakenBy | None = None
    signed_off: dt.date | None = None
    signed_off_revision: int | None = None
    project_class: str | None = None
    ethics_ref: str | None = None
    withdrawal: Withdrawal | None = None
    evidence: str | None = None
    notes: str | None = None
    contact: Contact | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self, CONSENT_ORDER, defaults={"capacity": None, "age_band": None},
                        keep=self._written)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConsentVersion:
        data = dict(data)
        if isinstance(data.get("taken_by"), dict):
            data["taken_by"] = TakenBy(**data["taken_by"])
        if isinstance(data.get("withdrawal"), dict):
            data["withdrawal"] = Withdrawal(**data["withdrawal"])
        if isinstance(data.get("contact"), dict):
            data["contact"] = Contact(**data["contact"])
        written = tuple(data)
        obj = cls(**data)
        obj._written = written
        return obj

    _written: tuple[str, ...] = field(default=(), repr=False, compare=False)


CONSENT_ORDER = ("version", "recorded", "recorded_by", "status", "given_by", "capacity", "age_band",
                 "reconsent_due", "method", "taken_by", "granted", "expires", "uses", "media",
                 "identification", "signoff_required", "signed_off", "signed_off_revision",
                 "project_class", "ethics_ref", "withdrawal", "evidence", "notes", "contact")


@dataclass
class Story:
    """A story as its files hold it. ``etag`` identifies the exact bytes it was read from.

    Stories returned by the store are shared with its cache: change one with
    ``story.copy(field=new_value)``, never by assigning to it or editing its lists in place.
    """

    id: str
    title: str
    slug: str
    status: str
    storyteller: Storyteller
    body: str = ""
    service: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    content_warning: str | None = None
    people: list[Person] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    speaker_notes: str | None = None
    changes: list[str] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    created: dt.date | None = None
    updated: dt.date | None = None
    revision: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    consent: list[ConsentVersion] = field(default_factory=list)
    # bookkeeping, not part of the file's fields
    etag: str | None = field(default=None, compare=False)
    consent_etag: str | None = field(default=None, compare=False)
    path: Path | None = field(default=None, compare=False, repr=False)
    source_fields: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def current_consent(self) -> ConsentVersion | None:
        return self.consent[-1] if self.consent else None

    @property
    def erased(self) -> bool:
        """True once the storyteller asked for everything to be deleted."""
        last = self.current_consent
        return bool(last and last.withdrawal and last.withdrawal.scope == "delete_everything")

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path else None

    def fields_dict(self) -> dict[str, Any]:
        """The front-matter fields, in the order the file had them, new ones after."""
        return _to_dict(self, STORY_ORDER, keep=tuple(self.source_fields),
                        defaults={"revision": None})

    @classmethod
    def from_fields(cls, id: str, data: dict[str, Any], body: str = "") -> Story:
        data = dict(data)
        # Own copies: ``data`` is also kept as the story's source fields, which saving compares
        # against, so an in-place edit (``story.tags.append(...)``) must not change it too.
        for key in ("tags", "quotes", "changes", "asks"):
            if key in data:
                data[key] = list(data[key])
        if data.get("extra"):
            data["extra"] = copy.deepcopy(data["extra"])
        data["storyteller"] = Storyteller(**data["storyteller"])
        data["people"] = [Person(**p) for p in data.get("people", [])]
        data["images"] = [Image(**i) for i in data.get("images", [])]
        return cls(id=id, body=body, **data)

    def copy(self, **changes: Any) -> Story:
        return replace(self, **changes)


STORY_ORDER = ("title", "slug", "status", "service", "tags", "summary", "content_warning",
               "storyteller", "people", "quotes", "speaker_notes", "changes", "asks", "images",
               "created", "updated", "revision", "extra")


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)
                if not f.name.startswith("_") and getattr(value, f.name) is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _to_dict(obj: Any, order: tuple[str, ...], keep: tuple[str, ...] = (),
             defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fields with a value, in the file's original order first, then canonical order.

    Empty lists/dicts and ``None`` are left out unless the file had the key, and a value equal
    to its default (``defaults``) is written only if the file wrote it.
    """
    defaults = defaults or {}
    out: dict[str, Any] = {}
    for name in tuple(k for k in keep if k in order) + order:
        if name in out:
            continue
        value = getattr(obj, name)
        if value is None or ((value == [] or value == {}) and name not in keep):
            continue
        if name in defaults and name not in keep and _is_default(obj, name):
            continue
        out[name] = _plain(value)
    return out


def _is_default(obj: Any, name: str) -> bool:
    for f in fields(obj):
        if f.name == name:
            return getattr(obj, name) == f.default
    return False
