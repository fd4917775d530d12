"""`switchover demo`: one command from a fresh clone to the whole of Switchover running locally.

It creates or upgrades the database and seeds demo customers once (a second run reuses them),
then starts, each as a child process it supervises (`cli.supervisor`): the mail sink, the portal,
a local Prefect server (its own SQLite database under var/prefect), `switchover serve` with every
deployment, and the managers' dashboard. It prints where everything is and how to log in, and
stops everything on Ctrl-C.

Every child gets the same demo settings: mail goes to the local sink only (whatever the SMTP
settings say — the seeded addresses belong to nobody), the support mailbox is a local Maildir,
the portal shows the received mail at /mailbox, and ``--at`` (or SWITCHOVER_CLOCK_AT) lets the
whole stack stand on any date of the calendar.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cli.errors import CommandError, user_errors
from cli.supervisor import (
    Service,
    Supervisor,
    SupervisorError,
    http_ok,
    port_free,
    smtp_ok,
)
from dashboard.launch import demo_password
from db import schema
from db.engine import make_engine
from db.models import Organization
from domain.clock import Calendar, clock_from_settings
from domain.context import open_app
from domain.passwords import verify_password
from domain.seed import DEMO_PASSWORD, SeedError, seed_population
from domain.settings import Settings, get_settings, load_settings

DEMO_ORGANIZATIONS = 2_000
HOST = "127.0.0.1"
START_TIMEOUT = 240.0  # a first Prefect server start migrates its database
KNOWN_LOGINS_TRIED = 5


def demo(
    orgs: Annotated[
        int, typer.Option("--orgs", min=1, help="Organizations to seed when the database is empty.")
    ] = DEMO_ORGANIZATIONS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the demo population.")] = 2025,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Let the demo stand on this date or time (Asia/Tokyo), e.g. 2025-08-01 or "
            "2025-09-10T09:00; it then runs on from there. Default: SWITCHOVER_CLOCK_AT, or now.",
        ),
    ] = None,
    portal_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SWITCHOVER_DEMO_PORTAL_PORT.")
    ] = None,
    dashboard_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SWITCHOVER_DASHBOARD_PORT.")
    ] = None,
    prefect_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SWITCHOVER_DEMO_PREFECT_PORT.")
    ] = None,
    mailsink_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SWITCHOVER_MAILSINK_PORT.")
    ] = None,
    prepare_only: Annotated[
        bool,
        typer.Option("--prepare-only", help="Create and seed the database; start nothing."),
    ] = False,
) -> None:
    """Set up the database and demo customers, start every part of Switchover, print the URLs.

    Stops everything on Ctrl-C. Runs again on the same data; delete var/ to start over.
    """
    with user_errors():
        base = get_settings()
        overrides: dict[str, object] = {"demo_mode": True}
        if at:
            overrides["clock_at"] = _moment(at)
        settings = load_settings(**overrides)
        logins = _prepare(settings, orgs=orgs, seed=seed)
        if prepare_only:
            typer.echo(_logins_line(logins))
            return
        ports = {
            "portal": portal_port or base.demo_portal_port,
            "dashboard": dashboard_port or base.dashboard_port,
            "prefect": prefect_port or base.demo_prefect_port,
            "mail sink": mailsink_port or base.mailsink_port,
        }
        busy = [f"{name} port {port}" for name, port in ports.items() if not port_free(HOST, port)]
        if busy:
            raise CommandError(
                f"{', '.join(busy)} in use (another demo running?); stop it, or choose other "
                "ports with --portal-port, --dashboard-port, --prefect-port, --mailsink-port"
            )
    _run(settings, ports, logins)


def _moment(text: str) -> str:
    try:
        if "T" in text or " " in text:
            return dt.datetime.fromisoformat(text).isoformat()
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(10, 0)).isoformat()
    except ValueError:
        raise CommandError(f"--at {text!r}: write a date (2025-08-01) or a time") from None


def _var() -> Path:
    return Path("var").resolve()


def _prepare(settings: Settings, *, orgs: int, seed: int) -> list[str]:
    """Upgrade the schema, seed once; the organizations that log in with the demo password."""
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings.database_url)
    try:
        before, after = schema.upgrade(engine)
        with engine.connect() as connection:
            existing = connection.scalar(select(func.count()).select_from(Organization)) or 0
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"Database {where} is at revision {after}.")
    else:
        typer.echo(f"Database {where}: schema {before or 'empty'} -> {after}.")
    credentials = _var() / "demo" / "logins.json"
    if existing:
        typer.echo(f"It already holds {existing:,} organizations; reusing them.")
        try:
            saved = json.loads(credentials.read_text(encoding="utf-8"))
            return [str(login) for login in saved.get("logins", [])]
        except (OSError, ValueError):
            logins = _known_logins(settings)  # seeded by `switchover seed`, or an older demo
            if logins:
                _save_logins(credentials, logins)
            return logins
    app = open_app(settings)
    try:
        typer.echo(f"Seeding {orgs:,} demo organizations (seed {seed})…")
        summary = seed_population(
            app.engine, orgs=orgs, seed=seed, clock=app.clock, known_password_count=min(5, orgs)
        )
    except SeedError as exc:
        raise CommandError(str(exc)) from None
    finally:
        app.close()
    logins = [login.login_id for login in summary.demo_logins]
    _save_logins(credentials, logins)
    typer.echo(
        f"Seeded {summary.organizations:,} organizations in {summary.elapsed_seconds:.1f} s."
    )
    return logins


def _save_logins(path: Path, logins: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"logins": logins}) + "\n", encoding="utf-8")


def _known_logins(settings: Settings) -> list[str]:
    """The first organizations, if they take the demo password (where `switchover seed` puts
    its known passwords). Argon2 is slow on purpose, so only a handful are tried."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Organization.legacy_login_id, Organization.password_hash)
                .order_by(Organization.id)
                .limit(KNOWN_LOGINS_TRIED)
            ).all()
    finally:
        engine.dispose()
    return [login for login, hashed in rows if verify_password(hashed, DEMO_PASSWORD)]


