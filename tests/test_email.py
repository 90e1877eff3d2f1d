"""Email notices (storykit.mail, storykit.web.alerts) against a real SMTP server on loopback
(aiosmtpd, started here): the right notice to the right people, never a story's title, words
or anyone's name; a refused or unreachable server leaves the message queued and retried, then
failed and visible on the jobs page after the last try, and nothing is lost.

All names and details are fictional."""

from __future__ import annotations

import contextlib
import re
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from app_support import BASIC_TOML, act, make_world, post
from storyteller_support import (
    CONTACT,
    REAL_NAME,
    STORY,
    add_teller_story,
    open_link,
    send_consent_link,
    send_request,
)

from storykit.errors import ConfigError
from storykit.jobs import FAILED, Jobs, run_job
from storykit.mail import EMAIL_JOB, Outbox, notify
from storykit.site import Site
from storykit.web.alerts import set_email

TITLES = ("Night feeds", "Waiting times", "postnatal", "Carol Pegg", "Leila", REAL_NAME,
          "Aisha", "Rahman", "midwife")


class Inbox:
    """What the SMTP server received; ``refuse``: answer every recipient with 550."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def email_toml(port: int) -> str:
    """Settings for the loopback server (plain SMTP: nothing leaves the machine)."""
    site = BASIC_TOML.replace("[site]\n", '[site]\napp_url = "https://stories.example.org"\n')
    return site + (f'\n[email]\nhost = "127.0.0.1"\nport = {port}\n'
                   'from = "stories@example.org"\nstarttls = false\ntries = 3\n'
                   "retry_seconds = 1\n")


@contextlib.contextmanager
def smtp_server():
    """A real SMTP server on a free loopback port for the block; yields its :class:`Inbox`
    (``.port`` says where it listens)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def world(tmp_path, smtp):
    w = make_world(tmp_path / "site", toml=email_toml(smtp.port))
    add_teller_story(w)
    conn = w.app.extensions["storykit"].db()
    for name in ("ann", "bob", "rita", "pete", "val"):
        set_email(conn, w.users[name].id, f"{name}@trust.example.org")
    return w


def drain(site: Site) -> list:
    """Run every queued email job now, as a worker would, including the ones a failure queued
    to try again later (without waiting for them)."""
    done = []
    for _round in range(10):
        queued = Jobs(site).recent(200, state="queued", kind=EMAIL_JOB)
        if not queued:
            break
        for job in reversed(queued):
            done.append(run_job(site, job.id, "test-worker"))
    return done


def assert_no_story_details(message) -> None:
    text = message.get_payload(decode=True).decode() + message["Subject"]
    for secret in TITLES + (CONTACT["address"][0], CONTACT["email"]):
        assert secret.lower() not in text.lower(), secret


def test_status_changes_email_the_people_they_concern(world, smtp):
    ann, rita = world.client("ann"), world.client("rita")
    assert act(ann, "st-draft1", "submit").status_code == 303
    drain(world.site)
    # reviewers who do not work on the story; not the writer
    assert {a for rcpt, _m in smtp.messages for a in rcpt} == {"rita@trust.example.org",
                                                              "val@trust.example.org"}
    message = smtp.to("rita@trust.example.org")[0]
    assert message["Subject"] == "A story is waiting for review"
    assert message["From"] == "stories@example.org"
    assert "https://stories.example.org/stories/st-draft1" in message.get_payload(decode=True) \
        .decode()
    assert_no_story_details(message)
    smtp.messages.clear()
    assert act(rita, "st-draft1", "request_changes", {
        "reason": "Please remove Carol Pegg's name."}).status_code == 303
    drain(world.site)
    assert [rcpt for rcpt, _m in smtp.messages] == [["ann@trust.example.org"]]
    assert smtp.messages[0][1]["Subject"] == "Changes were asked for on a story you work on"
    assert_no_story_details(smtp.messages[0][1])
    assert all(m.state == "sent" for m in Outbox(world.site).all())


def test_the_storyteller_gets_their_link_and_staff_hear_the_answer(world, smtp):
    ann = world.client("ann")
    response, path = send_request(ann)
    assert "It was emailed to the storyteller" in response.get_data(as_text=True)
    drain(world.site)
    mine = smtp.to(CONTACT["email"])
    assert len(mine) == 1 and mine[0]["Subject"] == "Please check the words of your story"
    body = mine[0].get_payload(decode=True).decode()
    assert "https://stories.example.org" + path in body and "works once" in body
    for secret in TITLES:  # their own address is the To:, never the words
        assert secret.lower() not in body.lower(), secret
    smtp.messages.clear()
    teller = world.app.test_client()
    open_link(teller, path)
    post(teller, "/s/answer", {"answer": "changes", "comment": "Say Leila was on ward 5."},
         page="/s/answer")
    drain(world.site)
    assert [rcpt for rcpt, _m in smtp.messages] == [["ann@trust.example.org"]]
    notice = smtp.messages[0][1]
    assert notice["Subject"] == "A storyteller answered about the words of their story"
    assert "ward 5" not in notice.get_payload(decode=True).decode()
    assert_no_story_details(notice)


