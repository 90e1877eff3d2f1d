"""The consent decision: every rule of DESIGN.md as a table, the reduced view, and properties."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re

import pytest
from conftest import BODY, ON, build_story, consent_version, story_front, write_story
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storykit import model as m
from storykit.consent import DRAFT_MARK, NAME_REMOVED, decide
from storykit.site import Site

D = dt.date


def decision_for(front=None, consent=None, use="board", on=ON, body=BODY, **kwargs):
    story = build_story(story_front(**(front or {})),
                        [consent_version(**(consent or {}))] if consent is not False else [],
                        body=body)
    return decide(story, use, on, **kwargs)


# --- refusals: one row per rule ---------------------------------------------------------------

RULES = [
    # (id, story changes, consent changes, use, date, allowed, reason code)
    ("baseline-allowed", {}, {}, "board", ON, True, None),
    ("no-consent", {}, False, "board", ON, False, "no_consent"),
    # consent is not active
    ("consent-pending", {}, {"status": "pending"}, "board", ON, False, "consent_pending"),
    ("consent-withdrawn", {}, {"status": "withdrawn", "withdrawal": {
        "requested": D(2027, 1, 2), "scope": "stop_future_use", "reason": "changed my mind"}},
     "board", ON, False, "withdrawn"),
    # it has expired
    ("expired", {}, {"expires": D(2027, 2, 28)}, "board", ON, False, "expired"),
    ("last-day-still-valid", {}, {"expires": ON}, "board", ON, True, None),
    ("not-yet-granted", {}, {"granted": D(2027, 3, 2)}, "board", ON, False, "not_yet_granted"),
    # the use is not granted
    ("use-not-granted", {}, {}, "press", ON, False, "use_not_granted"),
    ("no-uses-at-all", {}, {"uses": []}, "board", ON, False, "use_not_granted"),
    # sign-off required but missing or older than the current text
    ("signoff-missing", {}, {"signed_off": None, "signed_off_revision": None}, "board", ON, False,
     "signoff_missing"),
    ("signoff-older-revision", {"revision": 4}, {}, "board", ON, False, "signoff_stale"),
    ("signoff-same-revision", {"revision": 3}, {}, "board", ON, True, None),
    ("signoff-date-before-update", {"updated": D(2026, 9, 21)},
     {"signed_off_revision": None}, "board", ON, False, "signoff_stale"),
    ("signoff-date-on-update", {"updated": D(2026, 9, 20)}, {"signed_off_revision": None},
     "board", ON, True, None),
    ("signoff-not-required", {"revision": 9}, {"signoff_required": False, "signed_off": None,
                                               "signed_off_revision": None}, "board", ON, True, None),
    # the story is not approved or published
    ("story-draft", {"status": "draft"}, {}, "board", ON, False, "not_approved"),
    ("story-in-review", {"status": "in_review"}, {}, "board", ON, False, "not_approved"),
    ("story-changes-requested", {"status": "changes_requested"}, {}, "board", ON, False,
     "not_approved"),
    ("story-archived", {"status": "archived"}, {}, "board", ON, False, "not_approved"),
    ("story-withdrawn", {"status": "withdrawn"}, {}, "board", ON, False, "withdrawn_story"),
    ("story-approved", {"status": "approved"}, {}, "board", ON, True, None),
    ("story-published", {"status": "published"}, {}, "board", ON, True, None),
    # given_by: other and the use is external
    ("given-by-other-external", {}, {"given_by": "other"}, "public_website", ON, False,
     "given_by_other"),
    ("given-by-other-internal", {}, {"given_by": "other"}, "board", ON, True, None),
    ("given-by-parent-external", {}, {"given_by": "parent_with_pr", "age_band": "under_13",
                                      "reconsent_due": D(2030, 1, 1)}, "public_website", ON, True, None),
    # a child's reconsent_due has passed
    ("child-reconsent-passed", {}, {"age_band": "13_15", "reconsent_due": D(2027, 2, 1)}, "board",
     ON, False, "reconsent_due"),
    ("child-reconsent-today", {}, {"age_band": "16_17", "reconsent_due": ON}, "board", ON, True,
     None),
    ("under-13-reconsent-passed", {}, {"age_band": "under_13", "given_by": "parent_with_pr",
                                       "reconsent_due": D(2026, 12, 31)}, "board", ON, False,
     "reconsent_due"),
    # further safeguards
    ("lacks-capacity-self", {}, {"capacity": "assessed_lacks"}, "board", ON, False, "lacks_capacity"),
    ("lacks-capacity-deputy", {}, {"capacity": "assessed_lacks", "given_by": "court_deputy"},
     "board", ON, True, None),
    ("pseudonym-missing", {"storyteller": {"name": "Aisha Rahman", "role": "patient"}}, {},
     "board", ON, False, "no_pseudonym"),
    ("nothing-to-show", {}, {"media": ["photo"]}, "board", ON, False, "nothing_to_show"),
]


@pytest.mark.parametrize(("story_changes", "consent_changes", "use", "on", "allowed", "code"),
                         [pytest.param(*row[1:], id=row[0]) for row in RULES])
def test_consent_rules(story_changes, consent_changes, use, on, allowed, code):
    decision = decision_for(story_changes, consent_changes, use, on)
    assert decision.allowed is allowed
    if allowed:
        assert decision.reasons == ()
        assert decision.view is not None and not decision.view.draft
    else:
        assert decision.view is None
        assert code in decision.codes
        assert all(len(r.message.split()) >= 3 for r in decision.reasons)  # words, not codes


def test_every_reason_is_given_not_just_the_first():
    decision = decision_for({"status": "draft"}, {"status": "pending", "expires": D(2027, 1, 1),
                                                  "signed_off": None}, "press")
    assert set(decision.codes) >= {"consent_pending", "expired", "use_not_granted",
                                   "signoff_missing", "not_approved"}
    assert "consent expired on 2027-01-01" in decision.messages
    assert any("does not cover press" in msg for msg in decision.messages)


def test_reasons_are_readable_sentences():
    decision = decision_for({}, {"uses": ["board"]}, "press")
    assert decision.messages == ["consent does not cover press (it covers: board)"]


def test_only_the_latest_consent_version_counts():
    story = build_story(story_front(), [consent_version(),
                                        consent_version(version=2, status="withdrawn", withdrawal={
                                            "requested": D(2027, 1, 2), "scope": "stop_future_use",
                                            "reason": "moved away"})])
    decision = decide(story, "board", ON)
    assert not decision.allowed and decision.codes == ["withdrawn"]
    assert decision.consent_version == 2
    widened = build_story(story_front(), [consent_version(uses=["board"]),
                                          consent_version(version=2, uses=["board", "press"])])
    assert decide(widened, "press", ON).allowed


def test_site_external_uses_apply(make_site):
    root = make_site(toml='[site]\ntitle = "T"\n[uses.ward_posters]\nlabel = "Ward posters"\n'
                          'external = true\n[uses.board]\nexternal = true\n')
    write_story(root, "st-other", consent=[consent_version(
        given_by="other", uses=["board", "ward_posters", "staff_training"])])
    site = Site.open(root)
    story = site.store.get("st-other")
    assert site.decide(story, "ward_posters", ON).codes == ["given_by_other"]
    assert site.decide(story, "board", ON).codes == ["given_by_other"]
    assert site.decide(story, "staff_training", ON).allowed


def test_decide_is_pure():
    story = build_story(story_front(), [consent_version(identification="anonymous")])
    before = copy.deepcopy(story)
    first = decide(story, "board", ON)
    second = decide(story, "board", ON)
    assert first == second
    assert story == before and story.body == before.body and story.people == before.people


# --- draft previews --------------------------------------------------------------------------

def test_preview_of_a_draft_is_allowed_and_marked():
    decision = decision_for({"status": "draft"}, {"status": "pending", "signed_off": None},
                            "staff_training", preview=True)
    assert decision.allowed and decision.draft
    assert decision.view.draft and decision.view.draft_mark == DRAFT_MARK
    assert DRAFT_MARK == "DRAFT - not for distribution"


@pytest.mark.parametrize(("story_changes", "consent_changes", "use", "code"), [
    ({"status": "draft"}, {}, "public_website", "preview_external"),
    ({}, {"status": "withdrawn", "withdrawal": {"requested": D(2027, 1, 1)}}, "board", "withdrawn"),
    ({}, {"expires": D(2027, 1, 1)}, "board", "expired"),
    ({}, {}, "press", "use_not_granted"),
    ({"status": "withdrawn"}, {}, "board", "withdrawn_story"),
])
def test_preview_still_refuses_hard_reasons(story_changes, consent_changes, use, code):
    decision = decision_for(story_changes, consent_changes, use, preview=True)
    assert not decision.allowed and code in decision.codes and decision.view is None


def test_preview_of_an_approved_story_is_not_marked_draft():
    decision = decision_for({}, {}, "board", preview=True)
    assert decision.allowed and not decision.draft and decision.view.draft_mark is None


# --- the reduced view ------------------------------------------------------------------------

IDENTIFICATION = [
    # (identification, role, pseudonym, shown as, attribution, text shows the storyteller as)
    ("full_name", "patient", "Leila", "Aisha Rahman", "Aisha Rahman, patient", "Aisha Rahman"),
    ("first_name", "patient", "Leila", "Aisha", "Aisha, patient", "Aisha"),
    ("pseudonym", "patient", "Leila", "Leila", "Leila, patient (not their real name)", "Leila"),
    ("anonymous", "patient", "Leila", "a patient", "a patient", NAME_REMOVED),
    ("anonymous", "carer", None, "a carer", "a carer", NAME_REMOVED),
    ("anonymous", "parent", None, "a parent", "a parent", NAME_REMOVED),
    ("anonymous", "relative", None, "a relative", "a relative", NAME_REMOVED),
    ("anonymous", "staff", None, "a member of staff", "a member of staff", NAME_REMOVED),
    ("anonymous", "other", None, "someone who shared their story", "someone who shared their story",
     NAME_REMOVED),
]


@pytest.mark.parametrize(("identification", "role", "pseudonym", "shown", "credit", "in_text"),
                         IDENTIFICATION)
def test_identification_is_applied(identification, role, pseudonym, shown, credit, in_text):
    teller = {"name": "Aisha Rahman", "role": role}
    if pseudonym:
        teller["pseudonym"] = pseudonym
    body = "My name is Aisha Rahman. Aisha is what friends call me; Ms Rahman at work.\n"
    decision = decision_for({"storyteller": teller, "title": "Aisha Rahman's nights"},
                            {"identification": identification}, body=body)
    view = decision.view
    assert view.storyteller == shown
    assert view.attribution == credit
    assert view.body.startswith(f"My name is {in_text}.")
    assert view.title == f"{in_text}'s nights"
    if identification != "full_name":
        assert "Rahman" not in view.body + view.title
    if identification in ("pseudonym", "anonymous"):
        assert not re.search(r"\bAisha\b", view.body + view.title)


LABELS = [
    # (identification, slug shown, tags shown): the slug and tags name Aisha Rahman and the
    # midwife Carol Pegg, whom the text may never name
    ("full_name", "st-test01", ("night staff", "aisha rahman", "aisha-s-nights")),
    ("first_name", "st-test01", ("night staff", "aisha-s-nights")),
    ("anonymous", "st-test01", ("night staff",)),
]


@pytest.mark.parametrize(("identification", "slug", "tags"), LABELS)
def test_a_slug_or_tag_that_names_someone_is_not_shown(identification, slug, tags):
    """The slug is in every address and file name of a story's outputs, and tags are links
    on the website: a name the consent hides must not ride along in them."""
    decision = decision_for(
        {"slug": "aisha-rahman-and-carol-pegg",
         "tags": ["night staff", "aisha rahman", "Carol", "aisha-s-nights"],
         "service": "Carol Pegg's team"},
        {"identification": identification})
    view = decision.view
    assert (view.slug, decision.slug) == (slug, slug)
    assert view.tags == tags
    assert view.service == "The night midwife's team"


def test_a_slug_naming_no_one_hidden_is_kept():
    for identification in ("full_name", "first_name", "pseudonym", "anonymous"):
        decision = decision_for({"slug": "night-feeds-for-carolines-baby",
                                 "tags": ["carolines", "night staff"]},
                                {"identification": identification})
        assert decision.slug == decision.view.slug == "night-feeds-for-carolines-baby"
        assert decision.view.tags == ("carolines", "night staff")
    first = decision_for({"slug": "aisha-on-the-ward"}, {"identification": "first_name"})
    assert first.view.slug == "aisha-on-the-ward"  # her first name may be shown
    assert decision_for({"slug": "aisha-on-the-ward"}, {"identification": "pseudonym"}
                        ).view.slug == "st-test01"


def test_honorific_is_not_part_of_a_first_name():
    decision = decision_for({"storyteller": {"name": "Dr Amir Khan", "role": "staff"}},
                            {"identification": "first_name"},
                            body="Dr Amir Khan here. Dr Khan, people say.\n")
    assert decision.view.storyteller == "Amir"
    assert "Khan" not in decision.view.body


PEOPLE = [
    # (text, reduced text)
    ("Midwife Carol Pegg sat with me.", "The night midwife sat with me."),
    ("Then Carol Pegg sat with me.", "Then the night midwife sat with me."),
    ("Then Carol sat with me.", "Then the night midwife sat with me."),
    ("Then Midwife Pegg sat with me.", "Then the night midwife sat with me."),
    ("Then Pegg sat with me.", "Then the night midwife sat with me."),
    ("I liked Carol's voice.", "I liked the night midwife's voice."),
    ("\"Carol Pegg,\" I said.", "\"The night midwife,\" I said."),
    ("It was _Carol Pegg_ who came.", "It was _the night midwife_ who came."),
    ("It was **Carol** who came.", "It was **the night midwife** who came."),
    ("It was Carol\nPegg who came.", "It was the night midwife who came."),
    ("THANK YOU CAROL PEGG!", "THANK YOU the night midwife!"),
    ("Caroline and Peggy are other people.", "Caroline and Peggy are other people."),
]


@pytest.mark.parametrize(("text", "reduced"), PEOPLE)
def test_people_are_replaced_by_render_as(text, reduced):
    decision = decision_for({}, {"identification": "full_name"}, body=text)
    assert decision.view.body == reduced


def test_people_in_every_text_field_are_replaced():
    front = story_front(
        title="Carol Pegg and me", summary="How Carol helped.", quotes=["Carol Pegg stayed."],
        content_warning="Carol mentions a baby in special care.", changes=["Pegg's handover"],
        asks=["Thank Carol"], speaker_notes="Carol is happy to be thanked.\n",
        images=[{"file": "media/ward.jpg", "alt": "Carol Pegg at the desk", "kind": "illustration"}])
    view = decide(build_story(front, [consent_version()]), "board", ON).view
    texts = [view.title, view.summary, *view.quotes, view.content_warning, *view.changes,
             *view.asks, view.speaker_notes, view.body, *(i.alt for i in view.images)]
    assert all("Carol" not in t and "Pegg" not in t for t in texts)
    assert view.title == "The night midwife and me"


@pytest.mark.parametrize(("media", "photos", "quotes", "body"), [
    (["text", "quotes", "photo"], 1, 1, True),
    (["text", "quotes"], 0, 1, True),
    (["text"], 0, 0, True),
    (["quotes"], 0, 1, False),
    (["quotes", "photo"], 1, 1, False),
])
def test_media_consent_drops_what_it_does_not_cover(media, photos, quotes, body):
    front = story_front(images=[
        {"file": "media/cot.jpg", "alt": "A cot beside a bed", "kind": "photo"},
        {"file": "media/map.png", "alt": "A drawn map of the ward", "kind": "illustration"}])
    view = decide(build_story(front, [consent_version(media=media)]), "board", ON).view
    assert sum(1 for i in view.images if i.kind == "photo") == photos
    assert [i.file for i in view.images if i.kind == "illustration"] == ["media/map.png"]
    assert len(view.quotes) == quotes
    assert bool(view.body) is body
    assert (view.summary is not None) is body
    assert view.media == tuple(media)


def test_private_fields_are_not_in_the_view():
    front = story_front(extra={"nhs_number": "999 123 4567", "ward_contact": "Ward 7 desk"})
    view = decide(build_story(front, [consent_version(identification="pseudonym")]),
                  "board", ON).view
    everything = repr(dataclasses.asdict(view))
    for private in ("Aisha Rahman", "Rahman", "999 123 4567", "Ward 7 desk", "Carol Pegg"):
        assert private not in everything
    names = {f.name for f in dataclasses.fields(view)}
    assert not names & {"people", "extra", "storyteller_name", "consent"}
    assert view.without_notes().speaker_notes is None


def test_decision_carries_the_consent_version():
    story = build_story(story_front(), [consent_version(), consent_version(version=2)])
    decision = decide(story, "board", ON)
    assert decision.consent_version == 2 and decision.view.consent_version == 2
    assert decision.view.consent_expires == D(2029, 9, 2)


# --- properties --------------------------------------------------------------------------------

FIRST = ["Aisha", "Gareth", "Jo", "Siobhan", "Tomasz", "Priya", "Zoë", "Mary-Jane", "Ed", "Oluwaseun"]
LAST = ["Rahman", "Lloyd", "Pegg", "O'Brien", "Nowak", "Okafor", "Smith-Jones", "Lee", "Ng"]
TITLES = ["", "", "Dr ", "Nurse ", "Mrs ", "Midwife ", "Prof. "]
RENDER_AS = ["the night midwife", "the consultant", "a nurse", "my neighbour", "the porter"]
PSEUDONYMS = ["Leila", "Sam", "Robin", "Alex"]
SENTENCES = [
    "{full} said hello.", "I met {full} on the ward.", "{first} came back at night.",
    "We thanked {title}{last}.", "It was {first}'s idea.", "\"{first},\" I said, \"thank you.\"",
    "**{full}** stayed late.", "It was _{first}_ who stayed.", "THANK YOU {FULL}!",
    "I asked {first}\n{last} for help.", "Later, {last} phoned.", "{title}{full} was kind.",
]
INTERNAL = [u for u in m.DEFAULT_USES if u not in m.EXTERNAL_USES]
USES = list(m.DEFAULT_USES)


@st.composite
def names(draw, count: int):
    """``count`` people who share no first or last name, so each absence can be checked."""
    firsts = draw(st.permutations(FIRST))[:count]
    lasts = draw(st.permutations(LAST))[:count]
    return [(draw(st.sampled_from(TITLES)), first, last) for first, last in zip(firsts, lasts)]


def _fill(template, name):
    title, first, last = name
    full = f"{first} {last}"
    return template.format(full=full, FULL=full.upper(), first=first, last=last, title=title)


@st.composite
def stories(draw):
    everyone = draw(names(draw(st.integers(1, 4))))
    teller, people = everyone[0], everyone[1:]

    def text(max_sentences=4):
        parts = draw(st.lists(st.tuples(st.sampled_from(SENTENCES), st.sampled_from(everyone)),
                              min_size=1, max_size=max_sentences))
        return " ".join(_fill(t, n) for t, n in parts)

    pseudonym = draw(st.sampled_from([None, *PSEUDONYMS]))
    teller_dict = {"name": f"{teller[0]}{teller[1]} {teller[2]}",
                   "role": draw(st.sampled_from(m.ROLES))}
    if pseudonym:
        teller_dict["pseudonym"] = pseudonym
    revision = draw(st.integers(0, 6))
    front = story_front(
        status=draw(st.sampled_from(m.STORY_STATUSES)),
        title=text(1).replace("\n", " ")[:200], summary=text(2), storyteller=teller_dict,
        people=[{"name": f"{p[0]}{p[1]} {p[2]}", "render_as": draw(st.sampled_from(RENDER_AS))}
                for p in people],
        quotes=[text(2) for _ in range(draw(st.integers(0, 2)))],
        speaker_notes=text(2), changes=[text(1)], asks=[text(1)], content_warning=text(1),
        images=[{"file": "media/a.jpg", "alt": text(1), "kind": "photo"},
                {"file": "media/b.png", "alt": text(1), "kind": "illustration"}],
        revision=revision, updated=draw(st.dates(D(2026, 1, 1), D(2028, 1, 1))),
    )
    granted = draw(st.dates(D(2025, 1, 1), D(2028, 1, 1)))
    signed = draw(st.one_of(st.none(), st.dates(D(2025, 1, 1), D(2028, 1, 1))))
    consent = consent_version(
        status=draw(st.sampled_from(m.CONSENT_STATUSES)),
        given_by=draw(st.sampled_from(m.GIVEN_BY)),
        capacity=draw(st.sampled_from(m.CAPACITY)),
        age_band=draw(st.sampled_from(m.AGE_BANDS)),
        reconsent_due=draw(st.one_of(st.none(), st.dates(D(2025, 1, 1), D(2030, 1, 1)))),
        granted=granted,
        expires=granted + dt.timedelta(days=draw(st.integers(1, 1500))),
        uses=draw(st.lists(st.sampled_from(USES), unique=True)),
        media=draw(st.lists(st.sampled_from(m.MEDIA), unique=True)),
        identification=draw(st.sampled_from(m.IDENTIFICATION)),
        signoff_required=draw(st.booleans()),
        signed_off=signed,
        signed_off_revision=draw(st.one_of(st.none(), st.integers(0, 6))) if signed else None,
        withdrawal={"requested": D(2027, 1, 1), "scope": "stop_future_use", "reason": "moved"},
    )
    if draw(st.booleans()):
        # half the time, a story that passes every check, so the view itself gets examined
        front.update(status=draw(st.sampled_from(m.RENDERABLE_STATUSES)))
        consent.update(status="active", given_by="self", capacity="presumed", age_band="adult",
                       granted=D(2025, 1, 1), expires=D(2031, 1, 1), uses=USES,
                       signoff_required=False)
        consent["media"] = sorted(set(consent["media"]) | {"text"})
        if consent["identification"] == "pseudonym":
            teller_dict["pseudonym"] = draw(st.sampled_from(PSEUDONYMS))
    body = "\n\n".join(text(3) for _ in range(draw(st.integers(1, 3)))) + "\n"
    story = build_story(front, [consent], body=body)
    return story, everyone


def should_refuse(story: m.Story, use: str, on: dt.date) -> bool:
    """DESIGN.md's rules, restated independently of storykit.consent."""
    c = story.current_consent
    if c is None or c.status != "active" or on > c.expires or on < c.granted:
        return True
    if use not in c.uses or story.status not in ("approved", "published"):
        return True
    if c.signoff_required:
        if c.signed_off is None:
            return True
        if c.signed_off_revision is not None and story.revision > c.signed_off_revision:
            return True
        if c.signed_off_revision is None and story.updated and story.updated > c.signed_off:
            return True
    if c.given_by == "other" and use in m.EXTERNAL_USES:
        return True
    if c.age_band != "adult" and c.reconsent_due and on > c.reconsent_due:
        return True
    if c.capacity == "assessed_lacks" and c.given_by == "self":
        return True
    if c.identification == "pseudonym" and not story.storyteller.pseudonym:
        return True
    return "text" not in c.media and "quotes" not in c.media or (
        "text" not in c.media and not story.quotes)


