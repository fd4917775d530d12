"""The simulated calendar: a clock moved event by event from the first day to the last.

The flows' work is scheduled as their deployments schedule it (in the portal's time zone); the
people's actions are scheduled by what happened to them. Events run strictly in time order, and
the clock is set to each event's time before it runs, so every row the code under test writes
carries the simulated moment. After every job that sends mail, the relay's deliveries are read:
that is how people find links in their inbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from db.enums import MessageStatus
from db.models import Message, Organization
from domain.clock import FixedClock
from domain.context import App
from domain.segments import NOT_READY, classify, id_batches
from domain.simulation.model import Behaviour
from domain.simulation.people import plan_organization
from simulator import jobs, migration_job, reactions
from simulator.browser import Browser
from simulator.sink import SimulationSink
from simulator.state import Event, Sim
from simulator.world import (
    Folders,
    cheap_password_hashing,
    contact_addresses,
    create_database,
    database_url,
    day_start,
    first_domains,
    seed,
    simulation_settings,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    orgs: int
    first_day: dt.date
    last_day: dt.date
    seed: int
    out: Path
    database_url: str | None = None
    tick_hours: int = 2  # verification dispatch and outbox every this many hours
    model: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the last day comes before the first")
        if not 1 <= self.tick_hours <= 24 or 24 % self.tick_hours:
            raise ValueError("tick hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)")


@dataclass
class Finished:
    sim: Sim
    app: App
    seconds: float
    seed_seconds: float
    sink_accepted: int
    sink_refused: int
    sink_reports: int


def run(options: Options, progress: Callable[[str], None] = log.info) -> Finished:
    """Build the world, run the calendar, and return what the report needs (app still open)."""
    started = time.perf_counter()
    folders = Folders.create(options.out)
    url = database_url(options.out, options.database_url)
    with cheap_password_hashing():
        clock = FixedClock(dt.datetime.combine(options.first_day, dt.time(0), dt.UTC))
        engine = create_database(url)
        with SimulationSink(folders.bounces, clock) as sink:
            settings = simulation_settings(url, sink.port, folders)
            clock.set(day_start(settings, options.first_day))
            sink.handler.mail_from = str(settings.mail_from)
            progress(f"seeding {options.orgs:,} organizations (seed {options.seed})")
            seed(engine, orgs=options.orgs, seed_value=options.seed, clock=clock)
            seeded = time.perf_counter()
            app = App(settings=settings, engine=engine, clock=clock)
            with Browser(app) as browser:
                sim = Sim(
                    app=app,
                    model=options.model,
                    seed=options.seed,
                    browser=browser,
                    sink=sink.handler,
                    folders=folders,
                    first_day=options.first_day,
                    last_day=options.last_day,
                )
                _plan(sim, engine_contacts=contact_addresses(engine))
                _schedule_calendar(sim, options.tick_hours)
                _loop(sim, progress)
            handler = sink.handler
            return Finished(
                sim=sim,
                app=app,
                seconds=time.perf_counter() - started,
                seed_seconds=seeded - started,
                sink_accepted=handler.accepted,
                sink_refused=handler.refused,
                sink_reports=handler.reports,
            )


def _plan(sim: Sim, engine_contacts: list[tuple[int, str]]) -> None:
    domains = first_domains(sim.app.engine)
    with sim.app.sessions() as session:
        rows = session.execute(
            select(Organization.id, Organization.legacy_login_id, Organization.locale)
        ).all()
    for org_id, login_id, locale in rows:
        domain = domains.get(org_id, f"{login_id.lower()}.example")
        sim.plans[org_id] = plan_organization(sim.seed, org_id, login_id, locale, domain, sim.model)
    for contact_id, address in engine_contacts:
        rng = sim.person_rng(f"contact:{contact_id}")
        if rng.random() < sim.model.dead_contact:
            target = sim.sink.refuse if rng.random() < sim.model.rejected_at_smtp else None
            (target if target is not None else sim.sink.bounce_later).add(address.lower())


def _at(sim: Sim, day: dt.date, hour: int, minute: int) -> dt.datetime:
    return day_start(sim.app.settings, day) + dt.timedelta(hours=hour, minutes=minute)


def _schedule_calendar(sim: Sim, tick_hours: int) -> None:
    calendar = sim.app.calendar
    day = sim.first_day
    while day <= sim.last_day:
        if day == calendar.switch_on:
            sim.schedule(_at(sim, day, 0, 5), "migration")
            sim.schedule(_at(sim, day, 9, 30), "after_switch")
        elif day > calendar.switch_on:
            sim.schedule(_at(sim, day, 6, 0), "catch_up")
        if calendar.opens_on <= day <= calendar.closes_on:
            sim.schedule(_at(sim, day, 8, 0), "spontaneous")
        sim.schedule(_at(sim, day, 9, 0), "reminder")
        sim.schedule(_at(sim, day, 10, 0), "followup")
        for hour in range(0, 24, tick_hours):
            sim.schedule(_at(sim, day, hour, 15), "dispatch")
            sim.schedule(_at(sim, day, hour, 20), "outbox")
        sim.schedule(_at(sim, day, 18, 30), "bounces")
        sim.schedule(_at(sim, day, 18, 40), "ingest")
        day += dt.timedelta(days=1)


def _loop(sim: Sim, progress: Callable[[str], None]) -> None:
    end = _at(sim, sim.last_day + dt.timedelta(days=1), 0, 0)
    clock = sim.app.clock
    assert isinstance(clock, FixedClock)
    day = None
    handled = 0
    while sim.queue:
        event = sim.pop()
        if event.at >= end:
            break
        if event.at > clock.now():
            clock.set(event.at)
        local_day = sim.app.calendar.local_date(event.at)
        if local_day != day:
            day = local_day
            if day.day == 1 or day == sim.first_day:
                progress(f"{day:%Y-%m-%d}: {handled:,} events so far")
        began = time.perf_counter()
        _handle(sim, event)
        sim.seconds[event.kind] += time.perf_counter() - began
        handled += 1
        sim.counts[f"event {event.kind}"] += 1


def _handle(sim: Sim, event: Event) -> None:
    app, data = sim.app, event.data
    kind = event.kind
    if kind in ("register", "fix", "helpdesk", "recover", "locked_out", "helpdesk_reply"):
        plan = sim.plans[int(data["org"])]
        if kind == "register":
            reactions.register(sim, plan)
        elif kind == "fix":
            reactions.fix(sim, plan)
        elif kind == "helpdesk":
            address = data.get("person")
            reactions.helpdesk(
                sim,
                plan,
                str(data["reason"]),
                bool(data["recover"]),
                str(address) if address else None,
            )
        elif kind == "recover":
            reactions.recover(sim, plan)
        elif kind == "locked_out":
            reactions.locked_out(sim, plan)
        else:
            reactions.helpdesk_reply(sim, plan, data)
    elif kind == "click":
        reactions.click(sim, sim.people[str(data["person"])], str(data["token"]))
    elif kind == "no_link":
        reactions.no_link(sim, sim.people[str(data["person"])])
    elif kind == "reminder":
        sent = jobs.reminder_campaign(app, sim.jobs)
        if sent is not None:
            _after_mailing(sim, sent)
    elif kind == "followup":
        for sent in jobs.unregistered_followup(app, sim.jobs):
            _after_mailing(sim, sent)
    elif kind == "dispatch":
        jobs.verification_dispatch(app, sim.jobs)
    elif kind == "outbox":
        jobs.outbox_sender(app, sim.jobs)
    elif kind == "bounces":
        jobs.process_bounces(app, sim.jobs, sim.folders.bounces)
    elif kind == "ingest":
        jobs.helpdesk_ingest(app, sim.jobs, sim.folders.support)
    elif kind == "migration" or (kind == "catch_up" and migration_job.has_candidates(app)):
        sim.jobs.ran("login-migration")
        outcome = migration_job.login_migration(app)
        sim.counts["organizations migrated"] += outcome.result.migrated
    elif kind == "spontaneous":
        _spontaneous(sim)
    elif kind == "after_switch":
        _after_switch(sim)
    _collect(sim)


def _collect(sim: Sim) -> None:
    for delivery in sim.sink.take():
        reactions.delivered(sim, delivery)


def _after_mailing(sim: Sim, sent: jobs.Sent) -> None:
    with sim.app.sessions() as session:
        reached = set(
            session.scalars(
                select(Message.organization_id).where(
                    Message.created_at >= sent.started,
                    Message.idempotency_key.startswith(sent.key_prefix),
                    Message.status == MessageStatus.SENT,
                )
            )
        )
    orgs = {org for org in reached if org is not None}
    sim.counts[f"organizations reached by {sent.step}"] += len(orgs)
    reactions.on_mailing(sim, sent, orgs)


def _spontaneous(sim: Sim) -> None:
    for plan in sim.plans.values():
        if plan.dormant or plan.acted:
            continue
        if plan.rng.random() < sim.model.spontaneous_per_day:
            plan.acted = True
            sim.schedule(sim.office_hours(sim.now, plan.rng), "register", org=plan.id)


def _after_switch(sim: Sim) -> None:
    """Organizations not ready at the switch find their shared log-in closed, over two weeks."""
    with sim.app.sessions() as session:
        not_ready = {
            row.id
            for first, last in id_batches(session, 5_000)
            for row in classify(session, first, last, NOT_READY)
        }
    for org_id in sorted(not_ready):
        plan = sim.plans[org_id]
        if plan.dormant or plan.asked_helpdesk:
            continue
        if plan.rng.random() < sim.model.helpdesk_after_switch:
            delay = dt.timedelta(days=plan.rng.uniform(0, 14))
            sim.schedule(sim.office_hours(sim.now + delay, plan.rng), "locked_out", org=org_id)