def test_no_email_to_a_storyteller_who_did_not_agree_to_contact(world, smtp):
    add_teller_story(world, "st-teller2", contact={**CONTACT, "agrees_to_contact": False})
    add_teller_story(world, "st-teller3", contact={"agrees_to_contact": True,
                                                   "address": ["1 Example Road"]})
    for story_id in ("st-teller2", "st-teller3"):
        response, path = send_request(world.client("ann"), story_id)
        assert path and "emailed" not in response.get_data(as_text=True)
    drain(world.site)
    assert smtp.messages == []


def test_an_unreachable_server_keeps_the_message_retries_then_fails_visibly(tmp_path):
    port = free_port()  # nothing listens here yet
    world = make_world(tmp_path / "site", toml=email_toml(port))
    site = world.site
    [message_id] = notify(site, "approved", ["ann@trust.example.org"], link="https://x/s",
                          story_id="st-draft1")
    runs = drain(site)
    assert len(runs) == 3 and all(j.state == FAILED for j in runs)
    assert [j.retried_as is not None for j in runs] == [True, True, False]
    assert "could not be reached" in runs[-1].error
    assert [j.id for j in Jobs(site).open_failures()] == [runs[-1].id]  # one visible failure
    kept = Outbox(site).get(message_id)
    assert (kept.state, kept.attempts) == ("failed", 3) and "https://x/s" in kept.body
    pete = world.client("pete")
    jobs_page = pete.get("/jobs").get_data(as_text=True)
    assert "Send an email" in jobs_page and "could not be reached" in jobs_page
    # the server comes back; trying the failed job again sends the same message
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from storykit.taskqueue import retry

        again = retry(site, runs[-1].id, by="pete")
        assert run_job(site, again.id, "test-worker").state == "done"
    finally:
        controller.stop()
    assert [rcpt for rcpt, _m in inbox.messages] == [["ann@trust.example.org"]]
    assert Outbox(site).get(message_id).state == "sent"


def test_a_server_that_refuses_the_message_fails_it_after_the_last_try(world, smtp):
    smtp.refuse = True
    [message_id] = notify(world.site, "approved", ["ann@trust.example.org"],
                          link="https://x/s", story_id="st-draft1")
    runs = drain(world.site)
    assert len(runs) == 3 and "refused" in runs[-1].error
    assert Outbox(world.site).get(message_id).state == "failed"


def test_without_email_settings_nothing_is_queued(tmp_path):
    world = make_world(tmp_path / "site")
    assert notify(world.site, "approved", ["ann@trust.example.org"], link="x") == []
    assert Jobs(world.site).recent(kind=EMAIL_JOB) == []


@pytest.mark.parametrize("section, message", [
    ('host = "smtp.example.org"\nfrom = "x@example.org"\npassword = "hunter2"',
     "STORYKIT_SMTP_PASSWORD"),
    ('host = "smtp.example.org"\nfrom = "nobody"', "from must be the address"),
    ('host = "smtp.example.org"\nfrom = "x@example.org"\nport = 99999', "port must be between"),
    ('host = "smtp.example.org"\nfrom = "x@example.org"\nstarttls = "yes"', "true or false"),
    ('from = "x@example.org"', "needs a host"),
    ('host = "smtp.example.org"\nfrom = "x@example.org"\nsender = "x"', "unknown setting"),
])
def test_bad_email_settings_are_refused_with_a_message(make_site, section, message):
    root = make_site(toml=BASIC_TOML + "\n[email]\n" + section + "\n")
    with pytest.raises(ConfigError, match=message):
        Site.open(root)


def test_admins_set_the_address_notices_go_to(world):
    ada = world.client("ada")
    page = "/admin/users/bob"
    bad = post(ada, f"{page}/email", {"email": "not an address"}, page=page)
    assert bad.status_code == 422 and 'href="#email"' in bad.get_data(as_text=True)
    assert post(ada, f"{page}/email", {"email": "bob.new@trust.example.org"},
                page=page).status_code == 303
    assert 'value="bob.new@trust.example.org"' in ada.get(page).get_data(as_text=True)
    assert post(ada, f"{page}/email", {"email": ""}, page=page).status_code == 303
    assert "bob.new@" not in ada.get(page).get_data(as_text=True)
    assert post(world.client("ann"), f"{page}/email", {"email": "x@example.org"},
                page="/").status_code == 403


