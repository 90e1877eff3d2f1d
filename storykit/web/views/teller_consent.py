"""The storyteller's consent page (a one-time link of purpose ``consent``): what they agreed
to, in plain words with an Easy Read summary, and three answers: keep it (or give it, when it
was not given yet), change it (the places, what of it we may use: their words, quotes,
photos, recordings; and how they are named), or stop (withdraw, with what should happen to
the story). storykit.storyteller records it."""

from __future__ import annotations

from dataclasses import replace

from flask import render_template, session

from ... import storyteller
from ...errors import StorykitError
from ...letters.model import EasyReadPoint, easy
from ...letters.signoff import naming_sentence, signoff_text
from ...links import LinkRefused, Links
from ..auth import client_ip
from ..forms import Form
from ..state import audit_log, state
from .teller import easy_read, finished, refused

WANTS = ("keep", "change", "stop")
CONSENT_ANSWERED = "consent.link_answered"
SCOPES = [("stop_future_use", "Stop using my story from now on",
           "We take it down wherever we can. We keep a record that you shared it."),
          ("delete_everything", "Stop, and delete everything",
           "We also delete your story, your pictures and your details. We keep only a note "
           "that you asked us to stop.")]


def naming_choices(story) -> list[tuple[str, str]]:
    out = [("full_name", "My full name"), ("first_name", "My first name only")]
    if story.storyteller.pseudonym:
        out.append(("pseudonym", f"A made-up name: {story.storyteller.pseudonym}"))
    out.append(("anonymous", "No name at all"))
    return out


#: The media in Easy Read words (short, each a point of its own).
MEDIA_EASY = {"text": "Your story in your words", "quotes": "Short quotes from your story",
              "photo": "Photos", "audio": "Sound recordings", "video": "Videos"}


def consent_easy_read(text, pending: bool, media: tuple[str, ...] = ()) -> list[EasyReadPoint]:
    points = [EasyReadPoint(easy(f"This is about your story **{text.title}**.",
                                 "This is about **your story**."), "story")]
    points.append(EasyReadPoint("You said we could use it in these places:" if not pending
                                else "We asked to use it in these places:", "website"))
    points += [EasyReadPoint(easy(f"**{label}**.", "A place on the list.")) for label in text.uses]
    if media:
        points.append(EasyReadPoint("You said we could use:" if not pending
                                    else "We asked to use:"))
        points += [EasyReadPoint(f"**{MEDIA_EASY[m]}**.") for m in media if m in MEDIA_EASY]
    points += [
        EasyReadPoint(naming_sentence(text), "people"),
        EasyReadPoint(f"We can use it until **{text.expires.day} "
                      f"{text.expires:%B %Y}**.", "calendar"),
        EasyReadPoint("You can **keep** this, **change** it, or ask us to **stop**.",
                      "question"),
        EasyReadPoint("Your answer will **not** change your care.", "care"),
    ]
    return points


def consent_page(story, form: Form, status: int = 200):
    site = state().site
    consent = story.current_consent
    try:
        text = signoff_text(site, story)
    except StorykitError:
        return refused("nothing_to_show", story.id)
    pending = consent.status == "pending"
    chosen_uses = form.getlist("uses") if form.data else list(consent.uses)
    chosen_media = form.getlist("media") if form.data else list(consent.media)
    return render_template(
        "teller/consent.html", form=form, text=text, pending=pending,
        easy=easy_read(consent_easy_read(text, pending, tuple(consent.media))),
        uses=[(u.name, u.label) for u in site.config.uses.values()], chosen_uses=chosen_uses,
        media=list(storyteller.MEDIA_CHOICES.items()), chosen_media=chosen_media,
        agreed_media=[storyteller.MEDIA_CHOICES[m] for m in consent.media
                      if m in storyteller.MEDIA_CHOICES],
        naming=naming_choices(story),
        named=form.get("named") or consent.identification, scopes=SCOPES,
        confirm=site.config.confirm_link_changes), status


def answer_consent(link, story, form: Form):
    site = state().site
    consent = story.current_consent
    want = form.get("want")
    choice = None
    if want not in WANTS:
        form.error("want", "Choose what you would like us to do.")
    elif want == "change":
        media = form.getlist("media")
        choice = storyteller.Choice(tuple(u for u in site.config.use_names
                                          if u in form.getlist("uses")), form.get("named"),
                                    tuple(m for m in storyteller.MEDIA_CHOICES if m in media))
        if any(u not in site.config.uses for u in form.getlist("uses")):
            form.error("uses", "Choose places from the list.")
        elif not choice.uses:
            form.error("uses", "Tick at least one place. Or choose to stop.")
        for problem in storyteller.media_problems(media):  # as posted: unknown ones too
            form.error("media", problem)
        for problem in storyteller.check_choice(site, story, replace(choice, media=None)):
            form.error("named" if "named" in problem else "uses", problem)
    elif want == "stop" and form.get("scope") not in dict((s[0], s) for s in SCOPES):
        form.error("scope", "Choose what should happen to your story.")
    if not form.ok:
        return consent_page(story, form, 422)
    if want == "keep":
        choice = storyteller.Choice(tuple(consent.uses), consent.identification,
                                    tuple(consent.media))
    detail = f"scope={form.get('scope')}" if want == "stop" else choice.codes()
    links = Links(site)
    try:
        links.answer(link.id, want, via="link", session=session.get("teller_key", ""),
                     detail=detail)
    except LinkRefused as exc:
        return refused(exc.code, story.id)
    answered = "withdrawn" if want == "stop" else None
    if want == "stop":
        withdrawn = site.withdraw(story.id, form.get("scope"), "Asked us to stop through their "
                                  "one-time link.", by=storyteller.BY_LINK, ip=client_ip())
        state().index.put(withdrawn)
        links.settle(link.id, "withdrawn")
    else:
        outcome = storyteller.apply_choice(site, story.id, choice,
                                           confirm_widening=site.config.confirm_link_changes,
                                           ip=client_ip(), log=audit_log())
        state().index.put(outcome.story)
        links.settle(link.id, outcome.answer)
        answered = outcome.answer
    audit_log().record(CONSENT_ANSWERED, actor=storyteller.BY_LINK, story_id=story.id,
                       ip=client_ip(), detail=f"{want}: {answered} ({detail})")
    if want != "keep" or consent.status == "pending":
        from ..alerts import consent_changed

        consent_changed(site, story.id)
    return finished("consent")
