"""Errors users see. Each names the file and line where one applies, never story text."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class StorykitError(Exception):
    """Base class: a problem the user can act on. The CLI prints it without a traceback."""


@dataclass(frozen=True)
class Problem:
    """One finding in a file: where it is and what is wrong."""

    file: str
    line: int | None
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class ValidationError(StorykitError):
    """A story, consent or config file is not valid. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, line: int | None, message: str, code: str = "invalid"):
        return cls([Problem(str(file), line, message, code)])


class NotFoundError(StorykitError):
    """No story with that id or slug."""


class ConflictError(StorykitError):
    """A save was based on an older revision, or a slug is taken. Nothing was overwritten."""

    def __init__(self, message: str, *, mine: str | None = None, theirs: str | None = None,
                 saved_copy: Path | None = None):
        super().__init__(message)
        self.mine = mine
        self.theirs = theirs
        self.saved_copy = saved_copy


class GoneError(StorykitError):
    """The story was withdrawn or deleted meanwhile; a stale save must not bring it back."""


class NotSavedError(StorykitError):
    """Writing failed (disk full, I/O error, read-only). The previous file is intact."""


class ConfigError(StorykitError):
    """storykit.toml is missing or invalid."""


class PluginError(StorykitError):
    """A plugin failed. The message names it; details only with STORYKIT_DEBUG=1."""

    def __init__(self, plugin: str, hook: str, exc: BaseException):
        self.plugin, self.hook, self.original = plugin, hook, exc
        where = _where(exc)
        detail = f": {exc}" if os.environ.get("STORYKIT_DEBUG") else ""
        super().__init__(f"plugin {plugin!r} failed in {hook} ({type(exc).__name__}"
                         f"{' at ' + where if where else ''}){detail}")

    def __reduce__(self):  # crosses process boundaries when renderers run on several cores
        return (_rebuild_plugin_error, (self.plugin, self.hook, str(self)))


def _rebuild_plugin_error(plugin: str, hook: str, message: str) -> PluginError:
    error = PluginError.__new__(PluginError)
    StorykitError.__init__(error, message)
    error.plugin, error.hook, error.original = plugin, hook, None
    return error


def _where(exc: BaseException) -> str:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
