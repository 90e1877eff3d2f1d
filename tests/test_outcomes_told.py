"""Telling storytellers about an outcome (issue 15, item 2): an email with a one-time link
through a real SMTP server on loopback, only when their consent allows contact and gives an
email address, holding fixed words and the link only; otherwise a letter carrying the link's
short code; the storyteller's page shows what was decided for their story only, records their
answer on the outcome for the team, and the link works once.

All names and details are fictional."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from app_support import make_world, post
from conftest import consent_version, story_front, write_story
from storyteller_support import CONTACT, open_link
from test_email import drain, email_toml, smtp  # noqa: F401 - smtp is a fixture

from storykit.outcomes import outcome_log, record_outcome
from storykit.web.access import grant
from storykit.web.views.teller import STRICT_CSP

EMAILED, SILENT, LETTER = "st-told1", "st-told2", "st-told3"
STORIES = {
    EMAILED: ("Nobody answered the buzzer at night", CONTACT),
    SILENT: ("The long wait for a bed", {**CONTACT, "name": "Peregrine Mossop",
                                         "email": "peregrine@example.org",
                                         "agrees_to_contact": False}),
    LETTER: ("Lost between two wards", {"agrees_to_contact": True, "name": "Ianthe Jessop",
                                        "address": ["3 Example Lane", "Brackenford",
                                                    "BF3 1ZZ"],
                                        "preferred_format": "standard"}),
}
BODY_WORDS = "My mother pressed the buzzer"
NAMES = ("Aisha", "Rahman", "Peregrine", "Mossop", "Ianthe", "Jessop", "Leila")
DECIDED = "A card by each bed saying which buzzer to press"
WHY = "Families told us they could not find help at night."
KIND_PAGE = "This link or code does not work any more."


@pytest.fixture
def world(tmp_path, smtp):  # noqa: F811 - the fixture
    world = make_world(tmp_path / "site", toml=email_toml(smtp.port))
    conn = world.app.extensions["storykit"].db()
    for story_id, (title, contact) in STORIES.items():
        write_story(world.root, story_id, story_front(
            title=title, slug=story_id.removeprefix("st-"), status="approved"),
            body=f"{BODY_WORDS} and waited on the ward.\n",
            consent=[consent_version(contact=contact)])
        grant(conn, story_id, world.users["ann"], "owner", "test")
    return world


def text(response) -> str:
    return response.get_data(as_text=True)


def tell(world) -> tuple[str, str]:
    """Record an outcome on the three stories and press the button; (outcome id, page)."""
    made = record_outcome(world.site, {"title": DECIDED, "why": WHY, "status": "agreed"},
                          list(STORIES), by="ann")
    ann = world.client("ann")
    page = f"/outcomes/{made.id}"
    response = post(ann, f"{page}/letters", page=page)
    assert response.status_code == 303
    return made.id, text(ann.get(page))


def emailed_path(smtp) -> str:  # noqa: F811
    [(rcpt, message)] = smtp.messages
    assert rcpt == [CONTACT["email"]]
    found = re.search(r"https://stories\.example\.org(/s/[A-Za-z0-9_-]+)",
                      message.get_payload(decode=True).decode())
    return found.group(1)


def test_only_the_storyteller_who_may_be_contacted_by_email_gets_one(world, smtp):  # noqa: F811
    oid, page = tell(world)
    assert "An email to the storyteller of \u201cNobody answered the buzzer at night\u201d" \
        in page
    assert "No letter for \u201cThe long wait for a bed\u201d" in page
    assert "asked not to be contacted" in page
    assert "A standard print letter for \u201cLost between two wards\u201d is ready." in page
    drain(world.site)
    assert [rcpt for rcpt, _m in smtp.messages] == [[CONTACT["email"]]]
    message = smtp.messages[0][1]
    assert message["Subject"] == "What we did after hearing your story"
    assert message["To"] == CONTACT["email"]
    del message["To"]  # their own address is the To:, and nothing else of theirs is anywhere
    raw = message.as_string()
    for title, _contact in STORIES.values():
        assert title.lower() not in raw.lower()
    for secret in (*NAMES, BODY_WORDS, "Fictional Close", WHY, DECIDED):
        assert secret.lower() not in raw.lower(), secret
    assert "works once" in raw
    told = {(m.story_id, m.channel) for m in outcome_log(world.site).messages(oid)}
    assert told == {(EMAILED, "email"), (LETTER, "letter")}
    assert ">Email</td>" in page and "Letter, standard print" in page


def test_the_link_shows_the_outcome_records_the_answer_and_works_once(world, smtp):  # noqa: F811
    oid, _page = tell(world)
    drain(world.site)
    path = emailed_path(smtp)
    teller = world.app.test_client()
    assert open_link(teller, path).status_code == 303
    shown = teller.get("/s/answer")
    page = text(shown)
    assert shown.headers["Content-Security-Policy"] == STRICT_CSP
    assert DECIDED in page and WHY in page and "We have agreed to do this." in page
    assert "What do you think?" in page
    for title, _contact in STORIES.values():  # no story, not even their own, and no names
        assert title not in page
    for secret in (*NAMES, BODY_WORDS):
        assert secret not in page
    # too long: said kindly, nothing is used up
    long = post(teller, "/s/answer", {"comment": "x" * 2001}, page="/s/answer")
    assert long.status_code == 422 and "2,000 characters or fewer" in text(long)
    said = "Thank you. The card would have helped my mother."
    sent = post(teller, "/s/answer", {"comment": said}, page="/s/answer")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/s/thanks")
    assert "We have your answer about what we decided" in text(teller.get("/s/thanks"))
    [response] = outcome_log(world.site).responses(oid)
    assert (response.story_id, response.how, response.text) == (EMAILED, "link", said)
    team = text(world.client("ann").get(f"/outcomes/{oid}"))
    assert said in team and "through their link" in team
    assert not any(said in (e.detail or "") for e in world.audit())
    # used up: the same browser and another one get the kind page
    again = teller.get("/s/answer")
    assert again.status_code == 404 and KIND_PAGE in text(again)
    other = world.app.test_client()
    assert open_link(other, path).status_code == 404
    assert KIND_PAGE in text(other.get(path))
    assert len(outcome_log(world.site).responses(oid)) == 1


def test_a_tampered_link_gets_the_kind_page(world, smtp):  # noqa: F811
    tell(world)
    drain(world.site)
    path = emailed_path(smtp)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    teller = world.app.test_client()
    response = teller.get(tampered)
    assert response.status_code == 404 and KIND_PAGE in text(response)
    assert DECIDED not in text(response)
    # the real one still works after the tampered one was tried
    assert open_link(teller, path).status_code == 303


def test_the_letter_carries_a_code_that_opens_the_outcome(world, smtp):  # noqa: F811
    from pypdf import PdfReader

    oid, _page = tell(world)
    ann = world.client("ann")
    pdf = ann.get(f"/outcomes/{oid}/letters/{LETTER}.pdf")
    assert pdf.status_code == 200
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "/s/code" in words
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", words).group(1)
    teller = world.app.test_client()
    typed = post(teller, "/s/code", {"code": code}, page="/s/code")
    assert typed.status_code == 303
    page = text(teller.get("/s/answer"))
    assert DECIDED in page and "Lost between two wards" not in page
    # sending without words is an answer too, and the code is then used up
    assert post(teller, "/s/answer", {"comment": ""}, page="/s/answer").status_code == 303
    [response] = outcome_log(world.site).responses(oid)
    assert response.story_id == LETTER and response.how == "link"
    assert "sent no comment" in response.text
    again = post(world.app.test_client(), "/s/code", {"code": code}, page="/s/code")
    assert again.status_code == 404 and KIND_PAGE in text(again)
    # the storyteller who asked not to be contacted has no letter and no link
    from storykit.links import Links

    assert Links(world.site).for_story(SILENT, "outcome") == []
    assert not (world.site.instance / "letters" / "outcomes" / f"{oid}-{SILENT}.pdf").exists()


# --- the command line: storykit outcome letters ------------------------------------------------

def letters_cli(run_storykit, world, oid: str, folder, *more: str):
    return run_storykit(world.root, "outcome", "letters", oid, "-o", str(folder), *more)


def record(world, stories=tuple(STORIES)) -> str:
    return record_outcome(world.site, {"title": DECIDED, "why": WHY, "status": "agreed"},
                          list(stories), by="ann").id


def test_the_command_line_tells_them_as_the_browser_does(world, smtp, run_storykit,  # noqa: F811
                                                         tmp_path):
    from pypdf import PdfReader

    oid = record(world)
    folder = tmp_path / "letters"
    folder.mkdir()
    r = letters_cli(run_storykit, world, oid, folder)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == (f"{EMAILED}: An email to the storyteller of \u201cNobody answered the "
                        "buzzer at night\u201d is on its way.")
    assert lines[1] == (f"{SILENT}: No letter for \u201cThe long wait for a bed\u201d: the "
                        "storyteller asked not to be contacted.")
    assert lines[2].startswith(f"{LETTER}: A standard print letter for \u201cLost between two "
                               "wards\u201d is ready. It has a code to answer online. It is at ")
    assert "storykit worker" in r.err  # who sends the email
    for secret in (*NAMES, CONTACT["email"], "peregrine@", "Example Lane", "BF3"):
        assert secret not in r.out + r.err, secret  # no name or address on the terminal
    assert not re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", r.out + r.err)  # nor the code
    assert sorted(p.name for p in folder.iterdir()) == [f"{oid}-{LETTER}.pdf"]
    told = {(m.story_id, m.channel) for m in outcome_log(world.site).messages(oid)}
    assert told == {(EMAILED, "email"), (LETTER, "letter")}
    # the email goes through the outbox and the send-email job, with the link only
    drain(world.site)
    path = emailed_path(smtp)
    raw = smtp.messages[0][1].get_payload(decode=True).decode()
    for secret in (*NAMES, BODY_WORDS, DECIDED, WHY, "Nobody answered"):
        assert secret not in raw
    teller = world.app.test_client()
    assert open_link(teller, path).status_code == 303
    assert DECIDED in text(teller.get("/s/answer"))
    # the letter's code opens the same page for the other storyteller
    words = " ".join(p.extract_text() for p in PdfReader(folder / f"{oid}-{LETTER}.pdf").pages)
    assert "https://stories.example.org/s/code" in words
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", words).group(1)
    other = world.app.test_client()
    assert post(other, "/s/code", {"code": code}, page="/s/code").status_code == 303
    assert DECIDED in text(other.get("/s/answer"))
    # again: the letter is there already, so nothing is replaced without --force
    again = letters_cli(run_storykit, world, oid, folder, "--json")
    found = {t["story"]: t for t in json.loads(again.out)}
    assert found[LETTER]["told"] is None and "already there" in found[LETTER]["why_not"]
    assert found[EMAILED]["told"] == "email" and found[SILENT]["told"] is None
    forced = json.loads(letters_cli(run_storykit, world, oid, folder, "--json", "--force").out)
    assert [(t["story"], t["told"], t["style"], t["code"]) for t in forced] == [
        (EMAILED, "email", None, False), (SILENT, None, None, False),
        (LETTER, "letter", "standard", True)]
    assert forced[2]["letter"] == str(folder / f"{oid}-{LETTER}.pdf")
    assert all("Ianthe" not in json.dumps(t) for t in forced)


def test_without_the_apps_address_letters_have_no_code_and_nobody_is_emailed(
        world, smtp, run_storykit, tmp_path):  # noqa: F811
    toml = world.root / "storykit.toml"
    toml.write_text(toml.read_text().replace('app_url = "https://stories.example.org"\n', ""))
    oid = record(world, [EMAILED, LETTER])
    folder = tmp_path / "letters"
    folder.mkdir()
    r = letters_cli(run_storykit, world, oid, folder)
    assert r.code == 0, r.err
    assert "set [site] app_url" in r.err
    assert "It has a code" not in r.out and "large print letter for" in r.out
    drain(world.site)
    assert smtp.messages == []
    from storykit.links import Links

    assert Links(world.site).for_story(EMAILED, "outcome") == []


def test_wrong_command_lines_are_refused_and_nothing_is_sent(world, smtp, run_storykit,  # noqa: F811
                                                             tmp_path):
    import os

    from storykit.outcomes import Outcome, outcome_log
    from storykit.outcomes.records import new_id

    folder = tmp_path / "letters"
    folder.mkdir()
    r = letters_cli(run_storykit, world, "oc-missing1", folder)
    assert r.code == 1 and "no outcome 'oc-missing1'" in r.err
    empty = outcome_log(world.site).add(Outcome(new_id(), "Nothing behind it", "agreed", (),
                                                created_by="ann"))
    r = letters_cli(run_storykit, world, empty.id, folder)
    assert r.code == 1 and "has no stories, so there is nobody to tell" in r.err
    oid = record(world)
    if os.geteuid() == 0:  # root may write anywhere except where the system says no
        locked = Path("/sys/kernel")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    for place, words in ((tmp_path / "missing", "does not exist"),
                         (locked, "cannot write in the folder")):
        r = letters_cli(run_storykit, world, oid, place)
        assert r.code == 1 and words in r.err, (place, r.err)
    r = run_storykit(world.root, "outcome", "letters", oid)
    assert r.code == 2 and "Missing option '-o'" in r.err
    # nothing was sent, written or logged by any of them
    assert outcome_log(world.site).messages(oid) == [] and list(folder.iterdir()) == []
    from storykit.links import Links

    assert all(Links(world.site).for_story(s, "outcome") == [] for s in STORIES)
    drain(world.site)
    assert smtp.messages == []


def test_a_story_withdrawn_since_is_not_written_about(world, smtp, run_storykit,  # noqa: F811
                                                      tmp_path):
    oid = record(world, [LETTER])
    world.site.withdraw(LETTER, "stop_future_use", "Please stop", by="ann")
    folder = tmp_path / "letters"
    folder.mkdir()
    r = letters_cli(run_storykit, world, oid, folder, "--json")
    assert r.code == 1 and "Nobody was told" in r.err
    [told] = json.loads(r.out)
    assert told["told"] is None and told["why_not"] == "consent was withdrawn."
    assert list(folder.iterdir()) == [] and outcome_log(world.site).messages(oid) == []
    from storykit.links import Links

    assert Links(world.site).for_story(LETTER, "outcome") == []


# --- staff are told when a storyteller answers -------------------------------------------------

def test_staff_are_told_when_a_storyteller_answers_without_their_words(world, smtp):  # noqa: F811
    from storykit.web.alerts import set_email

    conn = world.app.extensions["storykit"].db()
    for name in ("ann", "ada", "bob", "rita"):
        set_email(conn, world.users[name].id, f"{name}@trust.example.org")
    made = record_outcome(world.site, {"title": DECIDED, "why": WHY, "status": "agreed",
                                       "owner": "  ADA  "}, [EMAILED, LETTER], by="ann")
    ann = world.client("ann")
    page = f"/outcomes/{made.id}"
    assert post(ann, f"{page}/letters", page=page).status_code == 303
    # staff entering a response themselves tell nobody
    said_by_phone = "She rang to say thank you."
    assert post(ann, f"{page}/responses", {"story": LETTER, "how": "phone",
                                           "text": said_by_phone}, page=page).status_code == 303
    drain(world.site)
    assert len(smtp.messages) == 1  # the storyteller's email only
    assert "What storytellers said about our decisions" not in text(ann.get("/"))
    teller = world.app.test_client()
    assert open_link(teller, emailed_path(smtp)).status_code == 303
    said = "Thank you, Aisha here. The card would have helped my mother."
    assert post(teller, "/s/answer", {"comment": said}, page="/s/answer").status_code == 303
    drain(world.site)
    staff = {rcpt[0]: m for rcpt, m in smtp.messages[1:]}
    assert sorted(staff) == ["ada@trust.example.org", "ann@trust.example.org"]  # not bob, rita
    for message in staff.values():
        assert message["Subject"] == "A storyteller answered about an outcome"
        body = message.get_payload(decode=True).decode()
        assert f"https://stories.example.org/outcomes/{made.id}#responses" in body
        raw = message.as_string()
        for secret in (said, "card would have helped", *NAMES, DECIDED, WHY, BODY_WORDS,
                       *(title for title, _c in STORIES.values())):
            assert secret.lower() not in raw.lower(), secret
    # the home page of whoever may see the story says so, with a link to the outcome
    home = text(ann.get("/"))
    assert f'href="/outcomes/{made.id}#responses">A storyteller answered about ' \
           f"\u201c{DECIDED}\u201d</a>" in home
    assert 'href="#answered">What storytellers said about our decisions: 1</a>' in home
    assert said not in home and "Aisha" not in home
    assert "A storyteller answered" not in text(world.client("bob").get("/"))  # not his story
    assert "A storyteller answered" in text(world.client("ada").get("/"))


def test_links_and_codes_point_at_the_apps_storyteller_pages(world):
    from flask import url_for

    from storykit.outcomes.telling import Answering

    with world.app.test_request_context():
        assert Answering("https://x.example").link("abc") == \
            "https://x.example" + url_for("teller.open_link", token="abc")
        assert Answering("https://x.example").code_page == "https://x.example" + url_for(
            "teller.code")
    assert Answering.for_site(world.site) == Answering("https://stories.example.org")
