"""The consent decision: may this story be used for this use on this date, and in what form?

:func:`decide` is pure: it reads only its arguments. Renderers never see a :class:`Story`;
they get the :class:`StoryView` a decision carries, already reduced to what the consent allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property, lru_cache
from pathlib import Path

from .media import media_name
from .model import EXTERNAL_USES, MEDIA, RENDERABLE_STATUSES, ConsentVersion, Image, Story
from .slugs import slug_key, slugify

ROLE_PHRASES = {
    "patient": "a patient",
    "carer": "a carer",
    "parent": "a parent",
    "relative": "a relative",
    "staff": "a member of staff",
    "other": "someone who shared their story",
}
NAME_REMOVED = "[name removed]"
DRAFT_MARK = "DRAFT - not for distribution"
_HONORIFICS = ("Dr", "Doctor", "Mr", "Mrs", "Ms", "Miss", "Mx", "Prof", "Professor", "Nurse",
               "Sister", "Midwife", "Matron", "Sir", "Dame", "Rev", "Father", "Auntie", "Uncle",
               "Nan", "Grandma", "Grandad")
_HON_RE = (r"(?:(?:" + "|".join(_HONORIFICS + tuple(h.upper() for h in _HONORIFICS))
           + r")\.?\s+)")
_HONORIFIC_FIRST = re.compile("^" + _HON_RE)


@dataclass(frozen=True)
class Reason:
    """Why a story was refused, for people (``message``) and programs (``code``)."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ViewImage:
    path: Path | None
    file: str
    alt: str
    kind: str


@dataclass(frozen=True)
class StoryView:
    """What a renderer may see of a story for one use: identification applied, private
    fields gone, media the consent does not cover dropped."""

    id: str
    slug: str
    title: str
    status: str
    use: str
    storyteller: str
    storyteller_role: str
    attribution: str
    body: str
    service: str | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    content_warning: str | None = None
    quotes: tuple[str, ...] = ()
    speaker_notes: str | None = None
    changes: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    images: tuple[ViewImage, ...] = ()
    created: dt.date | None = None
    updated: dt.date | None = None
    revision: int = 0
    consent_version: int = 0
    consent_expires: dt.date | None = None
    identification: str = "anonymous"
    media: tuple[str, ...] = ()
    draft: bool = False
    mark: str | None = None

    @property
    def draft_mark(self) -> str | None:
        """The words every output of a draft or preview shows (None for real outputs)."""
        if not self.draft:
            return None
        return self.mark or DRAFT_MARK

    def without_notes(self) -> StoryView:
        """The view without speaker notes (itself when it has none: views never change)."""
        return self if self.speaker_notes is None else replace(self, speaker_notes=None)


@dataclass(frozen=True)
class Decision:
    """The answer for one story, use and date. ``view`` (the reduced story) is made on first
    use, so listing thousands of decisions does not reduce thousands of texts."""

    story_id: str
    use: str
    on: dt.date
    allowed: bool
    reasons: tuple[Reason, ...] = ()
    consent_version: int | None = None
    draft: bool = False
    _source: tuple[Story, ConsentVersion] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def view(self) -> StoryView | None:
        """What a renderer may see; None when refused."""
        if not self.allowed or self._source is None:
            return None
        story, consent = self._source
        return _reduce(story, consent, self.use, self.draft, self._swaps, self._labels)

    @cached_property
    def slug(self) -> str | None:
        """The story's address as its outputs may show it (see :func:`public_labels`), without
        reducing the whole story; None when refused."""
        if not self.allowed or self._source is None:
            return None
        return self._labels[0]

    @cached_property
    def _swaps(self) -> dict[str, str]:
        """The story's :func:`name_swaps`: found once for its slug, and again for its view
        (often in a process forked after the slug was known) without working them out again."""
        assert self._source is not None
        story, consent = self._source
        return name_swaps(story, consent.identification)

    @cached_property
    def _labels(self) -> tuple[str, tuple[str, ...]]:
        """The story's :func:`public_labels`, kept like :attr:`_swaps`."""
        assert self._source is not None
        return _labels(self._source[0], _label_test(self._swaps))

    @property
    def messages(self) -> list[str]:
        return [r.message for r in self.reasons]

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def decide(story: Story, use: str, on: dt.date, *, preview: bool = False,
           external_uses: frozenset[str] = EXTERNAL_USES) -> Decision:
    """Decide whether ``story`` may be rendered for ``use`` on date ``on``.

    With ``preview=True`` (internal previews while drafting) the story's status, sign-off and
    a still-pending consent are not required, but the view is marked as a draft; withdrawn or
    expired consent, an ungranted use and external uses are still refused.
    """
    consent = story.current_consent
    if consent is None:
        return _refuse(story, use, on, [Reason("no_consent", "no consent has been recorded")])
    hard, soft = _consent_reasons(story, consent, use, on, use in external_uses)
    if preview and use in external_uses:
        hard.append(Reason("preview_external", "draft previews are for internal uses only"))
    reasons = hard if preview else hard + soft
    if reasons:
        return _refuse(story, use, on, reasons, consent.version)
    if not _has_content(story, consent):
        return _refuse(story, use, on, [Reason("nothing_to_show",
                       "the consent covers neither the text nor quotes")], consent.version)
    return Decision(story.id, use, on, True, (), consent.version, draft=bool(soft),
                    _source=(story, consent))


