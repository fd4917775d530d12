"""Inline CSS for the HTML part, kept in one place.

Several Gmail clients drop a ``<style>`` block and Outlook's Word engine honours only part of
CSS, so every element carries its own ``style``. Templates write plain ``<p>``, ``<li>``,
``<a href>`` (or ``<td class="center">``, from a short list of classes); this module turns them
into inline styles after rendering. It only touches tags the templates wrote bare: text a person
typed was escaped before it got here, so it can contain no tag to match.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from db.enums import Locale

# Meiryo and Hiragino first for Japanese: Outlook otherwise falls back to MS Mincho (a serif).
FONTS: dict[Locale, str] = {
    Locale.EN: "Arial, Helvetica, sans-serif",
    Locale.JA: "'Hiragino Kaku Gothic ProN', 'Hiragino Sans', Meiryo, 'Yu Gothic', sans-serif",
}

TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#52606d"
LINK_COLOR = "#0b5cad"
BRAND_COLOR = "#0b3d6e"
RULE_COLOR = "#d9dee5"

_TAG_STYLES: dict[str, str] = {
    "p": "margin:0 0 16px 0;font-size:15px;line-height:1.6;color:{text};font-family:{font};",
    "h2": "margin:24px 0 8px 0;font-size:17px;line-height:1.4;font-weight:bold;"
    "color:{brand};font-family:{font};",
    "ul": "margin:0 0 16px 0;padding:0 0 0 22px;",
    "ol": "margin:0 0 16px 0;padding:0 0 0 22px;",
    "li": "margin:0 0 6px 0;font-size:15px;line-height:1.6;color:{text};font-family:{font};",
    "table": "border-collapse:collapse;margin:0 0 16px 0;width:100%;",
    "th": "border:1px solid {rule};background-color:#eef2f7;padding:6px 8px;font-size:14px;"
    "text-align:left;color:{text};font-family:{font};",
    "td": "border:1px solid {rule};padding:6px 8px;font-size:14px;text-align:left;"
    "color:{text};font-family:{font};",
    "blockquote": "margin:0 0 16px 0;padding:10px 14px;border-left:4px solid {rule};"
    "background-color:#f7f9fb;font-size:14px;line-height:1.6;color:{text};font-family:{font};",
    "hr": "border:0;border-top:1px solid {rule};margin:24px 0;",
}
# A template may add one of these classes to a bare tag; the class becomes extra style.
_CLASS_STYLES: dict[str, str] = {
    "center": "text-align:center;",
    "muted": "color:{muted};font-size:13px;",
    "label": "width:32%;white-space:nowrap;",
}
_ANCHOR_STYLE = (
    "color:{link};text-decoration:underline;overflow-wrap:break-word;word-break:break-word;"
)

_BARE_TAG = re.compile(
    r"<(" + "|".join(_TAG_STYLES) + r')(?: class="(' + "|".join(_CLASS_STYLES) + r')")?>'
)
_UNSTYLED_ANCHOR = re.compile(r"<a (?![^>]*\bstyle=)")


def _fill(template: str, locale: Locale) -> str:
    return template.format(
        font=FONTS[locale],
        text=TEXT_COLOR,
        brand=BRAND_COLOR,
        rule=RULE_COLOR,
        link=LINK_COLOR,
        muted=MUTED_COLOR,
    )


def font(locale: Locale) -> Markup:
    """The font stack for hand-styled elements (layout, buttons); a trusted constant."""
    return Markup(FONTS[locale])  # noqa: S704 - a constant of this module, not user input


def inline_styles(html: str, locale: Locale) -> str:
    def styled(match: re.Match[str]) -> str:
        tag, css_class = match[1], match[2]
        style = _TAG_STYLES[tag] + (_CLASS_STYLES[css_class] if css_class else "")
        return f'<{tag} style="{_fill(style, locale)}">'

    html = _BARE_TAG.sub(styled, html)
    return _UNSTYLED_ANCHOR.sub(f'<a style="{_fill(_ANCHOR_STYLE, locale)}" ', html)
