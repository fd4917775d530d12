"""The simulator's report: markdown for people, JSON for programs, CSV for the curve.

It answers, in this order: where every organization ended up, what happened to every email,
how much the helpdesk had to do, whether the migration's invariants held, and how the
registrations followed the campaign — with the numbers behind the chart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.campaign import Campaign
from domain.clock import Calendar
from domain.simulation.accounting import Accounting, Day

CHART_FILE = "registrations.png"


@dataclass(frozen=True)
class RunFigures:
    organizations: int
    seed: int
    first_day: dt.date
    last_day: dt.date
    seconds: float
    seed_seconds: float
    events: int
    requests: Mapping[str, int]
    jobs: Mapping[str, int]
    behaviour: Mapping[str, int]
    seconds_by_event: Mapping[str, float]
    sink_accepted: int
    sink_refused: int
    sink_reports: int
    database: str


def markers(campaign: Campaign, calendar: Calendar) -> list[tuple[dt.date, str]]:
    """Campaign steps, the close and the switch: the chart's vertical rules."""
    found = [(s.date, s.name) for s in campaign.reminders]
    found += [(s.date, s.name) for s in campaign.followups if s.action == "email"]
    found += [(calendar.closes_on, "close"), (calendar.switch_on, "switch")]
    return sorted(set(found))


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _weeks(curve: Sequence[Day]) -> list[tuple[str, int, int, int]]:
    weeks: list[tuple[str, int, int, int]] = []
    for start in range(0, len(curve), 7):
        chunk = curve[start : start + 7]
        weeks.append(
            (
                f"{chunk[0].date:%m-%d}–{chunk[-1].date:%m-%d}",
                sum(d.submitted for d in chunk),
                sum(d.verified for d in chunk),
                chunk[-1].ready_organizations,
            )
        )
    return weeks


def markdown(
    accounting: Accounting,
    curve: Sequence[Day],
    figures: RunFigures,
    steps: Sequence[tuple[dt.date, str]],
) -> str:
    total = accounting.organizations
    out = [
        f"# Calendar simulation — {figures.organizations:,} organizations, "
        f"{figures.first_day} to {figures.last_day} (seed {figures.seed})\n\n",
        f"Ran in {figures.seconds:,.0f} s (seeding {figures.seed_seconds:,.0f} s): "
        f"{figures.events:,} events, {sum(figures.requests.values()):,} HTTP requests to the "
        f"portal, {sum(figures.jobs.values()):,} flow jobs. Database: `{figures.database}`.\n\n",
        "## Organizations at the end\n\n",
        _table(
            ("final state", "organizations", "share"),
            [(s, n, _share(n, total)) for s, n in accounting.states.items()]
            + [("**total**", total, _share(total, total))],
        ),
        "\n## Registrations\n\n",
        _table(("status", "registrations"), list(accounting.registrations.items())),
        "\nBy source: "
        + ", ".join(f"{k} {v:,}" for k, v in accounting.registration_sources.items())
        + ".\n",
        "\n## Every message's fate\n\n",
        _messages(accounting),
        f"\nThe relay accepted {figures.sink_accepted:,} messages and refused "
        f"{figures.sink_refused:,} at RCPT; {figures.sink_reports:,} accepted ones bounced later "
        "(delivery status reports, read back by the bounce processing).\n",
        "\n## Helpdesk\n\n",
        _helpdesk(accounting),
        "\n## Migration\n\n",
        _migration(accounting),
        "\n## Checks\n\n",
        _table(
            ("check", "result", "detail"),
            [(c.name, "✓" if c.passed else "✗ FAILED", c.detail) for c in accounting.checks],
        ),
        f"\n## Registration curve\n\n![registrations per day]({CHART_FILE})\n\n",
        "Campaign: " + ", ".join(f"{name} {day:%m-%d}" for day, name in steps) + ".\n\n",
        _table(
            ("week", "submitted", "verified", "organizations ready (end of week)"),
            _weeks(curve),
        ),
        "\nEvery day's numbers are in `registrations.csv` and `report.json`.\n",
        "\n## What the simulated people did\n\n",
        _table(("what", "times"), sorted(figures.behaviour.items())),
        "\n## Portal requests\n\n",
        _table(("request", "count"), sorted(figures.requests.items())),
        "\n## Flow jobs run\n\n",
        _table(("flow", "runs"), sorted(figures.jobs.items())),
        "\n## Where the time went\n\n",
        _table(
            ("event", "seconds", "share"),
            [
                (kind, f"{seconds:,.1f}", _share(int(seconds * 1000), int(figures.seconds * 1000)))
                for kind, seconds in sorted(
                    figures.seconds_by_event.items(), key=lambda item: -item[1]
                )
            ],
        ),
    ]
    return "".join(out)


