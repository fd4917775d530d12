"""Rendering one email for thousands of recipients: one Jinja render, then a fill-in per message.

A campaign step writes the same email to every organization of a segment; only a few plain values
differ (the organization's name, its login ID, the contact's name). `render_email` costs about half
a millisecond, which is most of the cost of planning a campaign for 100,000 organizations. A
`Stencil` renders the template once with a placeholder for each of those values and then fills
them in per message: the subject is cleaned again, the HTML gets the value escaped exactly as
Jinja's autoescape would, and the plain text re-wraps only the lines that hold a value (wrapping
is per line, see `domain.emails.render.tidy_text`).

A stencil must give the very bytes `render_email` gives. It proves that against `render_email`
on the first message it fills, and on two probes with awkward values when it is built; if either
differs (a template started to filter or test one of the values), the stencil turns itself off
and every message is rendered the slow way. Values that could change a template's structure — a
line break, a control character, a blank value, a run of spaces — are rendered the slow way too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from db.enums import Locale
from domain.emails.catalog import TEMPLATES
from domain.emails.render import (
    SUBJECT_MAX,
    base_context,
    clean_subject,
    environment,
    render_email,
    tidy_text,
)
from domain.emails.rendered import RenderedEmail
from domain.emails.template_errors import EmailTemplateError
from domain.settings import Settings

log = logging.getLogger(__name__)

# Private-use characters: no template, filter or escaping touches them, and textwrap sees a
# placeholder as one word.
_OPEN, _CLOSE = "\ue0f0", "\ue0f1"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ue000-\uf8ff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Values for the self-test at build time: markup, quotes, ampersands, long and non-Latin text.
_PROBES = (
    "Ocean & Sons <Shipping> \"Kaiun\" K.K. 'Tokyo' Branch",
    " ".join(["株式会社 長い名前の海運会社"] * 6),
)


class StencilMismatch(Exception):
    """A stencil's output differed from `render_email`'s; it has been turned off."""


@dataclass(frozen=True)
class _Line:
    raw: str
    has_value: bool


class Stencil:
    """`template` in `locale` with `fixed` context, for recipients who differ in `variable`."""

    def __init__(
        self,
        template: str,
        locale: Locale | str,
        fixed: Mapping[str, Any],
        variable: Sequence[str],
        settings: Settings,
    ) -> None:
        self.template = template
        self.locale = Locale(locale)
        self.fixed = dict(fixed)
        self.variable = tuple(variable)
        self.settings = settings
        self.verified = False  # compared with render_email on a real message
        self.enabled = True
        self.fast_renders = 0
        self.slow_renders = 0
        clash = set(self.fixed) & set(self.variable)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both fixed and variable")
        self._marks = {key: f"{_OPEN}{index}{_CLOSE}" for index, key in enumerate(self.variable)}
        try:
            self._build()
            for probe in _PROBES:
                self._check(dict.fromkeys(self.variable, probe))
        except StencilMismatch as exc:
            self._disable(str(exc))
        except EmailTemplateError as exc:
            # The template refuses a placeholder (it checks that value): no stencil, and a real
            # value with a real problem still raises from render_email.
            self._disable(f"the template does not take placeholders ({exc})")

    # --- building ---

    def _build(self) -> None:
        marked = self.fixed | self._marks
        # Through render_email first: it validates the context and gives the finished HTML (the
        # placeholders survive escaping and inline styling untouched).
        whole = render_email(self.template, self.locale, marked, self.settings)
        if whole.subject.endswith("…"):
            raise StencilMismatch("the subject may have been cut even with placeholders")
        self._subject = whole.subject
        self._html = whole.html
        # The plain text before wrapping, rendered as render_email renders it, so that each line
        # can be wrapped again once its values are in.
        spec = TEMPLATES[self.template]
        values = base_context(self.settings, self.locale) | dict.fromkeys(spec.optional) | marked
        if spec.derive is not None:
            values |= spec.derive(values)
        raw = (
            environment()
            .get_template(f"{self.template}/{self.locale.value}/body.txt")
            .render(values)
        )
        self._lines = [_Line(line, _OPEN in line) for line in raw.splitlines()]
        self._wrapped: dict[str, str] = {}
        self._static = [self._wrap(line.raw) if not line.has_value else "" for line in self._lines]

    def _wrap(self, line: str) -> str:
        """One raw line as tidy_text leaves it (without the final strip of the whole text)."""
        cached = self._wrapped.get(line)
        if cached is not None:
            return cached
        stripped = line.rstrip()
        if not stripped:
            result = ""
        else:
            indent = stripped[: len(stripped) - len(stripped.lstrip())]
            result = indent + tidy_text(stripped, self.locale)[:-1]
        if len(self._wrapped) < 10_000:
            self._wrapped[line] = result
        return result

    # --- filling in ---

    def render(self, values: Mapping[str, str | None]) -> RenderedEmail:
        """The email for one recipient; `values` gives every variable key (None: absent)."""
        email = self._fill(values) if self.enabled and self._fits(values) else None
        if email is None:
            self.slow_renders += 1
            return self._slow(values)
        if not self.verified:
            self._check(values, email)
        if not self.enabled:  # the check just failed
            self.slow_renders += 1
            return self._slow(values)
        self.fast_renders += 1
        return email

    def _fits(self, values: Mapping[str, str | None]) -> bool:
        for key in self.variable:
            value = values.get(key)
            # Subjects squeeze runs of spaces, and the subject is repeated in the HTML: a value
            # already squeezed reads the same in both places.
            if value is None or value != " ".join(value.split()) or _UNSAFE.search(value):
                return False
        return True

    def _fill(self, values: Mapping[str, str | None]) -> RenderedEmail | None:
        """The email from the stencil, or None where only a full render gets it right."""
        plain = {str(index): str(values[key]) for index, key in enumerate(self.variable)}
        escaped = {index: str(escape(value)) for index, value in plain.items()}
        subject = _PLACEHOLDER.sub(lambda m: plain[m[1]], self._subject)
        if len(subject) > SUBJECT_MAX:
            # render_email cuts it, and the cut subject also appears in the HTML: leave such
            # rare long names to Jinja. (The values are squeezed and free of control
            # characters, so this is the length render_email measures.)
            return None
        subject = clean_subject(subject)
        html = _PLACEHOLDER.sub(lambda m: escaped[m[1]], self._html)
        parts = [
            self._wrap(_PLACEHOLDER.sub(lambda m: plain[m[1]], line.raw))
            if line.has_value
            else static
            for line, static in zip(self._lines, self._static, strict=True)
        ]
        text = _BLANK_RUNS.sub("\n\n", "\n".join(parts)).strip() + "\n"
        return RenderedEmail(subject=subject, text=text, html=html)

    def _slow(self, values: Mapping[str, str | None]) -> RenderedEmail:
        context = self.fixed | {key: values.get(key) for key in self.variable}
        return render_email(self.template, self.locale, context, self.settings)

    def _check(self, values: Mapping[str, str | None], filled: RenderedEmail | None = None) -> None:
        expected = self._slow(values)
        got = filled if filled is not None else self._fill(values)
        if got is None:  # a probe the stencil would not fill: nothing to compare
            return
        if got != expected:
            part = next(
                name
                for name in ("subject", "text", "html")
                if getattr(got, name) != getattr(expected, name)
            )
            if filled is None:
                raise StencilMismatch(f"the {part} differs from render_email's")
            self._disable(f"the {part} differs from render_email's")
            return
        if filled is not None:
            self.verified = True

    def _disable(self, reason: str) -> None:
        self.enabled = False
        log.warning(
            "bulk rendering of %s (%s) is off, every message is rendered in full: %s",
            self.template,
            self.locale.value,
            reason,
        )
