"""One-time links: a storyteller answers without an account (sign-off of the final text,
their consent; other parts add their own ``purpose``).

A link is a long random token (``secrets.token_urlsafe``) sent once, by email or on a screen
for staff to pass on, and a short code printed in a letter to type at a public page. The
database keeps only their hashes (SHA-256 for the token; an HMAC with the site's own key for
the short code, which is too short to hash bare), so a copy of the database opens nothing.

A link is bound to one story, and for sign-off to the exact revision of its words; it expires,
it can be revoked, it is used once (the answer is written by one conditional UPDATE, so two
answers at the same moment cannot both count), and the first browser session that opens it
owns it: another browser gets the same refusal as a wrong token. Every refusal is one
:class:`LinkRefused` whose message never says whether the story, or the link, exists; its
``code`` is for the audit log and tests.

Nothing here holds health data: ids, revisions, answers as codes (``agreed``,
``changes``...), who took a spoken answer. The storyteller's own words go where the caller
keeps such words (the app's story notes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import StorykitError

if TYPE_CHECKING:  # pragma: no cover
    from .db import Connection
    from .site import Site

#: How long a link works, unless the caller says otherwise.
DEFAULT_DAYS = 14
#: Letters of the short code: no 0/O, 1/I/L, so it can be read aloud and typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
_ANSWER = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
#: Ways an answer can arrive.
VIA = ("link", "code", "paper", "spoken")
KEY_FILE = "links.key"
#: The one sentence every refused link gets (people never learn whether a story exists).
REFUSED_WORDS = "This link or code does not work any more."


class LinkRefused(StorykitError):
    """A link or code that may not be used. ``code`` says why, for the audit log only:
    ``unknown``, ``expired``, ``used``, ``revoked``, ``other_session``, ``wrong_purpose``,
    ``wrong_story``, ``stale`` (the words changed since it was sent)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(REFUSED_WORDS)


@dataclass(frozen=True)
class Link:
    """One row of ``one_time_links`` (never the token or code: only their hashes exist)."""

    id: int
    purpose: str
    story_id: str
    revision: int | None
    etag: str | None
    created_by: str
    created_at: str
    expires_at: float
    opened_at: str | None
    used_at: str | None
    revoked_at: str | None
    revoked_by: str | None
    answer: str | None
    answer_detail: str | None
    answered_via: str | None
    taken_by: str | None
    has_code: bool
    bound: bool

    def state(self, now: float | None = None) -> str:
        """``revoked``, ``used``, ``expired``, ``opened`` or ``waiting``."""
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        if (now if now is not None else time.time()) >= self.expires_at:
            return "expired"
        return "opened" if self.opened_at else "waiting"

    @property
    def expires(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.expires_at, dt.UTC)

    def live(self, now: float | None = None) -> bool:
        return self.state(now) in ("waiting", "opened")


@dataclass(frozen=True)
class Issued:
    """A new link: the row, and the token and code, which exist only here (show or send them
    once; they cannot be read back)."""

    link: Link
    token: str
    code: str | None


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def normalise_code(text: str) -> str:
    """What someone typed, as a code: capitals, no spaces or dashes."""
    return "".join(c for c in text.upper() if c.isalnum())


