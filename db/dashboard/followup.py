"""The Follow-up page: organizations that are not ready, how far the follow-up has escalated
for each, and the call list account managers work through.

The escalation steps (e.g. close_plus_1, close_plus_7, after_switch) are passed in by the caller
in the order they escalate: the email catalogue owns them, and db/ does not import domain/.
A follow-up email is recognized by its template; its step by the step's name appearing in the
message's campaign step (``followup:close_plus_7`` or just ``close_plus_7``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, literal, literal_column, select
from sqlalchemy.orm import Session

from db.dashboard.common import as_instant, organization_flags
from db.models import Message, Organization, OrganizationContact

FOLLOWUP_TEMPLATE = "followup"
CALL_LIST_PAGE = 500


class Segment(StrEnum):
    """Why an organization is not ready (the same words as the reminder segments)."""

    NEVER_REGISTERED = "never_registered"
    NOTHING_VERIFIED = "nothing_verified"
    NO_VERIFIED_ADMIN = "no_verified_admin"

    @property
    def label(self) -> str:
        return {
            Segment.NEVER_REGISTERED: "Never registered",
            Segment.NOTHING_VERIFIED: "Nobody verified",
            Segment.NO_VERIFIED_ADMIN: "No verified Administrator",
        }[self]


SEGMENT_ORDER = tuple(Segment)


@dataclass(frozen=True)
class CallListFilter:
    segments: tuple[Segment, ...] = ()
    levels: tuple[int, ...] = ()  # 0 = no follow-up yet, i = steps[i - 1] reached
    countries: tuple[str, ...] = ()
    account_manager: str | None = None


@dataclass(frozen=True)
class EscalationCount:
    segment: Segment
    level: int
    organizations: int


@dataclass(frozen=True)
class CallList:
    rows: list[dict[str, Any]]
    total: int


def _escalation(steps: Sequence[str]) -> Subquery:
    """Per organization written to in the follow-up: the highest step reached, emails, last."""
    step = func.coalesce(Message.campaign_step, "")
    rank: ColumnElement[int] = case(
        *((step.like(f"%{name}%"), literal(i)) for i, name in enumerate(steps, start=1)),
        else_=literal(0),
    )
    return (
        select(
            Message.organization_id.label("organization_id"),
            func.max(rank).label("level"),
            func.count().label("emails"),
            func.max(Message.created_at).label("last_at"),
        )
        # A literal, not a parameter: the partial index on follow-up email matches it.
        .where(
            Message.template == literal_column(f"'{FOLLOWUP_TEMPLATE}'"),
            Message.organization_id.is_not(None),
        )
        .group_by(Message.organization_id)
        .subquery("escalation")
    )


def _not_ready(steps: Sequence[str], *, names: bool = False) -> Subquery:
    flags = organization_flags(names=names).subquery("flags")
    escalation = _escalation(steps)
    segment = case(
        (flags.c.verified == 1, literal(Segment.NO_VERIFIED_ADMIN.value)),
        (flags.c.registered == 1, literal(Segment.NOTHING_VERIFIED.value)),
        else_=literal(Segment.NEVER_REGISTERED.value),
    )
    return (
        select(
            flags.c.organization_id,
            flags.c.country,
            segment.label("segment"),
            func.coalesce(escalation.c.level, 0).label("level"),
            func.coalesce(escalation.c.emails, 0).label("emails"),
            escalation.c.last_at,
            *([flags.c.name, flags.c.account_manager] if names else []),
        )
        .select_from(flags)
        .outerjoin(escalation, escalation.c.organization_id == flags.c.organization_id)
        .where(flags.c.ready == 0, flags.c.migrated == 0)
        .subquery("not_ready")
    )


def escalation_summary(session: Session, steps: Sequence[str]) -> list[EscalationCount]:
    base = _not_ready(steps)
    rows = session.execute(
        select(base.c.segment, base.c.level, func.count()).group_by(base.c.segment, base.c.level)
    ).all()
    return sorted(
        (EscalationCount(Segment(seg), int(level), int(n)) for seg, level, n in rows),
        key=lambda c: (SEGMENT_ORDER.index(c.segment), c.level),
    )


def call_list(
    session: Session,
    steps: Sequence[str],
    flt: CallListFilter,
    *,
    limit: int | None = CALL_LIST_PAGE,
) -> CallList:
    """Organizations to call, furthest escalated first; `limit=None` gives all (the CSV)."""
    base = _not_ready(steps, names=True)
    conditions: list[ColumnElement[bool]] = []
    if flt.segments:
        conditions.append(base.c.segment.in_([s.value for s in flt.segments]))
    if flt.levels:
        conditions.append(base.c.level.in_(flt.levels))
    if flt.countries:
        conditions.append(base.c.country.in_(flt.countries))
    if flt.account_manager:
        conditions.append(base.c.account_manager == flt.account_manager)
    segment_rank = case(
        *((base.c.segment == s.value, literal(i)) for i, s in enumerate(SEGMENT_ORDER)),
        else_=literal(len(SEGMENT_ORDER)),
    )
    order = (base.c.level.desc(), segment_rank, base.c.name, base.c.organization_id)
    # First the page (with the count of all matching rows from the same pass), then the
    # contact person for those rows only.
    page = (
        select(
            base.c.organization_id,
            base.c.segment,
            base.c.level,
            base.c.emails,
            base.c.last_at,
            func.row_number().over(order_by=order).label("position"),
            func.count().over().label("total"),
        )
        .select_from(base)
        .where(*conditions)
        .order_by(*order)
    )
    if limit is not None:
        page = page.limit(limit)
    chosen = page.subquery("page")
    contact = (
        select(OrganizationContact.id)
        .where(OrganizationContact.organization_id == chosen.c.organization_id)
        .order_by((OrganizationContact.kind == "primary").desc(), OrganizationContact.id)
        .limit(1)
        .correlate(chosen)
        .scalar_subquery()
    )
    query = (
        select(
            Organization.legacy_login_id.label("login_id"),
            Organization.name.label("organization"),
            Organization.name_local.label("name_local"),
            Organization.country.label("country"),
            Organization.locale.label("locale"),
            chosen.c.segment.label("segment"),
            chosen.c.level.label("level"),
            chosen.c.emails.label("followup_emails"),
            chosen.c.last_at.label("last_followup_at"),
            Organization.account_manager.label("account_manager"),
            Organization.phone.label("phone"),
            OrganizationContact.name.label("contact_name"),
            OrganizationContact.email.label("contact_email"),
            chosen.c.total,
        )
        .select_from(chosen)
        .join(Organization, Organization.id == chosen.c.organization_id)
        .outerjoin(OrganizationContact, OrganizationContact.id == contact)
        .order_by(chosen.c.position)
    )
    rows = []
    total = 0
    for row in session.execute(query).mappings():
        plain = dict(row)
        total = int(plain.pop("total"))
        plain["locale"] = getattr(plain["locale"], "value", plain["locale"])
        plain["last_followup_at"] = as_instant(plain["last_followup_at"])
        rows.append(plain)
    return CallList(rows=rows, total=total)


def account_managers(session: Session) -> list[str]:
    return [
        name
        for name in session.scalars(
            select(Organization.account_manager)
            .where(Organization.account_manager.is_not(None))
            .distinct()
            .order_by(Organization.account_manager)
        )
        if name
    ]


def level_label(level: int, steps: Sequence[str], emails: int = 0) -> str:
    if level <= 0:
        return "Follow-up sent (step not recognized)" if emails else "No follow-up yet"
    if level > len(steps):
        return f"step {level}"
    return steps[level - 1]
