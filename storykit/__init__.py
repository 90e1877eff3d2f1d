"""storykit: consent-aware story and advocacy publishing for NHS patient-involvement teams.

The public API is re-exported here; plugins write ``from storykit import hookimpl``.
Names are imported on first use (PEP 562), so ``import storykit`` stays cheap for the
command line: Jinja2, Markdown and YAML load only when something needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl, hookspec

if TYPE_CHECKING:  # pragma: no cover
    from .config import SiteConfig, load_config
    from .consent import Decision, Reason, StoryView, decide
    from .errors import (
        ConfigError,
        ConflictError,
        GoneError,
        NotFoundError,
        NotSavedError,
        StorykitError,
        ValidationError,
    )
    from .links import LinkRefused, Links
    from .mail import notify
    from .markup import render_markdown, sanitise
    from .model import ConsentVersion, Image, Person, Story, Storyteller
    from .render import Artefact, Format, Job, Notice, render, render_draft
    from .site import Site
    from .store import FileStore, Store
    from .themes import Theme, load_theme

#: Where each public name lives (its home module, relative to this package).
_HOMES = {
    ".config": ("SiteConfig", "load_config"),
    ".consent": ("Decision", "Reason", "StoryView", "decide"),
    ".errors": ("ConfigError", "ConflictError", "GoneError", "NotFoundError", "NotSavedError",
                "StorykitError", "ValidationError"),
    ".links": ("LinkRefused", "Links"),
    ".mail": ("notify",),
    ".markup": ("render_markdown", "sanitise"),
    ".model": ("ConsentVersion", "Image", "Person", "Story", "Storyteller"),
    ".render": ("Artefact", "Format", "Job", "Notice", "render", "render_draft"),
    ".site": ("Site",),
    ".store": ("FileStore", "Store"),
    ".themes": ("Theme", "load_theme"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Artefact", "ConfigError", "ConflictError", "ConsentVersion", "Decision", "FileStore",
    "Format", "GoneError", "Image", "Job", "LinkRefused", "Links", "NotFoundError",
    "NotSavedError", "Notice", "Person",
    "Reason", "Site", "SiteConfig", "Store", "Story", "StoryView", "Storyteller",
    "StorykitError", "Theme", "ValidationError", "decide", "hookimpl", "hookspec",
    "load_config", "load_theme", "notify", "render", "render_draft", "render_markdown",
    "sanitise",
]


def __getattr__(name: str) -> Any:
    """Import a public name's home module the first time the name is asked for."""
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``storykit.render`` the function, as when everything was imported eagerly:
    importing the submodule ``storykit.render`` would otherwise rebind the name to it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (isinstance(value, types.ModuleType) and name in _HOME_OF
                and value.__name__ == f"{__name__}.{name}" and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