def decision_window(story: Story, on: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day around ``on`` on which :func:`decide` answers for ``story``
    as it does on ``on``, for every use (so a build can tell that nothing changed without
    deciding again). Decisions compare the day only with days the story and its current
    consent hold, so an answer can change only on one of those days or the day after."""
    edges: set[dt.date] = set()
    consent = story.current_consent
    for holder in (story, consent, consent.withdrawal if consent else None):
        for name in _date_fields(type(holder)) if holder is not None else ():
            value = getattr(holder, name)
            if isinstance(value, dt.date):
                day = value.date() if isinstance(value, dt.datetime) else value
                edges.add(day)
                if day < dt.date.max:
                    edges.add(day + dt.timedelta(days=1))
    first = max((d for d in edges if d <= on), default=dt.date.min)
    after = min((d for d in edges if d > on), default=None)
    return first, (after - dt.timedelta(days=1)) if after else dt.date.max


@cache
def _date_fields(kind: type) -> tuple[str, ...]:
    """The fields of a model class that may hold a day: those annotated with a date or
    time, or with anything at all (a list, a dict or a string is never a date)."""
    return tuple(f.name for f in fields(kind)
                 if "date" in str(f.type) or str(f.type) in ("Any", "typing.Any", "object"))


def _has_content(story: Story, consent: ConsentVersion) -> bool:
    """Whether the reduced view would show anything (the text or a quote)."""
    media = consent.media
    return bool(("text" in media and story.body.strip()) or ("quotes" in media and story.quotes))


def _refuse(story: Story, use: str, on: dt.date, reasons: list[Reason],
            version: int | None = None) -> Decision:
    return Decision(story.id, use, on, False, tuple(reasons), version)


def _consent_reasons(story: Story, c: ConsentVersion, use: str, on: dt.date,
                     external: bool) -> tuple[list[Reason], list[Reason]]:
    """``(hard, soft)`` refusals; soft ones are waived for internal draft previews."""
    hard: list[Reason] = []
    soft: list[Reason] = []
    if c.status == "withdrawn":
        when = c.withdrawal.requested if c.withdrawal and c.withdrawal.requested else None
        hard.append(Reason("withdrawn", "consent was withdrawn" + (f" on {when}" if when else "")))
    elif c.status == "pending":
        soft.append(Reason("consent_pending", "consent is pending: the storyteller has not "
                                              "yet given it"))
    if on > c.expires:
        hard.append(Reason("expired", f"consent expired on {c.expires}"))
    elif on < c.granted:
        hard.append(Reason("not_yet_granted", f"consent starts on {c.granted}"))
    if use not in c.uses:
        covered = ", ".join(c.uses) or "nothing"
        hard.append(Reason("use_not_granted", f"consent does not cover {use} (it covers: "
                                              f"{covered})"))
    if c.given_by == "other" and external:
        hard.append(Reason("given_by_other", "consent was given by someone without legal "
                           f"authority ('other'), so it cannot be used for {use}"))
    if c.capacity == "assessed_lacks" and c.given_by == "self":
        hard.append(Reason("lacks_capacity", "the storyteller was assessed as lacking capacity, "
                           "so they could not consent for themselves"))
    if c.age_band != "adult" and c.reconsent_due and on > c.reconsent_due:
        hard.append(Reason("reconsent_due", f"re-consent was due on {c.reconsent_due}: the "
                           "storyteller must now be asked again"))
    if c.identification == "pseudonym" and not story.storyteller.pseudonym:
        hard.append(Reason("no_pseudonym", "consent asks for a pseudonym but the story has none"))
    if c.signoff_required:
        stale = _signoff_problem(story, c)
        if stale:
            soft.append(stale)
    if story.status not in RENDERABLE_STATUSES:
        code = "withdrawn_story" if story.status == "withdrawn" else "not_approved"
        reason = Reason(code, f"the story is {story.status.replace('_', ' ')}, "
                              "not approved or published")
        (hard if story.status in ("withdrawn", "archived") else soft).append(reason)
    return hard, soft


def _signoff_problem(story: Story, c: ConsentVersion) -> Reason | None:
    if c.signed_off is None:
        return Reason("signoff_missing", "the storyteller has not signed off the final text")
    if c.signed_off_revision is not None and story.revision > c.signed_off_revision:
        return Reason("signoff_stale", f"the text changed after sign-off (sign-off covers "
                      f"revision {c.signed_off_revision}, the story is at {story.revision})")
    if c.signed_off_revision is None and story.updated and story.updated > c.signed_off:
        return Reason("signoff_stale", f"the text changed on {story.updated}, after sign-off "
                      f"on {c.signed_off}")
    return None


# --- reduction ---------------------------------------------------------------------------

def reduce(story: Story, consent: ConsentVersion, use: str, *,
           draft: bool = False) -> StoryView | None:
    """The story as the consent allows it to be seen; None if nothing may be shown."""
    swaps = name_swaps(story, consent.identification)
    return _reduce(story, consent, use, draft, swaps, _labels(story, _label_test(swaps)))


def _reduce(story: Story, consent: ConsentVersion, use: str, draft: bool,
            swaps: dict[str, str], labels: tuple[str, tuple[str, ...]]) -> StoryView | None:
    """:func:`reduce` with the story's :func:`name_swaps` and :func:`public_labels` known."""
    display = storyteller_display(story, consent.identification)
    swap = _compile(swaps)
    slug, tags = labels
    media = set(consent.media)
    body = swap(story.body) if "text" in media else ""
    quotes = tuple(swap(q) for q in story.quotes) if "quotes" in media else ()
    if not body.strip() and not quotes:
        return None
    folder = story.folder
    images = tuple(  # a path only for a name inside media/ (storykit.media checks the file)
        ViewImage(folder / img.file if folder and media_name(img.file) else None, img.file,
                  swap(img.alt), img.kind)
        for img in shown_images(story, consent)
    )
    role = story.storyteller.role
    return StoryView(
        id=story.id, slug=slug, title=swap(story.title), status=story.status, use=use,
        storyteller=display, storyteller_role=role,
        attribution=attribution(display, role, consent.identification),
        body=body,
        service=swap(story.service) if story.service else story.service,
        tags=tags,
        summary=swap(story.summary) if story.summary and "text" in media else None,
        content_warning=swap(story.content_warning) if story.content_warning else None,
        quotes=quotes,
        speaker_notes=swap(story.speaker_notes) if story.speaker_notes else None,
        changes=tuple(swap(x) for x in story.changes),
        asks=tuple(swap(x) for x in story.asks),
        images=images, created=story.created, updated=story.updated, revision=story.revision,
        consent_version=consent.version, consent_expires=consent.expires,
        identification=consent.identification, media=tuple(consent.media), draft=draft,
    )


def draft_view(story: Story, use: str, on: dt.date | None = None) -> StoryView | None:
    """The story as a draft preview shows it to the people working on it: reduced as its
    current consent says, or, when there is no consent yet, as the strictest consent would
    (naming nobody, hiding the people in it); always a draft. None when the consent lets
    nothing be shown, and once it has ended on ``on`` (withdrawn, expired, or a child's
    re-consent overdue): a story that may no longer be used is previewed for no use."""
    consent = story.current_consent
    if consent is not None and consent_ended(consent, on or dt.date.today()):
        return None
    if consent is None:
        consent = _strictest(story)
    return reduce(story, consent, use, draft=True)


def consent_ended(consent: ConsentVersion, on: dt.date) -> bool:
    """Whether the consent no longer lets the story be used at all on ``on``: withdrawn,
    expired, or a child's re-consent overdue."""
    return (consent.status == "withdrawn" or on > consent.expires
            or (consent.age_band != "adult" and consent.reconsent_due is not None
                and on > consent.reconsent_due))


def _strictest(story: Story) -> ConsentVersion:
    day = dt.date.today()
    return ConsentVersion(version=0, recorded=dt.datetime.now(dt.UTC), status="pending",
                          given_by="self", method="written", granted=day,
                          expires=day + dt.timedelta(days=1), uses=[], media=list(MEDIA),
                          identification="anonymous", signoff_required=False)


def shown_images(story: Story, consent: ConsentVersion) -> list[Image]:
    """The pictures the consent lets outputs show: photos only with photo consent."""
    return [img for img in story.images if img.kind != "photo" or "photo" in consent.media]


def public_labels(story: Story, consent: ConsentVersion) -> tuple[str, tuple[str, ...]]:
    """The story's slug and tags as its outputs may show them: the slug, or the story id
    when the slug names someone the consent does not let outputs name (the slug is in every
    address and file name of the story), and the tags without those naming such a person."""
    return _labels(story, _label_test(name_swaps(story, consent.identification)))


def _labels(story: Story, named) -> tuple[str, tuple[str, ...]]:
    slug = story.id if named(story.slug) else story.slug
    return slug, tuple(tag for tag in story.tags if not named(tag))


def _label_test(swaps: dict[str, str]):
    """Whether a label (a slug or tag) holds, as whole words, a name it must not show."""
    names = {_slugified(name) for name in swaps} - {""}
    if not names:
        return lambda label: False

    def named(label: str) -> bool:
        padded = f"-{slug_key(label)}-"
        return any(f"-{name}-" in padded for name in names)

    return named


@lru_cache(maxsize=4096)
def _slugified(name: str) -> str:
    return slugify(name)


def storyteller_display(story: Story, identification: str) -> str:
    teller = story.storyteller
    if identification == "full_name":
        return _strip_honorific(teller.name)
    if identification == "first_name":
        return _strip_honorific(teller.name).split()[0]
    if identification == "pseudonym" and teller.pseudonym:
        return teller.pseudonym
    return ROLE_PHRASES.get(teller.role, "someone who shared their story")


def attribution(display: str, role: str, identification: str) -> str:
    """How a quote or story is credited, e.g. "Aisha, patient" or "a carer"."""
    if identification == "anonymous":
        return display
    label = {"staff": "member of staff", "other": "storyteller"}.get(role, role)
    suffix = " (not their real name)" if identification == "pseudonym" else ""
    return f"{display}, {label}{suffix}"


def _strip_honorific(name: str) -> str:
    return _HONORIFIC_FIRST.sub("", name.strip(), count=1) or name.strip()


def name_replacer(story: Story, identification: str):
    """A function that replaces every way the text may name people it must not name."""
    return _compile(name_swaps(story, identification))


def name_swaps(story: Story, identification: str) -> dict[str, str]:
    """Each way the text may name someone it must not (a name variant) and what replaces it.

    Public so the privacy checks (storykit.privacy) flag exactly what the reduction replaces.
    """
    swaps = teller_swaps(story, identification)
    for person in story.people:
        for variant in _variants(person.name):
            swaps.setdefault(variant, person.render_as)
    return swaps


def teller_swaps(story: Story, identification: str) -> dict[str, str]:
    """The storyteller's part of :func:`name_swaps` (the names the consent itself hides)."""
    swaps: dict[str, str] = {}
    teller = story.storyteller
    if identification != "full_name":
        display = storyteller_display(story, identification)
        target = display if identification in ("first_name", "pseudonym") and (
            identification != "pseudonym" or teller.pseudonym) else NAME_REMOVED
        keep_first = identification == "first_name"
        for variant in _variants(teller.name, keep_first=keep_first):
            swaps.setdefault(variant, target)
    return swaps


@lru_cache(maxsize=4096)
def _variants(name: str, keep_first: bool = False) -> tuple[str, ...]:
    """Ways a name may appear: in full, without a title, a title and surname, first name
    (remembered: a build asks for each story's names several times)."""
    core = _strip_honorific(name)
    parts = core.split()
    out = {name.strip(), core}
    if len(parts) >= 2:
        first, last = parts[0], parts[-1]
        for part in (first, last):
            if len(part) >= 2 or part == last:  # a lone initial ("J Smith") is left alone
                out.add(part)
        if keep_first:
            out.discard(first)
    elif parts and not keep_first:
        out.add(parts[0])
    return tuple(sorted((v for v in out if v), key=len, reverse=True))


def _key(name: str) -> str:
    return " ".join(name.split())


def name_pattern(names: list[str] | dict[str, str]) -> re.Pattern[str]:
    """A regular expression that matches as :class:`NameMatcher` does (group 1: the title,
    group 2: the name). Kept as the plain statement of the rule (tests check the matcher
    against it); compiling one per story cost ``storykit check`` 17 s on 10,000 stories."""
    keys = sorted({_key(k) for k in names if k.strip()}, key=lambda k: (-len(k), k))
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in key.split(" ")) for key in keys)
    return re.compile(r"(?<![^\W_])(" + _HON_RE + r")?(" + alternatives + r")(?![^\W_])")


