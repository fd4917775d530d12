"""insert_many: the rows read back exactly as a plain INSERT of the same rows would leave them."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import (
    MembershipStatus,
    MigrationItemStatus,
    PersonStatus,
    Role,
    TokenPurpose,
    WaveStatus,
)
from db.inserts import insert_many, update_many
from db.models import (
    AuditEvent,
    Membership,
    MigrationItem,
    MigrationWave,
    Person,
    VerificationToken,
)
from domain.clock import FixedClock
from tests import factories

AUDIT = cast(Table, AuditEvent.__table__)
TOKENS = cast(Table, VerificationToken.__table__)
MEMBERSHIPS = cast(Table, Membership.__table__)
ITEMS = cast(Table, MigrationItem.__table__)
TOKYO = ZoneInfo("Asia/Tokyo")
PERSON_PURPOSES = (TokenPurpose.ACTIVATE_ACCOUNT, TokenPurpose.RESET_PASSWORD)  # the check says
AT = dt.datetime(2025, 9, 28, 0, 0, 30, 123456, tzinfo=TOKYO)


def audit_rows(tag: str) -> list[dict[str, Any]]:
    details: list[dict[str, Any] | None] = [
        {"wave": "canary", "registrations": [1, 2, 3], "reason": None},
        {"name": "青潮海運株式会社", "quote": 'a "b"\tc\\d\ne', "nested": {"ok": True, "n": 1.5}},
        None,
        {},
    ]
    return [
        {
            "occurred_at": AT + dt.timedelta(seconds=n),
            "actor": f"{tag}-flow",
            "action": "migration.organization_migrated",
            "entity_type": "migration_item",
            "entity_id": n,
            "organization_id": None,
            "details": d,
        }
        for n, d in enumerate(details)
    ]


def person(session: Session, email: str) -> Person:
    found = Person(email=email, display_name=email, status=PersonStatus.ACTIVE, created_at=AT)
    session.add(found)
    session.flush()
    return found


def read(session: Session, table: Table, order: Any, where: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(table).where(where).order_by(order)).mappings()
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_audit_rows_with_json_and_instants_read_back_as_an_insert_leaves_them(
    session: Session,
) -> None:
    session.execute(insert(AUDIT), audit_rows("insert"))
    insert_many(session, AUDIT, audit_rows("copy"))
    by_insert = read(session, AUDIT, AUDIT.c.id, AUDIT.c.actor == "insert-flow")
    by_copy = read(session, AUDIT, AUDIT.c.id, AUDIT.c.actor == "copy-flow")
    assert len(by_copy) == 4
    for a, b in zip(by_insert, by_copy, strict=True):
        assert {**a, "actor": "x"} == {**b, "actor": "x"}
    assert by_copy[0]["occurred_at"] == AT  # the same instant, read back in UTC
    # As stored, too (SQLite keeps instants as text, compared as text in queries).
    raw = session.execute(
        text("SELECT actor, occurred_at, details FROM audit_events WHERE entity_id = 1")
    ).all()
    assert len(raw) == 2 and raw[0][1:] == raw[1][1:]
    assert by_copy[1]["details"]["name"] == "青潮海運株式会社"
    # None is stored the same way by both (JSON null or SQL NULL, as the column decides).
    sql_nulls = (
        select(AUDIT.c.actor, func.count())
        .where(AUDIT.c.details.is_(None))
        .group_by(AUDIT.c.actor)
        .order_by(AUDIT.c.actor)
    )
    nulls = session.execute(sql_nulls).all()
    assert len({n for _, n in nulls}) <= 1 and len(nulls) in (0, 2)


def test_enum_columns_and_nulls(session: Session) -> None:
    taro = person(session, "taro@aoshio.example")
    rows = [
        {
            "purpose": purpose,
            "token_hash": f"{n:064d}",
            "person_id": taro.id,
            "created_at": AT,
            "expires_at": AT + dt.timedelta(days=7),
        }
        for n, purpose in enumerate(PERSON_PURPOSES)
    ]
    insert_many(session, TOKENS, rows)
    stored = session.scalars(select(VerificationToken).order_by(VerificationToken.id)).all()
    assert [t.purpose for t in stored] == list(PERSON_PURPOSES)
    assert all(t.used_at is None and t.registration_id is None for t in stored)
    assert stored[0].expires_at == AT + dt.timedelta(days=7)


def test_a_column_left_to_its_python_default_is_filled(session: Session, clock: FixedClock) -> None:
    hanako = person(session, "hanako@aoshio.example")
    org = factories.organization(session, clock)
    # No "status": only SQLAlchemy knows its default (ACTIVE), so this takes the INSERT.
    insert_many(
        session,
        MEMBERSHIPS,
        [
            {
                "person_id": hanako.id,
                "organization_id": org.id,
                "role": Role.ADMINISTRATOR,
                "created_at": AT,
            }
        ],
    )
    membership = session.scalars(select(Membership)).one()
    assert (membership.status, membership.role) == (MembershipStatus.ACTIVE, Role.ADMINISTRATOR)


def test_no_rows_is_nothing(session: Session) -> None:
    insert_many(session, AUDIT, [])
    assert session.scalars(select(AuditEvent)).all() == []


def test_repeated_values_and_a_generator(session: Session) -> None:
    """Values repeat from row to row (processed once, then remembered): equal instants given in
    different zones, an enum member and its string, a JSON document each time."""
    taro = person(session, "taro@aoshio.example")
    instants = [AT, AT.astimezone(dt.UTC), AT, AT + dt.timedelta(hours=1)]
    purposes = [TokenPurpose.ACTIVATE_ACCOUNT, "activate_account", TokenPurpose.RESET_PASSWORD]
    rows = (
        {
            "purpose": purposes[n % 3],
            "token_hash": f"{n:064d}",
            "person_id": taro.id,
            "created_at": instants[n % 4],
            "expires_at": AT + dt.timedelta(days=7),
        }
        for n in range(12)
    )
    assert insert_many(session, TOKENS, rows) == 12
    stored = session.scalars(select(VerificationToken).order_by(VerificationToken.id)).all()
    assert [t.created_at for t in stored] == [instants[n % 4] for n in range(12)]
    assert [t.purpose for t in stored] == [TokenPurpose(purposes[n % 3]) for n in range(12)]
    raw = session.execute(text("SELECT created_at FROM verification_tokens ORDER BY id")).all()
    assert raw[0] == raw[1] == raw[2] != raw[3]  # one instant, stored alike


def test_a_duplicate_key_is_sqlalchemys_integrity_error(session: Session) -> None:
    taro = person(session, "taro@aoshio.example")
    row = {
        "purpose": TokenPurpose.ACTIVATE_ACCOUNT,
        "token_hash": "0" * 64,
        "person_id": taro.id,
        "created_at": AT,
        "expires_at": AT,
    }
    with pytest.raises(IntegrityError):
        insert_many(session, TOKENS, [row, row])


def item_rows(session: Session, clock: FixedClock, count: int) -> list[int]:
    wave = MigrationWave(name="canary", position=0, status=WaveStatus.PLANNED, created_at=AT)
    session.add(wave)
    session.flush()
    ids = []
    for n in range(count):
        org = factories.organization(session, clock)
        item = MigrationItem(
            wave_id=wave.id, organization_id=org.id, updated_at=AT, details={"n": n}
        )
        session.add(item)
        session.flush()
        ids.append(item.id)
    return ids


def test_update_many_leaves_what_an_update_per_row_leaves(
    session: Session, clock: FixedClock
) -> None:
    ids = item_rows(session, clock, 8)
    details: list[dict[str, Any] | None] = [
        {"registrations": [1, 2], "not_migrated": {}, "at": "2025-09-28T00:00:00+00:00"},
        {"name": "青潮海運株式会社", "quote": 'a "b"\tc\\d\ne', "nested": {"ok": True}},
        None,
        {},
    ]
    changes = [
        {
            "id": item_id,
            "status": MigrationItemStatus.MIGRATED if n % 2 else MigrationItemStatus.FAILED,
            "reason": None if n % 2 else f"reason {n} 'quoted'",
            "details": details[n % 4],
        }
        for n, item_id in enumerate(ids)
    ]
    later = AT + dt.timedelta(hours=2)
    also = {"attempts": ITEMS.c.attempts + 1, "updated_at": later}
    half = len(ids) // 2
    update_many(session, ITEMS, changes[:half], also=also)
    for change in changes[half:]:  # the same through SQLAlchemy, one row at a time
        session.execute(
            update(ITEMS)
            .where(ITEMS.c.id == change["id"])
            .values(
                status=change["status"],
                reason=change["reason"],
                details=change["details"],
                **also,
            )
        )
    stored = read(session, ITEMS, ITEMS.c.id, ITEMS.c.id.in_(ids))
    for n, row in enumerate(stored):
        assert row["status"] == changes[n]["status"]
        assert row["reason"] == changes[n]["reason"]
        assert row["details"] == changes[n]["details"]
        assert (row["attempts"], row["updated_at"]) == (1, later)
    raw = session.execute(
        text("SELECT id, details, updated_at FROM migration_items ORDER BY id")
    ).all()
    assert raw[0][1:] == raw[4][1:] and raw[2][1:] == raw[6][1:]  # stored alike, bytes too


def test_update_many_wants_the_key(session: Session) -> None:
    with pytest.raises(ValueError, match="key column 'id'"):
        update_many(session, ITEMS, [{"status": MigrationItemStatus.FAILED}])
    update_many(session, ITEMS, [])  # nothing to do
