"""Email: short notices that something happened, with a link into the app, and nothing else.

:func:`notify` is the one way to send one: it writes one message per recipient to the
``outbox`` table and queues a ``send-email`` background job for each; the job talks to the
SMTP server in ``[email]`` (docs/configuration.md; the password comes from the environment,
``STORYKIT_SMTP_PASSWORD``, never the file). A server that refuses or cannot be reached
leaves the message queued and the job tries again after ``retry_seconds``, up to ``tries``
times; after the last try the message and its job show as failed (on the jobs page), and
``storykit jobs retry`` (or the page's button) tries again. Nothing is lost: the outbox row
stays until it is sent.

The words of every message come from :data:`EVENTS`: a subject and a sentence or two that
never hold a story's title or text, or anyone's name or details; only a link. Without
``[email] host`` nothing is sent, and the dashboards are the inbox.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .jobs import JobContext
    from .site import Site

EMAIL_JOB = "send-email"
PASSWORD_ENV = "STORYKIT_SMTP_PASSWORD"  # noqa: S105 - the variable's name
_EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,190}\.[A-Za-z]{2,24}\Z")
#: ``[email]`` settings and their types (storykit.config checks them).
KEYS: dict[str, type] = {"host": str, "port": int, "from": str, "starttls": bool, "ssl": bool,
                         "username": str, "timeout": int, "tries": int, "retry_seconds": int}

#: event -> (subject, text). ``{link}`` is the only thing filled in (and ``{until}`` for a
#: storyteller's link): never a title, a name or any of the story's words.
EVENTS: dict[str, tuple[str, str]] = {
    "review_requested": ("A story is waiting for review",
                         "A story was sent for review. You can review it here:\n\n{link}"),
    "changes_requested": ("Changes were asked for on a story you work on",
                          "A reviewer asked for changes to a story you work on. Their note "
                          "is with the story:\n\n{link}"),
    "approved": ("A story you work on was approved",
                 "A story you work on was approved. See what happens next:\n\n{link}"),
    "signoff_answered": ("A storyteller answered about the words of their story",
                         "A storyteller answered your request to check the words of their "
                         "story. See their answer:\n\n{link}"),
    "outcome_answered": ("A storyteller answered about an outcome",
                         "A storyteller answered about an outcome you recorded or own. See "
                         "their answer:\n\n{link}"),
    "consent_changed": ("A storyteller changed their consent",
                        "A storyteller changed their consent through their link. See what "
                        "changed, and anything you need to do:\n\n{link}"),
    "consent_expiring": ("Consent for a story is ending soon",
                         "The consent for a story you work on is ending soon. See what to do:"
                         "\n\n{link}"),
    "signoff_request": ("Please check the words of your story",
                        "Hello,\n\nYou asked to check the words of your story before we use "
                        "it. Please read them and tell us if they are right:\n\n{link}\n\n"
                        "The link works once, until {until}. Your answer will not change "
                        "your care in any way.\n\nIf you did not expect this email, you can "
                        "ignore it."),
    "consent_request": ("Your consent for your story",
                        "Hello,\n\nYou can tell us if we may keep using your story, change "
                        "what you agreed to, or ask us to stop:\n\n{link}\n\nThe link works "
                        "once, until {until}. Your answer will not change your care in any "
                        "way.\n\nIf you did not expect this email, you can ignore it."),
    "outcome": ("What we did after hearing your story",
                "Hello,\n\nThank you for sharing your story with us. We said we would tell "
                "you what we decided because of it. You can read what we decided, and tell "
                "us what you think if you would like to, here:\n\n{link}\n\nThe link works "
                "once, until {until}. There is no need to answer. It will not change your "
                "care in any way.\n\nIf you did not expect this email, you can ignore it."),
}
AUDIENCES = ("staff", "storyteller")


class MailError(StorykitError):
    """An email that cannot be sent as asked (the message says why, in words)."""


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int = 587
    sender: str = ""
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    timeout: int = 20
    tries: int = 4
    retry_seconds: int = 60

    @property
    def password(self) -> str | None:
        return os.environ.get(PASSWORD_ENV) or None


def email_settings(site: Site) -> EmailSettings | None:
    """The ``[email]`` settings, or None when no host is set (email is off)."""
    raw = site.config.email
    if not raw or not raw.get("host"):
        return None
    return EmailSettings(host=raw["host"], port=raw.get("port", 587),
                         sender=raw.get("from", ""), starttls=raw.get("starttls", True),
                         ssl=raw.get("ssl", False), username=raw.get("username", ""),
                         timeout=raw.get("timeout", 20), tries=raw.get("tries", 4),
                         retry_seconds=raw.get("retry_seconds", 60))


def check_settings(raw: Mapping[str, Any]) -> list[str]:
    """Problems with an ``[email]`` table, as sentences (storykit.config calls this)."""
    problems = []
    for key, value in raw.items():
        want = KEYS.get(key)
        if want is None:
            problems.append(f"[email] has an unknown setting {key!r}; known: {', '.join(KEYS)}")
        elif type(value) is not want:
            kind = {str: "text in quotes", int: "a whole number", bool: "true or false"}[want]
            problems.append(f"[email] {key} must be {kind}")
    if not raw.get("host") and raw:
        problems.append("[email] needs a host, e.g. host = \"smtp.example.nhs.uk\"")
    sender = raw.get("from", "")
    if raw.get("host") and not (isinstance(sender, str) and _EMAIL.match(sender)):
        problems.append("[email] from must be the address emails come from, e.g. "
                        "from = \"stories@example.nhs.uk\"")
    for key, low, high in (("port", 1, 65535), ("timeout", 1, 300), ("tries", 1, 20),
                           ("retry_seconds", 1, 86400)):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            problems.append(f"[email] {key} must be between {low} and {high}")
    if "password" in raw:
        problems.append(f"[email] never keep the password in the file: set {PASSWORD_ENV} in "
                        "the environment instead")
    return problems


def is_address(text: str | None) -> bool:
    return bool(text) and bool(_EMAIL.match(text or ""))


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- queueing -------------------------------------------------------------------------------------

def notify(site: Site, event: str, to: Iterable[str], *, link: str, story_id: str | None = None,
           audience: str = "staff", until: str = "", by: str = "storykit") -> list[int]:
    """Queue the email for ``event`` to each address in ``to`` (duplicates and addresses that
    are not addresses are left out), with ``link`` into the app. Returns the outbox ids; none
    when email is off (no ``[email] host``). Other parts call this for their own events."""
    if event not in EVENTS:
        raise MailError(f"there is no email for {event!r}; known: {', '.join(EVENTS)}")
    if audience not in AUDIENCES:
        raise MailError(f"an email goes to one of: {', '.join(AUDIENCES)}")
    if email_settings(site) is None:
        return []
    subject, text = EVENTS[event]
    body = text.format(link=link, until=until)
    seen: set[str] = set()
    ids = []
    conn = site.database.connection()
    for address in to:
        address = (address or "").strip()
        if not is_address(address) or address.lower() in seen:
            continue
        seen.add(address.lower())
        ids.append(int(conn.value(
            "INSERT INTO outbox (event, story_id, audience, to_addr, subject, body, state, "
            "attempts, created_at) VALUES (:event, :story, :audience, :to, :subject, :body, "
            "'queued', 0, :at) RETURNING id",
            {"event": event, "story": story_id, "audience": audience, "to": address,
             "subject": subject, "body": body, "at": _now_text()})))
    from .taskqueue import enqueue

    for message_id in ids:
        enqueue(site, EMAIL_JOB, {"message": message_id}, by=by)
    return ids


@dataclass(frozen=True)
class Message:
    id: int
    event: str
    story_id: str | None
    audience: str
    to: str
    subject: str
    body: str
    state: str
    attempts: int
    error: str | None
    created_at: str
    sent_at: str | None


class Outbox:
    """The ``outbox`` table: every email storykit was asked to send, and how it went."""

    def __init__(self, site: Site):
        self.site = site

    @property
    def conn(self):
        return self.site.database.connection()

    def get(self, message_id: int) -> Message:
        row = self.conn.one("SELECT * FROM outbox WHERE id = :id", {"id": int(message_id)})
        if row is None:
            raise MailError(f"there is no email {message_id} in the outbox")
        d = dict(row)
        return Message(id=int(d["id"]), event=d["event"], story_id=d["story_id"],
                       audience=d["audience"], to=d["to_addr"], subject=d["subject"],
                       body=d["body"], state=d["state"], attempts=int(d["attempts"]),
                       error=d["error"], created_at=d["created_at"], sent_at=d["sent_at"])

    def all(self, state: str | None = None) -> list[Message]:
        return [self.get(r["id"]) for r in self.conn.all(
            "SELECT id FROM outbox WHERE state = COALESCE(:state, state) ORDER BY id",
            {"state": state})]

    def forget(self, story_id: str) -> None:
        """Erase a story's emails (their addresses) when everything is to be deleted."""
        self.conn.erase("DELETE FROM outbox WHERE story_id = :story", {"story": story_id})


