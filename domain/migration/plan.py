"""Which organizations go in which wave: the canary first, then the rest by size or by a rule.

An organization is to be migrated when it has at least one verified registration. The first run
plans every such organization: a canary wave (the login IDs given, or a share of all, picked by a
hash of the login ID so the pick is spread and the same every time), then waves of at most
`wave_size` organizations, in id order or grouped by a rule (language, country, account manager).
The plan is kept as rows (``migration_waves``, ``migration_items``), so a later run finds it and
resumes. Organizations that became ready after the plan (the helpdesk registered someone) and
are in no wave that is still to do go into a new catch-up wave at the end.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, exists, func, insert, select
from sqlalchemy.orm import Session

from db.enums import MigrationItemStatus, RegistrationStatus, WaveStatus
from db.models import MigrationItem, MigrationWave, Organization, Registration
from domain.clock import Clock
from domain.migration.writes import chunks

ITEMS = cast(Table, MigrationItem.__table__)
CANARY = "canary"
MAX_CANARY_SHARE = 0.5
# An organization in one of these items is already taken care of by a wave.
WAITING = (MigrationItemStatus.PENDING, MigrationItemStatus.FAILED, MigrationItemStatus.ROLLED_BACK)


class PlanError(ValueError):
    """The plan cannot be made as asked; the message names the parameter and the fix."""


class WaveRule(StrEnum):
    SIZE = "size"  # id order, `wave_size` at a time
    LOCALE = "locale"
    COUNTRY = "country"
    ACCOUNT_MANAGER = "account_manager"


@dataclass(frozen=True)
class PlanRequest:
    canary: tuple[str, ...] = ()  # login IDs; when empty, `canary_share` of the organizations
    canary_share: float = 0.01
    wave_size: int = 20_000
    rule: WaveRule = WaveRule.SIZE

    def __post_init__(self) -> None:
        if not 0 <= self.canary_share <= MAX_CANARY_SHARE:
            raise PlanError(
                f"canary_share must be between 0 and {MAX_CANARY_SHARE} (got {self.canary_share})"
            )
        if self.wave_size < 1:
            raise PlanError(f"wave_size must be at least 1 (got {self.wave_size})")
        blank = [login for login in self.canary if not login.strip()]
        if blank:
            raise PlanError("canary contains an empty login ID")


@dataclass(frozen=True)
class Candidate:
    id: int
    login_id: str
    locale: str
    country: str
    account_manager: str | None

    def group(self, rule: WaveRule) -> str:
        if rule is WaveRule.SIZE:
            return ""
        value = getattr(self, rule.value)
        return str(value) if value else "(none)"


@dataclass(frozen=True)
class PlannedWave:
    id: int
    name: str
    position: int
    organizations: int


@dataclass(frozen=True)
class Plan:
    created: tuple[PlannedWave, ...]  # waves this call added (empty: nothing new to plan)
    reused: bool  # a plan existed: the planning parameters were not applied to it
    canary_not_ready: tuple[str, ...] = ()  # canary login IDs without a verified registration
    notes: tuple[str, ...] = field(default_factory=tuple)


def candidates(session: Session) -> list[Candidate]:
    """Organizations with a verified registration that no wave still has to do."""
    # EXISTS on the (organization, status) indexes: IN over the whole table is slow on SQLite.
    verified = exists().where(
        Registration.organization_id == Organization.id,
        Registration.status == RegistrationStatus.VERIFIED,
    )
    taken = exists().where(
        MigrationItem.organization_id == Organization.id, MigrationItem.status.in_(WAITING)
    )
    rows = session.execute(
        select(
            Organization.id,
            Organization.legacy_login_id,
            Organization.locale,
            Organization.country,
            Organization.account_manager,
        )
        .where(verified, ~taken)
        .order_by(Organization.id)
    ).all()
    return [Candidate(int(i), str(login), str(loc), str(c), am) for i, login, loc, c, am in rows]


def _spread(login_id: str) -> bytes:
    return hashlib.sha256(login_id.encode("utf-8")).digest()


def _canary(
    session: Session, request: PlanRequest, pool: list[Candidate]
) -> tuple[list[Candidate], tuple[str, ...]]:
    if not request.canary:
        if not pool or request.canary_share == 0:
            return [], ()
        count = max(1, math.ceil(request.canary_share * len(pool)))
        return sorted(pool, key=lambda c: _spread(c.login_id))[:count], ()
    wanted = {login.strip().upper() for login in request.canary}
    known = {
        str(login).upper()
        for login in session.scalars(
            select(Organization.legacy_login_id).where(
                func.upper(Organization.legacy_login_id).in_(sorted(wanted))
            )
        )
    }
    unknown = sorted(wanted - known)
    if unknown:
        raise PlanError(f"canary: no organization has the login ID(s) {', '.join(unknown)}")
    chosen = [c for c in pool if c.login_id.upper() in wanted]
    not_ready = tuple(sorted(wanted - {c.login_id.upper() for c in chosen}))
    return chosen, not_ready


def _groups(
    pool: Sequence[Candidate], rule: WaveRule, size: int
) -> list[tuple[str, list[Candidate]]]:
    by_group: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in pool:
        by_group[candidate.group(rule)].append(candidate)
    out = []
    for group in sorted(by_group, key=lambda g: (g == "(none)", g)):
        members = by_group[group]
        for start in range(0, len(members), size):
            out.append((group, members[start : start + size]))
    return out


def plan_waves(session: Session, clock: Clock, request: PlanRequest) -> Plan:
    """Plan the waves (first run) or a catch-up wave (later runs); the caller commits."""
    existing = session.execute(
        select(func.count(), func.max(MigrationWave.position)).select_from(MigrationWave)
    ).one()
    pool = candidates(session)
    if existing[0]:
        if not pool:
            return Plan(created=(), reused=True)
        count = session.scalar(
            select(func.count())
            .select_from(MigrationWave)
            .where(MigrationWave.name.like("catch-up-%"))
        )
        groups = _groups(pool, WaveRule.SIZE, request.wave_size)
        position = int(existing[1] or 0) + 1
        created = [
            _create(
                session,
                clock,
                f"catch-up-{int(count or 0) + n:02d}",
                position + n - 1,
                members,
                {"kind": "catch-up"},
            )
            for n, (_group, members) in enumerate(groups, 1)
        ]
        return Plan(
            created=tuple(created),
            reused=True,
            notes=(f"{len(pool)} organizations became ready after the plan was made",),
        )
    canary, not_ready = _canary(session, request, pool)
    created = []
    if canary:
        created.append(_create(session, clock, CANARY, 0, canary, {"kind": "canary"}))
    chosen = {c.id for c in canary}
    rest = [c for c in pool if c.id not in chosen]
    for number, (group, members) in enumerate(_groups(rest, request.rule, request.wave_size), 1):
        name = f"wave-{number:02d}" + (f" ({group})" if group else "")
        created.append(
            _create(
                session,
                clock,
                name,
                number,
                members,
                {"kind": "wave", "rule": request.rule.value, "group": group},
            )
        )
    return Plan(created=tuple(created), reused=False, canary_not_ready=not_ready)


def _create(
    session: Session,
    clock: Clock,
    name: str,
    position: int,
    members: Sequence[Candidate],
    plan: dict[str, Any],
) -> PlannedWave:
    now = clock.now()
    wave = MigrationWave(
        name=name[:100],
        position=position,
        status=WaveStatus.PLANNED,
        created_at=now,
        report={"plan": {**plan, "organizations": len(members), "planned_at": now.isoformat()}},
    )
    session.add(wave)
    session.flush()
    rows = [
        {
            "wave_id": wave.id,
            "organization_id": c.id,
            "status": MigrationItemStatus.PENDING,
            "updated_at": now,
            "attempts": 0,
        }
        for c in members
    ]
    for chunk in chunks(rows):
        session.execute(insert(ITEMS), list(chunk))
    return PlannedWave(wave.id, wave.name, position, len(members))
