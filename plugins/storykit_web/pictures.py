"""Clean copies of story pictures for the website, made once and kept between web builds.

Re-encoding a picture (decode, resize, encode) takes milliseconds, far longer than rendering
a page, and makes the same bytes every time from the same source. So:

- a picture that is already clean is not decoded at all (:func:`storykit.images.clean_copy`):
  the 800-pixel copy the browser app made of an upload is used as it is, and the website's
  width (800) is half of the app's big copies (1600) and of many photos, which a JPEG
  decoder can give at once (draft mode) when a picture must be made again;
- copies are content-addressed: named by the hash of their source's bytes, settings and the
  code that made them, so one source is processed once per build, whichever stories show it;
- when a build renders a story again (a new theme, the output folder deleted) and its
  picture's file is unchanged, the copy kept here is used.

Each story has a folder of its own, so withdrawing a story removes its copies at once (see
:func:`storykit_web.build.forget_story`), and a build removes the copies of stories no
longer on the website and of pictures a story no longer shows. Each copy's name also holds
its size and the hash of its own bytes, which is checked before the copy is used: a damaged
copy is made again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from storykit.kit import replace_file

# storykit.images (and Pillow) are imported when a picture is made, not to prune copies.


class PictureCache:
    """Clean, resized copies of story pictures under ``folder``/<story id>/."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.made: dict[str, tuple[str, bytes, tuple[int, int]]] = {}  # this build's, by key

    def prepare(self, story_id: str, src: Path, dest: Path, *, max_width: int,
                fmt: str) -> tuple[tuple[int, int], str]:
        """Write a clean copy of ``src`` to ``dest`` as :func:`storykit.images.prepare_image`
        would, from a copy already made when there is one. Returns its size and the copy's
        name."""
        from storykit.kit import clean_copy, read_picture

        source = read_picture(src)
        key = self._key(source, max_width, fmt)
        found = self.made.get(key) or self._find(story_id, key)
        if found is None:
            data, size = clean_copy(src, max_width, fmt, data=source)
            found = (f"{key}-{size[0]}x{size[1]}-{_digest(data)}", data, size)
        name, data, size = found
        self.made[key] = found
        dest.parent.mkdir(parents=True, exist_ok=True)
        replace_file(dest, data)
        kept = self.folder / story_id / name
        if not kept.is_file():
            with contextlib.suppress(OSError):  # a copy that can't be kept: only slower next time
                kept.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                replace_file(kept, data, 0o600)
        return size, name

    @functools.cached_property
    def stories_kept(self) -> frozenset[str]:
        """The stories with copies kept when this cache was first asked (one listing, not
        one failed listing per story without pictures: a text-only site has none)."""
        try:
            return frozenset(os.listdir(self.folder))
        except OSError:
            return frozenset()

    def keep_only(self, story_id: str, names: set[str]) -> None:
        """Remove the story's copies other than ``names`` (pictures it no longer shows)."""
        if not names and story_id not in self.stories_kept:
            return  # none kept before this build, and none made by it
        folder = self.folder / story_id
        try:
            present = os.listdir(folder)
        except OSError:
            return
        for name in present:
            if name not in names:
                with contextlib.suppress(OSError):
                    (folder / name).unlink()
        if not names:
            with contextlib.suppress(OSError):
                folder.rmdir()

    def forget(self, story_id: str) -> None:
        """Remove every copy of the story's pictures (after a withdrawal)."""
        shutil.rmtree(self.folder / story_id, ignore_errors=True)

    def prune(self, live: set[str], among: set[str] | None = None) -> None:
        """Remove the copies of stories not in ``live`` (only of ``among``, when given)."""
        try:
            ids = set(os.listdir(self.folder)) if among is None else among
        except OSError:
            return
        for story_id in ids - live:
            self.forget(story_id)

    def _key(self, source: bytes, max_width: int, fmt: str) -> str:
        digest = hashlib.sha256(f"{_images_code()}|{max_width}|{fmt}|".encode())
        digest.update(source)
        return digest.hexdigest()[:32]

    def _find(self, story_id: str, key: str) -> tuple[str, bytes, tuple[int, int]] | None:
        try:
            names = [n for n in os.listdir(self.folder / story_id) if n.startswith(key + "-")]
        except OSError:
            return None
        for name in names:
            try:
                _key, size, digest = name.split("-")
                width, height = (int(n) for n in size.split("x"))
                data = (self.folder / story_id / name).read_bytes()
            except (OSError, ValueError):
                continue
            if _digest(data) == digest:
                return name, data, (width, height)
        return None


def picture_format(src: Path) -> str:
    """``PNG`` for a PNG source, ``JPEG`` for anything else (WebP included): what the website
    serves. Raises :class:`storykit.images.ImageError` for a file that is not a picture."""
    from storykit.kit import image_format

    return "PNG" if image_format(src) == "PNG" else "JPEG"


@functools.cache
def _images_code() -> str:
    """A hash of storykit.images, which makes the copies: new code, new copies. Read from
    its file, so that pruning copies does not import Pillow."""
    spec = importlib.util.find_spec("storykit.images")
    origin = spec.origin if spec else None
    return hashlib.sha256(Path(origin).read_bytes()).hexdigest() if origin else ""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
