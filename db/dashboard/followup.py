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

from sqlalchemy import (
    CTE,
    ColumnElement,
    DateTime,
    Integer,
    String,
    Subquery,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
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


def _not_ready(steps: Sequence[str], *, names: bool = False) -> CTE:
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
        .cte("not_ready")
    )


def escalation_summary(session: Session, steps: Sequence[str]) -> list[EscalationCount]:
    return followup_page(session, steps, CallListFilter(), limit=0).summary


@dataclass(frozen=True)
class FollowupPage:
    """The page's two readings of the organizations that are not ready, from one pass."""

    summary: list[EscalationCount]
    call_list: CallList


def followup_page(
    session: Session,
    steps: Sequence[str],
    flt: CallListFilter,
    *,
    limit: int | None = CALL_LIST_PAGE,
) -> FollowupPage:
    """The escalation summary (every organization not ready) and the call list (those `flt`
    keeps, furthest escalated first; `limit=None` gives all, for the CSV) in one statement:
    the organizations' flags and their follow-up are computed once for both."""
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
    kept = and_(*conditions) if conditions else true()
    # The not-ready organizations are read once (a CTE used twice): grouped for the summary
    # (with how many of each group the filter keeps: the list's total), and the first `limit`
    # that the filter keeps, in call order (a top-N sort, not a sort of them all).
    page = (
        select(
            literal(1).label("part"),
            base.c.organization_id,
            base.c.segment,
            base.c.level,
            base.c.emails,
            base.c.last_at,
            literal(None, Integer).label("organizations"),
            literal(None, Integer).label("kept"),
            segment_rank.label("segment_rank"),
            base.c.name,
        )
        .where(kept)
        .order_by(*order)
    )
    if limit is not None:
        page = page.limit(limit)
    paged = page.subquery("paged")
    groups = select(
        literal(0).label("part"),
        literal(None, Integer).label("organization_id"),
        base.c.segment,
        base.c.level,
        literal(None, Integer).label("emails"),
        literal(None, DateTime).label("last_at"),
        func.count().label("organizations"),
        func.sum(case((kept, 1), else_=0)).label("kept"),
        literal(None, Integer).label("segment_rank"),
        literal(None, String).label("name"),
    ).group_by(base.c.segment, base.c.level)
    both = union_all(select(*paged.c), groups).subquery("both")
    contact = (
        select(OrganizationContact.id)
        .where(OrganizationContact.organization_id == both.c.organization_id)
        .order_by((OrganizationContact.kind == "primary").desc(), OrganizationContact.id)
        .limit(1)
        .correlate(both)
        .scalar_subquery()
    )
    query = (
        select(
            both.c.part,
            both.c.organizations,
            both.c.kept,
            Organization.legacy_login_id.label("login_id"),
            Organization.name.label("organization"),
            Organization.name_local.label("name_local"),
            Organization.country.label("country"),
            Organization.locale.label("locale"),
            both.c.segment.label("segment"),
            both.c.level.label("level"),
            both.c.emails.label("followup_emails"),
            both.c.last_at.label("last_followup_at"),
            Organization.account_manager.label("account_manager"),
            Organization.phone.label("phone"),
            OrganizationContact.name.label("contact_name"),
            OrganizationContact.email.label("contact_email"),
        )
        .select_from(both)
        .outerjoin(Organization, Organization.id == both.c.organization_id)
        .outerjoin(OrganizationContact, OrganizationContact.id == contact)
        .order_by(
            both.c.part,
            both.c.level.desc(),
            both.c.segment_rank,
            both.c.name,
            both.c.organization_id,
        )
    )
    rows = []
    total = 0
    summary = []
    for row in session.execute(query).mappings():
        plain = dict(row)
        organizations, in_list = plain.pop("organizations"), plain.pop("kept")
        if plain.pop("part") == 0:
            group = EscalationCount(Segment(plain["segment"]), int(plain["level"]), organizations)
            summary.append(group)
            total += int(in_list)
            continue
        plain["locale"] = getattr(plain["locale"], "value", plain["locale"])
        plain["last_followup_at"] = as_instant(plain["last_followup_at"])
        rows.append(plain)
    summary.sort(key=lambda c: (SEGMENT_ORDER.index(c.segment), c.level))
    return FollowupPage(summary=summary, call_list=CallList(rows=rows, total=total))


def call_list(
    session: Session,
    steps: Sequence[str],
    flt: CallListFilter,
    *,
    limit: int | None = CALL_LIST_PAGE,
) -> CallList:
    """Organizations to call, furthest escalated first; `limit=None` gives all (the CSV)."""
    return followup_page(session, steps, flt, limit=limit).call_list


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
