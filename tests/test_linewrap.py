"""The fast line wrapping agrees with textwrap and with render's wrapping, line for line."""

from __future__ import annotations

import random
import textwrap

import pytest

from domain.emails import render
from domain.linewrap import greedy, wrap_line

WORDS = [
    "a",
    "the",
    "organization",
    "Nordic",
    "Carriers",
    "(login",
    "NK000123)",
    "14",
    "September",
    "2025,",
    "23:59",
    "(JST)",
    "https://portal.example.com/verify/abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop",
    "-",
    "*",
    "1.",
    "x" * 80,
    "\u3000",
    "—",
    "株式会社",
]


def random_lines(seed: int, count: int, *, single_spaced: bool) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randrange(1, 45))]
        if single_spaced:
            text = " ".join(w for w in words if w != "\u3000")
        else:
            text = "".join(w + rng.choice([" ", " ", "  ", "", "\t"]) for w in words)
        if rng.random() < 0.3:
            text = rng.choice(["- ", "  * ", "3. ", "   "]) + text
        if rng.random() < 0.3:
            text += " due on 14 September 2025, 23:59 (JST) at the latest"
        lines.append(text.rstrip())
    return lines


@pytest.mark.parametrize("single_spaced", [True, False])
def test_greedy_is_textwrap(single_spaced: bool) -> None:
    for text in random_lines(7, 3000, single_spaced=single_spaced):
        for width in (76, 30, 8):
            for first, rest in (("", ""), ("- ", "  "), ("   ", "   ")):
                assert greedy(text, width, first, rest) == textwrap.wrap(
                    text,
                    width=width,
                    initial_indent=first,
                    subsequent_indent=rest,
                    break_long_words=False,
                    break_on_hyphens=False,
                ), (text, width, first)


@pytest.mark.parametrize("single_spaced", [True, False])
def test_wrap_line_is_renders_wrapping(single_spaced: bool) -> None:
    for text in random_lines(11, 3000, single_spaced=single_spaced):
        assert wrap_line(text) == render._wrap(text), text


def test_every_template_line_wraps_the_same() -> None:
    for path in render.TEMPLATE_DIR.rglob("*.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.rstrip()
            assert wrap_line(stripped) == render._wrap(stripped), (path, line)