def test_the_daily_sweep_tells_the_team_once_when_consent_is_ending(world, smtp):
    import datetime as dt

    from conftest import consent_version, story_front, write_story

    from storykit.dates import today
    from storykit.jobs import run_job
    from storykit.taskqueue import add_sweep
    from storykit.web.access import grant

    soon = today() + dt.timedelta(days=20)
    write_story(world.root, "st-ending", story_front(slug="ending"),
                consent=[consent_version(expires=soon)])
    grant(world.app.extensions["storykit"].db(), "st-ending", world.users["ann"], "owner", "t")
    sweep = add_sweep(world.site)
    assert run_job(world.site, sweep.id, "test-worker").state == "done"
    drain(world.site)
    ending = [m for rcpt, m in smtp.messages if m["Subject"] == "Consent for a story is ending soon"]
    assert len(ending) == 1 and smtp.to("ann@trust.example.org") == ending
    assert "/stories/st-ending/consent" in ending[0].get_payload(decode=True).decode()
    assert_no_story_details(ending[0])
    from storykit.web.alerts import consent_expiring

    assert consent_expiring(world.site, today()) == []  # once, not every day


def test_staff_hear_when_the_storyteller_changes_their_consent_by_link(world, smtp):
    page = f"/stories/{STORY}/consent/link"
    path = send_consent_link(world.client("ann"))
    drain(world.site)
    assert smtp.to(CONTACT["email"])[0]["Subject"] == "Your consent for your story"
    smtp.messages.clear()
    teller = world.app.test_client()
    open_link(teller, path)
    uses = list(world.site.store.get(STORY).current_consent.uses)
    post(teller, "/s/answer", {"want": "change", "uses": uses, "named": "pseudonym",
                               "media": ["text", "quotes"]}, page="/s/answer")
    drain(world.site)
    # the people who work on the story, not the storyteller, not reviewers elsewhere
    assert [rcpt for rcpt, _m in smtp.messages] == [["ann@trust.example.org"]]
    notice = smtp.messages[0][1]
    assert notice["Subject"] == "A storyteller changed their consent"
    assert f"https://stories.example.org{page}" in notice.get_payload(decode=True).decode()
    assert_no_story_details(notice)


def test_keeping_consent_as_it_is_tells_nobody(world, smtp):
    path = send_consent_link(world.client("ann"))
    drain(world.site)
    smtp.messages.clear()
    teller = world.app.test_client()
    open_link(teller, path)
    assert post(teller, "/s/answer", {"want": "keep"}, page="/s/answer").status_code == 303
    drain(world.site)
    assert smtp.messages == []


def test_a_sign_off_request_emailed_from_the_command_line_opens_for_the_storyteller(
        world, smtp, run_storykit):
    done = run_storykit(world.root, "signoff", "request", STORY, "--as", "ann", "--email")
    assert done.code == 0, done.err
    assert "A one-time link was emailed to the address in their consent record" in done.out
    assert "/s/" not in done.out + done.err and CONTACT["email"] not in done.out
    drain(world.site)
    [message] = smtp.to(CONTACT["email"])
    assert message["Subject"] == "Please check the words of your story"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https://stories\.example\.org(/s/\S+)", body).group(1)
    teller = world.app.test_client()
    assert open_link(teller, link).status_code == 303
    assert "Yes, I agree" in teller.get("/s/answer").get_data(as_text=True)
    assert post(teller, "/s/answer", {"answer": "agreed"}, page="/s/answer").status_code == 303
    assert world.site.store.get(STORY).current_consent.signed_off_revision == 3
    drain(world.site)
    heard = [m for rcpt, m in smtp.messages if rcpt == ["ann@trust.example.org"]]
    assert [m["Subject"] for m in heard] == [
        "A storyteller answered about the words of their story"]


def test_the_command_line_will_not_email_a_storyteller_who_said_no_contact(world, smtp,
                                                                        run_storykit):
    add_teller_story(world, "st-teller2", contact={**CONTACT, "agrees_to_contact": False})
    add_teller_story(world, "st-teller3", contact={"agrees_to_contact": True,
                                                   "address": ["1 Example Road"]})
    for story_id, words in (("st-teller2", "Their consent record says not to contact them"),
                            ("st-teller3", "Their consent record has no email address")):
        done = run_storykit(world.root, "signoff", "request", story_id, "--as", "ann",
                            "--email")
        assert done.code == 1 and words in done.err, done.err
    drain(world.site)
    assert smtp.messages == []
