"""The public pages: home, news, FAQ (from the content files), the language switch, health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.deps import SESSION_LANG, AppContext
from portal.i18n import parse_locale
from portal.view import redirect, render, request_locale

router = APIRouter()


def _content(request: Request, name: str, template: str = "page.html") -> Response:
    page = request.app.state.content.page(name, request_locale(request))
    return render(request, template, {"page": page, "page_name": name})


@router.get("/", name="home")
def home(request: Request) -> Response:
    return _content(request, "home", "home.html")


@router.get("/news", name="news")
def news(request: Request) -> Response:
    return _content(request, "news")


@router.get("/faq", name="faq")
def faq(request: Request) -> Response:
    return _content(request, "faq")


def _local_path(candidate: str) -> str:
    """Only a path on this site (no scheme, no host, no //evil.example): no open redirect."""
    if candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return "/"


@router.get("/language/{code}", name="set_language")
def set_language(
    request: Request,
    code: str,
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> Response:
    locale = parse_locale(code)
    if locale is None or locale.value != code:
        raise HTTPException(status_code=404)
    request.session[SESSION_LANG] = locale.value
    return redirect(_local_path(next_path))


@router.get("/healthz", name="healthz", include_in_schema=False)
def healthz(context: AppContext) -> Response:
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
