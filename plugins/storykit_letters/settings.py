"""``[plugins.storykit_letters]``: the return address, phone number and signature letters
carry (checked when storykit starts, with messages that say what to write)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEYS = {"return_address": "a list of up to 6 lines", "phone": "a phone number",
        "signature": "the name letters are signed with"}


def problems(config: Mapping[str, Any]) -> list[str]:
    found = [f"unknown setting {key!r}; known: {', '.join(KEYS)}" for key in config
             if key not in KEYS]
    address = config.get("return_address")
    if address is not None and (not isinstance(address, list) or len(address) > 6 or not all(
            isinstance(line, str) and 0 < len(line) <= 100 and "\n" not in line
            for line in address)):
        found.append("return_address must be a list of up to 6 lines of at most 100 "
                     "characters, e.g. [\"Patient Experience Team\", \"BF1 1AA\"]")
    for key, longest in (("phone", 40), ("signature", 200)):
        value = config.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()
                                  or len(value) > longest or "\n" in value):
            found.append(f"{key} must be one line of at most {longest} characters")
    return found


def resolve(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings for one letter (checked again: a bad one stops the letter)."""
    from storykit import StorykitError

    bad = problems(config)
    if bad:
        raise StorykitError("cannot make the letter: [plugins.storykit_letters] "
                            + "; ".join(bad))
    return {"return_address": list(config.get("return_address") or []),
            "phone": config.get("phone") or "", "signature": config.get("signature") or ""}