def _environment(settings: Settings, ports: Mapping[str, int], password: str) -> dict[str, str]:
    var = _var()
    support = var / "demo" / "support-mailbox"
    mailbox.Maildir(support, create=True)
    environment = dict(os.environ)
    environment.update(
        {
            "SWITCHOVER_DATABASE_URL": settings.database_url,
            "SWITCHOVER_DEMO_MODE": "true",
            # The demo's mail never leaves the machine, whatever the SMTP settings say.
            "SWITCHOVER_SMTP_HOST": HOST,
            "SWITCHOVER_SMTP_PORT": str(ports["mail sink"]),
            "SWITCHOVER_SMTP_SECURITY": "none",
            "SWITCHOVER_MAILSINK_HOST": HOST,
            "SWITCHOVER_MAILSINK_PORT": str(ports["mail sink"]),
            "SWITCHOVER_MAILSINK_DIR": str(settings.mailsink_dir.resolve()),
            "SWITCHOVER_HELPDESK_IMAP_HOST": "",
            "SWITCHOVER_HELPDESK_MAILDIR": str(support),
            "SWITCHOVER_PORTAL_BASE_URL": f"http://{HOST}:{ports['portal']}",
            "SWITCHOVER_DASHBOARD_PASSWORD": password,
            "PREFECT_HOME": str(var / "prefect"),
            "PREFECT_API_URL": f"http://{HOST}:{ports['prefect']}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    if settings.clock_at is not None:
        environment["SWITCHOVER_CLOCK_AT"] = settings.clock_at.isoformat()
    for name in ("SWITCHOVER_SMTP_USERNAME", "SWITCHOVER_SMTP_PASSWORD"):
        environment.pop(name, None)  # the local sink takes no log-in
    return environment


def _services(environment: dict[str, str], ports: Mapping[str, int]) -> list[Service]:
    me = str(Path(sys.executable).with_name("switchover"))
    logs = _var() / "demo" / "logs"
    api = f"http://{HOST}:{ports['prefect']}/api"
    return [
        Service(
            "mail sink",
            [me, "mailsink", "--host", HOST, "--port", str(ports["mail sink"])],
            logs / "mailsink.log",
            smtp_ok(HOST, ports["mail sink"]),
            environment,
        ),
        Service(
            "portal",
            [
                me,
                "portal",
                "--host",
                HOST,
                "--port",
                str(ports["portal"]),
                "--log-level",
                "warning",
            ],
            logs / "portal.log",
            http_ok(f"http://{HOST}:{ports['portal']}/healthz", expect='"ok"'),
            environment,
        ),
        Service(
            "Prefect server",
            # `switchover prefect-server`: `prefect server start` with schedules that fire on
            # this project's SQLAlchemy (flows.prefect_compat).
            [me, "prefect-server", "--host", HOST, "--port", str(ports["prefect"])],
            logs / "prefect-server.log",
            http_ok(f"{api}/health", expect="true"),
            environment,
        ),
        Service(
            "dashboard",
            [me, "dashboard", "--host", HOST, "--port", str(ports["dashboard"])],
            logs / "dashboard.log",
            http_ok(f"http://{HOST}:{ports['dashboard']}/_stcore/health", expect="ok"),
            environment,
        ),
    ]


def _serve(environment: dict[str, str], ports: Mapping[str, int]) -> Service:
    from flows.deployments import SPECS

    me = str(Path(sys.executable).with_name("switchover"))
    api = f"http://{HOST}:{ports['prefect']}/api"

    def all_deployed() -> bool:
        import httpx

        try:
            answer = httpx.post(f"{api}/deployments/count", json={}, timeout=2.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and int(answer.text or 0) >= len(SPECS)

    return Service(
        "switchover serve",
        [me, "serve"],
        _var() / "demo" / "logs" / "serve.log",
        all_deployed,
        environment,
    )


def _run(settings: Settings, ports: Mapping[str, int], logins: list[str]) -> None:
    password = (
        settings.dashboard_password.get_secret_value()
        if settings.dashboard_password
        else demo_password()
    )
    environment = _environment(settings, ports, password)
    supervisor = Supervisor(on_stop_signal=lambda: typer.echo("\nstopping…"))
    supervisor.install_signal_handlers()
    try:
        services = _services(environment, ports)
        typer.echo("Starting the mail sink, the portal, a Prefect server and the dashboard…")
        for service in services:
            supervisor.start(service)
        supervisor.wait_ready(services[:2], START_TIMEOUT)
        supervisor.wait_ready(services[2:3], START_TIMEOUT)
        serve = _serve(environment, ports)
        supervisor.start(serve)
        supervisor.wait_ready([services[3], serve], START_TIMEOUT)
        typer.echo(_summary(settings, ports, password, logins))
        exited = supervisor.watch()
        if exited is not None:
            assert exited.process is not None
            typer.echo(
                f"{exited.name} exited (status {exited.process.returncode}); stopping the rest. "
                f"The end of {exited.log}:\n{exited.tail()}",
                err=True,
            )
    except SupervisorError as exc:
        if not supervisor.stopping.is_set():
            typer.echo(f"error: {exc}", err=True)
        supervisor.stop_all()
        supervisor.restore_signal_handlers()
        if str(exc) == "stopped while starting":
            typer.echo("stopped")
            return
        raise typer.Exit(1) from None
    supervisor.stop_all()
    supervisor.restore_signal_handlers()
    typer.echo("stopped")
    if exited is not None:
        raise typer.Exit(1)


def _logins_line(logins: list[str]) -> str:
    if logins:
        return f"Organization log-ins (password {DEMO_PASSWORD}): {', '.join(logins)}"
    return "No organization log-in with a known password (the data was seeded elsewhere)."


def _summary(settings: Settings, ports: Mapping[str, int], password: str, logins: list[str]) -> str:
    calendar = Calendar.from_settings(settings)
    now = clock_from_settings(settings).now()
    local = calendar.local(now)
    phase = {
        "before": f"pre-registration opens on {calendar.opens_on}",
        "open": f"pre-registration open, {calendar.days_until_close(now)} days left",
        "closed": f"pre-registration closed; the switch is on {calendar.switch_on}",
        "switched": "after the switch to individual log-ins",
    }[calendar.phase(now)]
    portal = f"http://{HOST}:{ports['portal']}"
    lines = [
        "",
        f"Switchover demo — {local:%Y-%m-%d %H:%M} ({settings.timezone}): {phase}",
        "",
        f"  Portal       {portal}/",
        f"  Mailbox      {portal}/mailbox   (every email the demo sends)",
        f"  Dashboard    http://{HOST}:{ports['dashboard']}/   password: {password}",
        f"  Prefect UI   http://{HOST}:{ports['prefect']}/   (the flows, from switchover serve)",
        f"  Mail sink    smtp://{HOST}:{ports['mail sink']}",
        "",
    ]
    if logins:
        lines.append(f"Organization log-ins (password {DEMO_PASSWORD}): {', '.join(logins)}")
    else:
        lines.append(
            "No organization log-in with a known password (the data was seeded elsewhere)."
        )
    lines += [
        f"Logs: {_var() / 'demo' / 'logs'}",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)
