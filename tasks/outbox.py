"""The outbox as a task: deliver what is due, optionally only one flow's own messages."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from domain.context import App
from domain.emails.sender import DeliverySummary, drain


@task(name="drain-outbox", cache_policy=NO_CACHE)
def drain_outbox(
    app: App, only_keys_prefix: str | None = None, limit: int | None = None
) -> DeliverySummary:
    """Send due messages over one SMTP connection until none is left (or `limit` were tried)."""
    return drain(app, limit=limit, only_keys_prefix=only_keys_prefix)
