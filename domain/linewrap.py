"""The plain-text line wrapping of `domain.emails.render`, several times faster.

`render.tidy_text` wraps English lines with `textwrap.wrap` (76 columns, words never broken, a
date kept on one line, list items hanging under their bullet). A campaign wraps the paragraphs
that name the organization once per organization — 100,000 times — and textwrap's general
machinery is most of that cost. `wrap_line` gives the same lines with a greedy loop specialised
to render's options; render's own patterns (date glue, hanging prefix) are used as they are.

It must agree with render exactly: the tests compare the two on every template line and on
random text, and each stencil compares its emails with `render_email` before it is trusted.
"""

from __future__ import annotations

import re

from domain.emails import render

TEXT_WIDTH = render.TEXT_WIDTH
# textwrap's notion of whitespace (ASCII only), and what it turns each character into.
_SPLIT = re.compile(r"([\t\n\x0b\x0c\r ]+)")
_TO_SPACE = str.maketrans("\t\n\x0b\x0c\r", "     ")
# Whitespace other than the plain space (tabs, but also U+3000 and friends, which textwrap keeps
# inside words yet drops at line ends): such text takes the general path.
_OTHER_SPACE = re.compile(r"[^\S ]")


def greedy(text: str, width: int, initial_indent: str, subsequent_indent: str) -> list[str]:
    """`textwrap.wrap(text, width, initial_indent=…, subsequent_indent=…,
    break_long_words=False, break_on_hyphens=False)`, with textwrap's other defaults."""
    if (
        text
        and text[0] != " "
        and text[-1] != " "
        and "  " not in text
        and not _OTHER_SPACE.search(text)
    ):
        return _single_spaced(text, width, initial_indent, subsequent_indent)
    chunks = [c for c in _SPLIT.split(text.expandtabs(8).translate(_TO_SPACE)) if c]
    lines: list[str] = []
    i, count = 0, len(chunks)
    while i < count:
        indent = subsequent_indent if lines else initial_indent
        room = width - len(indent)
        if lines and chunks[i].strip() == "":
            i += 1  # a line never starts with the space it was broken at
        start, used = i, 0
        while i < count and used + len(chunks[i]) <= room:
            used += len(chunks[i])
            i += 1
        if i < count and i == start and len(chunks[i]) > room:
            i += 1  # a word longer than the line stands alone, unbroken
        end = i
        if end > start and chunks[end - 1].strip() == "":
            end -= 1
        if end > start:
            lines.append(indent + "".join(chunks[start:end]))
    return lines


def _single_spaced(text: str, width: int, initial_indent: str, subsequent_indent: str) -> list[str]:
    # Words separated by one space each: a word joins the line if it fits with its space, and a
    # line's first word is placed even when it is too long (textwrap never breaks words here).
    words = text.split(" ")
    lines: list[str] = []
    indent = initial_indent
    room = width - len(indent)
    current = [words[0]]
    used = len(words[0])
    for word in words[1:]:
        if used + 1 + len(word) <= room:
            current.append(word)
            used += 1 + len(word)
        else:
            lines.append(indent + " ".join(current))
            indent = subsequent_indent
            room = width - len(indent)
            current = [word]
            used = len(word)
    lines.append(indent + " ".join(current))
    return lines


def wrap_line(line: str) -> list[str]:
    """What `render._wrap` makes of one line (already stripped on the right)."""
    if len(line) <= TEXT_WIDTH or line.startswith(">"):
        return [line]
    match = render._HANGING_PREFIX.match(line)
    prefix = match.group(0) if match else ""
    glue = render._GLUE
    body = render._EN_DATE.sub(lambda found: found[0].replace(" ", glue), line[len(prefix) :])
    wrapped = greedy(body, TEXT_WIDTH, prefix, " " * len(prefix))
    return [part.replace(glue, " ") for part in wrapped] or [line]
