"""What the simulation keeps between events: the queue, the organizations' plans, the people.

The database is the truth about registrations, messages and contacts; this is only what the
simulated people themselves know — whom they meant to register, the newest link in their inbox,
whether they already told someone their link did not work.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from domain.context import App
from domain.simulation.model import Behaviour
from domain.simulation.people import OrgPlan, PersonPlan
from simulator.browser import Browser
from simulator.jobs import JobLog
from simulator.sink import SinkHandler
from simulator.world import Folders

BUSINESS_START, BUSINESS_END = 9, 18  # people act in office hours (local time)


@dataclass(order=True)
class Event:
    at: dt.datetime
    seq: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class Person:
    org_id: int
    plan: PersonPlan
    rng: random.Random
    registration_id: int | None = None
    latest_token: str | None = None
    links: int = 0
    verified: bool = False
    reported: bool = False  # told the organization or the helpdesk that the link failed

    @property
    def address(self) -> str:
        return self.plan.email.lower()


@dataclass
class Sim:
    app: App
    model: Behaviour
    seed: int
    browser: Browser
    sink: SinkHandler
    folders: Folders
    first_day: dt.date
    last_day: dt.date
    plans: dict[int, OrgPlan] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)  # by address, lower case
    queue: list[Event] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    jobs: JobLog = field(default_factory=JobLog)
    _seq: int = 0

    @property
    def now(self) -> dt.datetime:
        return self.app.clock.now()

    def schedule(self, at: dt.datetime, kind: str, **data: Any) -> None:
        self._seq += 1
        heapq.heappush(self.queue, Event(at, self._seq, kind, data))

    def pop(self) -> Event:
        return heapq.heappop(self.queue)

    def person_rng(self, address: str) -> random.Random:
        return random.Random(f"switchover-simulation:{self.seed}:person:{address}")  # noqa: S311

    def office_hours(self, moment: dt.datetime, rng: random.Random) -> dt.datetime:
        """The moment, moved into the next office hours (local), at a random minute."""
        local = self.app.calendar.local(moment)
        if local.hour >= BUSINESS_END:
            local = (local + dt.timedelta(days=1)).replace(hour=BUSINESS_START, minute=0)
        elif local.hour < BUSINESS_START:
            local = local.replace(hour=BUSINESS_START, minute=0)
        while local.weekday() >= 5:  # people do this at work
            local = (local + dt.timedelta(days=1)).replace(hour=BUSINESS_START, minute=0)
        if local.hour == BUSINESS_START and local.minute == 0:
            local += dt.timedelta(minutes=rng.randrange((BUSINESS_END - BUSINESS_START) * 60))
        return local.astimezone(dt.UTC)

    def who(self, org_id: int) -> str:
        """The organization's client address (its office's public IP, invented)."""
        return f"10.{(org_id >> 16) & 255}.{(org_id >> 8) & 255}.{org_id & 255}"

    def add_person(self, plan: OrgPlan, person: PersonPlan) -> Person:
        """Someone the organization will register: the relay learns their address's fate."""
        state = Person(plan.id, person, self.person_rng(person.email.lower()))
        if person.bounces:
            if state.rng.random() < self.model.rejected_at_smtp:
                self.sink.refuse.add(state.address)
            else:
                self.sink.bounce_later.add(state.address)
        return state
