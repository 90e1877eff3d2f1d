"""``storykit signoff``: staff ask the storyteller to sign off the final words from the command
line, as on the story's Sign-off page: a letter with a code (the code is only in the letter,
never printed), a list of requests in words, stopping a request, and recording an answer
given on paper or out loud. Each wrong input is refused in words with exit status 1 (a
refusal) or 2 (the command written wrongly), and changes nothing.

Emailing the link (``--email``) is tested against a real SMTP server in test_email.py.
All names and details are fictional."""

from __future__ import annotations

import json
import re

import pytest
from app_support import make_world
from conftest import BASIC_TOML
from pypdf import PdfReader
from storyteller_support import CONTACT, REAL_NAME, STORY, add_teller_story, open_link

from storykit import lifecycle
from storykit.links import CODE_LENGTH, Links

APP = "https://stories.example.org"
TOML = BASIC_TOML.replace("[site]\n", f'[site]\napp_url = "{APP}"\n')


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path / "site", toml=TOML)
    add_teller_story(w)
    return w


@pytest.fixture
def cli(world, run_storykit):
    """``storykit ARGS`` on the world's site."""
    return lambda *args, **kw: run_storykit(world.root, *args, **kw)


def requests_of(world, story_id: str = STORY):
    return Links(world.site).for_story(story_id, lifecycle.SIGNOFF)


def story(world, story_id: str = STORY):
    return world.site.store.get(story_id)


def no_code_or_token_in(text: str) -> None:
    """Nothing printed could open the request: no /s/<token>, no 8-letter code."""
    assert not re.search(r"/s/[A-Za-z0-9_-]{20,}", text), text
    assert not re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", text), text


def letter_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


# --- request ---------------------------------------------------------------------------------------

def test_a_letter_request_writes_the_pdf_with_its_code_and_prints_no_code(world, cli, tmp_path):
    out = tmp_path / "letter.pdf"
    done = cli("signoff", "request", STORY, "--as", "ann", "--letter", "large-print", "-o",
               str(out))
    assert done.code == 0, done.err
    assert f"Wrote {out} (large print)" in done.out and f"{APP}/s/code" in done.out
    no_code_or_token_in(done.out + done.err)
    [request] = requests_of(world)
    assert request.has_code and request.revision == story(world).revision
    assert request.created_by == "ann" and request.state() == "waiting"
    text = letter_text(out)
    code = re.search(r"\b([A-Z2-9]{4})-([A-Z2-9]{4})\b", text)
    assert code and f"{APP}/s/code" in text.replace("\n", "")
    # the code in the letter opens the request, once, for the storyteller
    teller = world.app.test_client()
    from app_support import post

    response = post(teller, "/s/code", {"code": code.group(1) + code.group(2)}, page="/s/code")
    assert response.status_code == 303 and len(code.group(1) + code.group(2)) == CODE_LENGTH
    assert "Night feeds on the postnatal ward" in teller.get("/s/answer").get_data(as_text=True)
    entry = world.audit(lifecycle.SIGNOFF_REQUESTED)[0]
    assert entry.actor == "ann" and entry.ip == "command line" and "letter" in entry.detail


@pytest.mark.parametrize("style,words", [("standard", "standard print"),
                                         ("easy-read", "Easy Read"),
                                         ("large_print", "large print")])
def test_each_letter_style_is_written(world, cli, tmp_path, style, words):
    out = tmp_path / f"{style}.pdf"
    done = cli("signoff", "request", STORY, "--as", "ann", "--letter", style, "-o", str(out))
    assert done.code == 0, done.err
    assert f"({words})" in done.out and out.read_bytes().startswith(b"%PDF")


def test_a_new_request_for_new_words_stops_the_old_one(world, cli, tmp_path):
    cli("signoff", "request", STORY, "--as", "ann", "--letter", "standard", "-o",
        str(tmp_path / "one.pdf"))
    [first] = requests_of(world)
    current = story(world)
    world.site.store.save(current.copy(body=current.body + "\nOne more line.\n"), by="ann")
    done = cli("signoff", "request", STORY, "--as", "ann", "--letter", "standard", "-o",
               str(tmp_path / "two.pdf"))
    assert done.code == 0, done.err
    newest, old = requests_of(world)
    assert old.id == first.id and old.state() == "revoked"
    assert newest.revision == story(world).revision and newest.live()


