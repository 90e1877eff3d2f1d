"""The app's settings, its secret key and the start-up safety check (like ``check --deploy``).

Development mode is ``STORYKIT_ENV=development``: cookies then work over plain http and a weak
key is allowed. Anywhere else the app refuses to start with a weak ``SECRET_KEY``.

The key comes from ``STORYKIT_SECRET_KEY`` or, if that is unset, from ``instance/secret_key``
(made on first start with 48 random bytes, readable only by its owner).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from ..errors import StorykitError
from ..fsio import atomic_write

SECRET_ENV = "STORYKIT_SECRET_KEY"  # noqa: S105 - a variable name
ENV_VAR = "STORYKIT_ENV"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name
SETUP_FILE = "setup_token"
MIN_SECRET_LENGTH = 32
_WEAK = {"dev", "development", "secret", "secret-key", "secretkey", "changeme", "change-me",
         "password", "test", "testing", "default", "insecure", "storykit", "flask"}

#: Every setting the app reads, with its default. Override any of them in create_app(**overrides).
DEFAULTS: dict[str, Any] = {
    "STORYKIT_ENV": "production",
    "STORYKIT_INDEX_TTL": 2.0,          # seconds a story-list snapshot is reused
    "STORYKIT_IDLE_MINUTES": 30,        # a session ends after this long without a request
    "STORYKIT_SESSION_HOURS": 8,        # and always this long after signing in
    "STORYKIT_LOGIN_PER_ACCOUNT": 5,    # failed sign-ins per account name per window
    "STORYKIT_LOGIN_PER_ADDRESS": 20,   # failed sign-ins per client address per window
    "STORYKIT_LOGIN_WINDOW": 15 * 60,   # seconds
    "STORYKIT_ARGON2": None,            # argon2 cost dict; None = passwords.DEFAULT_COST
    "STORYKIT_PROXY_COUNT": 0,          # trusted reverse proxies setting X-Forwarded-For
    "STORYKIT_PAGE_SIZE": 50,           # rows per page in story lists
    "STORYKIT_AUTOSAVE_SECONDS": 8,     # editor: a draft is saved this long after typing stops
    "STORYKIT_HEAVY_SLOTS": 2,          # live checks and previews running at once (workload.py)
    "STORYKIT_HEAVY_QUEUE": 2,          # pages that may wait for one of those slots
    "STORYKIT_HEAVY_WAIT": 2.0,         # seconds a page waits for a slot (the live check: none)
    "STORYKIT_HEAVY_BUDGET": 20.0,      # seconds of such work per person per minute
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,   # bigger requests get a 413 page
    "STORYKIT_UPLOAD_MAX": 20 * 1024 * 1024,  # a picture or signed form: a phone photo fits
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,      # one text field at most this size (413)
    "MAX_FORM_PARTS": 500,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 3600,
    "WTF_CSRF_SSL_STRICT": True,
}


class UnsafeSettingError(StorykitError):
    """A setting that would make the app unsafe to run; the message says how to fix it."""


def is_development(config: dict[str, Any]) -> bool:
    return str(config.get("STORYKIT_ENV", "")).lower() == "development"


def build_config(instance: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """All settings: defaults, then the environment, then ``overrides``; checked for safety."""
    config = dict(DEFAULTS)
    if os.environ.get(ENV_VAR):
        config["STORYKIT_ENV"] = os.environ[ENV_VAR]
    if os.environ.get("STORYKIT_PROXY_COUNT", "").isdigit():
        config["STORYKIT_PROXY_COUNT"] = int(os.environ["STORYKIT_PROXY_COUNT"])
    config.update(overrides)
    dev = is_development(config)
    secure = not dev
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("SESSION_COOKIE_NAME", "__Host-storykit" if config["SESSION_COOKIE_SECURE"]
                      else "storykit_session")
    # the cookie lives as long as a session may; the idle limit is checked on the server, so
    # the sign-in page can say "you were signed out" instead of silently forgetting
    config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=config["STORYKIT_SESSION_HOURS"])
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"], source = load_secret_key(instance)
    else:
        source = "the SECRET_KEY setting"
    if not dev:
        check_secret_key(config["SECRET_KEY"], source)
    return config


def load_secret_key(instance: Path) -> tuple[str, str]:
    """The key from the environment, else from ``instance/secret_key`` (made if missing)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV], SECRET_ENV
    path = instance / SECRET_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        _make_secret_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafeSettingError(f"{path} can be read by other users (mode {mode:o}); "
                                 f"run: chmod 600 {path}")
    return path.read_text(encoding="utf-8").strip(), str(path)


def _make_secret_key(path: Path) -> None:
    """Write a new key unless another server made one first. App servers started together
    on a new site (on one machine or several sharing the folder) must all sign cookies with
    one key: the key is written whole beside ``path``, then hard-linked into place, which
    fails when the file exists, so the first one made is the one every server reads."""
    tmp = path.with_name(f".tmp-{SECRET_FILE}-{secrets.token_hex(8)}")
    atomic_write(tmp, secrets.token_urlsafe(48), mode=0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another server's key: use it
    except OSError:  # a file system without hard links: the rename alone
        if not path.exists():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_secret_key(key: Any, source: str) -> None:
    """Refuse a key that is short, a well-known word, or made of few different characters."""
    text = key.decode("latin-1") if isinstance(key, bytes) else str(key or "")
    problem = None
    if len(text) < MIN_SECRET_LENGTH:
        problem = f"is shorter than {MIN_SECRET_LENGTH} characters"
    elif text.lower() in _WEAK or len(set(text)) < 10:
        problem = "is too easy to guess"
    if problem:
        raise UnsafeSettingError(
            f"the secret key from {source} {problem}. Remove it to let storykit make one in "
            f"instance/{SECRET_FILE}, or set {SECRET_ENV} to at least {MIN_SECRET_LENGTH} random "
            "characters (python -c \"import secrets; print(secrets.token_urlsafe(48))\"). "
            f"Only {ENV_VAR}=development allows a weak key.")


# --- the one-time code for making the first admin -------------------------------------------

def new_setup_token(instance: Path) -> str:
    """Make (replacing any old one) the code the first-admin page asks for."""
    token = secrets.token_urlsafe(18)
    instance.mkdir(parents=True, exist_ok=True)
    atomic_write(instance / SETUP_FILE, token, mode=0o600)
    return token


def read_setup_token(instance: Path) -> str | None:
    try:
        return (instance / SETUP_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def remove_setup_token(instance: Path) -> None:
    (instance / SETUP_FILE).unlink(missing_ok=True)
