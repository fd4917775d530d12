"""Tasks of verification dispatch: each loops over batches, one transaction per batch.

A registration is handled once per batch and committed with its email, so a run that stops half
way has sent exactly the links it recorded, and the next run carries on where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import task
from prefect.cache_policies import NO_CACHE

from domain import dispatch
from domain.context import App
from domain.deliverability import MxChecker
from domain.mailing import StencilCache
from flows.runtime import work_session


@dataclass
class LinksSummary:
    sent: int = 0
    undeliverable: int = 0
    examples: list[str] = field(default_factory=list)
    capped: bool = False  # stopped at the run's maximum; the next run continues


@dataclass
class ConfirmationsSummary:
    sent: int = 0
    invalid: int = 0  # addresses the outbox refuses (left out; looked at again next run)
    capped: bool = False  # stopped at the run's maximum; the next run continues


@task(name="expire-stale-links", cache_policy=NO_CACHE)
def expire_stale_links(app: App, dry_run: bool, batch_size: int) -> int:
    if dry_run:
        with app.sessions() as session:
            return dispatch.stale_count(session, app.clock)
    total = 0
    while True:
        with app.unit_of_work() as session:
            expired = dispatch.expire(session, app.clock, limit=batch_size)
        total += expired
        if expired < batch_size:
            return total


@task(name="send-verification-links", cache_policy=NO_CACHE)
def send_verification_links(
    app: App, dry_run: bool, batch_size: int, max_links: int, checker: MxChecker | None
) -> LinksSummary:
    summary = LinksSummary()
    while True:
        room = max_links - summary.sent - summary.undeliverable
        if room <= 0:
            summary.capped = True
            return summary
        with work_session(app, dry_run=dry_run) as session:
            batch = dispatch.send_links(
                session,
                app.clock,
                app.settings,
                # A dry run sends nothing, so later batches would see the same rows: it looks at
                # everything up to the run's maximum at once.
                limit=room if dry_run else min(batch_size, room),
                checker=checker,
                dry_run=dry_run,
            )
        summary.sent += batch.sent
        summary.undeliverable += batch.undeliverable
        summary.examples += batch.undeliverable_examples[: 10 - len(summary.examples)]
        if dry_run or batch.seen < min(batch_size, room):
            return summary


@task(name="nudge-unverified", cache_policy=NO_CACHE)
def nudge_unverified(app: App, dry_run: bool, batch_size: int, max_nudges: int) -> int:
    total = 0
    while total < max_nudges:
        limit = max_nudges - total if dry_run else min(batch_size, max_nudges - total)
        with work_session(app, dry_run=dry_run) as session:
            nudged, seen = dispatch.send_nudges(
                session, app.clock, app.settings, limit=limit, dry_run=dry_run
            )
        total += nudged
        if dry_run or seen < limit:
            break
    return total


@task(name="confirm-registrations", cache_policy=NO_CACHE)
def confirm_registrations(
    app: App, dry_run: bool, batch_size: int, max_emails: int
) -> ConfirmationsSummary:
    """The "registration confirmed" email to the newly verified, a batch per transaction."""
    summary = ConfirmationsSummary()
    # One stencil per language and role for the whole run: a catch-up of thousands renders each
    # of them once.
    stencils = StencilCache(app.settings)
    while True:
        room = max_emails - summary.sent
        if room <= 0:
            summary.capped = True
            return summary
        # A dry run queues nothing, so later batches would see the same rows: it looks at
        # everything up to the run's maximum at once.
        limit = room if dry_run else min(batch_size, room)
        with work_session(app, dry_run=dry_run) as session:
            batch = dispatch.send_confirmations(
                session, app.clock, app.settings, limit=limit, stencils=stencils, dry_run=dry_run
            )
        summary.sent += batch.sent
        # Refused rows stay first in line, so each batch sees the earlier ones' again: the last
        # batch counts them all.
        summary.invalid = batch.invalid
        # A batch that queued nothing would find the same rows again (refused addresses).
        if dry_run or batch.seen < limit or not batch.sent:
            return summary