def format_code(code: str) -> str:
    """``K7QMR2XD`` as people read it: ``K7QM-R2XD``."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def _row(row: Any) -> Link:
    d = dict(row)
    return Link(id=int(d["id"]), purpose=d["purpose"], story_id=d["story_id"],
                revision=d["revision"], etag=d["etag"], created_by=d["created_by"],
                created_at=d["created_at"], expires_at=float(d["expires_at"]),
                opened_at=d["opened_at"], used_at=d["used_at"], revoked_at=d["revoked_at"],
                revoked_by=d["revoked_by"], answer=d["answer"],
                answer_detail=d["answer_detail"], answered_via=d["answered_via"],
                taken_by=d["taken_by"], has_code=d["code_hash"] is not None,
                bound=d["session_hash"] is not None)


class Links:
    """The ``one_time_links`` table of a site's database."""

    def __init__(self, site: Site):
        self.site = site

    @property
    def conn(self) -> Connection:
        return self.site.database.connection()

    # --- hashing ---------------------------------------------------------------------------

    def _key(self) -> bytes:
        """The site's own key for hashing short codes (made once, private to the instance)."""
        from .db import private, private_file

        path = self.site.instance / KEY_FILE
        if not path.exists():
            private(self.site.instance, 0o700)
            try:
                with open(path, "xb") as fh:
                    fh.write(secrets.token_bytes(32))
            except FileExistsError:
                pass
            private_file(path)
        return path.read_bytes()

    def code_hash(self, code: str) -> str:
        return hmac.new(self._key(), normalise_code(code).encode(), hashlib.sha256).hexdigest()

    # --- making and reading ------------------------------------------------------------------

    def issue(self, purpose: str, story_id: str, *, by: str, revision: int | None = None,
              etag: str | None = None, days: float = DEFAULT_DAYS, code: bool = False,
              replace: bool = True) -> Issued:
        """A new link for ``story_id``. ``replace``: the story's open links of the same
        purpose are revoked (a new request supersedes the old one). ``code``: also a short
        code for a printed letter."""
        if not _PURPOSE.match(purpose):
            raise StorykitError(f"a link's purpose is a short name such as 'signoff', not "
                                f"{purpose[:40]!r}")
        if not 0 < days <= 366:
            raise StorykitError("a link must last between a moment and a year")
        token = secrets.token_urlsafe(32)
        short = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) if code \
            else None
        conn = self.conn
        with conn.transaction():
            if replace:
                self._revoke_open(conn, story_id, purpose, by)
            link_id = conn.value(
                "INSERT INTO one_time_links (purpose, story_id, revision, etag, token_hash, "
                "code_hash, created_by, created_at, expires_at) VALUES (:purpose, :story, "
                ":revision, :etag, :token, :code, :by, :at, :expires) RETURNING id",
                {"purpose": purpose, "story": story_id, "revision": revision, "etag": etag,
                 "token": token_hash(token), "code": self.code_hash(short) if short else None,
                 "by": by[:100], "at": _now_text(), "expires": time.time() + days * 86400})
        return Issued(self.get(int(link_id)), token, short)

    def _revoke_open(self, conn: Connection, story_id: str, purpose: str, by: str) -> int:
        return conn.execute(
            "UPDATE one_time_links SET revoked_at = :at, revoked_by = :by WHERE story_id = "
            ":story AND purpose = :purpose AND used_at IS NULL AND revoked_at IS NULL",
            {"at": _now_text(), "by": by[:100], "story": story_id, "purpose": purpose}).rowcount

    def get(self, link_id: int) -> Link:
        row = self.conn.one("SELECT * FROM one_time_links WHERE id = :id", {"id": int(link_id)})
        if row is None:
            raise LinkRefused("unknown")
        return _row(row)

    def for_story(self, story_id: str | None, purpose: str | None = None) -> list[Link]:
        """The story's links (every story's, for None), newest first."""
        return [_row(r) for r in self.conn.all(
            "SELECT * FROM one_time_links WHERE story_id = COALESCE(:story, story_id) AND "
            "purpose = "
            "COALESCE(:purpose, purpose) ORDER BY id DESC", {"story": story_id,
                                                             "purpose": purpose})]

    def answered(self, purposes: tuple[str, ...], *, since: str, waiting: str = "") -> list[Link]:
        """Links of ``purposes`` answered since ``since`` (UTC, ``2026-12-01T00:00:00Z``),
        or whose answer is still ``waiting`` whenever it came; latest answer first."""
        names = {f"p{i}": purpose for i, purpose in enumerate(purposes)}
        if not names:
            return []
        return [_row(r) for r in self.conn.all(
            "SELECT * FROM one_time_links WHERE used_at IS NOT NULL AND purpose IN ("  # noqa: S608
            + ", ".join(f":{n}" for n in names) + ") AND (used_at >= :since OR answer = "
            ":waiting) ORDER BY used_at DESC, id DESC", {**names, "since": since,
                                                         "waiting": waiting})]

    def latest(self, story_id: str, purpose: str) -> Link | None:
        found = self.for_story(story_id, purpose)
        return found[0] if found else None

    # --- the storyteller's side ------------------------------------------------------------

    def open(self, *, token: str | None = None, code: str | None = None, session: str,
             purpose: str | None = None, now: float | None = None) -> Link:
        """The link for ``token`` (or a letter's ``code``), claimed for the browser session
        whose secret is ``session`` the first time, and refused (:class:`LinkRefused`) for any
        other session, or when it is unknown, expired, used, revoked or of another purpose."""
        if token:
            where, value = "token_hash", token_hash(token)
        elif code and len(normalise_code(code)) == CODE_LENGTH:
            where, value = "code_hash", self.code_hash(code)
        else:
            raise LinkRefused("unknown")
        if not session:
            raise LinkRefused("other_session")
        conn = self.conn
        bound = token_hash(session)
        with conn.transaction():
            row = conn.one(f"SELECT * FROM one_time_links WHERE {where} = :value",  # noqa: S608
                           {"value": value})
            if row is None:
                raise LinkRefused("unknown")
            link = _row(row)
            self._refuse_unusable(link, purpose, now)
            if row["session_hash"] is None:
                conn.execute("UPDATE one_time_links SET session_hash = :bound, opened_at = :at "
                             "WHERE id = :id AND session_hash IS NULL",
                             {"bound": bound, "at": _now_text(), "id": link.id})
            elif not hmac.compare_digest(row["session_hash"], bound):
                raise LinkRefused("other_session")
        return self.get(link.id)

    def peek(self, *, token: str, session: str = "", purpose: str | None = None,
             now: float | None = None) -> Link | None:
        """Whether ``token`` would open, without claiming it: the link when ``session``
        already holds it, None when it is free to claim; LinkRefused otherwise."""
        row = self.conn.one("SELECT * FROM one_time_links WHERE token_hash = :value",
                            {"value": token_hash(token)})
        if row is None:
            raise LinkRefused("unknown")
        link = _row(row)
        self._refuse_unusable(link, purpose, now)
        if row["session_hash"] is None:
            return None
        if session and hmac.compare_digest(row["session_hash"], token_hash(session)):
            return link
        raise LinkRefused("other_session")

    def held(self, link_id: int, session: str, *, story_id: str | None = None,
             purpose: str | None = None, now: float | None = None) -> Link:
        """The link this browser session opened before (its id kept in the session), still
        usable; LinkRefused otherwise. ``story_id``: it must be for that story."""
        row = self.conn.one("SELECT * FROM one_time_links WHERE id = :id", {"id": int(link_id)})
        if row is None or row["session_hash"] is None or not session or \
                not hmac.compare_digest(row["session_hash"], token_hash(session)):
            raise LinkRefused("other_session" if row is not None else "unknown")
        link = _row(row)
        if story_id is not None and link.story_id != story_id:
            raise LinkRefused("wrong_story")
        self._refuse_unusable(link, purpose, now)
        return link

    @staticmethod
    def _refuse_unusable(link: Link, purpose: str | None, now: float | None) -> None:
        if purpose is not None and link.purpose != purpose:
            raise LinkRefused("wrong_purpose")
        state = link.state(now)
        if state in ("revoked", "used", "expired"):
            raise LinkRefused(state)

    def answer(self, link_id: int, answer: str, *, via: str, session: str | None = None,
               detail: str | None = None, taken_by: str | None = None,
               now: float | None = None) -> Link:
        """Record ``answer`` (a code such as ``agreed``) and use the link up, in one
        conditional UPDATE: only the first answer counts. ``session`` must be the session that
        opened it, unless staff record a ``paper`` or ``spoken`` answer (``taken_by`` says
        who took it). ``detail`` is codes only (e.g. the uses chosen), never free text."""
        if via not in VIA:
            raise StorykitError(f"an answer comes by one of: {', '.join(VIA)}")
        if not _ANSWER.match(answer):
            raise StorykitError("an answer is a short code such as 'agreed'")
        if via in ("link", "code"):
            self.held(link_id, session or "", now=now)
        elif not (taken_by or "").strip():
            raise StorykitError("say who took the answer")
        moment = now if now is not None else time.time()
        done = self.conn.execute(
            "UPDATE one_time_links SET used_at = :at, answer = :answer, answer_detail = "
            ":detail, answered_via = :via, taken_by = :taken WHERE id = :id AND used_at IS NULL "
            "AND revoked_at IS NULL AND expires_at > :now",
            {"at": _now_text(), "answer": answer, "detail": (detail or None) and detail[:500],
             "via": via, "taken": (taken_by or None) and taken_by.strip()[:200],
             "id": int(link_id), "now": moment}).rowcount
        if done != 1:
            raise LinkRefused(self.get(link_id).state(moment)
                              if self.conn.one("SELECT id FROM one_time_links WHERE id = :id",
                                               {"id": int(link_id)}) else "unknown")
        return self.get(link_id)

    def settle(self, link_id: int, answer: str, *, by: str | None = None) -> None:
        """Change the recorded outcome of an answered link (e.g. a change waiting for staff
        becomes ``confirmed``); ``by`` is who settled it (kept as who took it)."""
        if not _ANSWER.match(answer):
            raise StorykitError("an answer is a short code such as 'agreed'")
        self.conn.execute(
            "UPDATE one_time_links SET answer = :answer, taken_by = COALESCE(:by, taken_by) "
            "WHERE id = :id AND used_at IS NOT NULL",
            {"answer": answer, "by": (by or None) and by[:200], "id": int(link_id)})

    # --- staff ---------------------------------------------------------------------------------

    def revoke(self, link_id: int, *, by: str) -> bool:
        """Stop a link working; False when it was already used or revoked."""
        return self.conn.execute(
            "UPDATE one_time_links SET revoked_at = :at, revoked_by = :by WHERE id = :id AND "
            "used_at IS NULL AND revoked_at IS NULL",
            {"at": _now_text(), "by": by[:100], "id": int(link_id)}).rowcount == 1

    def revoke_story(self, story_id: str, *, by: str, purpose: str | None = None) -> int:
        """Stop every open link of a story (of one purpose, or all)."""
        return self.conn.execute(
            "UPDATE one_time_links SET revoked_at = :at, revoked_by = :by WHERE story_id = "
            ":story AND purpose = COALESCE(:purpose, purpose) AND used_at IS NULL AND "
            "revoked_at IS NULL", {"at": _now_text(), "by": by[:100], "story": story_id,
                                   "purpose": purpose}).rowcount

    def forget(self, story_id: str) -> None:
        """Erase every link of a story whose storyteller asked for everything to be deleted."""
        self.conn.erase("DELETE FROM one_time_links WHERE story_id = :story",
                        {"story": story_id})
