"""The helpdesk-recovery flow: an agent registers a person for an organization after the close."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from db.enums import Role
from domain.recovery import RecoveryError, register_for_organization
from flows import reports
from flows.runtime import flow_app, publish_markdown, work_session
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "helpdesk-recovery"


@flow(name="helpdesk-recovery", log_prints=True)
def helpdesk_recovery(
    login_id: Annotated[str, Field(min_length=1, max_length=64)],
    person_name: Annotated[str, Field(min_length=1, max_length=200)],
    email: Annotated[str, Field(min_length=3, max_length=320)],
    agent: Annotated[str, Field(min_length=1, max_length=100)],
    role: Role = Role.ADMINISTRATOR,
    dry_run: bool = False,
    as_of: dt.datetime | None = None,
) -> dict[str, Any]:
    """Register a person for an organization on the helpdesk's behalf and email the link.

    For organizations that missed pre-registration: after the close the form is shut, and after
    the switch their shared login no longer works. The registration is recorded as made by the
    helpdesk agent, and the person confirms their address with the emailed link as usual.

    Args:
        login_id: The organization's (former) shared login ID, e.g. NK000123.
        person_name: The person's full name.
        email: The person's email address, their future login ID.
        agent: The helpdesk agent doing this (recorded in the audit trail).
        role: The person's account type; an organization needs at least one Administrator.
        dry_run: Check everything and report, but register and send nothing.
        as_of: Act as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
    """
    with flow_app(as_of) as app:
        try:
            with work_session(app, dry_run=dry_run) as session:
                done = register_for_organization(
                    session,
                    app.clock,
                    app.calendar,
                    app.settings,
                    login_id=login_id,
                    name=person_name,
                    email=email,
                    role=role,
                    agent=agent,
                    dry_run=dry_run,
                )
        except RecoveryError as exc:
            # The run fails (the UI shows it in red) and its report says why, in the agent's words.
            publish_markdown(
                ARTIFACT_KEY,
                f"## Helpdesk recovery — {reports.when(app.calendar, app.clock.now())}\n\n"
                f"**Not registered:** {reports.cell(exc)}\n\n"
                f"Asked for: {reports.cell(person_name)} <{reports.cell(email)}> as "
                f"{role.label} for {reports.cell(login_id)}, by agent {reports.cell(agent)}.\n",
                f"helpdesk-recovery refused: {exc}"[:500],
            )
            raise
        delivery = None
        if not dry_run:
            delivery = drain_outbox(
                app, only_keys_prefix=f"verification:registration:{done.registration_id}:"
            )
        now = app.clock.now()
        body = f"## Helpdesk recovery — {reports.when(app.calendar, now)}\n\n"
        if dry_run:
            body += reports.DRY_RUN_BANNER + "\n"
        body += reports.table(
            ("", ""),
            [
                ("organization", f"{done.organization_name} ({done.login_id})"),
                ("person", f"{person_name} <{done.email}>"),
                ("account type", done.role.label),
                ("registered by", f"agent:{' '.join(agent.split())} (source: helpdesk)"),
                ("calendar phase", done.phase),
                ("registration", done.registration_id or "none (dry run)"),
            ],
        )
        if delivery is not None:
            body += "\n" + reports.delivery_lines(delivery, "the verification email")
        body += (
            "\nThe person must click the link in the email to confirm the address; it expires "
            f"after {app.settings.verification_token_ttl_hours // 24} days.\n"
        )
        publish_markdown(
            ARTIFACT_KEY,
            body,
            f"helpdesk-recovery: {done.email} for {done.login_id}"
            + (" (dry run)" if dry_run else ""),
        )
        return {
            "organization_id": done.organization_id,
            "registration_id": done.registration_id,
            "email": done.email,
            "dry_run": dry_run,
            "link_sent": bool(delivery and delivery.sent),
        }