def _view_text(view) -> str:
    out = []

    def walk(value):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(dataclasses.asdict(view))
    return "\n".join(out)


def _word(name: str, text: str) -> bool:
    return re.search(r"(?<![^\W_])" + re.escape(name) + r"(?![^\W_])", text) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=stories(), use=st.sampled_from(USES), on=st.dates(D(2025, 6, 1), D(2030, 6, 1)),
       preview=st.booleans())
def test_refused_never_renders_and_allowed_never_leaks(data, use, on, preview):
    story, everyone = data
    decision = decide(story, use, on, preview=preview)
    event(f"allowed={decision.allowed}")
    if not preview:
        assert decision.allowed is not should_refuse(story, use, on)
    if not decision.allowed:
        assert decision.view is None and decision.reasons
        return
    view = decision.view
    assert view is not None
    assert decision.draft == view.draft
    if not preview:
        assert not view.draft
    c = story.current_consent
    assert c.status != "withdrawn" and on <= c.expires and use in c.uses
    if "photo" not in c.media:
        assert all(i.kind != "photo" for i in view.images)
    if "quotes" not in c.media:
        assert view.quotes == ()
    if "text" not in c.media:
        assert view.body == ""
    text = _view_text(view)
    teller_title, teller_first, teller_last = everyone[0]
    if c.identification != "full_name":
        assert story.storyteller.name not in text
        assert f"{teller_first} {teller_last}" not in text
        assert f"{teller_first} {teller_last}".upper() not in text
        assert not _word(teller_last, text)
    if c.identification in ("pseudonym", "anonymous"):
        assert not _word(teller_first, text)
    for title, first, last in everyone[1:]:
        assert f"{first} {last}" not in text
        assert f"{first} {last}".upper() not in text
        assert not _word(first, text) and not _word(last, text)


