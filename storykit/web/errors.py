"""Error pages: plain words, what to do next, never a stack trace or story text.

Each HTTP error renders ``errors/error.html`` with a heading and a sentence or two from
:data:`MESSAGES`. Views that need a richer page (e.g. the 409 "someone else changed this
story" page) render their own template with the right status instead of calling ``abort``.
Unexpected exceptions are logged with a short reference, which the 500 page shows so a person
can quote it to whoever runs the site.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import ConflictError, GoneError, NotFoundError, NotSavedError, StorykitError
from ..fsio import LockTimeout

log = logging.getLogger("storykit.web")

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Something went wrong with that form",
          "The page may have been open too long, or the form did not come from this site. "
          "Go back, reload the page and try again."),
    403: ("You cannot do that",
          "Your account does not allow this. If you think it should, ask an admin."),
    404: ("Page not found",
          "Check the web address. If you followed a link to a story, you may not have "
          "access to it."),
    405: ("You cannot do that here",
          "That page does not accept this kind of request. Go back and use the buttons "
          "on the page."),
    409: ("Someone else changed this",
          "It was changed after you opened it, so nothing was saved. Reload the page to see "
          "the latest version and try again."),
    410: ("This story was withdrawn",
          "The storyteller withdrew their consent. The story cannot be changed or published."),
    413: ("That was too big to send",
          "What you sent was bigger than this site accepts. Send less text or a smaller "
          "file."),
    422: ("That could not be done",
          "Check the details on the page and try again."),
    429: ("Too many tries",
          "Wait a few minutes and try again."),
    503: ("That could not be saved",
          "Nothing was changed. Try again later."),
    500: ("Sorry, something went wrong",
          "The problem was logged. Try again later. If it keeps happening, tell the person "
          "who runs this site and quote the reference below."),
}


def error_page(status: int, *, heading: str | None = None, message: str | None = None,
               reference: str | None = None, back: tuple[str, str] | None = None):
    """A rendered error page with ``status`` (use it to ``return`` from a view); ``back`` is
    an optional (url, link text) pair for where to go next."""
    default_heading, default_message = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors/error.html", status=status,
                           heading=heading or default_heading,
                           message=message or default_message, reference=reference,
                           back=back), status


def _http_error(exc: HTTPException):
    body, status = error_page(exc.code or 500)
    valid = getattr(exc, "valid_methods", None)
    headers = {"Allow": ", ".join(valid)} if status == 405 and valid else {}
    return body, status, headers


def _csrf_error(exc: CSRFError):
    return error_page(400)


def _store_error(exc: StorykitError):
    """Errors from the story store that views did not handle themselves."""
    if isinstance(exc, NotFoundError):
        return error_page(404)
    if isinstance(exc, GoneError):
        return error_page(410)
    if isinstance(exc, ConflictError | LockTimeout):
        return error_page(409)
    if isinstance(exc, NotSavedError):
        # the message names the file and the reason (e.g. the disk is full), never its text
        return error_page(503, heading="Your change was not saved", message=str(exc))
    return _unexpected(exc)


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    reference = secrets.token_hex(4)
    log.error("unexpected error %s (reference %s); where it happened:\n%s",
              type(exc).__name__, reference, _where(exc))
    return error_page(500, reference=reference)


def _where(exc: BaseException) -> str:
    """The traceback without the exception's message, which might quote story text (set
    STORYKIT_DEBUG=1 to log the message too)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    if os.environ.get("STORYKIT_DEBUG"):
        frames += f"{type(exc).__name__}: {exc}\n"
    return frames


def install(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(StorykitError, _store_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
