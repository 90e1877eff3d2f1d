"""The storyteller's side: one-time links (hashed, bound to one story, one revision and one
browser session; expiring, used once, revocable), the public pages that show the words
exactly as they will be used and take the answer, staff recording a paper or spoken answer,
sign-off enforced by the core (an edit after sign-off blocks publishing), the printed letter
with its code, and contact details kept private.

All names and details are fictional."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest
from app_support import make_world, post
from pypdf import PdfReader
from storyteller_support import (
    CONTACT,
    REAL_NAME,
    STORY,
    add_teller_story,
    open_link,
    send_consent_link,
    send_request,
)

from storykit import lifecycle
from storykit.letters import EASY_READ_MAX_WORDS, sentences, word_count
from storykit.letters.signoff import signoff_letter, signoff_text
from storykit.links import REFUSED_WORDS, LinkRefused, Links, format_code

PAGE = f"/stories/{STORY}/sign-off"
#: What the test consent lets us use (tests/conftest.py consent_version), as the form posts it.
MEDIA_NOW = ["text", "quotes", "photo"]


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path / "site")
    add_teller_story(w)
    add_teller_story(w, "st-teller2", title="Parking at the outpatient clinic")
    return w


def text(response) -> str:
    return response.get_data(as_text=True)


def answer(client, data):
    return post(client, "/s/answer", data, page="/s/answer")


def db_text(world) -> str:
    """Every row of the links table, as text (to look for tokens and codes in it)."""
    conn = world.site.database.connection()
    return repr([dict(r) for r in conn.all("SELECT * FROM one_time_links")])


# --- the links themselves (storykit.links) -------------------------------------------------------

def test_tokens_and_codes_are_stored_only_as_hashes(world):
    issued = Links(world.site).issue("signoff", STORY, by="ann", revision=3, code=True)
    assert len(issued.token) >= 40 and len(issued.code) == 8
    stored = db_text(world)
    assert issued.token not in stored and issued.code not in stored
    assert hashlib.sha256(issued.token.encode()).hexdigest() in stored
    # the short code is keyed with the site's own secret: its bare hash is not stored either
    assert hashlib.sha256(issued.code.encode()).hexdigest() not in stored


def test_a_link_belongs_to_the_first_browser_session_that_opens_it(world):
    links = Links(world.site)
    issued = links.issue("signoff", STORY, by="ann", revision=3)
    first = links.open(token=issued.token, session="session-one-" + "x" * 30)
    assert first.bound and first.story_id == STORY
    assert links.open(token=issued.token, session="session-one-" + "x" * 30).id == first.id
    with pytest.raises(LinkRefused) as refused:
        links.open(token=issued.token, session="session-two-" + "y" * 30)
    assert refused.value.code == "other_session" and str(refused.value) == REFUSED_WORDS


def test_expired_used_revoked_and_tampered_links_are_refused_alike(world):
    links = Links(world.site)
    session = "s" * 40
    expired = links.issue("signoff", STORY, by="ann", revision=3, days=1)
    with pytest.raises(LinkRefused) as exc:
        links.open(token=expired.token, session=session, now=time.time() + 2 * 86400)
    assert exc.value.code == "expired"
    used = links.issue("signoff", "st-teller2", by="ann", revision=3)
    link = links.open(token=used.token, session=session)
    links.answer(link.id, "agreed", via="link", session=session)
    with pytest.raises(LinkRefused) as exc:
        links.open(token=used.token, session=session)
    assert exc.value.code == "used"
    with pytest.raises(LinkRefused):  # only the first answer counts
        links.answer(link.id, "changes", via="link", session=session)
    revoked = links.issue("signoff", STORY, by="ann", revision=3)
    assert links.revoke(revoked.link.id, by="ann")
    with pytest.raises(LinkRefused) as exc:
        links.open(token=revoked.token, session=session)
    assert exc.value.code == "revoked"
    tampered = revoked.token[:-1] + ("A" if revoked.token[-1] != "A" else "B")
    with pytest.raises(LinkRefused) as exc:
        links.open(token=tampered, session=session)
    assert exc.value.code == "unknown"
    assert {str(e) for e in (exc.value,)} == {REFUSED_WORDS}


def test_a_new_request_replaces_open_ones_and_bad_input_is_refused(world):
    links = Links(world.site)
    old = links.issue("signoff", STORY, by="ann", revision=3)
    new = links.issue("signoff", STORY, by="ann", revision=3)
    assert links.get(old.link.id).state() == "revoked" and links.get(new.link.id).live()
    for bad in ({"purpose": "Sign Off!"}, {"days": 0}, {"days": 5000}):
        with pytest.raises(Exception) as exc:
            links.issue(**{"purpose": "signoff", "story_id": STORY, "by": "ann", **bad})
        assert "purpose" in str(exc.value) or "last" in str(exc.value)
    with pytest.raises(LinkRefused):
        links.open(code="ABC", session="s" * 40)
    with pytest.raises(Exception, match="who took"):
        links.answer(new.link.id, "agreed", via="paper")


# --- the storyteller's pages ----------------------------------------------------------------------

def test_the_storyteller_sees_the_words_as_they_will_be_used_and_asks_for_changes(world):
    ann = world.client("ann")
    response, path = send_request(ann)
    assert response.status_code == 200 and path and path.startswith("/s/")
    teller = world.app.test_client()  # no account, no session
    opened = open_link(teller, path)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/s/answer")
    page = teller.get("/s/answer")
    body = text(page)
    assert page.status_code == 200
    assert "Leila" in body and REAL_NAME not in body  # named as the consent says
    assert "the night midwife" in body and "Carol Pegg" not in body
    assert "Public website" in body and "2 September 2029" in body and "Easy Read" in body
    # strict headers; nothing that tracks
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "noindex" in page.headers["X-Robots-Tag"] and 'name="robots"' in body
    assert "<script" not in body and "http" not in re.sub(r'href="/[^"]*"', "", body).replace(
        "https://", "")
    # a wrong answer keeps the page, with the error
    bad = answer(teller, {"answer": "changes", "comment": ""})
    assert bad.status_code == 422 and "Tell us what you would like changed" in text(bad)
    bad = answer(teller, {"answer": "maybe"})
    assert bad.status_code == 422
    comment = "Please say the second night, not the first night."
    done = answer(teller, {"answer": "changes", "comment": comment})
    assert done.status_code == 303 and "/s/thanks" in done.headers["Location"]
    assert "You asked for changes" in text(teller.get("/s/thanks"))
    story = world.site.store.get(STORY)
    assert story.status == "changes_requested" and story.current_consent.signed_off is None
    assert comment in text(ann.get(PAGE))  # staff see it on the sign-off page
    # the story's next step says who asked: the storyteller, not a reviewer
    story_page = text(ann.get(f"/stories/{STORY}"))
    assert "The storyteller asked for changes" in story_page
    assert "A reviewer asked for changes" not in story_page
    details = " ".join(str(e.detail) for e in world.audit())
    assert comment not in details and REAL_NAME not in details
    assert "revision 3: changes (link)" in details
    # the used link is refused, with the same page as a made-up one
    used = teller.get(path)
    made_up = world.app.test_client().get("/s/" + "Q" * 43)
    assert used.status_code == made_up.status_code == 404
    assert text(used) == text(made_up) and "does not work" in text(used)


def test_a_link_opened_in_another_browser_is_refused(world):
    _response, path = send_request(world.client("ann"))
    first, second = world.app.test_client(), world.app.test_client()
    assert open_link(first, path).status_code == 303
    refused = second.get(path)
    assert refused.status_code == 404 and "does not work" in text(refused)
    assert second.get("/s/answer").status_code == 404
    assert first.get("/s/answer").status_code == 200


def test_opening_a_link_without_pressing_the_button_claims_nothing(world):
    """A mail system that fetches links to check them must not use a link up."""
    _response, path = send_request(world.client("ann"))
    scanner, storyteller = world.app.test_client(), world.app.test_client()
    for _ in range(2):
        assert scanner.get(path).status_code == 200
    assert not Links(world.site).latest(STORY, "signoff").bound
    assert open_link(storyteller, path).status_code == 303
    assert scanner.get(path).status_code == 404
    assert storyteller.get(path).status_code == 303  # its own browser goes straight back in


def test_a_link_for_one_story_cannot_read_or_answer_another(world):
    ann = world.client("ann")
    _r, path_one = send_request(ann, STORY)
    teller = world.app.test_client()
    open_link(teller, path_one)
    page = text(teller.get("/s/answer"))
    assert "Night feeds" in page and "Parking at the outpatient" not in page
    # no address names a story: the page answers only for the link this browser holds
    for probe in ("/s/answer?story=st-teller2", "/s/st-teller2", "/s/answer/st-teller2"):
        response = teller.get(probe)
        assert "Parking at the outpatient" not in text(response)
    done = answer(teller, {"answer": "agreed", "story": "st-teller2", "story_id": "st-teller2"})
    assert done.status_code == 303
    assert world.site.store.get(STORY).current_consent.signed_off_revision == 3
    assert world.site.store.get("st-teller2").current_consent.signed_off is None


def test_agreeing_signs_off_that_revision_and_an_edit_needs_a_new_sign_off(world, monkeypatch):
    site = world.site
    assert lifecycle.consent_refusals(site, site.store.get(STORY), "public_website")
    _r, path = send_request(world.client("ann"))
    teller = world.app.test_client()
    open_link(teller, path)
    assert answer(teller, {"answer": "agreed"}).status_code == 303
    story = site.store.get(STORY)
    consent = story.current_consent
    assert (consent.signed_off_revision, consent.method) == (3, "written")
    assert not lifecycle.consent_refusals(site, story, "public_website")
    pete = lifecycle.Actor("pete", roles=frozenset({"publisher"}))
    # the words change (the writer edits after it went back to them): publishing is refused
    edited = site.store.save(story.copy(body=story.body + "\nOne more line.\n"), by="ann")
    assert edited.revision == 4
    with pytest.raises(lifecycle.Refused) as refused:
        lifecycle.change(site, pete, edited, "publish", edited.etag)
    assert "consent_signoff_stale" in refused.value.codes


def test_a_link_for_words_that_changed_since_it_was_sent_is_refused(world):
    _r, path = send_request(world.client("ann"))
    story = world.site.store.get(STORY)
    world.site.store.save(story.copy(body=story.body + "\nChanged.\n"), by="ann")
    teller = world.app.test_client()
    open_link(teller, path)
    assert teller.get("/s/answer").status_code == 404
    assert world.site.store.get(STORY).current_consent.signed_off is None


def test_staff_can_revoke_a_request(world):
    ann = world.client("ann")
    _r, path = send_request(ann)
    link = Links(world.site).latest(STORY, "signoff")
    response = post(ann, f"{PAGE}/{link.id}/revoke", page=PAGE)
    assert response.status_code == 303
    assert world.app.test_client().get(path).status_code == 404
    page = text(ann.get(PAGE))
    assert "Stopped" in page
    # who sent it and when, in the words people use: no account name, no written-out ISO date
    assert "by Ann Example" in page and "by ann" not in page
    assert not re.search(r"\d{4}[/-]\d{2}[/-]\d{2}", page)


def test_sending_is_refused_unless_the_story_is_approved_and_needs_sign_off(world):
    ann = world.client("ann")
    story = world.site.store.get(STORY)
    saved = world.site.store.save(story.copy(status="in_review"), by="test")
    page = text(ann.get(PAGE))
    assert "once it is approved" in page and "Make a link" not in page
    response = post(ann, f"{PAGE}/send", {"etag": saved.etag}, page=PAGE)
    assert response.status_code == 422 and "once it is approved" in text(response)
    assert Links(world.site).for_story(STORY) == []
    # another person's story: not even visible
    assert world.client("bob").get(PAGE).status_code == 404
    assert post(world.client("bob"), f"{PAGE}/send", {"etag": "x"}, page="/stories").status_code \
        == 404


def test_staff_record_a_paper_or_spoken_answer_with_who_took_it(world):
    ann = world.client("ann")
    data = {"answer": "agreed", "via": "spoken", "taken_by": "Jo Example", "revision": "3"}
    for bad, field in (({"answer": ""}, "answer"), ({"via": "pigeon"}, "via"),
                       ({"taken_by": ""}, "taken_by"), ({"revision": "2"}, "answer"),
                       ({"answer": "changes", "comment": ""}, "comment")):
        response = post(ann, f"{PAGE}/answer", {**data, **bad}, page=PAGE)
        assert response.status_code == 422 and f'href="#{field}"' in text(response), bad
    assert world.site.store.get(STORY).current_consent.signed_off is None
    response = post(ann, f"{PAGE}/answer", data, page=PAGE)
    assert response.status_code == 303
    consent = world.site.store.get(STORY).current_consent
    assert consent.signed_off == dt.date.today() and consent.signed_off_revision == 3
    entry = world.audit(lifecycle.SIGNOFF_ANSWERED)[0]
    assert entry.detail == "revision 3: agreed (spoken; taken by Jo Example)"
    assert entry.actor == "ann"


def test_the_letter_code_opens_the_request_once(world):
    ann = world.client("ann")
    page_text = text(ann.get(PAGE))
    etag = re.search(r'name="etag" value="([^"]+)"', page_text).group(1)
    response = post(ann, f"{PAGE}/letter", {"etag": etag, "style": "standard"}, page=PAGE)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(_bytes(response)).pages)
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", words).group(1)
    teller = world.app.test_client()
    wrong = post(teller, "/s/code", {"code": "ZZZZ-ZZZZ"}, page="/s/code")
    assert wrong.status_code == 422 and "does not work" in text(wrong)
    empty = post(teller, "/s/code", {"code": ""}, page="/s/code")
    assert empty.status_code == 422
    opened = post(teller, "/s/code", {"code": code.lower().replace("-", " ")}, page="/s/code")
    assert opened.status_code == 303
    assert "Please check the words" in text(teller.get("/s/answer"))
    assert answer(teller, {"answer": "agreed"}).status_code == 303
    again = post(world.app.test_client(), "/s/code", {"code": code}, page="/s/code")
    assert again.status_code == 404 and "does not work" in text(again)


def test_too_many_wrong_codes_are_slowed_down(world):
    teller = world.app.test_client()
    statuses = [post(teller, "/s/code", {"code": f"ZZZZ-ZZ{c}{c}"}, page="/s/code").status_code
                for c in "ABCDEFGHJKMN"]
    assert statuses[:10] == [422] * 10 and statuses[-1] == 429


def _bytes(response):
    import io

    return io.BytesIO(response.get_data())


# --- the letter ------------------------------------------------------------------------------------

def _font_sizes(path) -> set[float]:
    sizes: set[float] = set()

    def visit(text, _cm, tm, _font, size):
        if text.strip():
            sizes.add(round(size * (abs(tm[0]) or 1), 1))

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize("style", ["standard", "large_print", "easy_read"])
def test_the_sign_off_letter_holds_the_code_and_the_summary(world, tmp_path, style):
    from storykit.letters import write_letter

    story = world.site.store.get(STORY)
    issued = Links(world.site).issue("signoff", STORY, by="ann", revision=3, code=True)
    code = format_code(issued.code)
    letter = signoff_letter(world.site, story, code=code, where="https://stories.example.org/s/code",
                            expires=dt.date(2027, 3, 15))
    out = write_letter(world.site, letter, tmp_path / f"{style}.pdf", style=style)
    reader = PdfReader(out)
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged
    words = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert code in words and "Leila" in words
    assert "stories.example.org/s/code" in words.replace(" ", "")
    assert "15 March 2027" in words
    if style == "easy_read":
        assert "Please check your story" in words and "Public website" in words
        for point in letter.easy_read:
            for sentence in sentences(point.text):
                assert word_count(sentence) <= EASY_READ_MAX_WORDS, sentence
    else:
        assert "We will use it for:" in words and "the night midwife" in words
    if style == "large_print":
        assert min(_font_sizes(out)) >= 16
    # the letter goes to them, so it uses their contact details; nothing else holds them
    assert CONTACT["address"][0] in words


def test_the_easy_read_summary_keeps_its_rules_for_a_long_title(world):
    from storykit.letters.signoff import signoff_easy_read

    long = "A very long title about the night the ward ran out of the right kind of milk"
    story = world.site.store.get(STORY).copy(title=long)
    points = signoff_easy_read(signoff_text(world.site, story), where="https://x.example/s",
                               code="ABCD-2345")
    for point in points:
        for sentence in sentences(point.text):
            assert word_count(sentence) <= EASY_READ_MAX_WORDS, sentence


# --- contact details are private -------------------------------------------------------------------

def test_contact_details_show_only_to_staff_who_work_on_the_story(world):
    from storykit.consent import reduce

    ann, rita = world.client("ann"), world.client("rita")
    assert CONTACT["email"] not in text(rita.get(f"/stories/{STORY}"))
    assert rita.get(PAGE).status_code in (403, 404)
    story = world.site.store.get(STORY)
    view = reduce(story, story.current_consent, "public_website")
    assert CONTACT["email"] not in repr(view) and CONTACT["address"][0] not in repr(view)
    teller = world.app.test_client()
    _r, path = send_request(ann)
    open_link(teller, path)
    page = text(teller.get("/s/answer"))
    assert CONTACT["email"] not in page and CONTACT["address"][0] not in page


def test_delete_everything_erases_links_and_contact_details(world):
    _r, path = send_request(world.client("ann"))
    assert Links(world.site).for_story(STORY)
    world.site.withdraw(STORY, "delete_everything", "They asked us to.", by="ann")
    assert Links(world.site).for_story(STORY) == []
    story = world.site.store.get(STORY)
    assert all(v.contact is None for v in story.consent)
    assert world.app.test_client().get(path).status_code == 404


# --- consent by link -----------------------------------------------------------------------------

def open_as_storyteller(world, path):
    teller = world.app.test_client()
    assert open_link(teller, path).status_code == 303
    return teller


def test_narrowing_consent_through_the_link_applies_at_once(world):
    teller = open_as_storyteller(world, send_consent_link(world.client("ann")))
    page = text(teller.get("/s/answer"))
    assert "Your consent for your story" in page and "Easy Read" in page
    assert "A made-up name: Leila" in page and REAL_NAME not in page
    uses = ["board", "staff_training", "clinical_teams"]  # no longer the public website
    done = answer(teller, {"want": "change", "uses": uses, "named": "anonymous",
                           "media": MEDIA_NOW})
    assert done.status_code == 303
    story = world.site.store.get(STORY)
    consent = story.current_consent
    assert consent.method == "e_signature" and consent.recorded_by.startswith("storyteller")
    assert set(consent.uses) == set(uses) and consent.identification == "anonymous"
    assert story.status == "approved"  # narrowing never sends it back to review
    assert Links(world.site).latest(STORY, "consent").answer == "changed"
    assert world.audit("consent.link_answered")[0].detail.startswith("change: changed (uses=")


def test_widening_through_the_link_waits_for_staff_to_confirm(world):
    ann = world.client("ann")
    teller = open_as_storyteller(world, send_consent_link(ann))
    before = world.site.store.get(STORY).current_consent
    uses = list(before.uses) + ["press"]
    assert answer(teller, {"want": "change", "uses": uses, "named": "pseudonym",
                           "media": MEDIA_NOW}).status_code == 303
    assert world.site.store.get(STORY).current_consent.version == before.version
    page = text(ann.get(f"/stories/{STORY}/consent/link"))
    assert "A change waits for you to confirm" in page and "Press and media" in page
    link = Links(world.site).latest(STORY, "consent")
    response = post(ann, f"/stories/{STORY}/consent/link/{link.id}/confirm",
                    page=f"/stories/{STORY}/consent/link")
    assert response.status_code == 303
    story = world.site.store.get(STORY)
    assert "press" in story.current_consent.uses
    assert story.status == "in_review"  # widened: reviewed again before any use
    assert Links(world.site).get(link.id).answer == "confirmed"


def test_without_confirmation_a_widening_applies_and_sends_the_story_back(tmp_path):
    from conftest import BASIC_TOML

    w = make_world(tmp_path / "site", toml=BASIC_TOML + "\n[consent]\nconfirm_link_changes = "
                                                       "false\n")
    add_teller_story(w)
    teller = open_as_storyteller(w, send_consent_link(w.client("ann")))
    uses = list(w.site.store.get(STORY).current_consent.uses) + ["press"]
    answer(teller, {"want": "change", "uses": uses, "named": "pseudonym", "media": MEDIA_NOW})
    story = w.site.store.get(STORY)
    assert "press" in story.current_consent.uses and story.status == "in_review"


def test_withdrawing_through_the_link_starts_the_same_takedown(world):
    from storykit import audit

    story = world.site.store.get(STORY)
    world.site.store.save(story.copy(status="published"), by="pete")
    teller = open_as_storyteller(world, send_consent_link(world.client("ann")))
    assert answer(teller, {"want": "stop", "scope": "stop_future_use"}).status_code == 303
    story = world.site.store.get(STORY)
    assert story.current_consent.status == "withdrawn"
    assert not world.site.decide(story, "public_website", dt.date.today()).allowed
    entry = world.audit(audit.CONSENT_WITHDRAWN)[0]
    assert entry.actor.startswith("storyteller") and entry.story_id == STORY
    assert "Asked us to stop" not in (entry.detail or "")


def test_consent_answers_that_are_wrong_keep_the_page_with_the_error(world):
    teller = open_as_storyteller(world, send_consent_link(world.client("ann")))
    for data, field in (({}, "want"), ({"want": "change", "named": "anonymous",
                                         "media": MEDIA_NOW}, "uses"),
                        ({"want": "change", "uses": ["board", "moon"], "named": "anonymous",
                          "media": MEDIA_NOW}, "uses"),
                        ({"want": "change", "uses": ["board"], "named": "nickname",
                          "media": MEDIA_NOW}, "named"),
                        ({"want": "stop"}, "scope")):
        response = answer(teller, data)
        assert response.status_code == 422 and f'href="#{field}"' in text(response), data
    assert world.site.store.get(STORY).current_consent.version == 1
    assert answer(teller, {"want": "keep"}).status_code == 303
    assert world.site.store.get(STORY).current_consent.version == 1
    assert Links(world.site).latest(STORY, "consent").answer == "kept"


def test_only_people_who_work_on_the_story_see_how_to_reach_the_storyteller(world):
    for page in (PAGE, f"/stories/{STORY}/consent/link"):
        body = text(world.client("ann").get(page))
        assert CONTACT["email"] in body and CONTACT["address"][0] in body
        assert "Large print" in body
        for who in ("rita", "pete", "ada", "bob"):
            response = world.client(who).get(page)
            assert response.status_code in (403, 404) and CONTACT["email"] not in text(response)
    for who in ("ann", "rita", "ada"):
        for page in (f"/stories/{STORY}", f"/stories/{STORY}/consent"):
            assert CONTACT["email"] not in text(world.client(who).get(page)), (who, page)


# --- consent by link: what of the story may be used (media) -------------------------------------

def _consent_of(world, story_id: str = STORY):
    return world.site.store.get(story_id).current_consent


def test_the_consent_page_lists_what_may_be_used_in_plain_words(world):
    teller = open_as_storyteller(world, send_consent_link(world.client("ann")))
    page = text(teller.get("/s/answer"))
    assert "What may we use?" in page
    for words in ("My whole story, in my words", "Short quotes from my story", "Photos",
                  "Sound recordings", "Videos"):
        assert words in page, words
    # what they agreed to is ticked, and the Easy Read summary says it in short points
    assert re.search(r'name="media" value="photo" checked', page)
    assert not re.search(r'name="media" value="audio" checked', page)
    assert "You said we could use:" in page  # the Easy Read summary, a point each
    assert "<strong>Short quotes from your story</strong>." in page
    assert "<strong>Photos</strong>." in page and "<strong>Videos</strong>" not in page


def test_taking_photos_away_applies_at_once_and_widening_media_waits(world):
    ann = world.client("ann")
    teller = open_as_storyteller(world, send_consent_link(ann))
    uses = list(_consent_of(world).uses)
    # photos away (narrowing) and sound recordings added (widening), in one answer
    assert answer(teller, {"want": "change", "uses": uses, "named": "pseudonym",
                           "media": ["text", "quotes", "audio"]}).status_code == 303
    consent = _consent_of(world)
    assert consent.media == ["text", "quotes"] and consent.method == "e_signature"
    assert consent.version == 2 and world.site.store.get(STORY).status == "approved"
    page = text(ann.get(f"/stories/{STORY}/consent/link"))
    assert "A change waits for you to confirm" in page and "sound recordings" in page
    link = Links(world.site).latest(STORY, "consent")
    assert link.answer == "change_waiting" and "media=text,quotes,audio" in link.answer_detail
    post(ann, f"/stories/{STORY}/consent/link/{link.id}/confirm",
         page=f"/stories/{STORY}/consent/link")
    story = world.site.store.get(STORY)
    assert story.current_consent.media == ["text", "quotes", "audio"]
    assert story.status == "in_review"  # widened: reviewed again before any use


def test_media_answers_that_are_wrong_are_refused_in_plain_words(world):
    teller = open_as_storyteller(world, send_consent_link(world.client("ann")))
    uses = list(_consent_of(world).uses)
    base = {"want": "change", "uses": uses, "named": "pseudonym"}
    cases = [
        # nothing ticked: "nothing" is not a change; they are told to tick words, or stop
        ({**base}, "Tick \u201cMy whole story, in my words\u201d or"),
        # pictures or recordings without any of their words cannot be used at all
        ({**base, "media": ["photo", "video"]}, "without any of your words"),
        # a value posted by hand that is not on the list
        ({**base, "media": ["text", "hologram"]}, "Choose what we may use from the list."),
        ({**base, "media": ["text", "TEXT"]}, "Choose what we may use from the list."),
    ]
    for data, words in cases:
        response = answer(teller, data)
        body = text(response)
        assert response.status_code == 422 and 'href="#media"' in body, data
        assert words in body.replace("&#34;", '"').replace("&quot;", '"'), (data, words)
        assert "hologram" not in body
    assert _consent_of(world).version == 1  # nothing was recorded
    assert Links(world.site).latest(STORY, "consent").used_at is None  # the link still works
    assert answer(teller, {**base, "media": ["quotes"]}).status_code == 303
    assert _consent_of(world).media == ["quotes"]


def test_a_choice_recorded_before_media_could_be_chosen_keeps_the_media(world):
    from storykit import storyteller

    old = storyteller.Choice.from_codes("uses=board;named=anonymous")
    assert old.media is None and old.media_of(_consent_of(world)) == ("text", "quotes", "photo")
    new = storyteller.Choice.from_codes(old.codes())
    assert new == old
    chosen = storyteller.Choice(("board",), "anonymous", ("quotes",))
    assert storyteller.Choice.from_codes(chosen.codes()) == chosen
    with pytest.raises(Exception, match="without any of your words"):
        storyteller.apply_choice(world.site, STORY, storyteller.Choice(
            ("board",), "anonymous", ("photo",)), confirm_widening=True)


def _jpeg(path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (640, 400), (30, 90, 160)).save(path, "JPEG")


def test_a_photo_taken_away_by_link_leaves_the_website_and_every_render(tmp_path):
    """The storyteller's outcome: after they untick "Photos", the next site build puts the
    page up without the photo, and a render of the story for a use has no picture."""
    from conftest import BASIC_TOML, consent_version, story_front, write_story

    from storykit.jobs import QUEUED, Jobs, run_job
    from storykit.publishing import queue_site_build
    from storykit.render import render
    from storykit.web.access import grant

    w = make_world(tmp_path / "site", BASIC_TOML + '\n[publish]\npublic_url = '
                                                   '"https://stories.example.nhs.uk/"\n')
    photo = {"file": "media/ward.jpg", "alt": "The ward at night, lights low", "kind": "photo"}
    write_story(w.root, STORY, story_front(slug="teller1", status="published", images=[photo]),
                consent=[consent_version(contact=CONTACT)])
    _jpeg(w.root / "stories" / STORY / "media" / "ward.jpg")
    grant(w.app.extensions["storykit"].db(), STORY, w.users["ann"], "owner", "test")

    def drain() -> None:
        jobs = Jobs(w.site)
        for _ in range(10):
            queued = jobs.recent(50, state=QUEUED)
            if not queued:
                return
            for job in reversed(queued):
                run_job(w.site, job.id, "test-worker")

    page = w.root / "build" / "site" / "stories" / "teller1.html"
    queue_site_build(w.site, by="pete", stories=[STORY])
    drain()
    assert "The ward at night" in page.read_text(encoding="utf-8")  # the photo is up
    assert list((w.root / "build" / "site").rglob("*.jpg"))

    teller = open_as_storyteller(w, send_consent_link(w.client("ann")))
    uses = list(_consent_of(w).uses)
    assert answer(teller, {"want": "change", "uses": uses, "named": "pseudonym",
                           "media": ["text", "quotes"]}).status_code == 303
    assert Jobs(w.site).recent(1, state=QUEUED), "narrowing queued a site build"
    drain()
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and "The ward at night" not in html
    assert not list((w.root / "build" / "site").rglob("*.jpg"))  # the picture file went too
    story = w.site.store.get(STORY)
    done = render(w.site, [story], "board", "web", tmp_path / "board")
    made = done.artefacts[0].path.read_text(encoding="utf-8")
    assert done.ok and "<img" not in made and "data:image" not in made
    assert "The ward at night" not in made


def test_swapping_every_place_for_a_new_one_stops_the_old_ones_at_once(world):
    """Taking places away is never held up by adding one: the old places stop now, and the
    new one waits for staff, so meanwhile the story is used nowhere."""
    ann = world.client("ann")
    teller = open_as_storyteller(world, send_consent_link(ann))
    assert answer(teller, {"want": "change", "uses": ["press"], "named": "pseudonym",
                           "media": MEDIA_NOW}).status_code == 303
    story = world.site.store.get(STORY)
    assert story.current_consent.uses == [] and story.current_consent.version == 2
    for use in world.site.config.use_names:
        assert not world.site.decide(story, use, dt.date.today()).allowed, use
    page = text(ann.get(f"/stories/{STORY}/consent/link"))
    assert "A change waits for you to confirm" in page and "Press and media" in page
    assert ann.get(f"/stories/{STORY}/consent").status_code == 200


# --- staff are told: the home page is the inbox (with or without email) -------------------------

def _home(client) -> str:
    return re.sub(r"\s+", " ", text(client.get("/")))


def test_the_home_page_shows_staff_what_storytellers_answered(world):
    ann = world.client("ann")
    assert "What storytellers told you" not in _home(ann)  # nothing yet: no empty section
    _response, path = send_request(ann)
    teller = world.app.test_client()
    open_link(teller, path)
    answer(teller, {"answer": "changes", "comment": "Say it was the second night."})
    home = _home(ann)
    assert "What storytellers told you (1)" in home
    assert (f'<a href="/stories/{STORY}/sign-off">Night feeds on the postnatal ward</a>: the '
            "storyteller asked for changes to the words: read what they said.") in home
    assert "second night" not in home  # their words stay on the sign-off page
    assert "second night" in text(ann.get(PAGE))
    # a consent change that waits for staff shows first, until someone confirms it
    teller2 = open_as_storyteller(world, send_consent_link(ann, "st-teller2"))
    uses = list(_consent_of(world, "st-teller2").uses) + ["press"]
    answer(teller2, {"want": "change", "uses": uses, "named": "pseudonym", "media": MEDIA_NOW})
    home = _home(ann)
    assert "What storytellers told you (2)" in home
    first = home.split("What storytellers told you (2)", 2)[-1]
    assert first.index("waits for you to confirm") < first.index("asked for changes")
    assert '<a href="/stories/st-teller2/consent/link">' in home
    # people who do not work on the story are not told
    for who in ("rita", "pete", "bob"):
        assert "What storytellers told you" not in _home(world.client(who)), who


def test_answers_staff_took_themselves_and_old_answers_are_not_in_the_inbox(world):
    from storykit.web.inbox import teller_answers

    ann = world.client("ann")
    page = text(ann.get(PAGE))
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    post(ann, f"{PAGE}/answer", {"answer": "agreed", "via": "paper", "taken_by": "Jo Example",
                                 "revision": revision}, page=PAGE)
    assert lifecycle.signed_off_now(world.site.store.get(STORY))
    assert "What storytellers told you" not in _home(ann)
    _response, path = send_request(ann, "st-teller2")
    teller = world.app.test_client()
    open_link(teller, path)
    answer(teller, {"answer": "agreed"})
    from storykit.web.accounts import by_name

    snap = world.app.extensions["storykit"].index.snapshot()
    conn = world.app.extensions["storykit"].db()
    user = by_name(conn, "ann")
    assert [a.story.id for a in teller_answers(world.site, user, snap)] == ["st-teller2"]
    conn.execute("UPDATE one_time_links SET used_at = '2020-01-01T09:00:00Z'")
    # older than the window, and not waiting: gone from the home page
    assert teller_answers(world.site, user, snap) == []
    assert "What storytellers told you" not in _home(ann)


def test_every_storys_requests_and_recent_answers_read_alike_on_both_engines(make_site,
                                                                           database_env):
    """``storykit signoff list`` (every story) and the home page's inbox ask the links table
    for every story's requests and for recent or waiting answers: SQLite and PostgreSQL."""
    from conftest import consent_version, story_front, write_story

    from storykit.site import Site

    root = make_site()
    for story_id in ("st-engine1", "st-engine2"):
        write_story(root, story_id, story_front(slug=story_id[3:]), consent=[consent_version()])
    links = Links(Site.open(root))
    one = links.issue("signoff", "st-engine1", by="ann", revision=3)
    two = links.issue("signoff", "st-engine2", by="ann", revision=3)
    waiting = links.issue("consent", "st-engine2", by="ann")
    assert [link.id for link in links.for_story(None, "signoff")] == [two.link.id, one.link.id]
    assert [link.id for link in links.for_story("st-engine2")] == [waiting.link.id, two.link.id]
    links.answer(one.link.id, "agreed", via="paper", taken_by="Jo Example")
    links.answer(waiting.link.id, "change", via="paper", taken_by="Jo Example")
    links.settle(waiting.link.id, "change_waiting")
    since = "2000-01-01T00:00:00Z"
    assert {link.id for link in links.answered(("signoff", "consent"), since=since)} == {
        one.link.id, waiting.link.id}
    assert [link.id for link in links.answered(("signoff",), since=since)] == [one.link.id]
    future = "2999-01-01T00:00:00Z"
    assert [link.id for link in links.answered(("signoff", "consent"), since=future,
                                               waiting="change_waiting")] == [waiting.link.id]
    assert links.answered((), since=since) == []