# --- the decision window ----------------------------------------------------------------------

NEAR = st.dates(D(2027, 2, 20), D(2027, 3, 10))


@settings(max_examples=300, deadline=None)
@given(granted=NEAR, expires=NEAR, reconsent=st.one_of(st.none(), NEAR), child=st.booleans(),
       on=NEAR, later=NEAR, use=st.sampled_from(["board", "public_website", "press"]))
def test_the_decision_is_the_same_on_every_day_of_its_window(granted, expires, reconsent, child,
                                                             on, later, use):
    """A build that finds every story unchanged may skip deciding again only while the day
    stays inside each story's window: any day inside gives the same answer as ``on``."""
    from storykit.consent import decision_window

    consent = consent_version(granted=granted, expires=expires, reconsent_due=reconsent,
                              age_band="child" if child else "adult",
                              capacity="has_capacity" if child else None,
                              given_by="parent_or_guardian" if child else "self")
    story = build_story(story_front(status="published"), [consent], body=BODY)
    first, last = decision_window(story, on)
    assert first <= on <= last
    if first <= later <= last:
        before, after = decide(story, use, on), decide(story, use, later)
        assert (after.allowed, [r.code for r in after.reasons]) == \
            (before.allowed, [r.code for r in before.reasons])


@settings(max_examples=200, deadline=None)
@given(granted=NEAR, expires=NEAR, reconsent=st.one_of(st.none(), NEAR), signed=NEAR,
       created=NEAR, requested=st.one_of(st.none(), NEAR), on=NEAR)
