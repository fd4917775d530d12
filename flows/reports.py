"""The reports flows leave in the Prefect UI, as markdown: what a run did, or would do.

Plain functions of the runs' results (no Prefect here), so the wording is tested without a server.
Operators decide from these pages whether to let a campaign go out, so each one says, in this
order: what the run was (date, step, dry run or not), the numbers, what happened to delivery,
and what comes next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from db.queries import OutboxCounts
from domain.campaign import Scheduled
from domain.clock import Calendar
from domain.emails.sender import DeliverySummary
from domain.mailing import MailingResult, SampleEmail
from domain.segments import Segment

DRY_RUN_BANNER = (
    "> **Dry run** — nothing was queued, sent or changed: these are the numbers a real run "
    "would produce now.\n"
)


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split()) or " "


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def when(calendar: Calendar, moment: dt.datetime) -> str:
    local = calendar.local(moment)
    return f"{local:%Y-%m-%d %H:%M} ({local.tzname()})"


def delivery_lines(summary: DeliverySummary | None, scope: str) -> str:
    if summary is None:
        return ""
    text = (
        f"**Delivery** ({scope}): {summary.sent} sent, {summary.retried} to retry, "
        f"{summary.failed} failed, in {summary.seconds:.1f} s"
    )
    if summary.relay_error:
        text += (
            f".\n\n**The mail relay could not be reached** ({summary.relay_error}); the messages "
            "stay queued and the outbox-sender deployment delivers them once it answers"
        )
    return text + ".\n"


def mailing_section(
    scheduled: Scheduled,
    result: MailingResult,
    renders: tuple[int, int] | None = None,
    *,
    dry_run: bool = False,
) -> str:
    step = scheduled.step
    template = getattr(step, "template", None) or f"followup ({getattr(step, 'wording', '')})"
    out = [
        f"### Step `{scheduled.name}` — {template}, day {step.day} ({scheduled.date})\n",
        f"Segments: {', '.join(Segment(s).label for s in step.segments)}; "
        f"recipients: {step.recipients.value.replace('_', ' ')}.\n",
    ]
    segments = [s for s in Segment if s in step.segments]
    rows = [
        (
            segment.label,
            result.organizations[segment],
            result.unreachable[segment],
            result.planned[segment],
        )
        for segment in segments
    ]
    rows.append(
        (
            "**total**",
            sum(result.organizations.values()),
            sum(result.unreachable.values()),
            sum(result.planned.values()),
        )
    )
    out.append(
        table(
            ("segment", "organizations", "without a usable address", "new emails"),
            rows,
        )
    )
    notes = [f"{result.already_sent} addresses already had this step (not sent again)"]
    if result.invalid_addresses:
        notes.append(f"{result.invalid_addresses} addresses on file are not valid and were skipped")
    if not dry_run:
        notes.append(f"{result.created} emails queued")
    if renders is not None:
        fast, slow = renders
        notes.append(f"rendering: {fast} filled in from a checked stencil, {slow} in full")
    out.append("; ".join(notes) + ".\n")
    return "\n".join(out)


def pick_samples(samples: Sequence[SampleEmail], count: int = 3) -> list[SampleEmail]:
    """Up to `count` samples, as different as possible: segments, languages, recipients."""
    chosen: list[SampleEmail] = []
    keys: tuple[Callable[[SampleEmail], object], ...] = (
        lambda s: s.segment,
        lambda s: s.locale,
        lambda s: s.recipient,
        lambda s: s.kind,
    )
    for key in keys:
        for sample in samples:
            if len(chosen) >= count:
                return chosen
            if sample not in chosen and key(sample) not in {key(c) for c in chosen}:
                chosen.append(sample)
    for sample in samples:
        if len(chosen) >= count:
            break
        if sample not in chosen:
            chosen.append(sample)
    return chosen


def samples_section(samples: Sequence[SampleEmail]) -> str:
    if not samples:
        return "_No sample: the step would send no email._\n"
    out = ["### Sample emails\n"]
    for number, sample in enumerate(samples, 1):
        out.append(
            f"**{number}. {cell(sample.subject)}**  \n"
            f"to `{sample.to_address}` ({sample.recipient}) — organization {sample.login_id}, "
            f"{Segment(sample.segment).label}, {sample.locale}\n"
        )
        body = sample.text.replace("```", "ʼʼʼ")
        out.append(f"```text\n{body}```\n")
    return "\n".join(out)


def next_step_line(upcoming: Scheduled | None) -> str:
    if upcoming is None:
        return "No later step in the campaign file.\n"
    return f"Next step: `{upcoming.name}` on {upcoming.date}.\n"


def outbox_section(counts: OutboxCounts, calendar: Calendar, now: dt.datetime) -> str:
    rows = [(status, count) for status, count in counts.by_status.items()]
    text = "### Outbox now\n" + table(("status", "messages"), rows)
    if counts.oldest_due_at is not None:
        waited = now - counts.oldest_due_at
        minutes = max(int(waited.total_seconds() // 60), 0)
        text += (
            f"\n{counts.due_now} due now; the oldest has waited {minutes} min "
            f"(due since {when(calendar, counts.oldest_due_at)}).\n"
        )
    else:
        text += "\nNothing is due now.\n"
    return text
