"""Response headers every page carries, and the two checks every POST passes.

- Headers: a Content-Security-Policy without inline scripts or styles, no framing, no sniffing,
  no referrer leaving the site (verification links carry their token in the path), no caching of
  pages (they show an organization's people).
- CSRF: a synchronizer token kept in the session and echoed by every form.
- Same origin: a browser says where a POST comes from (Origin, Sec-Fetch-Site, Referer); a POST
  from another site is refused even where no session is involved (the verification link).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"

_BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "frame-src": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
# The demo mailbox shows received emails in a sandboxed srcdoc frame, which inherits this page's
# policy: email HTML is styled inline, and may link images from anywhere.
_MAILBOX_POLICY = _BASE_POLICY | {
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: https:",
    "frame-src": "'self'",
}


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CSP = _policy(_BASE_POLICY)
MAILBOX_CSP = _policy(_MAILBOX_POLICY)


def security_headers(path: str, *, https: bool) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", MAILBOX_CSP if path.startswith("/mailbox") else CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers to every response; a route's own value for a header wins."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = security_headers(path, https=self.https)
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def apply_headers(request: Request, headers: MutableHeaders, *, https: bool) -> None:
    """For responses built outside the middleware stack (the 500 page)."""
    for name, value in security_headers(request.url.path, https=https):
        headers.setdefault(name, value)
    headers.setdefault("Cache-Control", "no-store")


def csrf_token(request: Request) -> str:
    """The session's token, created on first use (pages without forms set no cookie)."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def csrf_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get(CSRF_SESSION_KEY)
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and len(expected) >= 32
        and secrets.compare_digest(expected.encode(), submitted.encode())
    )


def _origin_of(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def same_origin(request: Request, trusted_origins: Iterable[str]) -> bool:
    """False when the browser tells us the POST comes from another site; True when silent.

    The request's own host counts as this site (whatever scheme a proxy terminated), and so does
    every trusted origin (the configured public address).
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return False
    host = (request.headers.get("host") or "").lower()
    trusted = {o for o in (_origin_of(url) for url in trusted_origins) if o is not None}
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value is None:
            continue
        origin = _origin_of(value)
        if origin is None:  # "null" (a sandboxed frame, a privacy redirect) or garbage
            return False
        return origin[1] == host or origin in trusted
    return True
