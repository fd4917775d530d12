"""Pages operators edit without touching code: Markdown files per language.

``<content dir>/{en,ja}/{home,faq,news,contact}.md``. The directory is a setting
(``SWITCHOVER_PORTAL_CONTENT_DIR``); what is missing there falls back to the English file, then
to the content shipped with the portal. Edits show on the next request (files are re-read when
they change).

Markdown is rendered safely: raw HTML is shown as text, not interpreted, and links or images
may only point to http(s), mailto, tel or this site. Placeholders like ``{{ closes_on }}`` are
replaced by the configured values, so the text never contradicts the calendar.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from db.enums import Locale
from domain.settings import Settings
from portal.i18n import Translator

BUILTIN_DIR = Path(__file__).with_name("content")
PAGES = ("home", "faq", "news", "contact")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Japanese, Chinese and full-width characters: a line break between two of them is not a space.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])\n[ \t]*(?=[{_CJK}])")


class _SafeLinks(Treeprocessor):
    """Drop link and image targets with a scheme we do not allow (javascript:, data:, …)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is None:
                    continue
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in _SAFE_SCHEMES:
                    del element.attrib[attribute]
                elif scheme in ("http", "https") and element.tag == "a":
                    element.set("rel", "noopener noreferrer")


class _SafeMarkdown(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Without these two, <script> in a content file would reach the page as markup.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "safe_links", 1)


def render_markdown(source: str) -> Markup:
    converter = markdown.Markdown(
        extensions=[_SafeMarkdown(), "tables", "sane_lists", "toc"],
        # Alignment as an attribute: a style attribute would be refused by the page's CSP.
        extension_configs={"toc": {"permalink": False}, "tables": {"use_align_attribute": True}},
    )
    return Markup(converter.convert(source))  # noqa: S704 - raw HTML disabled above


@dataclass(frozen=True)
class Page:
    name: str
    locale: Locale
    title: str
    html: Markup
    source: Path


def placeholders(settings: Settings, locale: Locale) -> dict[str, str]:
    words = Translator(locale)
    return {
        "opens_on": words.date(settings.preregistration_opens),
        "closes_on": words.date(settings.preregistration_closes),
        "switch_on": words.date(settings.switch_date),
        "helpdesk_name": settings.helpdesk_name,
        "helpdesk_email": str(settings.helpdesk_email),
        "helpdesk_form_url": str(settings.helpdesk_form_url),
        "portal_name": settings.portal_name,
        "portal_url": str(settings.portal_base_url),
    }


class ContentStore:
    """Finds, renders and caches the pages; safe to share between request threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._cache: dict[tuple[Path, Locale], tuple[int, int, Page]] = {}

    def candidates(self, name: str, locale: Locale) -> list[Path]:
        roots = [self.settings.portal_content_dir, BUILTIN_DIR]
        found: list[Path] = []
        for root in roots:
            if root is None:
                continue
            for language in dict.fromkeys((locale, Locale.EN)):
                found.append(Path(root) / language.value / f"{name}.md")
        return found

    def page(self, name: str, locale: Locale) -> Page:
        if name not in PAGES:
            raise KeyError(name)
        for path in self.candidates(name, locale):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            key = (path, locale)
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
                return cached[2]
            page = self._render(name, locale, path)
            with self._lock:
                self._cache[key] = (stat.st_mtime_ns, stat.st_size, page)
            return page
        raise FileNotFoundError(f"no content file for {name!r} in {self.candidates(name, locale)}")

    def _render(self, name: str, locale: Locale, path: Path) -> Page:
        values = placeholders(self.settings, locale)
        source = _PLACEHOLDER.sub(
            lambda m: values.get(m.group(1), m.group(0)), path.read_text(encoding="utf-8")
        )
        # Markdown turns a line break inside a paragraph into a space, which browsers show
        # between Japanese characters; operators wrap lines anyway, so join them here.
        source = _CJK_BREAK.sub("", source)
        title_match = _TITLE.search(source)
        title = title_match.group(1) if title_match else name.title()
        if title_match:  # the page template shows the title itself, styled as the page heading
            source = source[: title_match.start()] + source[title_match.end() :]
        return Page(name, locale, title, render_markdown(source), path)
