"""The outbox-sender flow: deliver every due message, retrying temporary failures later."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from db.queries import outbox_counts
from domain.context import App
from flows import reports
from flows.runtime import flow_app, publish_markdown
from tasks.outbox import drain_outbox

ARTIFACT_KEY = "outbox-sender"


class RelayUnreachable(RuntimeError):
    """The run could not reach the mail relay; the messages stay queued for the next run."""


@flow(name="outbox-sender", log_prints=True)
def outbox_sender(
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    limit: Annotated[int | None, Field(ge=1)] = None,
) -> dict[str, Any]:
    """Deliver the queued emails that are due, over reused SMTP connections.

    Temporary failures are retried later with growing delays, permanent ones are recorded with
    the relay's answer. The run fails (so the UI shows it) when the relay cannot be reached.

    Args:
        as_of: Run as if it were this moment (rehearsals, the calendar simulator);
            empty means now.
        dry_run: Only report what waits in the outbox; send nothing.
        limit: Try at most this many messages in this run; empty means all that are due.
    """
    with flow_app(as_of) as app:
        if dry_run:
            return _preview(app)
        summary = drain_outbox(app, limit=limit)
        now = app.clock.now()
        with app.sessions() as session:
            counts = outbox_counts(session, now)
        body = f"## Outbox sender — {reports.when(app.calendar, now)}\n\n"
        body += reports.delivery_lines(summary, "all due messages")
        body += f"\n{summary.claimed} messages tried over {summary.connections} SMTP connection(s)"
        if summary.sent and summary.seconds:
            body += f", {summary.messages_per_second:.1f} messages per second"
        body += ".\n\n" + reports.outbox_section(counts, app.calendar, now)
        publish_markdown(
            ARTIFACT_KEY,
            body,
            f"outbox-sender: {summary.sent} sent, {summary.retried} to retry, "
            f"{summary.failed} failed",
        )
        if summary.relay_error:
            raise RelayUnreachable(
                f"the mail relay could not be reached ({summary.relay_error}); "
                f"{counts.due_now} messages wait for the next run"
            )
        return {
            "sent": summary.sent,
            "retried": summary.retried,
            "failed": summary.failed,
            "due_now": counts.due_now,
        }


def _preview(app: App) -> dict[str, Any]:
    now = app.clock.now()
    with app.sessions() as session:
        counts = outbox_counts(session, now)
    body = f"## Outbox sender — {reports.when(app.calendar, now)}\n\n{reports.DRY_RUN_BANNER}\n"
    body += reports.outbox_section(counts, app.calendar, now)
    publish_markdown(ARTIFACT_KEY, body, f"outbox-sender: {counts.due_now} messages due (dry run)")
    return {"sent": 0, "retried": 0, "failed": 0, "due_now": counts.due_now, "dry_run": True}
