"""Driving the portal like a browser: read the CSRF token from a page, log in, submit forms."""

from __future__ import annotations

import re
from html import unescape

import httpx
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def csrf(client: TestClient, path: str = "/login") -> str:
    return csrf_from(client.get(path).text)


def log_in(client: TestClient, login_id: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(client, "/login")
    response: httpx.Response = client.post(
        "/login",
        data={"csrf_token": token, "login_id": login_id, "password": password},
        follow_redirects=False,
    )
    return response


def post_form(client: TestClient, path: str, data: dict[str, str], page: str) -> httpx.Response:
    """POST `data` with the CSRF token of `page` (as a browser would, from that page's form)."""
    response: httpx.Response = client.post(path, data={"csrf_token": csrf(client, page), **data})
    return response


def text_of(html: str) -> str:
    """The visible text, tags removed and whitespace collapsed (for readable assertions)."""
    without_tags = re.sub(r"<[^>]+>", " ", html)
    return " ".join(unescape(without_tags).split())
