"""Password rules and hashing (argon2id). No Flask here: the CLI uses it too.

Rules (OWASP ASVS 6.2): at least 12 characters, at most 256 (hashing cost stays bounded), not a
common password or a common word dressed up with digits and symbols, not one character repeated
or a keyboard run, and not containing the user's name.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

#: argon2id cost: t=3, m=64 MiB, p=4 (about 0.2 s on one core here; ASVS asks m >= 46 MiB).
DEFAULT_COST = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

# Common passwords at or above the minimum length, and common base words. A password whose
# letters, once digits and symbols are taken off the ends, are one of these is refused too.
_WORDS_TEXT = """
password passw0rd p@ssword p@ssw0rd passwd letmein welcome welcome1 iloveyou qwerty qwertyuiop
asdfghjkl zxcvbnm abc abcdef abcdefgh monkey dragon football baseball soccer sunshine princess
starwars superman batman shadow master trustno1 whatever freedom hello hello123 secret admin
administrator changeme default login access nhs nhsnhs nurse doctor hospital patient summer
winter spring autumn january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday london manchester
liverpool arsenal chelsea england storykit story stories charlie michael jennifer jessica
computer internet mustang hunter ranger killer jordan harley thomas robert daniel andrew
"""
_PASSWORDS_TEXT = """
123456789012 1234567890123 12345678901234 123456789123 1234567891011 111111111111 000000000000
123123123123 121212121212 qwertyuiop12 qwertyuiop123 qwerty123456 1qaz2wsx3edc 1q2w3e4r5t6y
q1w2e3r4t5y6 zaq12wsxcde3 password1234 password12345 password123! passwordpassword
iloveyou1234 letmein12345 welcome12345 abcdefghijkl abcd12345678 aaaaaaaaaaaa
correcthorsebatterystaple thequickbrownfox changemenow! administrator1 superman1234
"""
_COMMON_WORDS = frozenset(_WORDS_TEXT.split())
_COMMON_PASSWORDS = frozenset(_PASSWORDS_TEXT.split())
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "0123456789012345678901234567890",
         "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


def password_problem(password: str, user_name: str = "") -> str | None:
    """Why ``password`` is not allowed, in plain words; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Your password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"Your password must be {MAX_LENGTH} characters or fewer."
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or _core(lowered) in _COMMON_WORDS:
        return "That password is too common. Choose one that is harder to guess."
    if len(set(lowered)) <= 2 or _is_run(lowered):
        return "That password is too easy to guess. Try three or four random words."
    name = user_name.strip().lower()
    if len(name) >= 3 and name in lowered:
        return "Your password must not contain your user name."
    return None


def _core(lowered: str) -> str:
    """The letters left once digits and symbols are taken off both ends (and 0/@/1 read as
    letters): ``Password1234!`` -> ``password``."""
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    core = core.replace("0", "o").replace("@", "a").replace("$", "s")
    return core


def _is_run(lowered: str) -> bool:
    for run in _RUNS:
        if lowered in run or lowered in run[::-1]:
            return True
    # one short chunk repeated, e.g. "abcabcabcabc" or "12341234..."
    return any(len(lowered) % n == 0 and lowered == lowered[:n] * (len(lowered) // n)
               for n in range(1, 5))


class Hasher:
    """argon2id hashing with the site's cost; a dummy hash keeps unknown users as slow as known
    ones, so timing does not tell an attacker which names exist."""

    def __init__(self, cost: dict[str, int] | None = None):
        self.ph = PasswordHasher(**(cost or DEFAULT_COST))
        self._dummy = self.ph.hash("storykit dummy password for timing")

    def hash(self, password: str) -> str:
        return self.ph.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if ``password`` matches ``stored``; with ``stored=None`` it does the same work
        and returns False."""
        try:
            return self.ph.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.ph.check_needs_rehash(stored)
