"""Story ids and slugs.

Ids name folders and are always generated here, never taken from user input. Slugs are URL
labels: ASCII ``a-z0-9`` words joined by single hyphens. Anything a person types is first
NFKC-normalised and stripped of invisible (format) characters, so ``ＡＢＣ``, ``abc`` and
``a\u200bbc`` all compare as ``abc`` and can never be two different stories' slugs.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

# \Z, not $: "$" also matches before a final newline, and "st-abc\n" is not an id.
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d",
                       "þ": "th", "ı": "i", "ħ": "h"})
SLUG_MAX = 64
_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to read aloud


def new_id() -> str:
    """A fresh story id such as ``st-7k2m9q`` (31**6, about 887 million, possibilities)."""
    return "st-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


def is_valid_id(value: str) -> bool:
    return bool(ID_RE.match(value))


def normalise(text: str) -> str:
    """NFKC, lower-case, without format characters (zero-width, bidi controls)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.lower()


def slug_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable slug as written, or None."""
    if len(value) <= SLUG_MAX and SLUG_RE.match(value):
        return None  # the usual case, quickly: plain ASCII is its own normal form
    if not value:
        return "the slug is empty"
    if len(value) > SLUG_MAX:
        return f"the slug is longer than {SLUG_MAX} characters"
    if value != normalise(value):
        return (f"the slug {value!r} must be written in lower-case a-z, 0-9 and hyphens "
                f"(did you mean {slugify(value)!r}?)")
    if not SLUG_RE.match(value):
        return (f"the slug {value!r} may use only lower-case a-z, 0-9 and single hyphens "
                f"between words (try {slugify(value)!r})")
    return None


def slugify(text: str) -> str:
    """A slug made from a title: accents folded (café -> cafe), other symbols become hyphens."""
    text = normalise(text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_FOLD)
    text = text.replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > SLUG_MAX:  # cut at a hyphen, keeping a last word that fits exactly
        cut = text[:SLUG_MAX + 1]
        text = cut[:SLUG_MAX] if cut.endswith("-") else (
            cut[:SLUG_MAX].rsplit("-", 1)[0] or cut[:SLUG_MAX])
    return text.strip("-")


def slug_key(value: str) -> str:
    """The key two slugs are compared by: equal keys mean the same slug."""
    if len(value) <= SLUG_MAX and SLUG_RE.match(value):
        return value  # a valid slug is its own key (slugify would return it unchanged)
    return slugify(value)


def file_stem(slug: str, fallback: str) -> str:
    """A safe file name (without extension) for an output: ``slug`` when it is a plain slug
    no longer than :data:`SLUG_MAX` (it never holds ``/``, ``..`` or a leading dot), else
    ``fallback`` (e.g. the story id)."""
    return slug if len(slug) <= SLUG_MAX and SLUG_RE.match(slug) else fallback
