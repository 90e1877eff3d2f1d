"""Signed consent forms (``stories/<id>/evidence/``) never belong in a site's git history.

``storykit init`` writes a ``.gitignore`` that leaves them out; :func:`git_findings` (part of
``storykit check``) warns about any that git tracks anyway, or would take in with the next
``git add``: a site made before that rule, or one whose ``.gitignore`` lost it. The warning
names the file, never what is in it. Nothing happens when git is not installed or the site
is not in a git repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .checks import WARNING, Finding

EVIDENCE_DIR = "evidence"
IGNORE_RULE = "/stories/*/evidence/"
GIT_TIMEOUT = 30  # seconds


def git_findings(root: Path, stories: Path) -> list[Finding]:
    """A warning for each evidence file under ``stories`` that git tracks or would add."""
    pattern = f":(glob){_relative(stories, root)}/*/{EVIDENCE_DIR}/**"
    tracked = _git(root, "ls-files", "-z", "--", pattern)
    if tracked is None:
        return []
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", pattern)
    found = [Finding(WARNING, "a signed consent form is in git's history; remove it with "
                     f"'git rm --cached {name}', add {IGNORE_RULE} to .gitignore, and ask "
                     "whoever runs the repository to remove it from past commits",
                     str(root / name), None, _story_of(name), "evidence_in_git")
             for name in tracked]
    found += [Finding(WARNING, "a signed consent form is not ignored by git, so 'git add' "
                      f"would commit it; add {IGNORE_RULE} to .gitignore", str(root / name),
                      None, _story_of(name), "evidence_not_ignored")
              for name in untracked or []]
    return found


def _git(root: Path, *args: str) -> list[str] | None:
    """Paths git prints (relative to ``root``); None without git or outside a repository."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [p for p in done.stdout.decode("utf-8", "replace").split("\0") if p]


def _relative(stories: Path, root: Path) -> str:
    try:
        return stories.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # stories kept outside the site folder: look there from the site
        return stories.resolve().as_posix()


def _story_of(name: str) -> str | None:
    parts = name.split("/")
    return parts[parts.index(EVIDENCE_DIR) - 1] if EVIDENCE_DIR in parts[1:] else None
