"""The writes of a migration batch, table by table, for many organizations at once.

Each function is set-based (a few statements for hundreds of organizations) and conditional, so
that a batch re-run after a crash or a halt finds what is already done and does not repeat it.
They run in the caller's transaction; `domain.migration.batch` decides what commits together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from db.enums import (
    Locale,
    MembershipStatus,
    PersonStatus,
    RegistrationStatus,
    Role,
)
from db.expressions import one_of
from db.inserts import insert_ignoring, insert_many, update_many
from db.models import (
    Membership,
    MigrationItem,
    Organization,
    Person,
    Registration,
    VerificationToken,
)

PERSONS = cast(Table, Person.__table__)
MEMBERSHIPS = cast(Table, Membership.__table__)
TOKENS = cast(Table, VerificationToken.__table__)
ITEMS = cast(Table, MigrationItem.__table__)
CHUNK = 5_000  # ids per IN list: far inside both databases' limits on bound parameters


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: int
    login_id: str
    name: str
    name_local: str | None
    locale: Locale
    legacy_enabled: bool
    legacy_expires: bool

    def label(self, locale: Locale) -> str:
        return self.name_local if locale is Locale.JA and self.name_local else self.name


@dataclass(frozen=True, slots=True)
class RegRow:
    id: int
    organization_id: int
    email: str
    name: str
    role: Role


def load_organizations(session: Session, org_ids: Sequence[int]) -> dict[int, OrgRow]:
    found: dict[int, OrgRow] = {}
    o = Organization
    for chunk in chunks(org_ids):
        for row in session.execute(
            select(
                o.id,
                o.legacy_login_id,
                o.name,
                o.name_local,
                o.locale,
                o.legacy_login_enabled,
                o.legacy_login_expires_at.is_not(None),
            ).where(one_of(o.id, chunk))
        ):
            found[row[0]] = OrgRow(*row)
    return found


def load_verified(session: Session, org_ids: Sequence[int]) -> list[RegRow]:
    found: list[RegRow] = []
    r = Registration
    for chunk in chunks(org_ids):
        found.extend(
            RegRow(*row)
            for row in session.execute(
                select(r.id, r.organization_id, r.email, r.name, r.role)
                .where(one_of(r.organization_id, chunk), r.status == RegistrationStatus.VERIFIED)
                .order_by(r.id)
            )
        )
    return found


@dataclass
class Persons:
    ids: dict[str, int]  # email -> person id
    created: set[int]
    pending: set[int]  # no password yet: they need an activation link
    locale: dict[int, Locale | None]


def upsert_persons(session: Session, regs: Sequence[RegRow], now: dt.datetime) -> Persons:
    """One person per address: found, re-enabled after a rollback, or created."""
    names: dict[str, str] = {}
    for reg in regs:  # ordered by registration id: the first registration names the person
        names.setdefault(reg.email, reg.name)
    result = Persons({}, set(), set(), {})
    disabled: list[int] = []
    emails = list(names)
    for chunk in chunks(emails):
        for pid, email, status, has_password, locale in session.execute(
            select(
                Person.id,
                Person.email,
                Person.status,
                Person.password_hash.is_not(None),
                Person.locale,
            ).where(one_of(Person.email, chunk))
        ):
            result.ids[email] = pid
            result.locale[pid] = locale
            if status is PersonStatus.DISABLED:
                disabled.append(pid)
            if not has_password:
                result.pending.add(pid)
    # In one order for every batch: two batches inserting the same addresses side by side wait
    # for each other address by address, never each for the other.
    missing = sorted(e for e in emails if e not in result.ids)
    if missing:
        # RETURNING names the rows this statement inserted: exactly the persons created. An
        # address created by someone else meanwhile (an invitation accepted, another batch) is
        # skipped by the conflict clause and found by the select below: reused, not created.
        for pid, email in _insert_persons(session, missing, names, now):
            result.ids[email] = pid
            result.locale[pid] = None
            result.pending.add(pid)
            result.created.add(pid)
        raced = [e for e in missing if e not in result.ids]
        for chunk in chunks(raced):
            for pid, email, has_password, locale in session.execute(
                select(
                    Person.id, Person.email, Person.password_hash.is_not(None), Person.locale
                ).where(one_of(Person.email, chunk))
            ):
                result.ids[email] = pid
                result.locale[pid] = locale
                if not has_password:
                    result.pending.add(pid)
    if disabled:
        # Back after a rollback: active again if they had set a password, else awaiting it.
        session.execute(
            update(Person)
            .where(one_of(Person.id, disabled), Person.status == PersonStatus.DISABLED)
            .values(
                status=case(
                    (Person.password_hash.is_(None), PersonStatus.PENDING_ACTIVATION.value),
                    else_=PersonStatus.ACTIVE.value,
                )
            )
            .execution_options(synchronize_session=False)
        )
    return result


def _insert_persons(
    session: Session, emails: Sequence[str], names: dict[str, str], now: dt.datetime
) -> list[tuple[int, str]]:
    """Insert a person per address unless it exists; (id, email) of the rows inserted."""
    if session.get_bind().dialect.name == "postgresql":
        # One statement whose rows come from two array parameters: the server makes the rows,
        # where an executemany would send and parse a statement per handful of rows.
        given = (
            func.unnest(
                bindparam("emails", type_=ARRAY(PERSONS.c.email.type)),
                bindparam("names", type_=ARRAY(PERSONS.c.display_name.type)),
            )
            .table_valued("email", "display_name")
            .render_derived()
        )
        statement = (
            postgresql.insert(PERSONS)
            .from_select(
                ["email", "display_name", "status", "created_at"],
                select(
                    given.c.email,
                    given.c.display_name,
                    literal(PersonStatus.PENDING_ACTIVATION, PERSONS.c.status.type),
                    literal(now, PERSONS.c.created_at.type),
                ),
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(PERSONS.c.id, PERSONS.c.email)
        )
        rows = session.execute(
            statement, {"emails": list(emails), "names": [names[e] for e in emails]}
        )
        return [(int(pid), email) for pid, email in rows]
    inserted = session.execute(
        insert_ignoring(session, PERSONS, "email").returning(PERSONS.c.id, PERSONS.c.email),
        [
            {
                "email": email,
                "display_name": names[email],
                "status": PersonStatus.PENDING_ACTIVATION,
                "created_at": now,
            }
            for email in emails
        ],
    )
    return [(int(pid), email) for pid, email in inserted]


@dataclass
class Memberships:
    by_org: dict[int, dict[str, int]]  # organization -> {"created": n, "reactivated": n, ...}
    with_administrator: set[int]  # organizations with an active Administrator afterwards
    written: int = 0


def write_memberships(
    session: Session,
    usable: dict[int, list[RegRow]],
    persons: Persons,
    item_of: dict[int, int],
    now: dt.datetime,
) -> Memberships:
    org_ids = [o for o, regs in usable.items() if regs]
    existing: dict[tuple[int, int], tuple[int, MembershipStatus, Role]] = {}
    for chunk in chunks(org_ids):
        for mid, pid, oid, status, role in session.execute(
            select(
                Membership.id,
                Membership.person_id,
                Membership.organization_id,
                Membership.status,
                Membership.role,
            ).where(one_of(Membership.organization_id, chunk))
        ):
            existing[(pid, oid)] = (mid, status, role)
    result = Memberships(
        by_org={},
        with_administrator={
            oid
            for (_pid, oid), (_m, status, role) in existing.items()
            if status is MembershipStatus.ACTIVE and role is Role.ADMINISTRATOR
        },
    )
    new_rows: list[dict[str, Any]] = []
    revived: list[dict[str, Any]] = []
    for oid in org_ids:
        counts = {"created": 0, "reactivated": 0, "already_member": 0}
        for reg in usable[oid]:
            pid = persons.ids[reg.email]
            found = existing.get((pid, oid))
            if found is None:
                new_rows.append(
                    {
                        "person_id": pid,
                        "organization_id": oid,
                        "role": reg.role,
                        "status": MembershipStatus.ACTIVE,
                        "registration_id": reg.id,
                        "migration_item_id": item_of[oid],
                        "created_at": now,
                    }
                )
                counts["created"] += 1
                if reg.role is Role.ADMINISTRATOR:
                    result.with_administrator.add(oid)
            elif found[1] is not MembershipStatus.ACTIVE:
                revived.append(
                    {"b_id": found[0], "role": reg.role, "reg": reg.id, "item": item_of[oid]}
                )
                counts["reactivated"] += 1
                if reg.role is Role.ADMINISTRATOR:
                    result.with_administrator.add(oid)
            else:  # a user already (invited after an earlier wave): keep what they have
                counts["already_member"] += 1
        result.by_org[oid] = counts
    if new_rows:
        insert_many(session, MEMBERSHIPS, new_rows)
    if revived:
        session.execute(
            update(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.id == bindparam("b_id"))
            .values(
                status=MembershipStatus.ACTIVE.value,
                role=bindparam("role"),
                registration_id=bindparam("reg"),
                migration_item_id=bindparam("item"),
                disabled_at=None,
            ),
            revived,
        )
    result.written = len(new_rows) + len(revived)
    return result


class ConcurrentChange(RuntimeError):
    """Rows changed under the batch (e.g. a registration withdrawn meanwhile): redo one by one."""


def mark_registrations(session: Session, ids: Sequence[int], now: dt.datetime) -> None:
    changed = 0
    for chunk in chunks(ids):
        result = session.execute(
            update(Registration)
            .where(
                one_of(Registration.id, chunk), Registration.status == RegistrationStatus.VERIFIED
            )
            .values(status=RegistrationStatus.MIGRATED, migrated_at=now, status_changed_at=now)
            .execution_options(synchronize_session=False)
        )
        changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    if changed != len(ids):
        raise ConcurrentChange(f"{len(ids) - changed} registrations changed during the migration")


def disable_legacy(session: Session, org_ids: Sequence[int], now: dt.datetime) -> None:
    o = Organization
    for chunk in chunks(org_ids):
        session.execute(
            update(o)
            .where(
                one_of(o.id, chunk),
                or_(o.legacy_login_enabled.is_(True), o.legacy_login_expires_at.is_not(None)),
            )
            .values(
                legacy_login_enabled=False,
                legacy_login_disabled_at=case(
                    (o.legacy_login_enabled.is_(True), now), else_=o.legacy_login_disabled_at
                ),
                legacy_login_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )


def record_items(session: Session, rows: Sequence[dict[str, Any]], now: dt.datetime) -> None:
    """Each item's outcome: `rows` of id, status, reason and details; one attempt more."""
    update_many(session, ITEMS, rows, also={"attempts": ITEMS.c.attempts + 1, "updated_at": now})
