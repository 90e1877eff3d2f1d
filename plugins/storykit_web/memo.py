"""Sanitised HTML of each story's Markdown, kept between builds with many pages to render."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from markupsafe import Markup

from storykit.kit import read_cache, write_cache


class MarkdownMemo:
    """Sanitised HTML of each story's Markdown, kept in the instance folder between builds,
    so rebuilding pages whose output was deleted does not convert the same text again.

    Keyed by the build's global key (code, extensions, templates) and the text's hash."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key
        self.known: dict[str, dict[str, str]] = {}
        self.changed = False
        self.active = False  # only a loaded memo is used and saved

    def load(self) -> None:
        self.active = True
        data = read_cache(self.path)
        if isinstance(data, dict) and data.get("key") == self.key:
            self.known = data.get("stories", {})

    @classmethod
    def forget(cls, path: Path, story_id: str) -> None:
        """Drop one story's text from a saved memo (after a withdrawal)."""
        memo = cls(path, "")
        data = read_cache(path)
        if data is None:
            path.unlink(missing_ok=True)  # unreadable: it cannot be trusted to be clean
            return
        if isinstance(data, dict) and story_id in data.get("stories", {}):
            memo.key, memo.known, memo.active = data.get("key", ""), data["stories"], True
            memo.save(set(memo.known) - {story_id})

    def for_story(self, story_id: str, convert):
        return _StoryMarkdown(self.known.get(story_id, {}), convert)

    def update(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            made = record.pop("markdown", None)  # never into the manifest
            if self.active and made is not None and made != self.known.get(record["id"]):
                self.known[record["id"]] = made
                self.changed = True

    def save(self, live: set[str]) -> None:
        if not self.active:
            return
        gone = set(self.known) - live
        if not self.changed and not gone:
            return
        for story_id in gone:
            del self.known[story_id]
        write_cache(self.path, {"key": self.key, "stories": self.known})


class _StoryMarkdown:
    """Converts one story's texts, reusing what an earlier build made for the same text."""

    def __init__(self, known: dict[str, str], convert):
        self.known, self.convert, self.made = known, convert, {}

    def __call__(self, text: str) -> Markup:
        digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        html = self.known.get(digest)
        if html is None:
            html = str(self.convert(text))
        self.made[digest] = html
        return Markup(html)  # noqa: S704 - made by storykit.markup's sanitiser
