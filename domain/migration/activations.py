"""Activation links of a migration batch: one per person still without a password.

A person registered by several organizations gets one email listing all of them; a person who
already has a live link (from an earlier batch or wave) gets none, so each person receives one
activation email however many memberships the migration gives them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from db.enums import Locale, MembershipStatus, Role, TokenPurpose
from db.expressions import one_of
from db.inserts import insert_many
from db.models import Membership, Organization, Person, VerificationToken
from domain.accounts import activation
from domain.clock import Clock
from domain.emails.outbox import OutboxItem, enqueue_new
from domain.migration import writes
from domain.migration.activation_mail import ActivationRenderer
from domain.migration.activation_mail import Membership as MailMembership
from domain.settings import Settings
from domain.tokens import new_token, token_hash

TOKENS = cast(Table, VerificationToken.__table__)


@dataclass
class Emails:
    count: int = 0
    by_org: dict[int, int] = field(default_factory=dict)


def issue_activations(
    session: Session,
    clock: Clock,
    settings: Settings,
    usable: dict[int, list[writes.RegRow]],
    persons: writes.Persons,
    orgs: dict[int, writes.OrgRow],
    renderer: ActivationRenderer,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> Emails:
    """One link per person still without a password who has no live link yet."""
    first_reg: dict[int, writes.RegRow] = {}
    in_batch: dict[int, list[writes.RegRow]] = defaultdict(list)
    for regs in usable.values():
        for reg in regs:
            pid = persons.ids[reg.email]
            if pid in persons.pending:
                in_batch[pid].append(reg)
                if pid not in first_reg or reg.id < first_reg[pid].id:
                    first_reg[pid] = reg
    wanted = sorted(in_batch)
    live: set[int] = set()
    others: dict[int, list[tuple[Organization, Role]]] = defaultdict(list)
    batch_orgs = list(usable)
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in writes.chunks(wanted):
        if postgres:
            # Batches run side by side on PostgreSQL, and a person may be in two of them: the
            # person's row is locked (in id order, so two batches never wait on each other)
            # until this batch commits; the other batch then finds this one's link below and
            # sends nothing. (SQLite runs one writer at a time.)
            session.execute(
                select(Person.id)
                .where(one_of(Person.id, chunk))
                .order_by(Person.id)
                .with_for_update(key_share=True)  # FOR NO KEY UPDATE
            ).all()
        live.update(
            pid
            for pid in session.scalars(
                select(VerificationToken.person_id).where(
                    one_of(VerificationToken.person_id, chunk),
                    VerificationToken.purpose == TokenPurpose.ACTIVATE_ACCOUNT,
                    VerificationToken.used_at.is_(None),
                    VerificationToken.revoked_at.is_(None),
                    VerificationToken.expires_at > now,
                )
            )
            if pid is not None
        )
        # Their memberships elsewhere, for the list in the email.
        for pid, org, role in session.execute(
            select(Membership.person_id, Organization, Membership.role)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(
                one_of(Membership.person_id, chunk),
                Membership.status == MembershipStatus.ACTIVE,
                ~one_of(Membership.organization_id, batch_orgs),
            )
        ):
            others[pid].append((org, role))
    result = Emails()
    tokens: list[dict[str, Any]] = []

    def messages() -> Iterator[OutboxItem]:
        for pid in wanted:
            if pid in live:
                continue
            first = first_reg[pid]
            home = orgs[first.organization_id]
            locale = persons.locale.get(pid) or home.locale
            lines = sorted(
                [
                    MailMembership(orgs[r.organization_id].label(locale), r.role)
                    for r in in_batch[pid]
                ]
                + [MailMembership(org_label(org, locale), role) for org, role in others[pid]],
                key=lambda m: m.organization_name,
            )
            raw = new_token()
            hashed = token_hash(raw)
            tokens.append(
                {
                    "purpose": TokenPurpose.ACTIVATE_ACCOUNT,
                    "token_hash": hashed,
                    "person_id": pid,
                    "created_at": now,
                    "expires_at": expires_at,
                }
            )
            result.by_org[home.id] = result.by_org.get(home.id, 0) + 1
            yield OutboxItem(
                key=activation.key(pid, hashed),
                template=activation.TEMPLATE,
                locale=locale,
                to_address=first.email,
                to_name=first.name,
                rendered=renderer.render(
                    locale,
                    first.name,
                    first.email,
                    activation.url(settings, raw),
                    expires_at,
                    lines,
                ),
                organization_id=home.id,
                person_id=pid,
            )

    # Rendered as the outbox takes them: on PostgreSQL the server inserts the first messages
    # while the later ones render. Their keys hold the new token's hash, so they are new: no
    # conflict check is needed (`enqueue_new`). The tokens follow; nothing refers to them.
    result.count = enqueue_new(session, messages(), clock=clock)
    if tokens:
        insert_many(session, TOKENS, tokens)
    return result


def org_label(org: Organization, locale: Locale) -> str:
    return org.name_local if locale is Locale.JA and org.name_local else org.name
