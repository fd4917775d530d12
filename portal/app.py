"""The portal's application factory.

``switchover portal`` (or ``uvicorn portal.app:create_app --factory``) serves it with the
settings of the environment; the database is opened once, at startup, through
`domain.context.open_app`. Tests pass their own `App` (settings, engine, a fixed clock) instead.

Routers that expose data only a demo may show (the mailbox of the local mail sink) are mounted
only when ``demo_mode`` is on, so in production those URLs do not exist at all rather than being
guarded by a check that could be forgotten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.middleware.sessions import SessionMiddleware

from db.sqlite_writes import WalCheckpointer, WriteGate
from domain.context import App, open_app
from domain.settings import Settings, get_settings
from portal import errors, hub_errors, view
from portal.content import ContentStore
from portal.deps import LOGIN_LIFETIME
from portal.routes import (
    account,
    auth,
    helpdesk,
    hub,
    hub_users,
    mailbox,
    pages,
    registrations,
    verify,
)
from portal.secret import session_secret
from portal.security import SecurityHeadersMiddleware
from portal.templating import make_templates

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "portal_session"


def create_app(settings: Settings | None = None, *, context: App | None = None) -> FastAPI:
    if context is not None:
        settings = context.settings
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        checkpointer = None
        if app.state.context is None:
            opened = open_app(settings)
            app.state.context = opened
            if settings.is_sqlite:
                checkpointer = WalCheckpointer(opened.engine)
                checkpointer.start()
        try:
            yield
        finally:
            if checkpointer is not None:
                checkpointer.stop()
            if opened is not None:
                app.state.context = None
                opened.close()

    app = FastAPI(
        title=settings.portal_name,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    https = str(settings.portal_base_url).startswith("https:")
    app.state.settings = settings
    app.state.context = context
    app.state.url_cache = {}
    # SQLite has one writer at a time, and a writer that finds it taken sleeps and retries (up to
    # 100 ms a try). The portal's writers (threads and worker processes) queue on a lock instead,
    # and get the database in turn (see db/sqlite_writes.py).
    app.state.write_gate = _write_gate(settings)
    app.state.templates = make_templates(settings)
    view.install(app.state.templates)
    app.state.content = ContentStore(settings)

    # The last middleware added runs first: headers wrap everything, the session sits inside.
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(LOGIN_LIFETIME.total_seconds()),
        same_site="lax",
        https_only=https,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=https)
    errors.install(app)
    hub_errors.install(app)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (pages, auth, registrations, verify, helpdesk, account, hub, hub_users):
        app.include_router(module.router)
    if settings.demo_mode:
        app.include_router(mailbox.router)
    return app


def _write_gate(settings: Settings) -> AbstractContextManager[object]:
    if not settings.is_sqlite:
        return nullcontext()
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return WriteGate(None)  # one process: the thread lock is the whole gate
    return WriteGate(Path(database).resolve())
