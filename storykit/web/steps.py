"""The next step for a story, for the person looking at it: one sentence and, when they can
take it, where to take it. The story page leads with it and the home page's tables show it,
so nobody has to work out from a status what to do next.

The status changes themselves are the core's (:mod:`storykit.lifecycle`); this only says in
words which one is next and who makes it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from ..lifecycle import APPROVE, PUBLISH, SUBMIT, is_withdrawn
from ..model import Story
from .access import EDIT, RECORD_CONSENT, can, involved
from .accounts import User


@dataclass(frozen=True)
class Step:
    """``sentence`` says what happens next; ``link`` (address, words) is where to do it;
    ``action`` names the status change button on the story page that does it, if any."""

    sentence: str
    link: tuple[str, str] | None = None
    action: str | None = None


def next_step(user: User, story: Story, *, website_allowed: bool = True,
              ended: str | None = None, storyteller_asked: bool = False) -> Step:
    """What happens next to ``story``, for ``user``. ``website_allowed``: consent lets it go
    on the public website today; ``ended``: consent has ended, in words, if it has;
    ``storyteller_asked``: the last request for changes came from the storyteller (their
    sign-off answer), not a reviewer."""
    status = story.status
    consent = story.current_consent
    if is_withdrawn(story):
        return Step("The storyteller withdrew their consent. The story must not be used "
                    "again: take back any copies that went out.")
    if ended and status in ("approved", "published"):
        return Step(f"{ended[:1].upper() + ended[1:]}, so the story cannot be used. Ask the "
                    "storyteller again, or leave it off.", _consent_link(user, story))
    writer = can(user, EDIT, story)
    if (consent is None or consent.status == "pending") and can(user, RECORD_CONSENT, story):
        return Step("Record the storyteller's consent: the story cannot be used anywhere "
                    "until they agree.", _consent_link(user, story))
    if status == "draft":
        if writer:
            return Step("Finish writing the story, then send it for review.",
                        (url_for("editor.edit", story_id=story.id), "Edit the story"), SUBMIT)
        return Step("Its writer is still working on it.")
    if status == "changes_requested":
        if writer:
            who = "The storyteller" if storyteller_asked else "A reviewer"
            return Step(f"{who} asked for changes. Read their note below, change the "
                        "story, then send it for review again.",
                        (url_for("editor.edit", story_id=story.id), "Edit the story"), SUBMIT)
        return Step("It is back with its writer for changes.")
    if status == "in_review":
        if can(user, APPROVE, story):
            return Step("Read the story, then approve it or ask for changes.",
                        (url_for("review.story", story_id=story.id), "Read and review it"))
        if involved(user, story.id):
            return Step("It is waiting for a reviewer. This page will say what they decided.")
        return Step("It is waiting for a reviewer.")
    if status == "approved":
        if can(user, PUBLISH, story):
            if not website_allowed:
                return Step("It is approved, but consent does not let it go on the website "
                            "yet: see why under Consent below.")
            return Step("Publish it to put it on the website.", None, PUBLISH)
        return Step("It is approved and waiting for a publisher to put it on the website.")
    if status == "published":
        return Step("It is live. Nothing needs doing unless the storyteller's consent "
                    "changes.")
    return Step("Nothing more can be done to it.")


def _consent_link(user: User, story: Story) -> tuple[str, str] | None:
    if not can(user, RECORD_CONSENT, story):
        return None
    return url_for("consent.form", story_id=story.id), "Record consent"


def in_a_few_words(user: User, story: Story) -> str:
    """The next step as a short phrase for a table row: "Send it for review". (The role is
    asked first: the rule book builds an Actor with every story the person works on.)"""
    status = story.status
    writer = can(user, EDIT, story)
    consent = story.current_consent
    if writer and (consent is None or consent.status == "pending"):
        return "Record consent"
    return {
        "draft": "Finish it and send it for review" if writer else "Being written",
        "changes_requested": "Make the changes asked for" if writer else "Back with its writer",
        "in_review": "Review it" if user.has("reviewer") and can(user, APPROVE, story)
        else "Waiting for a reviewer",
        "approved": "Publish it" if user.has("publisher") and can(user, PUBLISH, story)
        else "Waiting for a publisher",
        "published": "Live",
    }.get(status, "Nothing to do")
