"""What a password of an individual account must be: the rules of NIST SP 800-63B.

- Long enough (``password_min_length``, 15 by default: 800-63B-4 asks for 15 where the password
  is the only factor) and allowed to be long (up to 128 characters; 800-63B asks for at least 64).
  Length counts characters, so a Japanese passphrase is as welcome as an English one.
- Not a known one: the 20,000 most common passwords of breach corpora (``data/``), also with
  digits and symbols stuck to either end ("Password2025!!!"), or repeated ("qwertyqwerty…").
- Not repetitive or sequential ("aaaa…", "abab…", "12345678901234…", keyboard rows).
- Not made from the account's context: the email address or its local part, the person's name,
  the portal's name, the organization's log-in ID.
- No composition rules (no "one digit, one capital"): they make passwords harder to remember and
  no harder to guess. Any printable character, spaces included, is allowed.

Passwords are compared and hashed after Unicode NFKC normalization, so the same passphrase typed
on two keyboards (full-width and half-width digits, say) is the same password.
"""

from __future__ import annotations

import gzip
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

BLOCKLIST_FILE = Path(__file__).with_name("data") / "common-passwords.txt.gz"
MAX_LENGTH = 128
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_WORD = re.compile(r"[\W_]+")
# Neighbours on the alphabet, the digits (0 after 9 too) and the rows and columns of a keyboard.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "12345678901",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz",
    "2wsx",
    "3edc",
    "4rfv",
    "5tgb",
    "6yhn",
    "7ujm",
    "8ik",
    "9ol",
    "0p",
)
_NEIGHBOURS = frozenset(
    pair
    for sequence in _SEQUENCES
    for a, b in itertools.pairwise(sequence)
    for pair in ((a, b), (b, a))
)
# At most this many jumps between runs of neighbours: "zxcvbnm" + "asdfghjkl" is one jump.
_MAX_JUMPS = 2
_SERVICE_WORDS = ("classnk", "customerhub", "webserviceportal", "nkportal")


class Problem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    REPETITIVE = "repetitive"
    SEQUENTIAL = "sequential"
    CONTEXT = "context"  # built from the email address, the name, the portal's name
    CONTROL = "control"  # an invisible control character (a paste gone wrong)
    MISMATCH = "mismatch"  # the confirmation differs


@dataclass(frozen=True)
class Verdict:
    problems: tuple[Problem, ...]
    length: int

    @property
    def ok(self) -> bool:
        return not self.problems


def normalize(password: str) -> str:
    """The form that is hashed and compared (NFKC), at log-in as at set-up."""
    return unicodedata.normalize("NFKC", password or "")


@lru_cache(maxsize=1)
def blocklist() -> frozenset[str]:
    with gzip.open(BLOCKLIST_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def check(
    password: str,
    *,
    min_length: int,
    confirmation: str | None = None,
    context: Iterable[str] = (),
) -> Verdict:
    """Every rule the password breaks (none: it may be used)."""
    value = normalize(password)
    length = len(value)
    problems: list[Problem] = []
    if length < min_length:
        problems.append(Problem.TOO_SHORT)
    if length > MAX_LENGTH:
        problems.append(Problem.TOO_LONG)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        problems.append(Problem.CONTROL)
    folded = value.casefold()
    if length and length <= MAX_LENGTH:
        if _is_common(folded):
            problems.append(Problem.COMMON)
        if _is_repetitive(folded):
            problems.append(Problem.REPETITIVE)
        elif _is_sequential(folded):
            problems.append(Problem.SEQUENTIAL)
        if _uses_context(folded, context):
            problems.append(Problem.CONTEXT)
    if confirmation is not None and normalize(confirmation) != value:
        problems.append(Problem.MISMATCH)
    return Verdict(tuple(problems), length)


def _is_common(folded: str) -> bool:
    words = blocklist()
    if folded in words:
        return True
    core = _ENDS.sub("", folded)
    if len(core) >= 4 and core in words:
        return True
    squeezed = _NOT_WORD.sub("", folded)
    unit = _repeated_unit(squeezed)
    return unit is not None and (unit in words or _ENDS.sub("", unit) in words)


def _repeated_unit(text: str) -> str | None:
    """The shortest string that `text` repeats at least twice, if it is one."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def _is_repetitive(folded: str) -> bool:
    squeezed = folded.replace(" ", "")
    if len(set(squeezed)) <= 3:
        return True
    unit = _repeated_unit(squeezed)
    return unit is not None and len(unit) <= len(squeezed) // 3


def _is_sequential(folded: str) -> bool:
    squeezed = folded.replace(" ", "")
    jumps = sum(1 for a, b in itertools.pairwise(squeezed) if a != b and (a, b) not in _NEIGHBOURS)
    return jumps <= _MAX_JUMPS


def _uses_context(folded: str, context: Iterable[str]) -> bool:
    squeezed = _NOT_WORD.sub("", folded)
    core = _ENDS.sub("", folded)
    words: set[str] = set(_SERVICE_WORDS)
    for item in context:
        text = normalize(item).casefold().strip()
        if not text:
            continue
        local, _, domain = text.partition("@")
        words.add(_NOT_WORD.sub("", local))
        if domain:
            words.add(_NOT_WORD.sub("", text))
        words.update(_NOT_WORD.sub("", part) for part in re.split(r"[\s.@_-]+", text))
    words = {w for w in words if len(w) >= 4}
    if _NOT_WORD.sub("", core) in words:
        return True
    # A long word of the context inside the password ("taro.yamada" in "taro.yamada-2025!").
    return any(len(word) >= 6 and word in squeezed for word in words)
