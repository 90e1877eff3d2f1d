"""Telling storytellers what was decided because of their stories: the outcome letter (a
:class:`storykit.letters.Letter`, drawn in the storyteller's preferred format by the
``render_letter`` hook), and the log of who was told, when and how (``outcome_messages``: like
the distribution log, but of the team's news to a storyteller, not of their story).

The seam for other ways of telling (a one-time link for answering online, email when consent
and contact details allow it): :func:`outcome_letter` takes the link's ``code`` and
``code_help`` to print, and :func:`record_told` logs any channel (``letter``, ``email``,
``link``). :func:`tell_storyteller` is the whole letter path for one story;
:mod:`storykit.outcomes.telling` chooses between email and letter and issues the links."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..dates import nice_date, today
from ..letters import (
    STYLE_WORDS,
    EasyReadPoint,
    Letter,
    LetterBlock,
    LetterError,
    ReplySlip,
    addressee,
    easy,
    write_letter,
)
from ..letters.addressing import signature
from .recording import outcome_log
from .records import Message, Outcome

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

KIND = "outcome"
#: What each stage means for the storyteller, in the standard letter.
STAGE_WORDS = {
    "proposed": "This is an idea we are looking at. We have not decided yet, and what you "
                "think will help us decide.",
    "agreed": "We have agreed to do this.",
    "in_progress": "We have started to do this.",
    "done": "This has been done.",
    "not_taken": "We looked at this carefully and decided not to do it.",
}
EASY_STAGE = {
    "proposed": ("We are **thinking** about this idea.", "question"),
    "agreed": ("We have **agreed** to do this.", "tick"),
    "in_progress": ("We have **started** to do this.", "tick"),
    "done": ("This change is **done** now.", "tick"),
    "not_taken": ("We decided **not** to do this.", "cross"),
}


def _plain(text: str) -> str:
    """Typed words as letter text: one line, and no ``**`` (the letters' only markup)."""
    return " ".join(text.replace("*", "").split())


def outcome_letter(site: Site, outcome: Outcome, story: Story, *, code: str | None = None,
                   code_help: str | None = None) -> Letter:
    """The letter telling the storyteller of ``story`` what was decided (``outcome``) and how
    to answer. LetterError when they cannot be written to (no contact details, or they asked
    not to be contacted). ``code``/``code_help``: a one-time code to answer online."""
    if story.id not in outcome.story_ids:
        raise LetterError(f"outcome {outcome.id} is not about story {story.id}")
    to = addressee(story)
    title, what = _plain(story.title), _plain(outcome.title)
    email = site.config.contact_email
    heard = f" It was heard at {_plain(outcome.meeting)}" if outcome.meeting else ""
    if heard and outcome.meeting_date:
        heard += f" on {nice_date(outcome.meeting_date)}"
    body = [
        LetterBlock("paragraph", f"Thank you for sharing your story, \u201c{title}\u201d."
                                 f"{heard + '.' if heard else ''} We said we would tell you "
                                 "what we decided because of it. This letter does that."),
        LetterBlock("heading", "What we decided"),
        LetterBlock("paragraph", what),
    ]
    if outcome.why.strip():
        body.append(LetterBlock("paragraph", "Why: " + _plain(outcome.why)))
    body.append(LetterBlock("paragraph", _stage(outcome)))
    answer = ("We would like to know what you think about this. You can fill in the slip at "
              "the end of this letter and send it back to us")
    answer += f", or email us at {email}." if email else "."
    body += [LetterBlock("heading", "Tell us what you think"),
             LetterBlock("paragraph", answer + " There is no need to answer if you would "
                                               "rather not. It will not change your care.")]
    return Letter(
        kind=KIND, story_id=story.id, date=today(), recipient=to.name, address=to.address,
        greeting=f"Dear {to.name},", subject="What we did after hearing your story",
        body=tuple(body), easy_subject="What we did after your story",
        easy_read=tuple(_easy(outcome, email)), signature=signature(site),
        organisation=site.config.organisation, contact_email=email,
        reference=f"{outcome.id} / {story.id}", code=code, code_help=code_help,
        reply=ReplySlip("What do you think?", (
            "I am glad about this.", "I would like to talk to someone about it.",
            "I have something to add (please write it below)."),
            fill_in=("Your comments", "Your name", "Date")),
        easy_reply=ReplySlip("What do you think?", (
            "I like this.", "I want to talk to someone.", "I have more to say.")),
        style=to.style, language=site.config.language or "en-GB").checked()


def _stage(outcome: Outcome) -> str:
    words = STAGE_WORDS[outcome.status]
    if outcome.status in ("agreed", "in_progress") and outcome.due:
        words += f" We expect it to be done by {nice_date(outcome.due)}."
    if outcome.status == "done" and outcome.done_on:
        words = f"This was done on {nice_date(outcome.done_on)}."
    if outcome.status == "not_taken" and outcome.reason.strip():
        words += " The reason is: " + _plain(outcome.reason)
        words += "" if words.endswith((".", "!", "?")) else "."
    return words


def _easy(outcome: Outcome, email: str) -> list[EasyReadPoint]:
    what = _plain(outcome.title).rstrip(".")
    points = [EasyReadPoint("Thank you for telling us your **story**.", "story")]
    if outcome.meeting:
        points.append(EasyReadPoint(easy(f"People at **{_plain(outcome.meeting)}** heard "
                                         "your story.", "A **meeting** heard your story."),
                                    "people"))
    points.append(EasyReadPoint(easy(f"We decided: **{what}**.",
                                     "We decided to make a **change** because of your story."),
                                "letter"))
    stage, icon = EASY_STAGE[outcome.status]
    points.append(EasyReadPoint(stage, icon))
    if outcome.status == "not_taken" and outcome.reason.strip():
        points.append(EasyReadPoint(easy(f"This is why: {_plain(outcome.reason)}",
                                         "Ask us and we will tell you **why**."), "question"))
    points.append(EasyReadPoint("Tell us what you **think**. You do not have to.", "question"))
    if email:
        points.append(EasyReadPoint(f"Email us at **{email}**.", "email"))
    points.append(EasyReadPoint("Or send back the **slip** at the end.", "letter"))
    return points


@dataclass(frozen=True)
class Told:
    """What happened for one story's storyteller: told by ``channel`` (``email``, or
    ``letter`` written at ``path``, ``coded`` when it carries a code to answer online), or
    not told (``channel`` empty) and ``why_not``."""

    story_id: str
    path: Path | None = None
    style: str = ""
    why_not: str = ""
    message: Message | None = None
    channel: str = ""
    coded: bool = False

    @property
    def style_words(self) -> str:
        return STYLE_WORDS.get(self.style, self.style)

    def words(self, title: str) -> str:
        """What happened, in a sentence staff read (the story's title, never the
        storyteller's name or address)."""
        if self.channel == "email":
            return f"An email to the storyteller of \u201c{title}\u201d is on its way."
        if self.channel == "letter":
            article = "An" if self.style_words[:1] in "AEIOU" else "A"
            return f"{article} {self.style_words} letter for \u201c{title}\u201d is ready."
        return f"No letter for \u201c{title}\u201d: {self.reason_words}"

    @property
    def reason_words(self) -> str:
        """Why they were not told, in plain words."""
        for found, words in (("asked not to be contacted",
                              "the storyteller asked not to be contacted."),
                             ("no contact details",
                              "there are no contact details in the consent record."),
                             ("withdrawn", "consent was withdrawn."),
                             ("no longer on record", "the story is no longer on record."),
                             ("already exists", "a letter is already there (replace it to "
                                                "write it again)."),
                             ("cannot write", "the folder cannot be written to.")):
            if found in self.why_not:
                return words
        return "it could not be made. Ask whoever runs the site to check it."

    def to_json(self) -> dict:
        return {"story": self.story_id, "told": self.channel or None, "style": self.style or None,
                "letter": str(self.path) if self.path else None, "code": self.coded,
                "why_not": self.reason_words if not self.channel else None}


def record_told(site: Site, outcome_id: str, story_id: str, *, channel: str, style: str,
                content: bytes, by: str) -> Message:
    """Log that a storyteller was told about an outcome by ``channel`` (what was sent is
    kept only as its hash). Email and one-time links log through here too."""
    return outcome_log(site).log_message(outcome_id, story_id, channel=channel, style=style,
                                         sha256=hashlib.sha256(content).hexdigest(), by=by)


def tell_storyteller(site: Site, outcome: Outcome, story: Story, out: Path, *, by: str,
                     force: bool = False, code: str | None = None,
                     code_help: str | None = None) -> Told:
    """Write the outcome letter for ``story``'s storyteller at ``out`` in their preferred
    style, and log it; a :class:`Told` saying why not when they cannot be written to."""
    consent = story.current_consent
    if consent is not None and consent.status == "withdrawn":
        return Told(story.id, why_not="consent was withdrawn, so we do not write about it")
    try:
        letter = outcome_letter(site, outcome, story, code=code, code_help=code_help)
        path = write_letter(site, letter, out, force=force, by=by)
    except LetterError as exc:
        return Told(story.id, why_not=str(exc))
    message = record_told(site, outcome.id, story.id, channel="letter", style=letter.style,
                          content=path.read_bytes(), by=by)
    return Told(story.id, path=path, style=letter.style, message=message, channel="letter")
