"""Jinja2 for the portal: one environment per app, with the settings' time zone and names."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from domain.settings import Settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Matched on already escaped text: "&amp;" belongs to a URL, an escaped quote or bracket ends it.
_URL = re.compile(r"https?://(?:(?!&(?:#34|#39|lt|gt|quot);)\S)+")
_TRAILING = ".,;:!?)]}'"


def linkify(text: str | None) -> Markup:
    """Plain text, escaped, with its http(s) URLs as links that open in a new tab."""

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a>{tail}'

    return Markup(_URL.sub(link, str(escape(text or ""))))  # noqa: S704 - escaped above


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = templates.env
    env.globals["portal_name"] = settings.portal_name
    env.globals["demo_mode"] = settings.demo_mode
    tz = settings.tz

    def local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        # People read times in the portal's zone (Asia/Tokyo by default), as the announcement does.
        if moment is None:
            return "—"
        if moment.tzinfo is None:
            return moment.strftime(fmt)
        return moment.astimezone(tz).strftime(fmt + " %Z")

    def file_size(size: int) -> str:
        if size < 1024:
            return f"{size} B"
        if size < 1024 * 1024:
            return f"{size / 1024:.1f} KB"
        return f"{size / (1024 * 1024):.1f} MB"

    env.filters["local_time"] = local_time
    env.filters["file_size"] = file_size
    env.filters["linkify"] = linkify
    return templates


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
