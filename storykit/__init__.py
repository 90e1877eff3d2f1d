"""storykit: consent-aware story and advocacy publishing for NHS patient-involvement teams.

The public API is re-exported here; plugins write ``from storykit import hookimpl``.
"""

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
from .hookspecs import hookimpl, hookspec
from .markup import render_markdown, sanitise
from .model import ConsentVersion, Image, Person, Story, Storyteller
from .render import Artefact, Format, Job, render
from .site import Site
from .store import FileStore, Store
from .themes import Theme, load_theme

__all__ = [
    "Artefact", "ConfigError", "ConflictError", "ConsentVersion", "Decision", "FileStore",
    "Format", "GoneError", "Image", "Job", "NotFoundError", "NotSavedError", "Person",
    "Reason", "Site", "SiteConfig", "Store", "Story", "StoryView", "Storyteller",
    "StorykitError", "Theme", "ValidationError", "decide", "hookimpl", "hookspec",
    "load_config", "load_theme", "render", "render_markdown", "sanitise",
]