# --- sending ------------------------------------------------------------------------------------

def deliver(settings: EmailSettings, message: Message) -> None:
    """Hand ``message`` to the SMTP server; MailError in words when it cannot be."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                  timeout=settings.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.starttls and not settings.ssl:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                if not settings.password:
                    raise MailError(f"[email] username is set but {PASSWORD_ENV} is not")
                smtp.login(settings.username, settings.password)
            smtp.send_message(mail)
    except MailError:
        raise
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"the mail server {where} refused the email ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused:
        raise MailError(f"the mail server {where} refused the address") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"the mail server {where} does not offer STARTTLS: set [email] "
                        "starttls = false only if the connection is otherwise protected") from None
    except (OSError, smtplib.SMTPException) as exc:
        kind = "timed out" if isinstance(exc, socket.timeout | TimeoutError) else \
            "could not be reached" if isinstance(exc, ConnectionError | OSError) else "failed"
        raise MailError(f"the mail server {where} {kind} ({type(exc).__name__})") from None


def run_send(context: JobContext) -> dict[str, Any]:
    """The ``send-email`` job: one try at one message; on failure another job is queued to
    try again later, until ``tries`` are spent (then this job, and the message, fail)."""
    site = context.site
    outbox = Outbox(site)
    message = outbox.get(int(context.params["message"]))
    if message.state == "sent":
        return {"message": "It was already sent.", "outbox": message.id}
    settings = email_settings(site)
    if settings is None:
        raise ConfigError("email is off ([email] host is not set), so nothing was sent; it "
                          "stays in the outbox")
    conn = site.database.connection()
    conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = :id", {"id": message.id})
    tries = message.attempts + 1
    try:
        deliver(settings, message)
    except MailError as exc:
        if tries < settings.tries:
            conn.execute("UPDATE outbox SET error = :error, state = 'queued' WHERE id = :id",
                         {"error": str(exc), "id": message.id})
            again = _again(site, message.id, settings.retry_seconds)
            return {"failed": str(exc), "retried_as": again, "outbox": message.id,
                    "message": f"Try {tries} of {settings.tries} failed: {exc}. It will be "
                               f"tried again in {settings.retry_seconds} seconds."}
        conn.execute("UPDATE outbox SET error = :error, state = 'failed' WHERE id = :id",
                     {"error": str(exc), "id": message.id})
        return {"failed": str(exc), "outbox": message.id,
                "message": f"The email was not sent after {tries} tries: {exc}. It is kept: "
                           "try again when the mail server works."}
    conn.execute("UPDATE outbox SET state = 'sent', sent_at = :at, error = NULL WHERE id = :id",
                 {"at": _now_text(), "id": message.id})
    return {"message": "The email was sent.", "outbox": message.id}


def _again(site: Site, message_id: int, delay: float) -> int:
    from .taskqueue import enqueue

    return enqueue(site, EMAIL_JOB, {"message": message_id}, by="storykit", delay=delay).id


def unsent(site: Site) -> int:
    """How many emails are waiting or failed."""
    return int(site.database.connection().value(
        "SELECT count(*) FROM outbox WHERE state <> 'sent'", default=0))