def test_request_is_refused_in_words_and_nothing_is_sent(world, cli, tmp_path):
    from conftest import consent_version, story_front, write_story

    write_story(world.root, "st-draftteller", story_front(slug="draftteller", status="draft"),
                consent=[consent_version(signed_off=None, signed_off_revision=None)])
    write_story(world.root, "st-nosignoff", story_front(slug="nosignoff"),
                consent=[consent_version(signoff_required=False, signed_off=None,
                                         signed_off_revision=None)])
    from storykit.web.access import grant

    conn = world.app.extensions["storykit"].db()
    for story_id in ("st-draftteller", "st-nosignoff"):
        grant(conn, story_id, world.users["ann"], "owner", "test")
    out = str(tmp_path / "x.pdf")
    letter = ("--letter", "standard", "-o", out)
    cases = [
        (("st-nosuchstory", "--as", "ann", *letter), 1, "st-nosuchstory"),
        (("st-draftteller", "--as", "ann", *letter), 1, "The story is a draft"),
        (("st-nosignoff", "--as", "ann", *letter), 1, "did not ask to check the final text"),
        ((STORY, "--as", "nobody", *letter), 1, "there is no account called nobody"),
        ((STORY, "--as", "bob", *letter), 1, "The account bob does not write this story"),
        ((STORY, "--as", "rita", *letter), 1, "The account rita does not write this story"),
        ((STORY, "--as", "ann"), 2, "--email, or --letter STYLE -o FILE.pdf"),
        ((STORY, "--as", "ann", "--email", *letter), 2, "one of them"),
        ((STORY, "--as", "ann", "--letter", "standard"), 2, "-o FILE.pdf"),
        ((STORY, "--as", "ann", "-o", out), 2, "goes with --letter"),
        ((STORY, "--as", "ann", "--letter", "huge", "-o", out), 2, "'huge' is not one of"),
        ((STORY, *letter), 2, "Missing option '--as'"),
        # no [email] here: the link cannot be emailed
        ((STORY, "--as", "ann", "--email"), 1, "Email is not set up for this site"),
    ]
    for args, code, words in cases:
        done = cli("signoff", "request", *args)
        assert done.code == code, (args, done.out, done.err)
        assert words in done.err, (args, done.err)
        no_code_or_token_in(done.out + done.err)
    assert all(requests_of(world, s) == [] for s in (STORY, "st-draftteller", "st-nosignoff"))
    assert not (tmp_path / "x.pdf").exists()


def test_a_letter_needs_the_app_address_and_will_not_overwrite_a_file(tmp_path, run_storykit):
    w = make_world(tmp_path / "site")  # no [site] app_url
    add_teller_story(w)
    done = run_storykit(w.root, "signoff", "request", STORY, "--as", "ann", "--letter",
                        "standard", "-o", str(tmp_path / "l.pdf"))
    assert done.code == 1 and "app_url" in done.err and requests_of(w) == []
    there = tmp_path / "there.pdf"
    there.write_bytes(b"keep me")
    w2 = make_world(tmp_path / "site2", toml=TOML)
    add_teller_story(w2)
    done = run_storykit(w2.root, "signoff", "request", STORY, "--as", "ann", "--letter",
                        "standard", "-o", str(there))
    assert done.code == 1 and "already exists; add --force" in done.err
    assert there.read_bytes() == b"keep me" and requests_of(w2) == []
    done = run_storykit(w2.root, "signoff", "request", STORY, "--as", "ann", "--letter",
                        "standard", "-o", str(there), "--force")
    assert done.code == 0 and there.read_bytes().startswith(b"%PDF")


# --- list ----------------------------------------------------------------------------------------

