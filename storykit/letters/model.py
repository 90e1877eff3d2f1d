"""What a letter to a storyteller is, as data: who it goes to, what it says (and an Easy Read
version of the same), an optional short code and a reply slip. A plugin draws it in the
site's theme (the ``render_letter`` hook; storykit_letters is the first-party one) in the
style the storyteller prefers: standard, large print or Easy Read.

Easy Read is held to its rules here, where letters are made, so no style can print a long
sentence: every Easy Read sentence has at most :data:`EASY_READ_MAX_WORDS` words, and
``**bold**`` marks the key words (the only markup letters use)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..errors import StorykitError

#: The styles a letter can be drawn in (the storyteller's ``preferred_format``).
STYLES = ("standard", "large_print", "easy_read")
STYLE_WORDS = {"standard": "standard print", "large_print": "large print",
               "easy_read": "Easy Read"}
EASY_READ_MAX_WORDS = 15
#: Pictures Easy Read letters may use, each with the words that describe it (its alt text
#: unless a point gives its own). A letters plugin must draw every one of them.
ICONS = {
    "letter": "A letter in an envelope",
    "story": "A person talking, with a speech bubble",
    "calendar": "A calendar page",
    "question": "A question mark",
    "tick": "A green tick",
    "cross": "A red cross",
    "stop": "A hand held up to say stop",
    "people": "A group of people at a meeting",
    "website": "A computer screen showing a web page",
    "phone": "A telephone",
    "email": "An envelope with an @ sign",
    "care": "A heart held in two hands",
    "bin": "A waste paper bin",
}
BLOCK_KINDS = ("heading", "paragraph", "list")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\u201d\u2019]*\s+")
_WORD = re.compile(r"[^\s*]+")


class LetterError(StorykitError):
    """A letter that cannot be made as asked (the message says why, in words)."""


@dataclass(frozen=True)
class LetterBlock:
    """A part of the standard letter: a ``heading``, a ``paragraph`` or a ``list``."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class EasyReadPoint:
    """One idea in Easy Read: short sentences, key words in ``**bold**``, and a picture
    beside it (``icon``: a name in :data:`ICONS`; ``alt`` describes it if the default
    words do not fit)."""

    text: str
    icon: str | None = None
    alt: str | None = None

    @property
    def picture_words(self) -> str:
        return self.alt or (ICONS.get(self.icon, "") if self.icon else "")


@dataclass(frozen=True)
class ReplySlip:
    """A slip to cut off and send back: a heading, boxes to tick, and lines to fill in."""

    heading: str
    choices: tuple[str, ...]
    fill_in: tuple[str, ...] = ("Your name", "Date")
    send_back: str = "Please send this slip back to us in the envelope that came with this letter."


@dataclass(frozen=True)
class Letter:
    """A letter to a storyteller (or whoever letters about the story go to).

    ``body`` is the letter in standard words; ``easy_read`` says the same in Easy Read.
    ``style`` is the style to draw it in when none is asked for (their preference).
    ``code`` is a short code the reader can type on a public page (with ``code_help``)."""

    kind: str
    story_id: str
    date: dt.date
    recipient: str
    address: tuple[str, ...]
    greeting: str
    subject: str
    body: tuple[LetterBlock, ...]
    easy_subject: str
    easy_read: tuple[EasyReadPoint, ...]
    sign_off: str = "With best wishes,"
    signature: str = ""
    organisation: str = ""
    contact_email: str = ""
    reference: str = ""
    code: str | None = None
    code_help: str | None = None
    reply: ReplySlip | None = None
    easy_reply: ReplySlip | None = None
    style: str = "standard"
    language: str = "en-GB"
    notes: tuple[str, ...] = field(default=(), compare=False)

    def problems(self) -> list[str]:
        """What breaks the rules letters keep, as sentences."""
        found = []
        if self.style not in STYLES:
            found.append(f"style must be one of: {', '.join(STYLES)}")
        for block in self.body:
            if block.kind not in BLOCK_KINDS:
                found.append(f"a letter block must be one of: {', '.join(BLOCK_KINDS)}")
        found += easy_read_problems(self.easy_subject, [p.text for p in self.easy_read])
        if self.easy_reply is not None:
            found += easy_read_problems(self.easy_reply.heading, self.easy_reply.choices,
                                        [self.easy_reply.send_back])
        for point in self.easy_read:
            if point.icon is not None and point.icon not in ICONS:
                found.append(f"unknown Easy Read picture {point.icon!r}; known: "
                             f"{', '.join(ICONS)}")
            if point.icon is not None and not point.picture_words.strip():
                found.append("an Easy Read picture needs words that describe it")
        if not self.easy_read:
            found.append("a letter needs its Easy Read version")
        return found

    def checked(self) -> Letter:
        problems = self.problems()
        if problems:
            raise LetterError(f"the {self.kind} letter cannot be made: " + "; ".join(problems))
        return self


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (after . ! or ?), without the bold marks."""
    plain = " ".join(text.replace("**", "").split())
    return [s for s in _SENTENCE_END.split(plain) if s.strip()]


def word_count(sentence: str) -> int:
    """Words as a reader counts them: an email address or a date's number is one word."""
    return len(_WORD.findall(sentence.replace("**", "")))


def easy_read_problems(*texts) -> list[str]:
    """Every Easy Read sentence in ``texts`` (strings or lists of them) longer than
    :data:`EASY_READ_MAX_WORDS` words, and bold marks that do not pair up. Messages say
    which part and how long, not the words (they may name the story)."""
    found = []
    for number, text in enumerate(_flatten(texts), 1):
        if text.count("**") % 2:
            found.append(f"the bold marks (**) do not pair up in Easy Read part {number}")
        for sentence in sentences(text):
            words = word_count(sentence)
            if words > EASY_READ_MAX_WORDS:
                found.append(f"Easy Read part {number} has a sentence of {words} words "
                             f"(at most {EASY_READ_MAX_WORDS})")
    return found


def easy(*candidates: str) -> str:
    """The first of ``candidates`` whose sentences all keep the Easy Read length (e.g. one
    naming a long meeting, then a shorter one that does not), or LetterError."""
    for text in candidates:
        if not easy_read_problems(text):
            return text
    raise LetterError(f"no Easy Read wording fits in {EASY_READ_MAX_WORDS} words a sentence")


def _flatten(items) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            out += _flatten(item)
    return out
