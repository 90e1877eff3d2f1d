"""Writing a letter to a file: the core checks the letter and the place, and a plugin draws it
(the ``render_letter`` hook; the first plugin that returns a path made it).

Letters are private to the person they go to: they are not distributions of the story
(nothing is recorded in the distribution log), and the audit log notes only that a letter
of a kind was made for a story, by whom (never its words or address)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..output_path import check_output_file
from .model import STYLES, Letter, LetterError

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

LETTER_MADE = "letter.made"


def write_letter(site: Site, letter: Letter, out: Path, *, style: str | None = None,
                 theme: str | None = None, force: bool = False, by: str | None = None) -> Path:
    """Draw ``letter`` as a PDF at ``out`` in ``style`` (default: the letter's, which is the
    storyteller's preference) and return the path. LetterError in words when the letter
    breaks its rules, the style is unknown, ``out`` cannot be written, or no plugin draws
    letters."""
    from ..store import current_user
    from ..themes import load_theme

    style = style or letter.style
    if style not in STYLES:
        raise LetterError(f"unknown letter style {style!r}; choose one of: {', '.join(STYLES)}")
    letter.checked()
    out = check_letter_output(site, Path(out), force=force)
    made = site.plugins.pm.hook.render_letter(site=site, letter=letter, style=style,
                                              theme=load_theme(site, theme), out=out)
    if made is None:
        raise LetterError("no plugin draws letters: install storykit_letters (it comes with "
                          "storykit) or allow it in STORYKIT_LOAD_PLUGINS")
    site.audit.record(LETTER_MADE, actor=by or current_user(), story_id=letter.story_id,
                      detail=f"{letter.kind} letter, {style}")
    return Path(made)


def check_letter_output(site: Site, out: Path, *, force: bool = False) -> Path:
    """``out`` as a place for a letter (see :func:`storykit.output_path.check_output_file`)."""
    return check_output_file(out, suffix=".pdf", what="a letter", force=force,
                             stories_dir=site.config.path("stories"), error=LetterError)