def test_list_says_how_each_request_went_in_words(world, cli, tmp_path):
    assert cli("signoff", "list").out.strip() == "No sign-off requests yet."
    cli("signoff", "request", STORY, "--as", "ann", "--letter", "standard", "-o",
        str(tmp_path / "l.pdf"))
    done = cli("signoff", "list", STORY)
    assert done.code == 0
    assert f"{STORY}  teller1: you can ask the storyteller now." in done.out
    assert re.search(r"request \d+: Not opened yet; it works until \d{1,2} [A-Z][a-z]+ \d{4}\. "
                     r"Sent as a letter with a code by ann on \d{1,2} [A-Z][a-z]+ \d{4}, for "
                     r"version 3 of the words\.", done.out), done.out
    assert not re.search(r"\d{4}-\d{2}-\d{2}", done.out)  # no ISO dates for people
    cli("signoff", "record", STORY, "--as", "ann", "--answer", "changes", "--comment",
        "Say it was the second night.", "--taken-by", "Jo Example", "--how", "phone")
    done = cli("signoff", "list")
    assert done.out.startswith(STORY + "\n")
    assert ("Answered: they would like changes, in person or by phone, taken by Jo Example"
            in done.out)
    assert "second night" not in done.out  # the comment stays with the story
    data = json.loads(cli("signoff", "list", STORY, "--json").out)
    assert data["story"] == STORY and data["can_ask"] is False
    assert data["why_not"] == ["the story is back with its writer for changes: ask the "
                               "storyteller once it is approved, so they see the final words"]
    [one] = data["requests"]
    assert one["state"] == "used" and one["answer"] == "changes" and one["letter"] is True
    assert one["answered_via"] == "spoken" and one["taken_by"] == "Jo Example"
    assert "token" not in json.dumps(data) and "code" not in one
    unknown = cli("signoff", "list", "st-nosuchstory")
    assert unknown.code == 1 and "st-nosuchstory" in unknown.err


# --- revoke --------------------------------------------------------------------------------------

def test_revoke_stops_a_request_once(world, cli, tmp_path):
    cli("signoff", "request", STORY, "--as", "ann", "--letter", "standard", "-o",
        str(tmp_path / "l.pdf"))
    [request] = requests_of(world)
    for who, words in (("bob", "The account bob does not write this story"),
                       ("nobody", "there is no account called nobody")):
        done = cli("signoff", "revoke", str(request.id), "--as", who)
        assert done.code == 1 and words in done.err
    assert requests_of(world)[0].live()
    done = cli("signoff", "revoke", str(request.id), "--as", "ann")
    assert done.code == 0 and f"Stopped request {request.id} of {STORY}" in done.out
    assert requests_of(world)[0].state() == "revoked"
    again = cli("signoff", "revoke", str(request.id), "--as", "ann")
    assert again.code == 1 and "it was already stopped. Nothing was changed." in again.err
    assert [e.detail for e in world.audit("signoff.revoked")] == [f"request {request.id}"]
    for args, code, words in (((str(request.id + 99), "--as", "ann"), 1,
                               f"there is no sign-off request {request.id + 99}"),
                              (("three", "--as", "ann"), 2, "'three' is not a valid integer"),
                              ((str(request.id),), 2, "Missing option '--as'")):
        done = cli("signoff", "revoke", *args)
        assert done.code == code and words in done.err, (args, done.err)


def test_revoke_refuses_a_link_that_is_not_a_sign_off_request(world, cli):
    other = Links(world.site).issue("consent", STORY, by="ann")
    done = cli("signoff", "revoke", str(other.link.id), "--as", "ann")
    assert done.code == 1 and f"there is no sign-off request {other.link.id}" in done.err
    assert Links(world.site).get(other.link.id).live()


# --- record --------------------------------------------------------------------------------------

def test_record_a_yes_given_on_paper_signs_off_these_words(world, cli):
    from storyteller_support import send_request

    _response, path = send_request(world.client("ann"))
    done = cli("signoff", "record", STORY, "--as", "ann", "--answer", "yes", "--taken-by",
               "Jo Example", "--how", "paper")
    assert done.code == 0, done.err
    assert "Recorded: yes, they agree (on paper, taken by Jo Example)." in done.out
    assert f"Version 3 of the words of {STORY} is signed off." in done.out
    consent = story(world).current_consent
    assert consent.signed_off and consent.signed_off_revision == 3
    assert lifecycle.signed_off_now(story(world))
    [request] = requests_of(world)
    assert request.answer == "agreed" and request.answered_via == "paper"
    assert request.taken_by == "Jo Example"
    teller = world.app.test_client()
    assert open_link(teller, path).status_code == 404  # the open link was used up
    entry = world.audit(lifecycle.SIGNOFF_ANSWERED)[0]
    assert entry.actor == "ann" and entry.ip == "command line"
    assert "paper; taken by Jo Example" in entry.detail
    again = cli("signoff", "record", STORY, "--as", "ann", "--answer", "yes", "--taken-by",
                "Jo Example", "--how", "paper")
    assert again.code == 1 and "already signed off version 3" in again.err