@dataclass(frozen=True)
class NameMatch:
    """One name found in a text: ``start``/``end`` include a title before it ("Dr "),
    ``name`` is the name as written there (perhaps across a line break)."""

    start: int
    end: int
    name: str


class NameMatcher:
    """Finds any of a story's names as a whole word, with an optional title before it
    ("Dr", "Midwife"...). A name still matches when the text wraps it across lines, and
    Markdown emphasis (``_Carol_``) does not hide it: only letters and digits, not
    underscores, count as part of a word. At each place the longest name wins; matches
    never overlap (the leftmost wins), exactly as :func:`name_pattern` would find them.

    Made of plain string searches for each name's first word, so nothing is compiled per
    story: a site of 10,000 stories has thousands of different lists of names."""

    def __init__(self, names: list[str] | dict[str, str]):
        keys = sorted({_key(k) for k in names if k.strip()}, key=lambda k: (-len(k), k))
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for key in keys:  # longest first, so the first that matches at a place wins
            words = tuple(key.split(" "))
            self._by_first.setdefault(words[0], []).append(words)

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def finditer(self, text: str) -> Iterator[NameMatch]:
        """Every match in ``text``, left to right."""
        found: list[tuple[int, int, int]] = []  # (start of the name, -length, end)
        for first, candidates in self._by_first.items():
            at = text.find(first)
            while at >= 0:
                if at == 0 or not text[at - 1].isalnum():
                    end = _longest_at(text, at, candidates)
                    if end is not None:
                        found.append((at, at - end, end))
                at = text.find(first, at + 1)
        if not found:
            return
        found.sort()
        last = 0
        for at, _, end in found:
            if at < last:
                continue  # inside a longer name found first, or overlapping one
            start = _title_before(text, at, last)
            yield NameMatch(start, end, text[at:end])
            last = end

    def sub(self, replace, text: str) -> str:
        """``text`` with each match replaced by ``replace(text, match)``."""
        out, pos = [], 0
        for match in self.finditer(text):
            out += [text[pos:match.start], replace(text, match)]
            pos = match.end
        return "".join(out) + text[pos:] if out else text


