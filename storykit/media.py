"""Which files may be read as a story's media: one rule for every output.

A story lists its pictures as ``media/<name>``. A file may be read as that story's media only
when it is a regular file directly inside the story's own ``media/`` folder, reached without
following a link: neither ``media`` nor the file may be a symbolic link, and the name may
not climb out (``..``) or into another folder. So a link to another story's signed consent
form, a ``media`` folder that points somewhere else, or ``media/../evidence/form.pdf`` is
refused whatever the file holds, and nothing under ``evidence/`` is ever read as media.

``storykit check``, the render pipeline (so every format), the web build, uploads and the
app's previews all ask :func:`media_file`; renderers receive only paths that passed it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import StorykitError

MEDIA_DIR = "media"
#: A picture's name inside ``media/`` (the same shape story.md allows).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}\Z")


class MediaError(StorykitError):
    """A file listed as a story's media may not be read. ``file`` is the name story.md
    gives it (``media/...``); ``code`` says what is wrong, for programs."""

    def __init__(self, file: str, problem: str, code: str):
        self.file, self.problem, self.code = file, problem, code
        super().__init__(f"picture {file}: {problem}")


def media_name(file: str) -> str | None:
    """The bare name in ``media/<name>``, or None when ``file`` is not exactly that shape."""
    folder, _, name = file.partition("/")
    if folder != MEDIA_DIR or not NAME_RE.match(name) or ".." in name:
        return None
    return name


def media_file(folder: Path | str | None, file: str) -> Path:
    """The path of ``file`` (``media/<name>`` as story.md lists it) in the story whose
    folder is ``folder``, once it passes the rule; :class:`MediaError` says why not."""
    name = media_name(file)
    if name is None:
        raise MediaError(file, "must be a file name inside the story's media folder, such "
                               "as media/ward.jpg", "media_path")
    if folder is None:
        raise MediaError(file, "is missing (the story has no folder)", "missing_image")
    media = Path(folder) / MEDIA_DIR
    kind = _kind(media)
    if kind == "link":
        raise MediaError(file, "the story's media folder is a link to another folder; "
                               "links are not allowed, so no picture of this story can be used",
                         "media_link")
    if kind is None:
        raise MediaError(file, "is missing (the story has no media folder)", "missing_image")
    if kind != "folder":
        raise MediaError(file, "cannot be read: the story's media is not a folder",
                         "media_not_file")
    path = media / name
    kind = _kind(path)
    if kind == "link":
        raise MediaError(file, "is a link to another file; links are not allowed. Put the "
                               "picture itself in the media folder", "media_link")
    if kind is None:
        raise MediaError(file, "is missing", "missing_image")
    if kind != "file":
        raise MediaError(file, _NOT_A_FILE[kind], "media_not_file")
    if os.path.dirname(os.path.realpath(path)) != os.path.realpath(media):
        raise MediaError(file, "is not inside the story's media folder", "media_path")
    return path


def picture_path(image) -> Path:
    """The file to read for a view's picture (a :class:`~storykit.consent.ViewImage`, whose
    ``path`` the core set to ``<story folder>/media/<name>``), checked by the rule."""
    if media_name(image.file) is None:
        return media_file(None, image.file)  # raises: not a name inside media/
    if image.path is None:
        raise MediaError(image.file, "is missing (the story has no folder)", "missing_image")
    path = Path(image.path)
    if path.parent.name != MEDIA_DIR or ".." in path.parts:
        raise MediaError(image.file, "is not inside the story's media folder", "media_path")
    return media_file(path.parent.parent, f"{MEDIA_DIR}/{path.name}")


def media_folder(folder: Path | str, *, create: bool = False) -> Path:
    """The story's own ``media/`` folder, to write pictures into (uploads) or delete them
    from: refused when it is a link or not a folder, made when ``create`` and missing."""
    media = Path(folder) / MEDIA_DIR
    kind = _kind(media)
    if kind is None and create:
        media.mkdir(mode=0o755, exist_ok=True)  # two uploads at once may both make it
        kind = _kind(media)
    if kind == "link":
        raise MediaError(MEDIA_DIR, "the story's media folder is a link to another folder; "
                                    "links are not allowed", "media_link")
    if kind != "folder":
        raise MediaError(MEDIA_DIR, "the story has no media folder", "missing_image")
    return media


def media_problem(folder: Path | str | None, file: str) -> MediaError | None:
    """The :class:`MediaError` :func:`media_file` would raise, or None when ``file`` may
    be read."""
    try:
        media_file(folder, file)
    except MediaError as exc:
        return exc
    return None


_NOT_A_FILE = {"folder": "is a folder, not a picture file",
               "special": "is not an ordinary file (a device or a pipe)",
               "unreadable": "cannot be read (check its permissions)"}


def _kind(path: Path) -> str | None:
    """What ``path`` itself is, without following a link: None when nothing is there."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError:
        return "unreadable"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    return "special"
