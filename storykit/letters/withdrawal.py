"""The withdrawal confirmation letter: what we did when the storyteller withdrew, and what
cannot be recalled, made from the distribution log (:mod:`storykit.copies`): pages taken off
the website, copies we are asking people to delete, and papers of meetings that already
happened (used within the consent window, so they cannot be taken back)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..copies import FORMAT_WORDS, Copy, story_copies
from ..dates import nice_date, today
from .addressing import addressee, signature
from .model import EasyReadPoint, Letter, LetterBlock, LetterError, easy

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Story
    from ..site import Site

KIND = "withdrawal"


def withdrawal_letter(site: Site, story: Story, *, before: Story | None = None,
                      on: dt.date | None = None) -> Letter:
    """The confirmation letter for the withdrawn ``story``. ``before`` is the story as it
    was before the withdrawal: after ``delete_everything`` only it still has the
    storyteller's name, contact details and the title (make the letter as you withdraw)."""
    consent = story.current_consent
    withdrawal = consent.withdrawal if consent else None
    if consent is None or consent.status != "withdrawn" or withdrawal is None:
        raise LetterError(f"consent for story {story.id} has not been withdrawn")
    source = before or story
    if story.erased and before is None:
        raise LetterError(f"story {story.id} was erased with the storyteller's details: make "
                          "the letter as you withdraw (storykit consent withdraw ... --letter "
                          "FILE.pdf)")
    to = addressee(source)
    when = withdrawal.requested or on or today()
    copies = story_copies(site, story.id)
    published = [c for c in copies if c.kind == "publication"]
    met = [c for c in copies if c.kind == "pack" and c.pack and c.pack.meeting_date
           and c.pack.meeting_date <= when]
    others = [c for c in copies if c not in published and c not in met and c.live]
    erased = withdrawal.scope == "delete_everything"
    email = site.config.contact_email
    body = _body(source.title, when, erased, published, met, others, email)
    points = _easy(source.title, erased, published, met, others, email)
    return Letter(
        kind=KIND, story_id=story.id, date=on or today(), recipient=to.name,
        address=to.address, greeting=f"Dear {to.name},",
        subject="We have stopped using your story", body=tuple(body),
        easy_subject="We have stopped using your story", easy_read=tuple(points),
        signature=signature(site), organisation=site.config.organisation,
        contact_email=email, reference=story.id, style=to.style,
        language=site.config.language or "en-GB").checked()


def _body(title: str, when: dt.date, erased: bool, published: list[Copy], met: list[Copy],
          others: list[Copy], email: str) -> list[LetterBlock]:
    done = ["We will not use your story in anything new, for any purpose."]
    if published:
        done.append("We have taken it off our website.")
    if erased:
        done.append("We have deleted your story, its pictures and your signed consent form "
                    "from our systems. We keep only a short note that you agreed and then "
                    "withdrew, with the dates, so that we never use your story by mistake.")
    else:
        done.append("We keep your story and your consent form safely, but we will not use "
                    "them. If you would like us to delete them too, please tell us.")
    body = [
        LetterBlock("paragraph", f"On {nice_date(when)} you asked us to stop using your "
                                 f"story, \u201c{title}\u201d. Thank you for letting us know. "
                                 "This letter tells you what we have done."),
        LetterBlock("heading", "What we have done"),
        LetterBlock("list", items=tuple(done)),
    ]
    if others:
        body += [LetterBlock("heading", "Copies we are asking people to delete"),
                 LetterBlock("paragraph", "Your story was shared before you withdrew. We are "
                                          "asking everyone who has one of these copies to "
                                          "delete it:"),
                 LetterBlock("list", items=tuple(_copy_line(c) for c in others))]
    if met:
        body += [LetterBlock("heading", "What we cannot take back"),
                 LetterBlock("paragraph", "Your story was used at these meetings while you had "
                                          "agreed to it. The meetings have happened, so we "
                                          "cannot take those papers back. We have asked the "
                                          "people who had them not to use your story again:"),
                 LetterBlock("list", items=tuple(_copy_line(c) for c in met))]
    body.append(LetterBlock("paragraph", "This will not change your care in any way. "
                            + (f"If you have any questions, please email {email}."
                               if email else "If you have any questions, please contact us.")))
    return body


def _copy_line(copy: Copy) -> str:
    """A copy as the storyteller reads it: who has it (a meeting and its recipients), or
    what it was for (a copy staff made), and when."""
    if copy.kind == "pack":
        return f"{copy.who}, given on {nice_date(copy.made_on)}"
    things = ", ".join(FORMAT_WORDS.get(f, f) for f in copy.formats)
    return f"a copy ({things}) made for {copy.use_label.lower()} on {nice_date(copy.made_on)}"


def _easy(title: str, erased: bool, published: list[Copy], met: list[Copy],
          others: list[Copy], email: str) -> list[EasyReadPoint]:
    points = [
        EasyReadPoint(easy(f"You asked us to **stop using** your story **{title}**.",
                           "You asked us to **stop using** your story."), "stop"),
        EasyReadPoint("We have **stopped**. We will not use your story again.", "tick"),
    ]
    if published:
        points.append(EasyReadPoint("We took your story off our **website**.", "website"))
    if erased:
        points.append(EasyReadPoint("We **deleted** your story and your form.", "bin"))
    if others:
        points.append(EasyReadPoint("Some people had **copies** of your story. We asked them "
                                    "to **delete** their copies.", "letter"))
    for copy in met[:3]:
        meeting = copy.pack.meeting if copy.pack and copy.pack.meeting else "a meeting"
        day = nice_date(copy.pack.meeting_date if copy.pack else copy.made_on)
        points.append(EasyReadPoint(easy(
            f"Your story was at **{meeting}** on {day}.",
            f"Your story was at a **meeting** on {day}."), "people"))
    if len(met) > 3:
        points.append(EasyReadPoint(f"It was at **{len(met) - 3} more** meetings too.",
                                    "people"))
    if met:
        points.append(EasyReadPoint("Those meetings have **happened**. We **cannot** take "
                                    "those papers back. We asked people **not to use** your "
                                    "story again.", "cross"))
    points.append(EasyReadPoint("This will **not** change your care.", "care"))
    if email:
        points.append(EasyReadPoint(f"Questions? Email **{email}**.", "email"))
    return points
