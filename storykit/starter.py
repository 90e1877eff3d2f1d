"""``storykit init``: a new site with settings and one example story."""

from __future__ import annotations

import shutil
import string
from importlib import resources
from pathlib import Path

from .config import CONFIG_NAME
from .errors import StorykitError


def create_site(path: Path, *, title: str, organisation: str) -> str:
    """Create a site folder at ``path``; returns the example story's id."""
    if (path / CONFIG_NAME).exists():
        raise StorykitError(f"{path} is already a storykit site ({CONFIG_NAME} exists)")
    if path.exists() and any(path.iterdir()):
        raise StorykitError(f"{path} is not empty; choose a new or empty folder")
    starter = resources.files("storykit") / "starter"
    path.mkdir(parents=True, exist_ok=True)
    config = string.Template((starter / "storykit.toml").read_text(encoding="utf-8"))
    values = {"title": _toml_text(title), "organisation": _toml_text(organisation)}
    (path / CONFIG_NAME).write_text(config.safe_substitute(values), encoding="utf-8")
    (path / ".gitignore").write_text((starter / "gitignore").read_text(encoding="utf-8"))
    with resources.as_file(starter / "stories") as stories:
        shutil.copytree(stories, path / "stories")
    for sub in ("plugins", "themes"):
        (path / sub).mkdir(exist_ok=True)
    return "st-example"


def _toml_text(value: str) -> str:
    """Text safe inside a TOML basic string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
