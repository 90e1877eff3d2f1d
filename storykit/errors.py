"""Errors users see. Each names the file and line where one applies, never story text."""

from __future__ import annotations

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
