"""Every deployment operators see in the Prefect UI: name, description, schedule, concurrency.

One list serves both ways of running them: `switchover serve` serves them all from one process
(`prefect.serve`), and `switchover deploy` registers them with a process work pool, so that
`prefect worker start --pool <pool>` on any machine with this project installed runs them.
Schedules are cron expressions in the portal's time zone (Asia/Tokyo by default), so 09:00 means
09:00 in Tokyo whatever zone the servers run in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from domain.settings import Settings
from flows.dashboard_refresh import dashboard_refresh
from flows.helpdesk_ingest import helpdesk_ingest
from flows.helpdesk_recovery import helpdesk_recovery
from flows.login_migration import login_migration
from flows.migration_rollback import migration_rollback
from flows.outbox_sender import outbox_sender
from flows.reminder_campaign import reminder_campaign
from flows.unregistered_followup import unregistered_followup
from flows.verification_dispatch import verification_dispatch

TAGS = ("switchover",)


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow: Flow[..., Any]
    description: str
    cron: str | None = None  # in the settings' time zone; None: run by hand only
    # One run at a time where two would do the same work twice or race for the same rows.
    # ENQUEUE: a second run waits its turn; CANCEL_NEW: it is dropped (the next tick comes soon).
    single: ConcurrencyLimitStrategy | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


SPECS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="reminder-campaign",
        flow=reminder_campaign,
        description=(
            "Daily at 09:00 (Asia/Tokyo). Sends the reminder step due today (campaign file: "
            "announcement, T-60 … T-1) to every organization not yet ready, by segment: never "
            "registered, registered but nothing verified, no verified Administrator. Each address "
            "gets each step once. Run it with dry_run first: the report shows the counts per "
            "segment and three rendered emails."
        ),
        cron="0 9 * * *",
        single=ConcurrencyLimitStrategy.ENQUEUE,
        tags=("campaign",),
    ),
    DeploymentSpec(
        name="verification-dispatch",
        flow=verification_dispatch,
        description=(
            "Every minute. Emails the verification link to new registrations (within a minute of "
            "the form), optionally holds back addresses whose domain has no mail server (MX "
            "check), expires registrations whose links ran out, and nudges people still "
            "unverified after the configured number of days, once."
        ),
        cron="* * * * *",
        single=ConcurrencyLimitStrategy.CANCEL_NEW,
        tags=("verification",),
    ),
    DeploymentSpec(
        name="outbox-sender",
        flow=outbox_sender,
        description=(
            "Every two minutes. Delivers every queued email that is due over reused SMTP "
            "connections and retries temporary failures with growing delays. Fails (visibly) "
            "when the mail relay cannot be reached."
        ),
        cron="*/2 * * * *",
        single=ConcurrencyLimitStrategy.CANCEL_NEW,
        tags=("email",),
    ),
    DeploymentSpec(
        name="unregistered-followup",
        flow=unregistered_followup,
        description=(
            "Daily at 10:00 (Asia/Tokyo), after the close. For organizations without a verified "
            "registration: emails to every contact on file at close+1 and close+7, the call "
            "list for account managers (CSV artifact), and after the switch the 'how to regain "
            "access' email. Each step reaches each address once."
        ),
        cron="0 10 * * *",
        single=ConcurrencyLimitStrategy.ENQUEUE,
        tags=("followup",),
    ),
    DeploymentSpec(
        name="dashboard-refresh",
        flow=dashboard_refresh,
        description=(
            "Every minute. Computes the figures of the managers' dashboard that read every "
            "registration or the whole outbox (funnel, campaign delivery, follow-up, helpdesk "
            "times) and keeps them for its pages, which then open without computing them; "
            "without this flow the pages compute them themselves, more slowly."
        ),
        cron="* * * * *",
        single=ConcurrencyLimitStrategy.CANCEL_NEW,
        tags=("dashboard",),
    ),
    DeploymentSpec(
        name="helpdesk-recovery",
        flow=helpdesk_recovery,
        description=(
            "By hand, for the helpdesk. Registers a person for an organization that missed "
            "pre-registration (source: helpdesk, recorded with the agent's name) and emails "
            "the verification link at once."
        ),
        tags=("helpdesk",),
    ),
    DeploymentSpec(
        name="helpdesk-ingest",
        flow=helpdesk_ingest,
        description=(
            "Every five minutes. Reads the support mailbox (IMAP, or a Maildir) into helpdesk "
            "contacts: each message once (Message-ID), replies threaded to their conversation, "
            "matched to an organization by the sender's address, categorized by English and "
            "Japanese rules, new requests acknowledged with their reference number. Mail "
            "clients see the mailbox unchanged."
        ),
        cron="*/5 * * * *",
        single=ConcurrencyLimitStrategy.CANCEL_NEW,
        tags=("helpdesk",),
    ),
    DeploymentSpec(
        name="login-migration",
        flow=login_migration,
        description=(
            "Once, at the switch (2025-09-28 00:00 Asia/Tokyo: a run scheduled for that moment), "
            "or by hand. Preflight report, freeze of pre-registration, the canary wave, then the "
            "remaining waves: accounts, memberships, legacy log-ins off, activation emails; "
            "invariants after each wave; halts above the maximum failure rate and resumes when "
            "run again. Run it with dry_run first: the preflight shows the waves and what to "
            "look at."
        ),
        single=ConcurrencyLimitStrategy.ENQUEUE,
        tags=("migration",),
    ),
    DeploymentSpec(
        name="migration-rollback",
        flow=migration_rollback,
        description=(
            "By hand. Undoes one wave: legacy log-ins back on, the wave's memberships and the "
            "accounts left without one disabled, unsent activation emails cancelled, "
            "registrations verified again, all audited. login-migration with only_wave migrates "
            "the wave again."
        ),
        single=ConcurrencyLimitStrategy.ENQUEUE,
        tags=("migration",),
    ),
)


def to_deployments(
    settings: Settings,
    *,
    specs: Sequence[DeploymentSpec] = SPECS,
    work_pool: str | None = None,
) -> list[RunnerDeployment]:
    """The deployments, to serve (no work pool) or to apply to a process work pool."""
    deployments = []
    for spec in specs:
        schedules = [Cron(spec.cron, timezone=settings.timezone)] if spec.cron else None
        limit = (
            ConcurrencyLimitConfig(limit=1, collision_strategy=spec.single)
            if spec.single is not None
            else None
        )
        deployments.append(
            RunnerDeployment.from_flow(
                flow=spec.flow,
                name=spec.name,
                description=spec.description,
                schedules=schedules,
                concurrency_limit=limit,
                tags=[*TAGS, *spec.tags],
                work_pool_name=work_pool,
                # Found by import path: on workers the project is installed, not checked out
                # at the same place.
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments
