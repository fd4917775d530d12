"""The support mailbox as a task: every unread message, a hundred per transaction."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from domain.context import App
from domain.helpdesk_ingest.mailboxes import HelpdeskMailbox
from domain.helpdesk_ingest.run import IngestSummary, ingest_mailbox


@task(name="ingest-mailbox", cache_policy=NO_CACHE)
def ingest_support_mail(
    app: App,
    mailbox: HelpdeskMailbox,
    dry_run: bool,
    acknowledge: bool,
    limit: int | None,
    batch_size: int,
) -> IngestSummary:
    return ingest_mailbox(
        app,
        mailbox,
        dry_run=dry_run,
        acknowledge=acknowledge,
        limit=limit,
        batch_size=batch_size,
    )
