"""Plain-English words for the consent form: a question, help and a label for every answer.

Written for a reading age of 9 to 11, for advocates who are not lawyers. Each entry is
(question, help or None, [(value, label, hint or None), ...]).
"""

from __future__ import annotations

STATUS = ("Has the storyteller agreed?",
          "Choose \u201cnot yet\u201d if you have asked but are waiting for the signed form. "
          "The story cannot be used until they agree.",
          [("active", "Yes, they have agreed", None),
           ("pending", "Not yet", None)])

GIVEN_BY = ("Who gave consent?",
            "Usually the storyteller. A family member or friend cannot agree for an adult, "
            "unless the law gives them that right.",
            [("self", "The storyteller", None),
             ("parent_with_pr", "A parent with parental responsibility",
              "For a child who cannot decide for themselves."),
             ("lpa_health_welfare", "An attorney for health and welfare",
              "Someone the storyteller chose in a lasting power of attorney."),
             ("court_deputy", "A deputy appointed by the court", None),
             ("other", "Someone else",
              "The story can then only be used inside the organisation.")])

CAPACITY = ("Could the storyteller decide for themselves?",
            "People can decide unless there is a reason to think they cannot. If you are not "
            "sure, ask whoever looks after them before going on.",
            [("presumed", "Yes, there was no reason to doubt it", None),
             ("assessed_has", "Yes, and this was checked", None),
             ("fluctuating", "It changes from day to day",
              "Check again before each new use."),
             ("assessed_lacks", "No, this was checked",
              "Someone with the legal right must agree for them.")])

AGE_BAND = ("How old is the storyteller?",
            "Children may agree for themselves if they understand, but ask them again when "
            "they grow up.",
            [("adult", "18 or over", None), ("16_17", "16 or 17", None),
             ("13_15", "13 to 15", None), ("under_13", "Under 13", None)])

METHOD = ("How was consent given?", None,
          [("written", "On a signed paper form", None),
           ("e_signature", "Signed online", None),
           ("recorded_verbal", "Said out loud and recorded",
            "Keep the recording with the story.")])

IDENTIFICATION = ("How does the storyteller want to be named?",
                  "Everywhere the story is used, the name is shown only this way. Names of "
                  "other people in the story are always replaced.",
                  [("full_name", "Their full name", None),
                   ("first_name", "Their first name only", None),
                   ("pseudonym", "A made-up name",
                    "Add the made-up name in the story editor."),
                   ("anonymous", "No name", "Shown as \u201ca patient\u201d, \u201ca carer\u201d "
                    "and so on.")])

SIGNOFF = ("Does the storyteller want to check the final text?",
           "If yes, the story cannot be used until they have read the final version and said "
           "it is right.",
           [("yes", "Yes", None), ("no", "No", None)])

PROJECT = ("What kind of work is this?",
           "Research needs ethics approval. Most story work is service improvement.",
           [("service_improvement", "Improving a service", None),
            ("service_evaluation", "Checking how well a service works", None),
            ("audit", "Clinical audit", None),
            ("research", "Research", "Enter the ethics approval reference below.")])

INVOLVED = ("Does the person who took consent look after the storyteller?",
            "It is better if consent is taken by someone who is not involved in their care.",
            [("no", "No", None), ("yes", "Yes", None)])

USES_HELP = ("Tick only what the storyteller agreed to. Uses marked \u201coutside the "
             "organisation\u201d put the story where anyone can see it.")
MEDIA_HELP = "Tick only what the storyteller agreed we may show."

MEDIA = {"text": "The story itself", "quotes": "Short quotes from it",
         "photo": "Photos", "audio": "Sound recordings", "video": "Video"}

SCOPES = [("stop_future_use", "Stop using it from now on",
           "We take down what we can and stop all new use. Copies already handed out may "
           "still exist. The story and its records are kept."),
          ("delete_everything", "Delete everything",
           "We also delete the story's text, pictures, signed forms and old versions. Only a "
           "note that consent was withdrawn is kept.")]

#: Plain words for stored values, for the history of versions.
VALUES = {value: label for group in (STATUS, GIVEN_BY, CAPACITY, AGE_BAND, METHOD,
                                     IDENTIFICATION, PROJECT)
          for value, label, _hint in group[2]}
VALUES.update({"withdrawn": "Withdrawn", "pending": "Not yet agreed", "active": "Agreed"})


def options(group: tuple) -> list[tuple[str, str, str | None]]:
    return list(group[2])


def summary(story, label, decide) -> list[str]:
    """The story's current consent as a few sentences a reviewer reads beside the text:
    who agreed and until when, what it covers, how the storyteller is named, sign-off, and
    whether it may go on the public website today. ``label(use)`` is a use's label,
    ``decide(story, use)`` the consent decision for today."""
    from ..dates import nice_date
    from .words import reasons

    consent = story.current_consent
    if consent is None:
        return ["No consent has been recorded yet, so the story cannot be used anywhere."]
    if consent.status == "withdrawn":
        return ["The storyteller withdrew their consent. The story must not be used."]
    agreed = "has agreed" if consent.status == "active" else "has not agreed yet"
    given = VALUES.get(consent.given_by, consent.given_by).lower()
    out = [f"Consent: {given} {agreed}. It runs from {nice_date(consent.granted)} to "
           f"{nice_date(consent.expires)}."]
    uses = [label(u) for u in consent.uses]
    out.append("It covers: " + (", ".join(uses) if uses else "nothing yet") + ".")
    shown = [MEDIA.get(m, m).lower() for m in consent.media]
    out.append("We may show: " + (", ".join(shown) if shown else "nothing") + ".")
    naming = {"full_name": "by their full name", "first_name": "by their first name only",
              "pseudonym": "by a made-up name"
              + (f" ({story.storyteller.pseudonym})" if story.storyteller.pseudonym else ""),
              "anonymous": "by no name at all"}[consent.identification]
    out.append(f"The storyteller is named {naming}. Other people in the story are always "
               "shown as the story's list of people says.")
    if consent.signoff_required:
        out.append(f"The storyteller checked the final text on {nice_date(consent.signed_off)}."
                   if consent.signed_off else
                   "The storyteller wants to check the final text, and has not done so yet.")
    public = decide(story, "public_website")
    where = label("public_website")
    out.append(f"Today it {'may' if public.allowed else 'may not'} go on the {where.lower()}"
               + ("." if public.allowed or not public.messages else
                  f": {reasons(story, public, label)[0]}."))
    return out
