"""`switchover serve | deploy | campaign | recover`: the flows of the pre-registration period.

`serve` runs every deployment in this one process against the Prefect API in PREFECT_API_URL;
`deploy` registers them with a process work pool instead, for `prefect worker start` on other
machines (docs/operations.md). `campaign` shows the campaign file on the calendar, and `recover`
is the helpdesk's way to register a person for an organization after the close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.orm import Session

from cli.errors import CommandError, user_errors
from db.enums import Role
from domain.campaign import CampaignError, load_campaign
from domain.context import App, open_app
from domain.emails.sender import drain
from domain.recovery import Recovered, RecoveryError, register_for_organization
from domain.settings import get_settings

if TYPE_CHECKING:
    from flows.one_off import Scheduling


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("deploy")(deploy)
    app.command("campaign")(campaign)
    app.command("recover")(recover)


def _prefect_api() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise CommandError(
            "PREFECT_API_URL is not set: start a Prefect server (`prefect server start`) and "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api (see docs/operations.md)"
        )
    return str(url)


def _check_ready() -> None:
    """Fail before serving anything if the database or the campaign file is not usable."""
    settings = get_settings()
    open_app(settings).close()
    try:
        load_campaign(settings)
    except CampaignError as exc:
        raise CommandError(str(exc)) from None


def serve(
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="At most this many flow runs at the same time."),
    ] = None,
) -> None:
    """Register every deployment and run their schedules and manual runs in this process.

    Stop with Ctrl-C; schedules are paused on the way out and resume at the next `serve`.
    """
    from prefect import serve as prefect_serve

    from flows.deployments import to_deployments
    from flows.one_off import schedule_one_off_runs

    with user_errors():
        api = _prefect_api()
        _check_ready()
        deployments = to_deployments(get_settings())
        one_offs = schedule_one_off_runs(deployments, get_settings(), register=True)
    typer.echo(f"serving {len(deployments)} deployments against {api}")
    _echo_one_offs(one_offs)
    prefect_serve(*deployments, limit=limit)


def deploy(
    work_pool: Annotated[
        str, typer.Option("--work-pool", "-p", help="The process work pool to register with.")
    ] = "switchover",
) -> None:
    """Register every deployment with a process work pool (run by `prefect worker start`)."""
    from prefect.deployments.runner import deploy as prefect_deploy

    from flows.deployments import to_deployments
    from flows.one_off import schedule_one_off_runs

    with user_errors():
        _prefect_api()
        _check_ready()
        deployments = to_deployments(get_settings(), work_pool=work_pool)
        try:
            prefect_deploy(
                *deployments,
                work_pool_name=work_pool,
                build=False,
                push=False,
                ignore_warnings=True,
            )
        except ValueError as exc:  # e.g. the work pool does not exist
            raise CommandError(
                f"{exc} (create it with: prefect work-pool create {work_pool} --type process)"
            ) from None
        one_offs = schedule_one_off_runs(deployments, get_settings(), register=False)
    _echo_one_offs(one_offs)


def _echo_one_offs(one_offs: list[Scheduling]) -> None:
    tz = get_settings().tz
    for item in one_offs:
        at = f"{item.at.astimezone(tz):%Y-%m-%d %H:%M %Z}"
        if item.run is None:
            typer.echo(f"{item.deployment}: {item.label} ({at}) has passed; run it by hand")
        else:
            typer.echo(f"{item.deployment}: one run scheduled for {item.label}, {at}")


def campaign() -> None:
    """Check the campaign file and show its steps on the calendar."""
    with user_errors():
        settings = get_settings()
        try:
            loaded = load_campaign(settings)
        except CampaignError as exc:
            raise CommandError(str(exc)) from None
    typer.echo(f"campaign file {loaded.source}: valid")
    for scheduled in (*loaded.reminders, *loaded.followups):
        step = scheduled.step
        wording = getattr(step, "wording", None)
        what = getattr(step, "template", None) or f"{scheduled.action} {wording or ''}"
        segments = ", ".join(segment.value for segment in step.segments)
        typer.echo(
            f"  {scheduled.date:%a %Y-%m-%d}  {scheduled.kind:<8}  {step.name:<13} "
            f"{what.strip():<22} {segments}"
        )


def recover(
    org: Annotated[str, typer.Option("--org", help="The organization's login ID, e.g. NK000123.")],
    name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    email: Annotated[str, typer.Option("--email", help="The person's email address.")],
    agent: Annotated[str, typer.Option("--agent", help="The helpdesk agent doing this.")],
    role: Annotated[Role, typer.Option("--role", help="The account type.")] = Role.ADMINISTRATOR,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything; register and send nothing.")
    ] = False,
) -> None:
    """Register a person for an organization on the helpdesk's behalf and email the link."""
    with user_errors():
        app = open_app()
        try:
            if dry_run:
                with app.sessions() as session:
                    session.begin()
                    done = _register(app, session, org, name, email, role, agent, dry_run=True)
                    session.rollback()
            else:
                with app.unit_of_work() as session:
                    done = _register(app, session, org, name, email, role, agent, dry_run=False)
                delivery = drain(
                    app, only_keys_prefix=f"verification:registration:{done.registration_id}:"
                )
        finally:
            app.close()
    if dry_run:
        typer.echo(
            f"dry run: {done.email} could be registered as {done.role.label} for "
            f"{done.organization_name} ({done.login_id}); nothing was changed"
        )
        return
    typer.echo(
        f"registered {done.email} as {done.role.label} for {done.organization_name} "
        f"({done.login_id}), registration {done.registration_id}, by agent {agent}"
    )
    if delivery.sent:
        typer.echo("the verification link was emailed")
    else:
        reason = delivery.relay_error or "not sent yet"
        typer.echo(f"the verification email is queued ({reason}); the outbox-sender delivers it")


def _register(
    app: App,
    session: Session,
    org: str,
    name: str,
    email: str,
    role: Role,
    agent: str,
    *,
    dry_run: bool,
) -> Recovered:
    try:
        return register_for_organization(
            session,
            app.clock,
            app.calendar,
            app.settings,
            login_id=org,
            name=name,
            email=email,
            role=role,
            agent=agent,
            dry_run=dry_run,
        )
    except RecoveryError as exc:
        raise CommandError(str(exc)) from None
