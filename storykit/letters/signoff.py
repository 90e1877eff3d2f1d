"""Asking the storyteller to sign off the final text: what they are shown (the words exactly
as they will be used, how they will be named, where and until when, and an Easy Read
summary of the same) and the printed letter with a short code to type at a public page and a
reply slip.

The storyteller's public pages (in the app) and the letter share :func:`signoff_text` and
:func:`signoff_easy_read`, so the screen and the paper never say different things."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..consent import reduce
from ..dates import nice_date, today
from .addressing import NAMED_AS, addressee, signature
from .model import EasyReadPoint, Letter, LetterBlock, LetterError, ReplySlip, easy

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

KIND = "signoff"
PUBLIC_USE = "public_website"


@dataclass(frozen=True)
class SignoffText:
    """What the storyteller checks: the words as the consent lets them be used (names
    swapped as agreed), the name shown with them, the uses and the end date."""

    story_id: str
    revision: int
    title: str
    body: str                      # Markdown, as it will be used
    quotes: tuple[str, ...]
    attribution: str               # "Leila, patient"
    named: str                     # "a made-up name"
    identification: str
    uses: tuple[str, ...]          # labels, in the site's order
    expires: dt.date


def shown_use(uses: list[str]) -> str:
    """The use whose view the storyteller checks: the public website when it is agreed
    (the widest audience), else the first agreed use."""
    return PUBLIC_USE if PUBLIC_USE in uses else uses[0]


def signoff_text(site: Site, story: Story) -> SignoffText:
    """The words exactly as they will be used; LetterError when there is no consent that
    lets anything be shown."""
    consent = story.current_consent
    if consent is None or not consent.uses:
        raise LetterError(f"story {story.id} has no consent covering any use to sign off")
    view = reduce(story, consent, shown_use(consent.uses))
    if view is None:
        raise LetterError(f"story {story.id}: the consent lets nothing of the text be shown")
    labels = tuple(site.config.label(u) for u in site.config.use_names if u in consent.uses)
    return SignoffText(story.id, story.revision, view.title, view.body, view.quotes,
                       view.attribution, NAMED_AS.get(consent.identification, "no name at all"),
                       consent.identification, labels, consent.expires)


def naming_sentence(text: SignoffText) -> str:
    """How they will be named, in Easy Read (at most 15 words)."""
    if text.identification == "anonymous":
        return "We will **not** use your name."
    return easy(f"Your story will say it is by **{text.attribution}**.",
                "We will use " + text.named.replace("your ", "your **", 1) + "**.")


def signoff_easy_read(text: SignoffText, *, where: str | None = None,
                      code: str | None = None) -> list[EasyReadPoint]:
    """The Easy Read summary: why we ask, how they are named, where, until when, how to
    answer (``where``: the page address for a letter, with its ``code``)."""
    points = [
        EasyReadPoint(easy(f"This is about your story **{text.title}**.",
                           "This is about **your story**."), "story"),
        EasyReadPoint("We want to use your story. Please **check** the words first.", "question"),
        EasyReadPoint(naming_sentence(text), "people"),
        EasyReadPoint("We will use it in these places:", "website"),
        *[EasyReadPoint(easy(f"**{label}**.", "A place you agreed to.")) for label in text.uses],
        EasyReadPoint(f"We can use it until **{nice_date(text.expires)}**.", "calendar"),
    ]
    if where and code:
        points.append(EasyReadPoint(easy(f"Go to **{where}**. Type your code **{code}**.",
                                         f"Go to our web page. Type your code **{code}**."),
                                    "website"))
        points.append(EasyReadPoint("Or tick a box on the form. Send it back to us.", "letter"))
    points += [
        EasyReadPoint("If the words are right, say **yes**.", "tick"),
        EasyReadPoint("If you want changes, say **changes**. Tell us what to change.", "cross"),
        EasyReadPoint("Your answer will **not** change your care.", "care"),
    ]
    return points


def _text_blocks(text: SignoffText) -> list[LetterBlock]:
    """The story's Markdown as letter blocks: headings and paragraphs, in plain words."""
    from ..markup import plain_text

    blocks = [LetterBlock("heading", text.title)]
    for part in text.body.split("\n\n"):
        part = part.strip()
        if not part:
            continue
        if part.startswith("#") and "\n" not in part:
            blocks.append(LetterBlock("heading", part.lstrip("#").strip()))
        else:
            words = plain_text(part)
            if words:
                blocks.append(LetterBlock("paragraph", words))
    if text.quotes:
        blocks.append(LetterBlock("heading", "Quotes we may use"))
        blocks.append(LetterBlock("list", items=tuple(plain_text(q) for q in text.quotes)))
    blocks.append(LetterBlock("paragraph", f"It will say it is by: {text.attribution}."
                              if text.identification != "anonymous" else
                              "It will not say who you are."))
    return blocks


def signoff_letter(site: Site, story: Story, *, code: str, where: str, expires: dt.date,
                   on: dt.date | None = None) -> Letter:
    """The sign-off request as a letter: the final words, how they are named, where and
    until when, the short ``code`` to type at ``where`` (until ``expires``) and a reply slip.
    Without contact details it is made to hand over (no address); LetterError when they
    asked not to be contacted."""
    on = on or today()
    text = signoff_text(site, story)
    to = addressee(story, allow_no_contact=True)
    org = site.config.organisation or "us"
    places = ", ".join(text.uses)
    body = (
        LetterBlock("paragraph", f"Thank you for sharing your story with {org}. Before we use "
                                 "it, you asked to check the final words. They are printed "
                                 "below, exactly as we will use them."),
        LetterBlock("heading", "What we will do"),
        LetterBlock("list", items=(
            f"We will use it for: {places}.",
            f"You will be named with {text.named}"
            + (f": {text.attribution}." if text.identification != "anonymous" else "."),
            f"We can use it until {nice_date(text.expires)}.")),
        LetterBlock("heading", "How to answer"),
        LetterBlock("paragraph", f"Go to {where} and type your code. Then say \u201cYes, I "
                                 "agree\u201d or \u201cI would like changes\u201d. Or tick a box "
                                 "on the slip at the end of this letter and send it back to "
                                 "us. Your answer will not change your care in any way."),
        *_text_blocks(text),
    )
    reply = ReplySlip(
        heading="Your answer about the words of your story",
        choices=("Yes, I agree: you can use my story as it is written in this letter.",
                 "I would like changes. Please contact me."),
        fill_in=("Your name", "What you would like changed", "Date"))
    easy_reply = ReplySlip(
        heading="Your answer",
        choices=("**Yes**. The words are right.", "I want **changes**."),
        fill_in=("Your name", "Date"),
        send_back="Send this form back to us in the envelope.")
    return Letter(
        kind=KIND, story_id=story.id, date=on, recipient=to.name, address=to.address,
        greeting=f"Dear {to.name},", subject="Please check the words of your story",
        body=body, easy_subject="Please check your story", easy_read=tuple(
            signoff_easy_read(text, where=where, code=code)),
        signature=signature(site), organisation=site.config.organisation,
        contact_email=site.config.contact_email, reference=story.id, code=code,
        code_help=f"Go to **{where}** and type this code. It works until "
                  f"**{nice_date(expires)}**.",
        reply=reply, easy_reply=easy_reply, style=to.style,
        language=site.config.language or "en-GB").checked()