def test_the_window_looks_at_every_day_the_story_and_its_consent_hold(
        granted, expires, reconsent, signed, created, requested, on):
    """Only fields that may hold a day are looked at (quicker): the window is the one that
    looking at every field of the story, its consent and withdrawal gives."""
    import dataclasses

    from storykit.consent import decision_window

    withdrawal = {"requested": requested, "scope": "stop_future_use", "reason": "moving away"}
    consent = consent_version(granted=granted, expires=expires, reconsent_due=reconsent,
                              signed_off=signed, status="withdrawn" if requested else "active",
                              withdrawal=withdrawal if requested else None)
    story = build_story(story_front(status="published", created=created, updated=signed),
                        [consent], body=BODY)
    days = set()
    c = story.current_consent
    for holder in (story, c, c.withdrawal):
        for f in dataclasses.fields(holder) if holder is not None else ():
            value = getattr(holder, f.name)
            if isinstance(value, dt.date):
                day = value.date() if isinstance(value, dt.datetime) else value
                days |= {day, day + dt.timedelta(days=1)}
    after = min((d for d in days if d > on), default=None)
    assert decision_window(story, on) == (
        max((d for d in days if d <= on), default=D.min),
        after - dt.timedelta(days=1) if after else D.max)


def test_the_window_ends_on_the_last_day_of_consent():
    from storykit.consent import decision_window

    story = build_story(story_front(), [consent_version(expires=D(2027, 3, 5))], body=BODY)
    first, last = decision_window(story, ON)
    assert first <= ON and D(2027, 3, 3) <= last <= D(2027, 3, 5)  # never past the last day
    assert decision_window(story, D(2027, 3, 6))[0] == D(2027, 3, 6)  # expired from then on
    assert decide(story, "board", D(2027, 3, 5)).allowed
    assert not decide(story, "board", D(2027, 3, 6)).allowed


def test_contact_details_never_reach_a_story_view():
    contact = {"agrees_to_contact": True, "name": "Sam Private", "email": "sam.private@example.org",
               "address": ["7 Hidden Way", "BF9 9ZZ"], "phone": "01632 960 777",
               "preferred_format": "easy_read"}
    for identification in m.IDENTIFICATION:
        story = build_story(consent=[consent_version(identification=identification,
                                                     contact=contact)])
        view = decide(story, "board", ON).view
        assert view is not None
        shown = repr(dataclasses.asdict(view))
        for private in ("sam.private", "Hidden Way", "BF9 9ZZ", "960 777", "Sam Private",
                        "easy_read"):
            assert private not in shown, (identification, private)