def _longest_at(text: str, at: int, candidates: list[tuple[str, ...]]) -> int | None:
    """Where the first (longest) of ``candidates`` that is written at ``at`` ends, words
    apart by any whitespace and not running on into a letter or digit; None if none is."""
    size = len(text)
    for words in candidates:
        pos = at + len(words[0])
        for word in words[1:]:
            gap = pos
            while gap < size and text[gap].isspace():
                gap += 1
            if gap == pos or not text.startswith(word, gap):
                break
            pos = gap + len(word)
        else:
            if pos >= size or not text[pos].isalnum():
                return pos
    return None


_TITLES = frozenset(_HONORIFICS + tuple(h.upper() for h in _HONORIFICS))


def _title_before(text: str, at: int, floor: int) -> int:
    """Where a title written just before the name at ``at`` starts ("Dr. " in "Dr. Jones"),
    not reaching back before ``floor``; ``at`` when there is none."""
    gap = at
    while gap > floor and text[gap - 1].isspace():
        gap -= 1
    if gap == at:
        return at
    word_end = gap - 1 if gap > floor and text[gap - 1] == "." else gap
    start = word_end
    while start > floor and text[start - 1].isalpha():
        start -= 1
    if text[start:word_end] in _TITLES and (start == 0 or not text[start - 1].isalnum()):
        return start
    return at