def _messages(accounting: Accounting) -> str:
    statuses = sorted({s for by in accounting.messages.values() for s in by})
    rows: list[list[object]] = [
        [template, *(by.get(s, 0) for s in statuses), sum(by.values())]
        for template, by in accounting.messages.items()
    ]
    totals = [sum(by.get(s, 0) for by in accounting.messages.values()) for s in statuses]
    rows.append(["**total**", *totals, accounting.message_total])
    return _table(("template", *statuses, "total"), rows)


def _helpdesk(accounting: Accounting) -> str:
    categories = sorted({c for by in accounting.helpdesk.values() for c in by})
    if not categories:
        return "No helpdesk contacts.\n"
    rows: list[list[object]] = [
        [channel, *(by.get(c, 0) for c in categories), sum(by.values())]
        for channel, by in accounting.helpdesk.items()
    ]
    text = _table(("channel", *categories, "requests"), rows)
    return text + (
        f"\n{accounting.helpdesk_replies:,} replies threaded to their requests; "
        f"{accounting.helpdesk_total:,} contacts in all. Recovered by an agent: "
        f"{accounting.registration_sources.get('helpdesk', 0):,} registrations.\n"
    )


def _migration(accounting: Accounting) -> str:
    if not accounting.waves:
        return "The switch date is not in the simulated period: no migration ran.\n"
    rows = []
    for wave in accounting.waves:
        counts = wave["counts"] if isinstance(wave["counts"], Mapping) else {}
        rows.append(
            (
                wave["name"],
                wave["status"],
                ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            )
        )
    return _table(("wave", "status", "items"), rows)


def as_json(
    accounting: Accounting,
    curve: Sequence[Day],
    figures: RunFigures,
    steps: Sequence[tuple[dt.date, str]],
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run": {
            **dataclasses.asdict(figures),
            "first_day": figures.first_day.isoformat(),
            "last_day": figures.last_day.isoformat(),
        },
        "organizations": {"total": accounting.organizations, "states": accounting.states},
        "registrations": {
            "by_status": accounting.registrations,
            "by_source": accounting.registration_sources,
        },
        "messages": {"by_template": accounting.messages, "total": accounting.message_total},
        "helpdesk": {
            "requests": accounting.helpdesk,
            "replies": accounting.helpdesk_replies,
            "total": accounting.helpdesk_total,
        },
        "migration": {"waves": accounting.waves},
        "checks": [dataclasses.asdict(c) for c in accounting.checks],
        "campaign": [{"day": day.isoformat(), "step": name} for day, name in steps],
        "curve": [
            {
                "day": d.date.isoformat(),
                "submitted": d.submitted,
                "verified": d.verified,
                "ready_organizations": d.ready_organizations,
            }
            for d in curve
        ],
    }
    return data


def curve_csv(curve: Sequence[Day]) -> str:
    lines = ["day,submitted,verified,ready_organizations"]
    lines += [f"{d.date},{d.submitted},{d.verified},{d.ready_organizations}" for d in curve]
    return "\n".join(lines) + "\n"
