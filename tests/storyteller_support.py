"""Helpers for the storyteller's side (sign-off and consent by one-time link or letter): a
story approved and waiting for the storyteller's sign-off, with private contact details.

All names and details are fictional."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app_support import World, post
from conftest import consent_version, story_front, write_story

from storykit.web.access import grant

STORY = "st-teller1"
#: The storyteller's real name: it must never reach the storyteller's page as shown to the
#: public, an email, a log or the audit log. Their made-up name is "Leila".
REAL_NAME = "Aisha Rahman"
CONTACT = {"agrees_to_contact": True, "name": "Aisha Rahman", "email": "aisha@example.org",
           "address": ["14 Fictional Close", "Brackenford", "BF2 9ZZ"],
           "preferred_format": "large_print"}


def write_teller_story(root: Path, story_id: str = STORY, *, contact: dict | None = None,
                       **front: Any) -> None:
    """An approved story whose consent asks for sign-off, not yet signed off."""
    front = {"title": "Night feeds on the postnatal ward", **front}
    write_story(root, story_id, story_front(slug=story_id.removeprefix("st-"), **front),
                consent=[consent_version(signed_off=None, signed_off_revision=None,
                                         contact=contact if contact is not None else CONTACT)])


def add_teller_story(world: World, story_id: str = STORY, owner: str = "ann", **kw: Any) -> None:
    write_teller_story(world.root, story_id, **kw)
    conn = world.app.extensions["storykit"].db()
    try:
        grant(conn, story_id, world.users[owner], "owner", "test")
    except Exception:  # noqa: BLE001 - already the owner
        pass


_LINK = re.compile(r'id="link-address" type="text" readonly value="([^"]+)"')


def send_request(client, story_id: str = STORY):
    """Press "Make a link for the storyteller"; returns (response, the link's path)."""
    page = f"/stories/{story_id}/sign-off"
    text = client.get(page).get_data(as_text=True)
    etag = re.search(r'name="etag" value="([^"]+)"', text).group(1)
    response = post(client, f"{page}/send", {"etag": etag}, page=page)
    found = _LINK.search(response.get_data(as_text=True))
    path = None
    if found:
        path = "/" + found.group(1).split("/", 3)[3]
    return response, path


def open_link(client, path: str):
    """Open a storyteller's link as they would: the page with one button, then the button
    (which claims the link for this browser). Returns the button's response."""
    first = client.get(path)
    if first.status_code != 200:
        return first
    assert "Show me" in first.get_data(as_text=True)
    return post(client, path, page=path)


def send_consent_link(client, story_id: str = STORY) -> str:
    """Press "Make a consent link for the storyteller"; returns the link's path."""
    page = f"/stories/{story_id}/consent/link"
    response = post(client, f"{page}/send", page=page)
    assert response.status_code == 200, response.status_code
    return "/" + _LINK.search(response.get_data(as_text=True)).group(1).split("/", 3)[3]
