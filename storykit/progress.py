"""A progress bar for long commands (``storykit pack``, ``storykit build``), drawn on the
terminal's standard error only: quiet when output goes to a file, a pipe or a program."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """``bar(done, total, step)`` redraws one line; ``bar.close()`` ends it. Redraws at
    most ten times a second, and always for the last step."""

    def __init__(self, stream: TextIO, label: str):
        self.stream = stream
        self.label = label
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, step: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        total = max(total, 1)
        filled = min(WIDTH, WIDTH * done // total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        what = f" {step}" if step else ""
        self.stream.write(f"\r{self.label} [{bar}] {done} of {total}{what}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def terminal_progress(label: str, *, quiet: bool = False,
                      stream: TextIO | None = None) -> ProgressBar | None:
    """A progress bar on ``stream`` (standard error) when it is a terminal; None otherwise
    (and when ``quiet``), so callers pass it on as an optional callback."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not stream.isatty():
        return None
    return ProgressBar(stream, label)
