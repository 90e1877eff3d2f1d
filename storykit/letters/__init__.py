"""Letters to storytellers: the data a letter is (:class:`Letter`), the rules it keeps
(Easy Read sentences of at most 15 words, known pictures with words that describe them),
the letters storykit writes (:func:`reconsent_letter`, :func:`withdrawal_letter`) and
:func:`write_letter`, which asks a plugin (``render_letter``; storykit_letters is the
first-party one) to draw it as a tagged PDF in standard, large print or Easy Read.

Letters use the consent record's private ``contact`` section and go only to the person
they are about; they are never distributions of the story. See docs/letters.md.
"""

from __future__ import annotations

from .addressing import Addressee, addressee
from .model import (
    EASY_READ_MAX_WORDS,
    ICONS,
    STYLE_WORDS,
    STYLES,
    EasyReadPoint,
    Letter,
    LetterBlock,
    LetterError,
    ReplySlip,
    easy,
    easy_read_problems,
    sentences,
    word_count,
)
from .reconsent import reconsent_due, reconsent_letter
from .signoff import SignoffText, signoff_easy_read, signoff_letter, signoff_text
from .withdrawal import withdrawal_letter
from .write import check_letter_output, write_letter

#: The letters storykit makes, by the name ``storykit consent letter --kind`` uses.
KINDS = ("reconsent", "withdrawal")

__all__ = [
    "EASY_READ_MAX_WORDS", "ICONS", "KINDS", "STYLES", "STYLE_WORDS", "Addressee",
    "EasyReadPoint", "Letter", "LetterBlock", "LetterError", "ReplySlip", "addressee",
    "check_letter_output", "easy", "easy_read_problems", "reconsent_due", "reconsent_letter",
    "sentences", "SignoffText", "signoff_easy_read", "signoff_letter", "signoff_text",
    "withdrawal_letter", "word_count", "write_letter",
]
