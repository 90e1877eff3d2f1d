"""Where a command may write the one file it was asked for (a pack's zip, a letter's PDF):
checked before any work is done, with what to do instead said in words."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import StorykitError


def check_output_file(out: Path, *, suffix: str, what: str, stories_dir: Path,
                      force: bool = False, error: type[StorykitError] = StorykitError) -> Path:
    """``out`` if ``what`` (e.g. "the pack", a zip) may be written there: a name ending in
    ``suffix``, not a folder or a link, not inside the stories folder, in a folder that
    exists and may be written to, and not an existing file unless ``force``. Otherwise
    ``error`` saying why."""
    if out.suffix.lower() != suffix:
        raise error(f"{what} is a {suffix[1:].upper()} file: give a file name ending in "
                    f"{suffix}, not {out.name!r}")
    if out.is_dir():
        raise error(f"{out} is a folder: give the name of the file to write, for example "
                    f"{out / ('file' + suffix)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise error(f"the folder {parent} does not exist: make it first, or choose another "
                    "place")
    if parent.resolve().is_relative_to(stories_dir.resolve()):
        raise error(f"{what} may not be written inside the stories folder: choose another "
                    "place")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"storykit cannot write in the folder {parent}: choose another place or "
                    "ask for permission")
    if out.is_symlink():
        raise error(f"{out} is a link: give the name of a real file")
    if out.exists() and not force:
        raise error(f"{out} already exists: choose another name, or add --force to replace it")
    return out
