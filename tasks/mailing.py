"""Tasks that send one mailing step to organizations, a range of ids per task.

A task handles `batch_size` organizations (1,000 by default) in one transaction: Prefect's
bookkeeping costs milliseconds per task run, nothing against a thousand organizations, and a
failed batch is retried or rerun on its own — the idempotency keys make a rerun send nothing twice.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from domain.context import App
from domain.mailing import Mailing, MailingResult, StencilCache, send_step
from domain.segments import id_batches
from flows.runtime import work_session


@task(name="organization-batches", cache_policy=NO_CACHE)
def organization_batches(app: App, batch_size: int) -> list[tuple[int, int]]:
    """Ranges of organization ids, `batch_size` organizations each."""
    with app.sessions() as session:
        return id_batches(session, batch_size)


@task(
    name="mail-organizations",
    cache_policy=NO_CACHE,
    task_run_name="{mailing.step}: organizations {first_id}-{last_id}",
    retries=2,
    retry_delay_seconds=10,
)
def mail_organizations(
    app: App,
    mailing: Mailing,
    first_id: int,
    last_id: int,
    stencils: StencilCache,
    dry_run: bool,
) -> MailingResult:
    with work_session(app, dry_run=dry_run) as session:
        return send_step(
            session,
            app.clock,
            app.settings,
            mailing,
            first_id,
            last_id,
            stencils=stencils,
            dry_run=dry_run,
        )
