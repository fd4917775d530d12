"""The report files of a finished simulation: report.md, report.json, registrations.csv/.png."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from domain.campaign import load_campaign
from domain.simulation import report
from domain.simulation.accounting import Accounting, account, registration_curve
from domain.simulation.chart import registration_chart, to_png
from simulator.driver import Finished


@dataclass(frozen=True)
class Written:
    accounting: Accounting
    markdown: Path
    json: Path
    csv: Path
    chart: Path

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.accounting.checks)


def write(finished: Finished, out: Path) -> Written:
    app, sim = finished.app, finished.sim
    with app.sessions() as session:
        accounting = account(
            session, sink_accepted=finished.sink_accepted, sink_refused=finished.sink_refused
        )
        curve = registration_curve(session, app.calendar, sim.first_day, sim.last_day)
    steps = report.markers(load_campaign(app.settings), app.calendar)
    figures = report.RunFigures(
        organizations=accounting.organizations,
        seed=sim.seed,
        first_day=sim.first_day,
        last_day=sim.last_day,
        seconds=finished.seconds,
        seed_seconds=finished.seed_seconds,
        events=sum(n for k, n in sim.counts.items() if k.startswith("event ")),
        requests=dict(sim.browser.requests),
        jobs=dict(sim.jobs.runs),
        behaviour={k: n for k, n in sim.counts.items() if not k.startswith("event ")},
        seconds_by_event={kind: round(seconds, 3) for kind, seconds in sim.seconds.items()},
        sink_accepted=finished.sink_accepted,
        sink_refused=finished.sink_refused,
        sink_reports=finished.sink_reports,
        database=make_url(app.settings.database_url).render_as_string(hide_password=True),
    )
    paths = Written(
        accounting,
        out / "report.md",
        out / "report.json",
        out / "registrations.csv",
        out / report.CHART_FILE,
    )
    paths.markdown.write_text(report.markdown(accounting, curve, figures, steps), encoding="utf-8")
    paths.json.write_text(
        json.dumps(report.as_json(accounting, curve, figures, steps), indent=2, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    paths.csv.write_text(report.curve_csv(curve), encoding="utf-8")
    chart = registration_chart(curve, accounting.organizations, steps)
    paths.chart.write_bytes(to_png(chart))
    return paths
