"""Privacy checks: find details in a story that could identify someone, and offer a fix.

Pure and fast (regular expressions only: no network, no language models), so the editor can run
it on every keystroke and ``storykit check`` on every story. It looks for NHS numbers (with a
valid check digit), other long numbers, UK phone numbers, email addresses, UK postcodes, dates
of birth, and names the consent says must not appear (the same name variants the consent
reduction in :mod:`storykit.consent` replaces).

A :class:`PrivacyFinding` never holds the matched text: only where it is and a masked excerpt
(``999 *** ****``), so findings are safe to log. :func:`apply_replacement` and
:func:`apply_all` are the one-click fixes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .consent import NameMatcher, name_replacement, name_swaps, teller_swaps, with_capitals
from .model import IDENTIFICATION, Story

KINDS = ("nhs_number", "email", "phone", "date_of_birth", "postcode", "name", "long_number")
#: When two findings overlap, the kind listed first wins.
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}
#: Severities people see. A *blocking* finding stops the story being sent for review,
#: approved, published or rendered for a use until it is fixed or a reviewer dismisses it
#: (:mod:`storykit.findings`); an *advisory* one is worth a look.
BLOCKING, ADVISORY = "blocking", "advisory"
#: Advisory: a long number may not be an identifier, and the names listed under ``people``
#: are replaced by their ``render_as`` whenever a story is rendered. The storyteller's own
#: name where the consent hides it is blocking (decided per finding, in :func:`_names`).
_ADVISORY = frozenset({"long_number"})

REPLACEMENTS = {
    "nhs_number": "[NHS number removed]",
    "long_number": "[number removed]",
    "phone": "[phone number removed]",
    "email": "[email removed]",
    "postcode": "[postcode removed]",
    "date_of_birth": "[date of birth removed]",
}
_WHAT = {
    "nhs_number": ("an NHS number", "take it out"),
    "long_number": ("a long number", "check it is not a hospital number or other identifier"),
    "phone": ("a phone number", "take it out, unless it is a public service number"),
    "email": ("an email address", "take it out, unless it is a public service address"),
    "postcode": ("a postcode", "take it out, or give the town only"),
    "date_of_birth": ("a date of birth", "give the month and year only"),
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True)
class PrivacyFinding:
    """Something in one text field that may identify a person.

    ``start``/``end`` are character offsets in the field's text; ``line`` and ``column`` are
    1-based. The matched text itself is never stored: ``excerpt_masked`` shows its shape.
    ``severity`` is :data:`BLOCKING` or :data:`ADVISORY` (worth a look).
    """

    kind: str
    field: str
    start: int
    end: int
    line: int
    column: int
    excerpt_masked: str
    message: str
    replacement: str
    code: str
    severity: str = BLOCKING
    what: str = ""  #: the kind in words: "a phone number", "the storyteller's name"


@dataclass(frozen=True)
class _Hit:
    kind: str
    start: int
    end: int
    replacement: str
    what: str = ""
    advice: str = ""
    severity: str = ""


# --- the public API ------------------------------------------------------------------------


def find_privacy_issues(story: Story, *, identification: str | None = None,
                        allow: Iterable[str] = ()) -> list[PrivacyFinding]:
    """Every privacy finding in the story's text fields, field by field, in reading order.

    ``identification`` defaults to the current consent's level; a story with no consent is
    checked as ``anonymous``, the strictest. ``allow`` lists exact values (e.g. the trust's
    public PALS phone number) that are never flagged; case and spaces do not matter.
    """
    level = _identification(story, identification)
    names = NameRules.for_story(story, level)
    allowed = _allow_set(allow)
    found: list[PrivacyFinding] = []
    for field, text in story_fields(story):
        found += scan_text(text, field, names=names, allow=allowed)
    return found


def scan_text(text: str, field: str = "body", *, names: NameRules | None = None,
              allow: Iterable[str] = ()) -> list[PrivacyFinding]:
    """The findings in one text (e.g. the editor's current body), sorted by position.
    ``names`` (:meth:`NameRules.for_story`) adds the story's names; ``allow`` as in
    :func:`find_privacy_issues`."""
    allowed = allow if isinstance(allow, frozenset) else _allow_set(allow)
    if not text:
        return []
    hits = list(_detect(text, names))
    if not hits:
        return []
    if allowed:
        hits = [h for h in hits if normal_value(text[h.start:h.end]) not in allowed]
    lines = _LineIndex(text)
    return [_finding(text, field, h, lines) for h in _resolve(hits)]


def story_fields(story: Story) -> list[tuple[str, str]]:
    """``(field, text)`` for every text field readers or presenters see, body first.
    (Not the storyteller or ``people``: those are where the real names belong.)"""
    out = [("body", story.body), ("title", story.title)]
    out += [(name, getattr(story, name)) for name in ("summary", "content_warning",
                                                      "speaker_notes")]
    for name in ("quotes", "changes", "asks"):
        out += [(f"{name}[{i}]", text) for i, text in enumerate(getattr(story, name))]
    out += [(f"images[{i}].alt", image.alt) for i, image in enumerate(story.images)]
    return [(field, text) for field, text in out if text]


@functools.lru_cache(maxsize=512)
def field_label(field: str) -> str:
    """A plain-English name for a field, e.g. ``quotes[1]`` -> "quote 2"."""
    fixed = {"body": "the story text", "title": "the title", "summary": "the summary",
             "content_warning": "the content warning", "speaker_notes": "the speaker notes"}
    if field in fixed:
        return fixed[field]
    m = re.fullmatch(r"(quotes|changes|asks)\[(\d+)\]|images\[(\d+)\]\.alt", field)
    if not m:
        raise ValueError(f"unknown story field {field!r}")
    if m.group(3):
        return f"the alt text of image {int(m.group(3)) + 1}"
    return f"{m.group(1)[:-1]} {int(m.group(2)) + 1}"


def field_path(field: str) -> tuple[str | int, ...]:
    """The front-matter path of a field: ``images[0].alt`` -> ``("images", 0, "alt")``."""
    parts: list[str | int] = []
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", field):
        parts.append(int(index) if index else name)
    return tuple(parts)


def sentence_span(text: str, finding: PrivacyFinding) -> tuple[int, int]:
    """Where the sentence holding ``finding`` starts and ends in ``text`` (its field's
    text): what people are shown around a finding, and what a dismissal is tied to. A very
    long sentence is cut a thousand characters either side."""
    return _sentence_around(text, finding.start, finding.end)


def apply_replacement(text: str, finding: PrivacyFinding) -> str:
    """``text`` with one finding replaced. Raises ValueError if the text has changed since
    it was checked (the span no longer holds what was found)."""
    _verify(text, finding)
    return text[:finding.start] + finding.replacement + text[finding.end:]


def apply_all(text: str, findings: Iterable[PrivacyFinding]) -> str:
    """``text`` with every finding replaced, working from the end so offsets stay valid.

    All findings must belong to the same field; overlapping findings are refused."""
    ordered = sorted(findings, key=lambda f: f.start, reverse=True)
    if len({f.field for f in ordered}) > 1:
        raise ValueError("apply_all needs findings from one field; use apply_to_story")
    limit = len(text) + 1
    for finding in ordered:
        if finding.end > limit:
            raise ValueError("two findings overlap; check the text again and apply them one "
                             "at a time")
        _verify(text, finding)
        limit = finding.start
    for finding in ordered:
        text = text[:finding.start] + finding.replacement + text[finding.end:]
    return text


def apply_to_story(story: Story, findings: Iterable[PrivacyFinding]) -> Story:
    """A copy of ``story`` with every finding replaced in its field."""
    by_field: dict[str, list[PrivacyFinding]] = {}
    for finding in findings:
        by_field.setdefault(finding.field, []).append(finding)
    fixed = {field: apply_all(field_text(story, field), group)
             for field, group in by_field.items()}
    return _with_fields(story, fixed)


def is_valid_nhs_number(digits: str) -> bool:
    """The NHS number modulus 11 check (weights 10..2 on digits 1-9; 11 -> 0, 10 -> invalid)."""
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def mask(kind: str, value: str) -> str:
    """The shape of ``value`` with most of it hidden, safe to show in logs."""
    if kind == "email":
        local, _, domain = value.partition("@")
        labels = domain.split(".")
        hidden = [_hide_word(label) for label in labels[:-1]] + labels[-1:]
        return _hide_word(local) + "@" + ".".join(hidden)
    if kind == "name":
        return " ".join(_hide_word(word) for word in value.split(" "))
    if kind == "postcode":
        return _keep_alnum(value, 2)
    if kind == "date_of_birth":
        return _keep_alnum(value, 0)
    return _keep_alnum(value, 3)


# --- names ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameRules:
    """The names one story must not show at one identification level, and their swaps."""

    swaps: dict[str, str]
    teller: frozenset[str]
    matcher: NameMatcher | None

    @classmethod
    def for_story(cls, story: Story, identification: str) -> NameRules:
        """Built from the consent module's name variants, so checks and reduction agree
        (ALL-CAPS forms, as in headings, are added as the reduction adds them)."""
        if identification not in IDENTIFICATION:
            raise ValueError(f"unknown identification level {identification!r}; use one of: "
                             f"{', '.join(IDENTIFICATION)}")
        plain = name_swaps(story, identification)
        teller = {_words(k) for k in teller_swaps(story, identification)}
        teller |= {k.upper() for k in teller}
        swaps = with_capitals(plain)
        return cls(swaps, frozenset(teller), NameMatcher(swaps) if swaps else None)


def _names(text: str, rules: NameRules | None) -> Iterator[_Hit]:
    if rules is None or rules.matcher is None:
        return
    for m in rules.matcher.finditer(text):
        new = name_replacement(m.name, text, m.start, rules.swaps)
        if new == text[m.start:m.end]:
            continue
        advice = f"replace it with \u201c{new}\u201d (what readers already see)"
        if _words(m.name) in rules.teller:
            what, severity = "the storyteller's name", BLOCKING
            advice = "the consent does not allow it here: " + advice
        else:
            what, severity = "a name listed under people", ADVISORY
        yield _Hit("name", m.start, m.end, new, what, advice, severity)


# --- detectors -----------------------------------------------------------------------------

class _Lazy:
    """A pattern compiled when first used. Most texts hold no hint of a number, date,
    postcode or email address (:data:`_HINTS`), so a build of such stories never uses the
    patterns that find them, and need not compile them all as it starts (several ms,
    before its workers fork)."""

    def __init__(self, *args: Any):
        self._args = args

    def __getattr__(self, name: str) -> Any:
        """The compiled pattern's attribute, kept here: later look-ups find it directly."""
        pattern = self.__dict__.get("_pattern")
        if pattern is None:
            pattern = self._pattern = re.compile(*self._args)
        value = getattr(pattern, name)
        setattr(self, name, value)
        return value


# Numbers may touch letters ("NHS:9990000018", "_999 000 0018_") but not other digits.
# Patterns start with the first character itself and check what comes before it afterwards
# (the look-behinds are one character wider): the regex engine can then jump straight to
# likely places instead of trying every position, which is about 5 times faster.
_BEFORE_DIGIT = r"(?<![0-9+][0-9])(?<![0-9][.,/-][0-9])"  # after the first digit
_AFTER_NUMBER = r"(?![0-9])(?![.,/-][0-9])"
# Other things end at a letter or digit; an underscore (Markdown emphasis) is not part of them.
_START, _END = r"(?<![^\W_])", r"(?![^\W_])"
_NHS = _Lazy(r"[0-9]" + _BEFORE_DIGIT + r"[0-9]{2}([ -]?)[0-9]{3}\1[0-9]{4}" + _AFTER_NUMBER)
_LONG = _Lazy(r"[0-9]" + _BEFORE_DIGIT + r"[0-9]{7,}" + _AFTER_NUMBER)
_PHONE = _Lazy(
    r"(?:\+(?<!\+\+) ?44"  # +44, +44 (0)
    r"|0(?<![0-9+]0)(?<![0-9][.,/-]0)(?:044)?"  # 0..., 0044
    r"|\((?<![0-9+]\()(?<![0-9][.,/-]\()0[0-9]{1,4}\))"  # (020)
    r"(?: ?\(0\))? ?[0-9](?:[ -]?[0-9]){6,11}" + _AFTER_NUMBER
)
_DIGIT_RUN = _Lazy(r"[0-9]+")
_EMAIL = _Lazy(
    r"(?<![A-Za-z0-9.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_EMAIL_BACK = 65  # the longest local part, and the character before it
_EMAIL_AHEAD = 320  # longer than any domain name (253)
_POSTCODE = _Lazy(
    _START + r"(GIR\s?0AA|[A-PR-UWYZ][0-9][ABCDEFGHJKPSTUW]?\s?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][0-9]{2}\s?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]?\s?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{2}\s?[0-9][ABD-HJLNP-UW-Z]{2})" + _END,
    re.IGNORECASE,
)
#: Case is ignored after the digit only (digits have none): the engine can then jump from
#: digit to digit, where a pattern ignoring case throughout tries every character.
_INWARD = _Lazy(r"[0-9](?i:[ABD-HJLNP-UW-Z]{2})" + _END)
#: Lower-case endings that look like an inward code but are ordinals or units ("B12 2nd").
_NOT_INWARD = {"st", "nd", "rd", "th", "hr", "lb"}
_MONTH_RE = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
             r"|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
#: Searched only in sentences with a birth word, so short texts.
_DATES = (
    _Lazy(_START + r"(?<![/.-])(?P<day>\d{1,2})(?P<sep>[/.-])(?P<mon>\d{1,2})(?P=sep)"
               r"(?P<year>\d{4}|\d{2})" + _END + r"(?![/-]\w)(?!\.\d)", re.ASCII),
    _Lazy(_START + r"(?<![/.-])(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})" + _END
               + r"(?![/-]\w)(?!\.\d)", re.ASCII),
    _Lazy(_START + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?: of)? " + _MONTH_RE
               + r",? (?P<year>\d{4}|'?\d{2})" + _END, re.IGNORECASE | re.ASCII),
    _Lazy(_START + _MONTH_RE + r" (?P<day>\d{1,2})(?:st|nd|rd|th)?,? (?P<year>\d{4})"
               + _END, re.IGNORECASE | re.ASCII),
)
#: Born, birth, birthday, DOB, D.O.B (searched in lower case). The word-start checks come
#: after the first letter so the engine can jump between b's and d's: about 5 times faster.
_DOB_CONTEXT = _Lazy(r"(?:b(?<![^\W_]b)(?:orn|irthday|irth)|d(?<![^\W_]d)(?:ob|\.o\.b))\b")
#: A full stop (not of "DOB.") and space before anything but a small letter, or a blank line.
_SENTENCE_END = _Lazy(r"(?=[.!?\n])(?<![Dd]\.[Oo]\.[Bb])(?<![Dd][Oo][Bb])[.!?][\"'\u201d\u2019)]*\s+"
                           r"(?![a-z])|\n[ \t]*\n")
_REACH = 1000  # characters: a longer sentence is cut here
_FIXED = _Lazy(r"\[[a-zA-Z ]+ removed\]")


#: What every NHS number, long number, phone number and date holds somewhere in it (so a
#: text without it has none of them, and they are not looked for one by one): seven digits
#: with at most one space or dash between each two (the numbers), or the end of a date from
#: the last digit of its day (each pattern of :data:`_DATES` without what it checks around
#: the date, and one written month first from its day); or what every postcode ends with,
#: its inward code (:data:`_INWARD`). One search where there were six. (Case is ignored in
#: the Unicode way, the number part a little more widely than the dates do: a hint may find
#: more, never less.)
_HINTS = re.compile(
    r"[0-9](?:(?P<number>(?:[ -]?[0-9]){6}"
    r"|[/.-][0-9]{1,2}[/.-][0-9]{2}"  # 12/03/1984, 1.3.84, and 1984-03-12 from its 4
    r"|(?i:(?:st|nd|rd|th)?(?: of)? " + _MONTH_RE.replace("?P<month>", "?:")
    + r",? '?[0-9]{2}"  # 12th of March 1984
    r"|(?:st|nd|rd|th)?,? [0-9]{4}))"  # (March) 12th, 1984
    r"|(?P<inward>(?i:[ABD-HJLNP-UW-Z]{2})" + _END + "))")


def _detect(text: str, names: NameRules | None, every: bool = False) -> Iterator[_Hit]:
    """Every hit in ``text``. Every kind but names and emails holds :data:`_HINTS`
    (``every``: look for them all the same, for tests). A number or date is looked for
    when a number's hint is found; postcodes when any is (an inward code inside a number
    found first may be hidden by it)."""
    hints = {"number"} if every else _hints(text)
    if "number" in hints:
        yield from _numbers(text)
        yield from _phones(text)
    if hints:
        yield from _postcodes(text)
    if "number" in hints:
        yield from _dates_of_birth(text)
    if "@" in text:
        yield from _emails(text)
    yield from _names(text, names)


def _hints(text: str) -> set[str | None]:
    """The kinds of :data:`_HINTS` found in ``text``, up to the first number's (then every
    kind is looked for: no need to read on)."""
    found = set()
    for m in _HINTS.finditer(text):
        found.add(m.lastgroup)
        if m.lastgroup == "number":
            break
    return found


def _numbers(text: str) -> Iterator[_Hit]:
    """NHS numbers (valid check digit) and other 10-digit or longer numbers (low severity)."""
    for m in _NHS.finditer(text):
        digits = m.group(0).replace(m.group(1), "") if m.group(1) else m.group(0)
        kind = "nhs_number" if is_valid_nhs_number(digits) else "long_number"
        yield _Hit(kind, m.start(), m.end(), REPLACEMENTS[kind])
    for m in _LONG.finditer(text):
        if len(m.group(0)) != 10 or not is_valid_nhs_number(m.group(0)):
            yield _Hit("long_number", m.start(), m.end(), REPLACEMENTS["long_number"])


def _phones(text: str) -> Iterator[_Hit]:
    """UK numbers: 07xxx mobiles, 01/02/03 landlines, 08/09 numbers, +44 and 0044 forms.
    A number running on into more digits is cut back, group by group, to a valid length."""
    pos = 0
    while m := _PHONE.search(text, pos):
        end = _phone_end(m)
        if end is None:
            pos = m.start() + 1  # a run that is not a phone number may hide one inside it
            continue
        yield _Hit("phone", m.start(), end, REPLACEMENTS["phone"])
        pos = end


def _phone_end(m: re.Match[str]) -> int | None:
    """Where the phone number in a candidate ends, dropping digit groups from the end."""
    runs = list(_DIGIT_RUN.finditer(m.group(0)))
    for count in range(len(runs), 0, -1):
        digits = "".join(r.group(0) for r in runs[:count])
        if _is_uk_phone(digits, m.group(0)[0] == "+" or digits.startswith("0044")):
            return m.start() + runs[count - 1].end()
    return None


def _is_uk_phone(digits: str, international: bool) -> bool:
    if international:
        digits = digits[4:] if digits.startswith("0044") else digits[2:]
        digits = digits[1:] if digits.startswith("0") else digits
        digits = "0" + digits
    if len(digits) == 11:
        return digits[1] in "1235789"
    return len(digits) == 10 and digits[1] in "18"


def _emails(text: str) -> Iterator[_Hit]:
    """Found from their "@", looking back at most a local part's length: the pattern alone
    tries every letter of the text (most of the time of a long story's check)."""
    pos = 0
    at = text.find("@")
    while at >= 0:
        m = _EMAIL.search(text, max(pos, at - _EMAIL_BACK), at + _EMAIL_AHEAD)
        if m is not None and m.start() <= at:
            yield _Hit("email", m.start(), m.end(), REPLACEMENTS["email"])
            pos = m.end()
            at = text.find("@", pos)
        else:
            at = text.find("@", at + 1)


def _postcodes(text: str) -> Iterator[_Hit]:
    """Found from their inward code ("2AA"), which is rare in prose, looking back from it."""
    for inward in _INWARD.finditer(text):
        end = inward.end()
        m = _POSTCODE.search(text, max(0, end - 8), min(len(text), end + 1))
        if m is None or m.end() != end:
            continue
        value = m.group(0)
        inward = value[-2:]
        if value != value.upper() and inward.lower() in _NOT_INWARD:
            continue
        yield _Hit("postcode", m.start(), m.end(), REPLACEMENTS["postcode"])


def _dates_of_birth(text: str) -> Iterator[_Hit]:
    """Real dates written in a UK way, in a sentence with "born", "DOB", "birthday"...

    A sentence, not a distance: fixing other details nearby changes their length, and that
    must not change what counts as a date of birth."""
    seen: set[tuple[int, int]] = set()
    for start, end in _birth_sentences(text):
        for pattern in _DATES:
            for m in pattern.finditer(text, start, end):
                when = _date_of(m)
                if when is None or m.span() in seen:
                    continue
                seen.add(m.span())
                yield _Hit("date_of_birth", m.start(), m.end(), _month_and_year(text, m, when))


def _birth_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences with a birth word ("[date of birth removed]" left by an
    earlier fix does not count)."""
    lower = text.lower()  # a case-sensitive search is much faster
    if len(lower) != len(text):  # a few letters change length in lower case
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    fixed = [m.span() for m in _FIXED.finditer(text)] if "removed]" in text else []
    spans: list[tuple[int, int]] = []
    for word in _DOB_CONTEXT.finditer(lower):
        if any(a <= word.start() < b for a, b in fixed):
            continue
        if spans and word.start() < spans[-1][1]:
            continue  # the same sentence as the last one
        spans.append(_sentence_around(text, word.start(), word.end()))
    return spans


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    low = max(0, start - _REACH)
    ends = list(_SENTENCE_END.finditer(text, low, start + 1))
    first = ends[-1].end() if ends else low
    after = _SENTENCE_END.search(text, end, end + _REACH)
    return first, after.start() if after else min(len(text), end + _REACH)


def _date_of(m: re.Match[str]) -> dt.date | None:
    groups = m.groupdict()
    raw_month = groups.get("mon") or groups.get("month") or ""
    month = int(raw_month) if raw_month.isdigit() else _month_number(raw_month)
    year_text = groups["year"].lstrip("'")
    year = int(year_text)
    if len(year_text) == 2:
        this_year = dt.date.today().year
        year += 2000 if 2000 + year <= this_year else 1900
    try:
        when = dt.date(year, month, int(groups["day"]))
    except ValueError:
        return None
    return when if when.year >= 1900 and when <= dt.date.today() else None


def _month_and_year(text: str, m: re.Match[str], when: dt.date) -> str:
    """"March 1984"; but if that would read as a full date with the text around it
    (e.g. after "2nd"), the whole date goes."""
    new = f"{_MONTHS[when.month - 1]} {when.year}"
    before, after = text[max(0, m.start() - 20):m.start()], text[m.end():m.end() + 20]
    joined = before + new + after
    span = range(len(before), len(before) + len(new))
    for pattern in _DATES:
        if any(x.start() in span or x.end() - 1 in span for x in pattern.finditer(joined)):
            return REPLACEMENTS["date_of_birth"]
    return new


def _month_number(word: str) -> int:
    word = word.rstrip(".").lower()[:3]
    return [m[:3].lower() for m in _MONTHS].index(word) + 1


# --- building findings ---------------------------------------------------------------------


def _resolve(hits: list[_Hit]) -> list[_Hit]:
    """Drop overlapping hits, keeping the higher-priority kind, then the longer one. The
    kept hits never overlap, so only the neighbours of a new one's place can (found by
    bisection: a text with 12,000 phone numbers took 20 s when each was compared with all)."""
    ranked = sorted(hits, key=lambda h: (_PRIORITY[h.kind], h.start - h.end, h.start))
    starts: list[int] = []
    kept: list[_Hit] = []  # in the order of starts
    for hit in ranked:
        i = bisect.bisect_right(starts, hit.start)
        if (i == 0 or kept[i - 1].end <= hit.start) and (
                i == len(kept) or hit.end <= kept[i].start):
            starts.insert(i, hit.start)
            kept.insert(i, hit)
    return kept


def _finding(text: str, field: str, hit: _Hit, lines: _LineIndex) -> PrivacyFinding:
    masked = mask(hit.kind, text[hit.start:hit.end])
    what, advice = (hit.what, hit.advice) if hit.kind == "name" else _WHAT[hit.kind]
    line, column = lines.position(hit.start)
    return PrivacyFinding(
        kind=hit.kind, field=field, start=hit.start, end=hit.end, line=line, column=column,
        excerpt_masked=masked, message=f"{what} ({masked}): {advice}",
        replacement=hit.replacement, code=f"privacy_{hit.kind}",
        severity=hit.severity or (ADVISORY if hit.kind in _ADVISORY else BLOCKING), what=what,
    )


class _LineIndex:
    """1-based line and column of an offset, by binary search over the newlines."""

    def __init__(self, text: str):
        self.starts = [0]
        if "\n" in text:
            self.starts += [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def _verify(text: str, finding: PrivacyFinding) -> None:
    if not 0 <= finding.start < finding.end <= len(text) or \
            mask(finding.kind, text[finding.start:finding.end]) != finding.excerpt_masked:
        raise ValueError(f"the text of {field_label(finding.field)} has changed since it was "
                         "checked; check it again")


# --- helpers -------------------------------------------------------------------------------


def _identification(story: Story, identification: str | None) -> str:
    if identification is None:
        consent = story.current_consent
        return consent.identification if consent else "anonymous"
    return identification


def _allow_set(allow: Iterable[str]) -> frozenset[str]:
    if isinstance(allow, str):
        raise TypeError("allow must be a list of values, not a single string")
    values = list(allow)
    bad = [v for v in values if not isinstance(v, str) or not v.strip()]
    if bad:
        raise TypeError("allow must hold only non-empty text values")
    return frozenset(normal_value(v) for v in values)


def _words(value: str) -> str:
    """A name with any run of spaces or line breaks as one space ("Carol\nPegg")."""
    return " ".join(value.split())


def normal_value(value: str) -> str:
    """A detail without spaces or case, to compare two ways of writing it."""
    return "".join(value.split()).casefold()


def _hide_word(word: str) -> str:
    """All but the first character hidden; a word of one or two characters is hidden whole
    (so a mask never shows a whole value)."""
    keep = 1 if len(word) > 2 else 0
    return word[:keep] + "*" * (len(word) - keep)


def _keep_alnum(value: str, keep: int) -> str:
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            out.append(c if seen < keep else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def field_text(story: Story, field: str) -> str:
    """The text of one field of ``story``, as named in :attr:`PrivacyFinding.field`."""
    texts = dict(story_fields(story))
    if field not in texts:
        raise ValueError(f"the story has no text in field {field!r}")
    return texts[field]


def _with_fields(story: Story, fixed: dict[str, str]) -> Story:
    changes: dict[str, object] = {}
    for field, text in fixed.items():
        path = field_path(field)
        if len(path) == 1:
            changes[path[0]] = text  # type: ignore[index]
        elif path[0] == "images":
            images = changes.setdefault("images", list(story.images))
            images[path[1]] = replace(images[path[1]], alt=text)  # type: ignore[index]
        else:
            items = changes.setdefault(path[0], list(getattr(story, path[0])))  # type: ignore[arg-type]
            items[path[1]] = text  # type: ignore[index]
    return story.copy(**changes)
