"""The simulated people: who each organization registers, their addresses, how they click.

Every draw comes from a random generator seeded with the simulation's seed and the
organization's id (or the person's address), never from one shared stream: an organization
behaves the same whatever the others do, so two runs with the same seed are the same run, and a
change in one part of the model does not reshuffle everybody else.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from enum import StrEnum

from db.enums import Locale, Role
from domain.simulation.model import Behaviour

GIVEN = (
    "Taro", "Hanako", "Kenji", "Yuki", "Hiroshi", "Aiko", "Daisuke", "Emi", "Takeshi", "Naomi",
    "Anna", "Lars", "Sofia", "Marco", "Elena", "James", "Priya", "Wei", "Min-jun", "Olga",
    "Nikos", "Maria", "Ahmed", "Chen", "Ingrid", "Pedro", "Fatima", "Tomas", "Mei", "Ravi",
)  # fmt: skip
FAMILY = (
    "Yamada", "Sato", "Suzuki", "Tanaka", "Watanabe", "Ito", "Nakamura", "Kobayashi", "Kato",
    "Yoshida", "Hansen", "Rossi", "Papadopoulos", "Smith", "Garcia", "Kim", "Li", "Wang",
    "Ivanova", "Andersen", "Nguyen", "Silva", "Müller", "Novak", "Khan", "Lopez", "Berg",
)  # fmt: skip
FREE_MAIL = ("gmail.com", "yahoo.co.jp", "outlook.com", "hotmail.com")


class AddressFate(StrEnum):
    OK = "ok"
    FREE_MAIL = "free_mail"  # delivered; the form warned first
    TYPO = "typo"  # a mistyped domain: does not exist
    DEAD = "dead"  # the domain is right, the mailbox is gone


class Clicks(StrEnum):
    PROMPT = "prompt"
    SLOW = "slow"
    LATE = "late"  # after the link expired
    NEVER = "never"


@dataclass
class PersonPlan:
    name: str
    email: str  # as the organization will type it
    role: Role
    fate: AddressFate
    clicks: Clicks
    correct_email: str  # what it should have been (differs for a typo)

    @property
    def bounces(self) -> bool:
        return self.fate in (AddressFate.TYPO, AddressFate.DEAD)


@dataclass
class OrgPlan:
    id: int
    login_id: str
    locale: Locale
    domain: str
    dormant: bool
    scanner: bool  # its mail gateway opens every link it delivers
    rng: random.Random
    people: list[PersonPlan] = field(default_factory=list)
    acted: bool = False  # has logged in to register at least once
    asked_helpdesk: bool = False  # after the close or the switch: once


def org_rng(seed: int, organization_id: int) -> random.Random:
    # A string seed is hashed with SHA-512: the same stream on every run and platform.
    return random.Random(f"switchover-simulation:{seed}:org:{organization_id}")  # noqa: S311


def plan_organization(
    seed: int, organization_id: int, login_id: str, locale: Locale, domain: str, model: Behaviour
) -> OrgPlan:
    rng = org_rng(seed, organization_id)
    plan = OrgPlan(
        id=organization_id,
        login_id=login_id,
        locale=locale,
        domain=domain,
        dormant=rng.random() < model.dormant_share,
        scanner=rng.random() < model.link_scanner,
        rng=rng,
    )
    count = max(1, _poisson(rng, model.people_mean - 1) + 1)
    for index in range(count):
        plan.people.append(new_person(plan, model, administrator=index == 0))
    return plan


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are small.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def new_person(plan: OrgPlan, model: Behaviour, *, administrator: bool = False) -> PersonPlan:
    """One more person the organization will register (a first, or a replacement)."""
    rng = plan.rng
    if administrator:
        role = Role.ADMINISTRATOR if rng.random() < model.first_is_admin else Role.NORMAL
    else:
        draw = rng.random()
        role = (
            Role.ADMINISTRATOR
            if draw < model.other_admin
            else Role.VISITOR
            if draw < model.other_admin + model.other_visitor
            else Role.NORMAL
        )
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    taken = {p.correct_email for p in plan.people}
    local = _ascii(f"{given}.{family}")
    number = 1
    while f"{local}@{plan.domain}" in taken:
        number += 1
        local = _ascii(f"{given}.{family}{number}")
    correct = f"{local}@{plan.domain}"
    draw = rng.random()
    fate = AddressFate.OK
    typed = correct
    if draw < model.free_mail:
        fate = AddressFate.FREE_MAIL
        correct = typed = f"{local}.{plan.id}@{rng.choice(FREE_MAIL)}"
    elif draw < model.free_mail + model.typo:
        fate = AddressFate.TYPO
        typed = f"{local}@{mistype(plan.domain, rng)}"
    elif draw < model.free_mail + model.typo + model.dead_mailbox:
        fate = AddressFate.DEAD
        typed = correct = f"{local}.old@{plan.domain}"
    return PersonPlan(
        name=f"{given} {family}",
        email=typed,
        role=role,
        fate=fate,
        clicks=draw_clicks(rng, model),
        correct_email=correct,
    )


def _ascii(text: str) -> str:
    return "".join(c for c in text.lower().replace("ü", "u") if c.isascii() and c not in " '")


def mistype(domain: str, rng: random.Random) -> str:
    """The domain with two neighbouring letters of its first label swapped (or one doubled)."""
    label, _, rest = domain.partition(".")
    if len(label) >= 3:
        i = rng.randrange(len(label) - 1)
        if label[i] != label[i + 1]:
            label = label[:i] + label[i + 1] + label[i] + label[i + 2 :]
            return f"{label}.{rest}" if rest else label
    i = rng.randrange(len(label))
    label = label[: i + 1] + label[i] + label[i + 1 :]
    return f"{label}.{rest}" if rest else label


def draw_clicks(rng: random.Random, model: Behaviour) -> Clicks:
    draw = rng.random()
    if draw < model.click_prompt:
        return Clicks.PROMPT
    if draw < model.click_prompt + model.click_slow:
        return Clicks.SLOW
    if draw < model.click_prompt + model.click_slow + model.click_late:
        return Clicks.LATE
    return Clicks.NEVER


def lognormal_delay(rng: random.Random, median: dt.timedelta, sigma: float = 0.9) -> dt.timedelta:
    return median * math.exp(rng.gauss(0.0, sigma))


def uniform_days(rng: random.Random, bounds: tuple[float, float]) -> dt.timedelta:
    return dt.timedelta(days=rng.uniform(*bounds))


def click_delay(
    rng: random.Random, clicks: Clicks, model: Behaviour, link_lifetime: dt.timedelta
) -> dt.timedelta | None:
    """When after the email arrives its person clicks the link; None: not on their own."""
    if clicks is Clicks.PROMPT:
        # "Within hours": the lognormal's long tail is what SLOW is for.
        return min(
            lognormal_delay(rng, dt.timedelta(hours=model.prompt_median_hours)),
            dt.timedelta(hours=max(model.prompt_median_hours * 8, 24)),
        )
    if clicks is Clicks.SLOW:
        return uniform_days(rng, model.slow_days)
    if clicks is Clicks.LATE:
        return link_lifetime + uniform_days(rng, model.late_days_after_expiry)
    return None