def test_record_changes_sends_the_story_back_with_their_comment_kept(world, cli):
    comment = "Please leave out the name of the ward."
    done = cli("signoff", "record", STORY, "--as", "ann", "--answer", "changes", "--comment",
               comment, "--taken-by", "Jo Example", "--how", "in-person")
    assert done.code == 0, done.err
    assert "is back with its writer for changes; their comment is kept" in done.out
    assert story(world).status == "changes_requested"
    page = world.client("ann").get(f"/stories/{STORY}/sign-off").get_data(as_text=True)
    assert comment in page
    audit_text = json.dumps([(e.action, e.detail) for e in world.audit()])
    assert "name of the ward" not in audit_text and "spoken (in person)" in audit_text


def test_record_refuses_wrong_input_and_changes_nothing(world, cli):
    base = ("--taken-by", "Jo Example", "--how", "paper")
    cases = [
        ((STORY, "--as", "ann", "--answer", "maybe", *base), 2, "'maybe' is not one of"),
        ((STORY, "--as", "ann", "--answer", "changes", *base), 2,
         "Write what they would like changed."),
        ((STORY, "--as", "ann", "--answer", "yes", "--taken-by", "  ", "--how", "paper"), 2,
         "Write who took their answer."),
        ((STORY, "--as", "ann", "--answer", "yes", "--taken-by", "x" * 201, "--how", "paper"),
         2, "one line of 200 characters or fewer"),
        ((STORY, "--as", "ann", "--answer", "yes", "--taken-by", "Jo", "--how", "pigeon"), 2,
         "'pigeon' is not one of"),
        ((STORY, "--as", "ann", "--answer", "yes", "--how", "paper"), 2,
         "Missing option '--taken-by'"),
        ((STORY, "--as", "ann", "--answer", "changes", "--comment", "x" * 20001, *base), 2,
         "characters or fewer"),
        (("st-nosuchstory", "--as", "ann", "--answer", "yes", *base), 1, "st-nosuchstory"),
        ((STORY, "--as", "nobody", "--answer", "yes", *base), 1, "no account called nobody"),
        ((STORY, "--as", "pete", "--answer", "yes", *base), 1, "The account pete does not write this"),
        (("st-approved1", "--as", "ann", "--answer", "yes", *base), 1,
         "already signed off version 3"),
        (("st-draft1", "--as", "ann", "--answer", "yes", *base), 1, "The story is a draft"),
    ]
    before = (world.root / "stories" / STORY / "consent.yml").read_bytes()
    for args, code, words in cases:
        done = cli("signoff", "record", *args)
        assert done.code == code, (args, done.out, done.err)
        assert words in done.err, (args, done.err)
    assert (world.root / "stories" / STORY / "consent.yml").read_bytes() == before
    assert story(world).status == "approved"
    assert world.audit(lifecycle.SIGNOFF_ANSWERED) == []


def test_a_withdrawn_story_is_refused_and_nothing_names_the_storyteller(world, cli, tmp_path):
    world.site.withdraw(STORY, "stop_future_use", "They changed their mind.", by="ann")
    for args in (("request", STORY, "--as", "ann", "--letter", "standard", "-o",
                  str(tmp_path / "l.pdf")),
                 ("record", STORY, "--as", "ann", "--answer", "yes", "--taken-by", "Jo",
                  "--how", "paper")):
        done = cli("signoff", *args)
        assert done.code == 1 and "withdrew their consent" in done.err
        for secret in (REAL_NAME, CONTACT["email"], CONTACT["address"][0]):
            assert secret not in done.out + done.err


def test_signoff_is_listed_with_its_commands(cli):
    done = cli("signoff", "--help")
    assert done.code == 0
    for name in ("request", "list", "revoke", "record"):
        assert name in done.out
    assert "signoff" in cli("--help").out
