"""Word count and reading age for the editor, worked out offline.

textstat counts English syllables with NLTK's CMU dictionary, which it tries to download on
first use: that hangs or fails on a machine without internet access, and a story must never be
sent anywhere. So this module counts syllables itself (vowel groups, with the usual English
corrections) and applies the Flesch-Kincaid grade formula. A UK reading age is the US grade
plus 5. The editor aims for a reading age of 9 to 11, as NHS content guidance does.

It is an estimate: good enough to say "try shorter sentences", never a judgement on a story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..markup import MarkdownTooLong, plain_text

TARGET_LOW, TARGET_HIGH = 9, 11
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)*|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")
# endings that add no syllable ("made", "hopes") or one that vowel groups miss ("table")
_SILENT_E = re.compile(r"[^aeiouy]e$")
_CONSONANT_LE = re.compile(r"[^aeiouy]le$")
_ED_ES = re.compile(r"[^aeioudt]ed$|[^aeiouscxzhg]es$")


@dataclass(frozen=True)
class Readability:
    """What the editor shows under the story text."""

    words: int
    sentences: int
    reading_age: int | None  # None for texts too short to judge

    @property
    def verdict(self) -> str:
        """A short, plain sentence about the reading age."""
        if self.reading_age is None:
            return "Write a few sentences to see the reading age."
        if self.reading_age <= TARGET_HIGH:
            return "Good: most people can read this easily."
        return "Try shorter sentences and shorter words."

    @property
    def sentence(self) -> str:
        """The line under the story box, e.g. "312 words. Reading age about 10 (aim for
        9 to 11). Good: most people can read this easily." """
        words = f"{self.words} word{'' if self.words == 1 else 's'}."
        if self.reading_age is None:
            return f"{words} {self.verdict}"
        return (f"{words} Reading age about {self.reading_age} (aim for {TARGET_LOW} to "
                f"{TARGET_HIGH}). {self.verdict}")

    @property
    def on_target(self) -> bool:
        return self.reading_age is not None and self.reading_age <= TARGET_HIGH


def syllables(word: str) -> int:
    """Estimated syllables in one English word (at least 1)."""
    word = word.lower().replace("\u2019", "'").removesuffix("'s")
    if word.isdigit() or len(word) <= 3:
        return 1
    count = len(_VOWEL_GROUP.findall(word))
    if _SILENT_E.search(word) and not _CONSONANT_LE.search(word):
        count -= 1
    if _ED_ES.search(word):
        count -= 1
    return max(1, count)


def measure(text: str) -> Readability:
    """Word count and reading age of plain text."""
    words = _WORD.findall(text)
    count = len(words)
    sentences = max(1, len([s for s in _SENTENCE_END.split(text) if _WORD.search(s)]))
    if count < 10:
        return Readability(count, sentences, None)
    per_sentence = count / sentences
    per_word = sum(syllables(w) for w in words) / count
    grade = 0.39 * per_sentence + 11.8 * per_word - 15.59
    return Readability(count, sentences, max(5, round(grade + 5)))


def measure_markdown(text: str) -> Readability:
    """Like :func:`measure`, for the Markdown of a story (formatting is not counted)."""
    try:
        plain = plain_text(text)
    except MarkdownTooLong:  # too long or too complex to render: count the raw words
        plain = text
    return measure(plain)
