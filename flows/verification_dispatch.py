"""The verification-dispatch flow: links for new registrations, expiry, nudges, confirmations —
every minute."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from domain.deliverability import checker_from_settings
from domain.dispatch import CONFIRMATION_KEY_PREFIX
from flows import reports
from flows.runtime import flow_app, publish_markdown
from tasks.dispatch import (
    confirm_registrations,
    expire_stale_links,
    nudge_unverified,
    send_verification_links,
)
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "verification-dispatch"
# issue_link's keys are "verification:…" and "verification_nudge:…": one prefix drains both.
OWN_MESSAGES = "verification"


@flow(name="verification-dispatch", log_prints=True)
def verification_dispatch(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    batch_size: Annotated[int, Field(ge=1, le=2_000)] = 200,
    max_links: Annotated[int, Field(ge=1, le=100_000)] = 5_000,
) -> dict[str, Any]:
    """Send verification links to new registrations, expire dead links, nudge the unverified,
    and tell the newly verified that their registration is complete.

    Args:
        as_of: Run as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
        dry_run: Only count what would be expired, sent, nudged and confirmed; change and send
            nothing.
        batch_size: Registrations per transaction.
        max_links: At most this many links, nudges and confirmations (each) in one run; the
            next run continues.
    """
    with flow_app(as_of) as app:
        now = app.clock.now()
        settings = app.settings
        checker = checker_from_settings(settings.mx_check, settings.mx_check_timeout_seconds)
        expired = expire_stale_links(app, dry_run, batch_size)
        links = send_verification_links(app, dry_run, batch_size, max_links, checker)
        nudged = nudge_unverified(app, dry_run, batch_size, max_links)
        confirmed = confirm_registrations(app, dry_run, batch_size, max_links)
        delivery = confirmations_delivery = None
        if not dry_run and (links.sent or nudged):
            delivery = drain_outbox(app, only_keys_prefix=OWN_MESSAGES)
        if not dry_run and confirmed.sent:
            confirmations_delivery = drain_outbox(app, only_keys_prefix=CONFIRMATION_KEY_PREFIX)
        verb = "would be" if dry_run else "were"
        rows = [
            ("links expired (registrations now expired)", expired),
            ("verification links sent to new registrations", links.sent),
            ("addresses marked undeliverable (no link sent)", links.undeliverable),
            (f"nudges after {settings.unverified_nudge_after_days} days unverified", nudged),
            ("'registration confirmed' emails to the newly verified", confirmed.sent),
        ]
        body = f"## Verification dispatch — {reports.when(app.calendar, now)}\n\n"
        if dry_run:
            body += reports.DRY_RUN_BANNER + "\n"
        body += reports.table(("what", "count"), rows) + "\n"
        mx = "on" if checker else "off"
        if checker is not None:
            mx += f" ({checker.lookups} DNS lookups)"
        body += f"MX check: {mx}.\n"
        if links.examples:
            body += "\nUndeliverable addresses that " + verb + " held back:\n\n"
            body += "".join(f"- {reports.cell(example)}\n" for example in links.examples)
        if links.capped:
            body += f"\nStopped at {max_links} links; the next run sends the rest.\n"
        if confirmed.capped:
            body += f"\nStopped at {max_links} confirmations; the next run sends the rest.\n"
        if confirmed.invalid:
            body += (
                f"\n{confirmed.invalid} verified addresses the outbox refuses "
                f"{'would get' if dry_run else 'got'} no confirmation.\n"
            )
        body += (
            f"\nConfirmations go to addresses verified in the last "
            f"{settings.registration_confirmed_within_days} days, until the switch.\n"
        )
        if delivery is not None:
            body += "\n" + reports.delivery_lines(delivery, "verification emails")
        if confirmations_delivery is not None:
            body += "\n" + reports.delivery_lines(confirmations_delivery, "confirmations")
        publish_markdown(
            ARTIFACT_KEY,
            body,
            f"verification-dispatch: {links.sent} links, {nudged} nudges, {expired} expired, "
            f"{confirmed.sent} confirmations" + (" (dry run)" if dry_run else ""),
        )
        return {
            "dry_run": dry_run,
            "expired": expired,
            "links_sent": links.sent,
            "undeliverable": links.undeliverable,
            "nudged": nudged,
            "confirmed": confirmed.sent,
            "delivered": sum(d.sent for d in (delivery, confirmations_delivery) if d),
        }
