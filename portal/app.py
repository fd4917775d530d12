"""The portal's application factory.

``uvicorn portal.app:create_app --factory`` serves it with the settings of the environment;
tests pass their own `Settings`. Routers that expose data only a demo may show (the mailbox of
the local mail sink) are mounted only when ``demo_mode`` is on, so in production those URLs do not
exist at all rather than being guarded by a check that could be forgotten.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from domain.settings import Settings, get_settings
from portal.routes import mailbox
from portal.templating import make_templates

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title=settings.portal_name,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.templates = make_templates(settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.demo_mode:
        app.include_router(mailbox.router)
    return app
