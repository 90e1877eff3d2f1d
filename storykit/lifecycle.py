"""The story lifecycle: every status change and its rules, in one place.

    draft / changes_requested --submit--> in_review --approve--> approved --publish--> published
                                          in_review --request_changes--> changes_requested
                                                                published --unpublish--> approved

The browser app and the command line both ask this module and only show its answers (the
model is Wagtail's workflows). Who is acting comes from the caller as an :class:`Actor`:
accounts and who works on which story are the app's data, so the core never reads them.

The rules, in words:

* advocates send for review the stories they own or share, when they are drafts or back with
  them for changes;
* reviewers approve, or ask for changes with a note, a story waiting for review, but never
  one they own or share;
* publishers publish approved stories and take published ones down;
* admins change a status only through the other roles they hold;
* a withdrawn story never changes status again;
* publishing needs the consent decision for ``public_website`` today (active consent covering
  it, signed off where the storyteller asked to check the text...);
* sending for review, approving and publishing need no blocking finding left that nobody has
  dealt with (:mod:`storykit.findings`). Taking a story down is never blocked.

A refusal is :class:`Refused`: a list of :class:`~storykit.consent.Reason` whose messages
are plain words for people and whose codes are for programs. A change saves through the store
with the etag the caller saw (a stale one is a :class:`~storykit.errors.ConflictError`),
writes the audit entry and calls the ``after_status_change`` hook.

Consent changes belong here too (:func:`record_consent`): widening an approved or published
story's consent (more uses or media, a more identifying name) sends it back to review;
narrowing takes effect at once. Both are audited and call ``after_consent_change``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .consent import Reason
from .dates import nice_date, today
from .errors import ConflictError, StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .audit import AuditLog
    from .model import ConsentVersion, Story
    from .site import Site

ADVOCATE, REVIEWER, PUBLISHER, ADMIN = "advocate", "reviewer", "publisher", "admin"
SUBMIT, REQUEST_CHANGES, APPROVE = "submit", "request_changes", "approve"
PUBLISH, UNPUBLISH = "publish", "unpublish"
#: The longest note a reviewer may leave when asking for changes.
REASON_MAX = 2000
#: The use whose consent decision publishing asks for.
PUBLIC_USE = "public_website"


@dataclass(frozen=True)
class Actor:
    """Who is acting: an account as the caller knows it. ``stories`` are the ids of the
    stories they own or that are shared with them; ``active`` is False for a deactivated
    account (it may do nothing)."""

    name: str
    display_name: str = ""
    roles: frozenset[str] = frozenset()
    stories: frozenset[str] = frozenset()
    active: bool = True

    def has(self, role: str) -> bool:
        return role in self.roles

    def involved(self, story_id: str) -> bool:
        """Owns the story or has it shared with them."""
        return story_id in self.stories

    @property
    def who(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True)
class Transition:
    """One status change: where it may start, where it leads, who may make it and what it
    needs. ``label`` and ``done`` are the words for a button or command and its result."""

    name: str
    sources: tuple[str, ...]
    target: str
    role: str
    label: str
    done: str
    verb: str                    # "approve {it}": "only a reviewer may approve a story"
    writer: bool = False         # must own or share the story
    independent: bool = False    # must not own or share the story
    needs_reason: bool = False   # a note for the writer
    consent_for: str | None = None
    findings: bool = False       # no blocking finding left

    def doing(self, it: str = "it") -> str:
        """What it does, for sentences: ``doing("a story")`` -> "send a story for review"."""
        return self.verb.format(it=it)

    @property
    def command(self) -> str:
        """Its name on the command line and in addresses: ``request-changes``."""
        return self.name.replace("_", "-")


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition(SUBMIT, ("draft", "changes_requested"), "in_review", ADVOCATE,
               "Send for review", "The story was sent for review.", "send {it} for review",
               writer=True, findings=True),
    Transition(REQUEST_CHANGES, ("in_review",), "changes_requested", REVIEWER,
               "Ask for changes", "You asked for changes. The writer can see your note.",
               "ask for changes to {it}", independent=True, needs_reason=True),
    Transition(APPROVE, ("in_review",), "approved", REVIEWER, "Approve",
               "The story was approved.", "approve {it}", independent=True, findings=True),
    Transition(PUBLISH, ("approved",), "published", PUBLISHER, "Publish",
               "The story was published.", "publish {it}", consent_for=PUBLIC_USE, findings=True),
    Transition(UNPUBLISH, ("published",), "approved", PUBLISHER, "Take down",
               "The story was taken down. It is approved again.", "take {it} down"),
)}

A_ROLE = {ADVOCATE: "an advocate", REVIEWER: "a reviewer", PUBLISHER: "a publisher",
          ADMIN: "an admin"}
#: A story's status in words, for sentences ("the story is a draft").
STATUS_WORDS = {
    "draft": "a draft", "in_review": "waiting for review",
    "changes_requested": "back with its writer for changes", "approved": "approved",
    "published": "published", "withdrawn": "withdrawn", "archived": "archived",
}


class Refused(StorykitError):
    """A status change that may not be made now; ``reasons`` say why (plain words in
    ``messages``, codes for programs in ``codes``)."""

    def __init__(self, transition: str, reasons: list[Reason]):
        self.transition = transition
        self.reasons = list(reasons)
        super().__init__("; ".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [r.message for r in self.reasons]

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def transition(name: str) -> Transition:
    """The transition called ``name`` (``approve`` or ``request-changes`` alike)."""
    found = TRANSITIONS.get(name.replace("-", "_"))
    if found is None:
        raise StorykitError(f"there is no status change called {name!r}; they are: "
                            f"{', '.join(t.command for t in TRANSITIONS.values())}")
    return found


# --- asking ----------------------------------------------------------------------------------

def is_withdrawn(story: Story) -> bool:
    """The story, or its current consent, is withdrawn: its status never changes again."""
    consent = story.current_consent
    return story.status == "withdrawn" or (consent is not None and consent.status == "withdrawn")


def rule_refusals(actor: Actor | None, story: Story, name: str) -> list[Reason]:
    """Why ``actor`` may not make the change ``name`` to ``story`` as it is, by the rules of
    roles, involvement and status alone (cheap: what pages ask to show a button). Empty when
    they may; :func:`refusals` also asks consent and the findings."""
    t = transition(name)
    if is_withdrawn(story):
        return [Reason("withdrawn", "the storyteller withdrew their consent, so the story's "
                                    "status cannot change any more")]
    if actor is None:
        return [Reason("no_account", "nobody is signed in")]
    if not actor.active:
        return [Reason("inactive", f"the account {actor.name} is deactivated")]
    reasons = []
    if not actor.has(t.role):
        role = A_ROLE[t.role]
        reasons.append(Reason("wrong_role", f"{actor.who} is not {role}: only {role} may "
                                            f"{t.doing('a story')}"))
    elif t.writer and not actor.involved(story.id):
        reasons.append(Reason("not_involved", "only someone who owns the story, or has it "
                                              f"shared with them, may {t.doing()}"))
    elif t.independent and actor.involved(story.id):
        reasons.append(Reason("own_story", f"{actor.who} owns or works on this story, so "
                                           f"someone else must {t.doing()}"))
    if story.status not in t.sources:
        wanted = " or ".join(STATUS_WORDS[s] for s in t.sources)
        reasons.append(Reason("wrong_status", f"the story is {STATUS_WORDS[story.status]}: "
                                              f"only a story that is {wanted} can be changed "
                                              f"this way"))
    return reasons


def permitted(actor: Actor | None, story: Story, name: str) -> bool:
    """Whether the rules let ``actor`` make the change (consent and findings not asked)."""
    return not rule_refusals(actor, story, name)


def available(actor: Actor | None, story: Story) -> list[Transition]:
    """The changes the rules let ``actor`` make to ``story`` now (for buttons)."""
    return [t for t in TRANSITIONS.values() if permitted(actor, story, t.name)]


def dismissal_refusals(actor: Actor | None, story: Story) -> list[Reason]:
    """Why ``actor`` may not dismiss the story's blocking findings: only a reviewer who
    neither owns nor shares it, while it is waiting for review or later (not withdrawn)."""
    if is_withdrawn(story):
        return [Reason("withdrawn", "the storyteller withdrew their consent, so nothing about "
                                    "the story can change any more")]
    if actor is None or not actor.active:
        return [Reason("inactive", f"the account {actor.name} is deactivated" if actor
                       else "nobody is signed in")]
    if not actor.has(REVIEWER):
        return [Reason("wrong_role", f"{actor.who} is not a reviewer: only a reviewer may "
                                     "dismiss a finding")]
    if actor.involved(story.id):
        return [Reason("own_story", f"{actor.who} owns or works on this story, so someone "
                                    "else must decide about its findings")]
    if story.status not in ("in_review", "approved", "published"):
        return [Reason("wrong_status", f"the story is {STATUS_WORDS[story.status]}: its "
                                       "writer can still fix the findings themselves")]
    return []


def refusals(site: Site, actor: Actor | None, story: Story, name: str, *,
             reason: str | None = None) -> list[Reason]:
    """Every reason ``actor`` may not make the change ``name`` to ``story`` now; empty when
    they may. ``reason`` is the note a change that needs one carries."""
    t = transition(name)
    found = rule_refusals(actor, story, name)
    if found:
        return found
    if t.needs_reason:
        note = (reason or "").strip()
        if not note:
            found.append(Reason("no_reason", "say what needs to change, so the writer knows "
                                             "what to do"))
        elif len(note) > REASON_MAX:
            found.append(Reason("reason_too_long", f"the note must be {REASON_MAX:,} "
                                                   "characters or fewer"))
    if t.consent_for:
        found += consent_refusals(site, story, t.consent_for)
    if t.findings:
        from .findings import story_findings

        blocked = story_findings(site, story).reason()
        if blocked is not None:
            found.append(blocked)
    return found


def consent_refusals(site: Site, story: Story, use: str) -> list[Reason]:
    """Why the consent decision for ``use`` today refuses the story, in plain words (codes
    ``consent_<code>``); empty when it allows it."""
    decision = site.decide(story, use, today())
    if decision.allowed:
        return []
    label = site.config.label(use)
    return [Reason(f"consent_{r.code}", consent_words(r, story, label)) for r in decision.reasons
            if r.code != "not_approved"]  # the status rules said that already


def consent_words(reason: Reason, story: Story, label: str) -> str:
    """A consent decision's reason as people read it: the use's label, dates in words."""
    c = story.current_consent
    words = {
        "no_consent": "no consent has been recorded yet",
        "consent_pending": "the storyteller has not given their consent yet",
        "use_not_granted": f"the consent does not cover {label}",
        "signoff_missing": "the storyteller asked to check the final text and has not "
                           "signed it off yet",
        "signoff_stale": "the text changed after the storyteller signed it off: they must "
                         "check it again",
        "given_by_other": f"consent was given by someone without the legal right to, so "
                          f"the story cannot be used for {label}",
        "no_pseudonym": "the consent asks for a made-up name, but the story has none",
    }
    if c is not None:
        words.update({
            "expired": f"the consent ended on {nice_date(c.expires)}",
            "not_yet_granted": f"the consent starts on {nice_date(c.granted)}",
            "reconsent_due": f"the storyteller had to be asked again by "
                             f"{nice_date(c.reconsent_due)}",
        })
    return words.get(reason.code, reason.message)


# --- changing --------------------------------------------------------------------------------

def change(site: Site, actor: Actor, story: Story, name: str, etag: str | None, *,
           reason: str = "", ip: str | None = None, log: AuditLog | None = None) -> Story:
    """Make the status change ``name`` to ``story`` (as read now) if ``actor`` may, saving it
    only if the file is still at ``etag`` (what the caller's page or command saw). Writes
    the audit entry (a refusal too) and calls ``after_status_change``. Raises
    :class:`Refused`, :class:`~storykit.errors.ConflictError` or
    :class:`~storykit.errors.GoneError`; nothing is saved then."""
    from . import audit

    t = transition(name)
    log = log or site.audit
    if etag is None or etag != story.etag:
        raise ConflictError(f"story {story.id} changed since it was read; nothing was saved")
    found = refusals(site, actor, story, t.name, reason=reason)
    if found:
        audit.access_denied(log, actor.name if actor else None,
                            f"{t.name} refused: {', '.join(r.code for r in found)}",
                            story_id=story.id, ip=ip)
        raise Refused(t.name, found)
    return _save_status(site, story, t.target, by=actor.name, ip=ip, log=log)


def _save_status(site: Site, story: Story, new: str, *, by: str, ip: str | None,
                 log: AuditLog, why: str = "") -> Story:
    from . import audit

    old = story.status
    saved = site.store.save(story.copy(status=new), by=by)
    log.record(audit.STATUS_CHANGED, actor=by, story_id=saved.id, etag=saved.etag, ip=ip,
               detail=f"{old} -> {saved.status}" + (f" ({why})" if why else ""))
    site.plugins.call("after_status_change", site=site, story=saved, old=old,
                      new=saved.status, by=by)
    return saved


# --- consent changes -------------------------------------------------------------------------

#: How identifying each way of naming the storyteller is, least first.
IDENTIFYING = ("anonymous", "pseudonym", "first_name", "full_name")
MEDIA_WORDS = {"text": "the story itself", "quotes": "short quotes from it", "photo": "photos",
               "audio": "sound recordings", "video": "video"}
NAMING_WORDS = {"full_name": "their full name", "first_name": "their first name only",
                "pseudonym": "a made-up name", "anonymous": "no name"}


@dataclass(frozen=True)
class ConsentChange:
    """What a new consent version changes against the one before (None: nothing before)."""

    uses_added: tuple[str, ...] = ()
    uses_removed: tuple[str, ...] = ()
    media_added: tuple[str, ...] = ()
    media_removed: tuple[str, ...] = ()
    named_before: str | None = None
    named_now: str | None = None

    @property
    def more_identifying(self) -> bool:
        return (self.named_before is not None and self.named_now is not None
                and IDENTIFYING.index(self.named_now) > IDENTIFYING.index(self.named_before))

    @property
    def less_identifying(self) -> bool:
        return (self.named_before is not None and self.named_now is not None
                and IDENTIFYING.index(self.named_now) < IDENTIFYING.index(self.named_before))

    @property
    def widened(self) -> bool:
        """More uses or media, or a more identifying name: the story must be reviewed again."""
        return bool(self.uses_added or self.media_added or self.more_identifying)

    @property
    def narrowed(self) -> bool:
        """Fewer uses or media, or a less identifying name: it applies at once."""
        return bool(self.uses_removed or self.media_removed or self.less_identifying)

    def summary(self) -> str:
        """For the audit log: codes only, never words anyone wrote."""
        parts = [f"uses +{u}" for u in self.uses_added] + [f"uses -{u}" for u in self.uses_removed]
        parts += [f"media +{m}" for m in self.media_added]
        parts += [f"media -{m}" for m in self.media_removed]
        if self.named_before != self.named_now and self.named_now:
            parts.append(f"named {self.named_before or 'none'} -> {self.named_now}")
        return ", ".join(parts) or "no change to uses, media or naming"

    def sentences(self, label) -> list[str]:
        """What widened, in words (``label(use)`` gives a use's label)."""
        out = []
        if self.uses_added:
            out.append("it now also covers: " + ", ".join(label(u) for u in self.uses_added))
        if self.media_added:
            out.append("it now also lets us show: "
                       + ", ".join(MEDIA_WORDS.get(m, m) for m in self.media_added))
        if self.more_identifying and self.named_now:
            out.append("the storyteller may now be named by "
                       + NAMING_WORDS.get(self.named_now, self.named_now))
        return out


def consent_change(old: ConsentVersion | None, new: ConsentVersion) -> ConsentChange:
    """What ``new`` changes against ``old`` (no consent before counts as none at all)."""
    old_uses = set(old.uses) if old else set()
    old_media = set(old.media) if old else set()
    before = old.identification if old else ("anonymous" if new.identification != "anonymous"
                                              else None)
    return ConsentChange(
        uses_added=tuple(u for u in new.uses if u not in old_uses),
        uses_removed=tuple(u for u in (old.uses if old else []) if u not in set(new.uses)),
        media_added=tuple(m for m in new.media if m not in old_media),
        media_removed=tuple(m for m in (old.media if old else []) if m not in set(new.media)),
        named_before=before, named_now=new.identification)


def last_change(story: Story) -> ConsentChange | None:
    """What the story's current consent version changed against the one before it."""
    if not story.consent:
        return None
    before = story.consent[-2] if len(story.consent) > 1 else None
    return consent_change(before, story.consent[-1])


#: Statuses a widened consent sends back to review.
REVIEWED = ("approved", "published")


def record_consent(site: Site, story_id: str, version: ConsentVersion, *, by: str,
                   base_etag: str | None, ip: str | None = None, log: AuditLog | None = None,
                   detail: str | None = None) -> Story:
    """Append ``version`` to the story's consent (checked against ``base_etag``, the consent
    record the caller saw) and audit it. When it widens the consent of an approved or
    published story, the story goes back to review (``in_review``: off the website until a
    reviewer approves it again, audited with what widened). Then ``after_consent_change``
    is called with the version before and the new one. Returns the story as saved."""
    from . import audit

    log = log or site.audit
    before = site.store.get(story_id).current_consent
    saved = site.store.add_consent(story_id, version, by=by, base_etag=base_etag)
    consent = saved.current_consent
    assert consent is not None
    what = consent_change(before, consent)
    log.record(audit.CONSENT_CHANGED, actor=by, story_id=saved.id, etag=saved.consent_etag,
               ip=ip, detail=detail or f"version {consent.version}: {consent.status}; "
                                       f"{what.summary()}")
    if what.widened and saved.status in REVIEWED:
        saved = _back_to_review(site, saved, by=by, ip=ip, log=log, what=what)
    site.plugins.call("after_consent_change", site=site, story=saved, old=before, new=consent,
                      by=by)
    return saved


def _back_to_review(site: Site, story: Story, *, by: str, ip: str | None, log: AuditLog,
                    what: ConsentChange) -> Story:
    """Set the story back to ``in_review`` because its consent widened (trying again if
    someone saves the story at the same moment)."""
    for _attempt in range(5):
        try:
            return _save_status(site, story, "in_review", by=by, ip=ip, log=log,
                                why=f"consent widened: {what.summary()}")
        except ConflictError:
            story = site.store.get(story.id)
            if story.status not in REVIEWED:
                return story
    raise ConflictError(f"story {story.id} kept changing; its consent was recorded but it "
                        "could not be sent back to review: do it by hand")




# --- the storyteller's sign-off ------------------------------------------------------------------

#: The purpose of a sign-off request's one-time link (storykit.links).
SIGNOFF = "signoff"
SIGNOFF_ANSWERED = "signoff.answered"
SIGNOFF_REQUESTED = "signoff.requested"
#: Who made a change the storyteller made themselves (no account; never their name).
STORYTELLER = "storyteller"


def signoff_request_refusals(story: Story) -> list[Reason]:
    """Why the storyteller cannot be asked to sign off the story's text now: only approved
    stories whose active consent asks for sign-off are sent (the words are final)."""
    consent = story.current_consent
    if is_withdrawn(story):
        return [Reason("withdrawn", "the storyteller withdrew their consent")]
    if consent is None or consent.status != "active":
        return [Reason("consent_pending", "record the storyteller's consent first")]
    if not consent.signoff_required:
        return [Reason("signoff_not_required", "the storyteller did not ask to check the "
                                               "final text")]
    if story.status != "approved":
        return [Reason("wrong_status", f"the story is {STATUS_WORDS[story.status]}: ask the "
                                       "storyteller once it is approved, so they see the "
                                       "final words")]
    if signed_off_now(story):
        return [Reason("signed_off", f"the storyteller already signed off version "
                                     f"{story.revision} of the text")]
    return []


def signed_off_now(story: Story) -> bool:
    """The current consent records a sign-off of exactly the story's current words."""
    c = story.current_consent
    return bool(c and c.signed_off and c.signed_off_revision == story.revision)


def record_signoff_answer(site: Site, story_id: str, revision: int, *, agreed: bool, by: str,
                          via: str, ip: str | None = None, log: AuditLog | None = None) -> Story:
    """The storyteller's answer about version ``revision`` of the words. Agreeing records a
    new consent version signed off at that revision (:func:`record_consent`); asking for
    changes sends an approved story back to its writer (``changes_requested``). Refused with
    ``signoff_stale`` when the words changed since they were asked: they must see the new
    ones. Audited with codes only (never their comment); ``after_status_change`` or
    ``after_consent_change`` is called as for staff."""
    from .model import ConsentVersion

    log = log or site.audit
    story = site.store.get(story_id)
    if story.revision != revision:
        raise Refused("signoff", [Reason("signoff_stale", "the text changed after the "
                                                          "storyteller was asked: ask again")])
    if is_withdrawn(story) or story.current_consent is None:
        raise Refused("signoff", [Reason("withdrawn", "there is no consent to sign off")])
    log.record(SIGNOFF_ANSWERED, actor=by, story_id=story.id, etag=story.etag, ip=ip,
               detail=f"revision {revision}: {'agreed' if agreed else 'changes'} ({via})")
    if agreed:
        current = story.current_consent
        version = ConsentVersion.from_dict({**current.to_dict(), "signed_off": today(),
                                            "signed_off_revision": revision})
        return record_consent(site, story.id, version, by=by, base_etag=story.consent_etag,
                              ip=ip, log=log, detail=f"version {len(story.consent) + 1}: "
                                                     f"sign-off of revision {revision} ({via})")
    if story.status == "approved":
        return _save_status(site, story, "changes_requested", by=by, ip=ip, log=log,
                            why="the storyteller asked for changes")
    return story
