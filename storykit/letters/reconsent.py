"""The re-consent letter: consent for a story is ending (or has ended), or a child who was
consented for is old enough to be asked themselves. It says what they agreed to, until
when, and asks whether we may keep using the story, with a reply slip."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..dates import nice_date, today
from .addressing import NAMED_AS, addressee, media_words, signature, use_words
from .model import EasyReadPoint, Letter, LetterBlock, LetterError, ReplySlip, easy

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

KIND = "reconsent"


def reconsent_due(story: Story) -> tuple[str, dt.date] | None:
    """``("expires", day)`` or ``("reconsent_due", day)``: the first day consent stops
    allowing the story (a child's re-consent date when it comes first); None without
    active consent."""
    consent = story.current_consent
    if consent is None or consent.status != "active":
        return None
    if consent.age_band != "adult" and consent.reconsent_due and \
            consent.reconsent_due < consent.expires:
        return "reconsent_due", consent.reconsent_due
    return "expires", consent.expires


def reconsent_letter(site: Site, story: Story, *, on: dt.date | None = None) -> Letter:
    """The re-consent letter for ``story`` (LetterError when consent is not active, or there
    is no one to write to)."""
    on = on or today()
    due = reconsent_due(story)
    if due is None:
        raise LetterError(f"story {story.id} has no active consent to ask about again")
    why, day = due
    consent = story.current_consent
    assert consent is not None
    to = addressee(story)
    ended = on > day
    title = story.title
    org = site.config.organisation or "us"
    email = site.config.contact_email
    if why == "reconsent_due":
        opening = ("When you shared your story, someone with parental responsibility agreed "
                   f"for you. You are now old enough to decide for yourself, so we would like "
                   f"to ask you. We need your answer by {nice_date(day)}.")
        if ended:
            opening += " Until we hear from you, we have stopped using your story."
    elif ended:
        opening = (f"You agreed that we could use it until {nice_date(day)}. That date has "
                   "passed, so we have stopped using your story. We will not use it again "
                   "unless you tell us we can.")
    else:
        opening = (f"You agreed that we could use it until {nice_date(day)}. That date is "
                   "coming soon. After it, we will stop using your story unless you tell us "
                   "that we can keep using it.")
    body = (
        LetterBlock("paragraph", f"Thank you for sharing your story, \u201c{title}\u201d, "
                                 f"with {org}. {opening}"),
        LetterBlock("heading", "What you agreed to"),
        LetterBlock("list", items=(
            f"We could use it for: {use_words(site, consent.uses)}.",
            f"We could use {media_words(consent.media)}.",
            f"You are named with {NAMED_AS.get(consent.identification, 'no name')}.",
            f"Your consent lasts until {nice_date(consent.expires)}.")),
        LetterBlock("heading", "What you can do"),
        LetterBlock("paragraph", "You can say yes, change what you agreed to, or say no. It is "
                                 "up to you. Saying no will not change your care in any way."),
        LetterBlock("paragraph", "Please tick a box on the slip at the end of this letter and "
                                 "send it back to us."
                    + (f" You can also email {email}." if email else "")),
    )
    points = [
        EasyReadPoint(easy(f"This letter is about your story **{title}**.",
                           "This letter is about **your story**."), "letter"),
    ]
    if why == "reconsent_due":
        points += [
            EasyReadPoint("When you shared your story, a **parent** said yes for you. "
                          "Now you can **decide** for yourself.", "people"),
            EasyReadPoint(f"Please tell us by **{nice_date(day)}**.", "calendar"),
        ]
    else:
        when = (f"You said we could use your story until **{nice_date(day)}**. "
                + ("That date has **passed**. We have **stopped** using your story."
                   if ended else "That date is **soon**."))
        points.append(EasyReadPoint(when, "calendar"))
    points += [
        EasyReadPoint("Can we **keep using** your story?", "question"),
        EasyReadPoint("If **yes**, tick yes on the form.", "tick"),
        EasyReadPoint("If **no**, tick no. We will **stop** using your story.", "cross"),
        EasyReadPoint("Saying no will **not** change your care.", "care"),
        EasyReadPoint("Send the form back to us in the **envelope**."
                      + (f" Or email **{email}**." if email else ""), "email"),
    ]
    reply = ReplySlip(
        heading="Your answer about your story",
        choices=("Yes, you can keep using my story as I agreed before.",
                 "I would like to change what I agreed to. Please contact me.",
                 "No, please stop using my story."),
        fill_in=("Your name", "Signature", "Date"))
    easy_reply = ReplySlip(
        heading="Your answer",
        choices=("**Yes**. You can keep using my story.",
                 "I want to **change** what I agreed.",
                 "**No**. Please stop using my story."),
        fill_in=("Your name", "Date"),
        send_back="Send this form back to us in the envelope.")
    return Letter(
        kind=KIND, story_id=story.id, date=on, recipient=to.name, address=to.address,
        greeting=f"Dear {to.name},", subject=f"Your story: {title}", body=body,
        easy_subject="Can we keep using your story?", easy_read=tuple(points),
        signature=signature(site), organisation=site.config.organisation,
        contact_email=email, reference=story.id, reply=reply, easy_reply=easy_reply,
        style=to.style, language=site.config.language or "en-GB").checked()
