"""Rendering one email for thousands of recipients: one Jinja render, then a fill-in per message.

A campaign step writes the same email to every organization of a segment; only a few plain values
differ (the organization's name, its login ID, the contact's name). `render_email` costs about half
a millisecond, which is most of the cost of planning a campaign for 100,000 organizations. A
`Stencil` renders the template once with a placeholder for each of those values and then fills
them in per message: the HTML gets each value escaped exactly as Jinja's autoescape would, and
the plain text re-wraps only the lines that hold a value (`render.tidy_text` wraps line by line;
`domain.linewrap` does the same faster). The rest of the text is laid out once.

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
from typing import Any

from markupsafe import escape

from db.enums import Locale
from domain.emails.catalog import TEMPLATES
from domain.emails.render import (
    SUBJECT_MAX,
    TEXT_WIDTH,
    base_context,
    environment,
    render_email,
)
from domain.emails.rendered import RenderedEmail
from domain.emails.template_errors import EmailTemplateError
from domain.linewrap import wrap_line
from domain.settings import Settings

log = logging.getLogger(__name__)

# Private-use characters: no template, filter or escaping touches them, and textwrap sees a
# placeholder as one word.
_OPEN, _CLOSE = "\ue0f0", "\ue0f1"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
# Stands for a whole line holding a value while the text's layout is worked out once.
_LINE_OPEN, _LINE_CLOSE = "\ue0f2", "\ue0f3"
_LINE = re.compile(f"{_LINE_OPEN}(\\d+){_LINE_CLOSE}")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ue000-\uf8ff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Values for the self-test at build time: markup, quotes, ampersands, long and non-Latin text.
_PROBES = (
    "Ocean & Sons <Shipping> \"Kaiun\" K.K. 'Tokyo' Branch",
    " ".join(["株式会社 長い名前の海運会社"] * 6),
)


class StencilMismatch(Exception):
    """A stencil's output differed from `render_email`'s; it has been turned off."""


class _Pieces:
    """A text cut at its placeholders, kept as a format string: filling in runs in C."""

    def __init__(self, text: str, marker: re.Pattern[str] = _PLACEHOLDER) -> None:
        parts = marker.split(text)
        self.slots = [int(index) for index in parts[1::2]]
        static = [part.replace("{", "{{").replace("}", "}}") for part in parts[0::2]]
        self._format = static[0] + "".join(
            f"{{{slot}}}{tail}" for slot, tail in zip(self.slots, static[1:], strict=True)
        )

    def fill(self, values: Sequence[str]) -> str:
        return self._format.format(*values)


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
        self._subject = _Pieces(whole.subject)
        self._html = _Pieces(whole.html)
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
        # Lines without a value are wrapped once; a line with one stands in the layout as a
        # marker (never blank, as no value is blank), so joining, squeezing blank lines and the
        # final strip are done here once, and a message only wraps its own lines.
        self._wrapped: dict[str, str] = {}
        self._lines: list[_Pieces] = []
        laid_out = []
        for line in raw.splitlines():
            if _OPEN in line:
                laid_out.append(f"{_LINE_OPEN}{len(self._lines)}{_LINE_CLOSE}")
                self._lines.append(_Pieces(line))
            else:
                laid_out.append(self._wrap(line))
        layout = _BLANK_RUNS.sub("\n\n", "\n".join(laid_out)).strip() + "\n"
        self._text = _Pieces(layout, _LINE)
        # tidy_text strips the whole text: the first line loses its indent if it holds a value.
        self._strip_first = layout.startswith(_LINE_OPEN)

    def _wrap(self, line: str) -> str:
        """One raw line as tidy_text leaves it (before the whole text is squeezed and stripped)."""
        stripped = line.rstrip()
        if self.locale is not Locale.EN or len(stripped) <= TEXT_WIDTH:
            return stripped
        cached = self._wrapped.get(stripped)
        if cached is None:
            cached = "\n".join(wrap_line(stripped))
            # Bounded: organizations' lines repeat only within the organization.
            if len(self._wrapped) >= 4096:
                self._wrapped.clear()
            self._wrapped[stripped] = cached
        return cached

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
            if not value or value != " ".join(value.split()) or _UNSAFE.search(value):
                return False
        return True

    def _fill(self, values: Mapping[str, str | None]) -> RenderedEmail | None:
        """The email from the stencil, or None where only a full render gets it right."""
        plain = [str(values[key]) for key in self.variable]
        subject = self._subject.fill(plain)
        if len(subject) > SUBJECT_MAX:
            # render_email cuts it, and the cut subject also appears in the HTML: leave such
            # rare long names to Jinja. (The values are squeezed and free of control
            # characters, so this is the length render_email measures.)
            return None
        # No clean_subject: the stencil's subject is clean, and values with anything it would
        # change (control characters, runs of spaces, blanks) never get here.
        html = self._html.fill([str(escape(value)) for value in plain])
        lines = [self._wrap(line.fill(plain)) for line in self._lines]
        if self._strip_first:
            lines[self._text.slots[0]] = lines[self._text.slots[0]].lstrip()
        return RenderedEmail(subject=subject, text=self._text.fill(lines), html=html)

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