def name_replacement(name: str, text: str, start: int, swaps: dict[str, str]) -> str:
    """What replaces one name found in ``text`` at ``start`` (a title before it goes too:
    "Dr Jones" -> "the consultant"), capitalised at a sentence start."""
    new = swaps.get(name)
    if new is None:  # written across lines or with other spacing than in the front matter
        key = _key(name)
        new = next(v for k, v in swaps.items() if _key(k) == key)
    if _sentence_start(text, start) and new[:1].islower():
        new = new[0].upper() + new[1:]
    return new


def _compile(swaps: dict[str, str]):
    if not swaps:
        return lambda text: text
    swaps = with_capitals(swaps)
    matcher = NameMatcher(swaps)

    def replace(text: str, match: NameMatch) -> str:
        return name_replacement(match.name, text, match.start, swaps)

    def swap(text: str) -> str:
        return matcher.sub(replace, text) if text else text

    return swap


def with_capitals(swaps: dict[str, str]) -> dict[str, str]:
    """``swaps`` and each name in capitals too: text that shouts a name (AISHA RAHMAN)
    names them as well."""
    out = dict(swaps)
    for key in swaps:
        out.setdefault(key.upper(), swaps[key])
    return out


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \"'\u201c\u2018*_(")
    return not before or before[-1] in ".!?\n#>"
