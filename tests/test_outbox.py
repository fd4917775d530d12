"""The transactional outbox: queued with the caller's transaction, once per idempotency key."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import Locale, MessageStatus
from db.models import Message
from domain.clock import FixedClock
from domain.context import App
from domain.emails.outbox import (
    EnqueueResult,
    OutboxError,
    OutboxItem,
    enqueue,
    enqueue_many,
    enqueue_new,
)
from domain.emails.recipients import plainly_deliverable, smtp_address
from domain.emails.rendered import RenderedEmail
from tests import factories

RENDERED = RenderedEmail(
    subject="Please register your email address",
    text="Dear customer,\n\nplease register.\n",
    html="<p>Dear customer,</p><p>please register.</p>",
)


def put(session: Session, clock: FixedClock, key: str = "reminder:T-7:org:1", **kw: Any) -> Any:
    arguments: dict[str, Any] = {
        "key": key,
        "template": "reminder",
        "locale": "en",
        "to_address": "taro@owner.example",
        "to_name": "Taro Yamada",
        "rendered": RENDERED,
        "clock": clock,
        **kw,
    }
    return enqueue(session, **arguments)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Message)) or 0


def test_enqueue_stores_the_rendered_message_ready_to_send(
    session: Session, clock: FixedClock
) -> None:
    org = factories.organization(session, clock)
    result = put(session, clock, organization_id=org.id, campaign_step="T-7", locale=Locale.JA)
    session.commit()

    assert result == EnqueueResult(key="reminder:T-7:org:1", created=True)
    row = session.scalars(select(Message)).one()
    assert (row.subject, row.body_text, row.body_html) == (
        RENDERED.subject,
        RENDERED.text,
        RENDERED.html,
    )
    assert row.status is MessageStatus.QUEUED
    assert row.attempts == 0
    assert row.created_at == row.next_attempt_at == clock.now()
    assert (row.organization_id, row.campaign_step, row.locale) == (org.id, "T-7", Locale.JA)
    assert (row.to_address, row.to_name, row.template) == (
        "taro@owner.example",
        "Taro Yamada",
        "reminder",
    )
    assert row.message_id is None and row.sent_at is None


def test_the_same_key_twice_is_a_no_op_not_an_error(session: Session, clock: FixedClock) -> None:
    assert put(session, clock).created
    session.commit()
    again = put(
        session,
        clock,
        to_address="someone.else@owner.example",
        rendered=RenderedEmail("Other", "other", "<p>other</p>"),
    )
    # The transaction is still usable after the conflict (PostgreSQL aborts it on an error).
    assert put(session, clock, key="reminder:T-7:org:2").created
    session.commit()

    assert again == EnqueueResult(key="reminder:T-7:org:1", created=False)
    rows = {row.idempotency_key: row for row in session.scalars(select(Message))}
    assert set(rows) == {"reminder:T-7:org:1", "reminder:T-7:org:2"}
    assert rows["reminder:T-7:org:1"].to_address == "taro@owner.example"
    assert rows["reminder:T-7:org:1"].subject == RENDERED.subject


def test_a_rolled_back_cause_leaves_no_email(app: App, clock: FixedClock) -> None:
    with pytest.raises(RuntimeError), app.unit_of_work() as session:
        put(session, clock)
        raise RuntimeError("the registration could not be saved")
    with app.sessions() as session:
        assert count(session) == 0


def test_two_transactions_racing_for_one_key_queue_it_once(app: App, clock: FixedClock) -> None:
    first = app.sessions()
    assert put(first, clock).created  # holds the key, uncommitted
    results: list[EnqueueResult] = []

    def second() -> None:
        with app.sessions() as session:
            results.append(put(session, clock, to_address="other@owner.example"))
            session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # waits for the first transaction's verdict on the key
    first.commit()
    first.close()
    thread.join(timeout=30)

    assert results == [EnqueueResult(key="reminder:T-7:org:1", created=False)]
    with app.sessions() as session:
        assert session.scalars(select(Message.to_address)).all() == ["taro@owner.example"]


def test_enqueue_many_batches_its_rows(app: App, clock: FixedClock) -> None:
    """SQLite: one multi-row INSERT per thousand rows; PostgreSQL: one pipelined executemany
    on the driver's cursor (below SQLAlchemy, so the spy sees no INSERT there)."""
    with app.unit_of_work() as session:
        put(session, clock, key="campaign:17")  # already queued before the campaign
    items = [
        OutboxItem(
            key=f"campaign:{n}",
            template="reminder",
            locale="en" if n % 2 else "ja",
            to_address=f"user{n}@owner.example",
            to_name=f"User {n}",
            rendered=RENDERED,
            campaign_step="T-30",
        )
        for n in range(2500)
    ]
    items.append(items[5])  # the same key twice in one call
    inserts: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGES"):
            inserts.append(statement)

    event.listen(app.engine, "before_cursor_execute", spy)
    try:
        with app.unit_of_work() as session:
            result = enqueue_many(session, items, clock=clock)
    finally:
        event.remove(app.engine, "before_cursor_execute", spy)

    assert (result.total, result.created, result.existing) == (2500, 2499, 1)
    assert "campaign:17" not in result.created_keys
    assert len(inserts) == (0 if app.engine.dialect.name == "postgresql" else 3)
    with app.sessions() as session:
        assert count(session) == 2500
        assert (
            session.scalar(
                select(Message.to_address).where(Message.idempotency_key == "campaign:17")
            )
            == "taro@owner.example"
        )


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7])
def test_every_row_is_queued_however_the_rows_fall_into_statements(
    session: Session, clock: FixedClock, count: int
) -> None:
    """PostgreSQL sends three rows per statement and the rest in one more: each count of rows
    ends differently, and a key queued before may sit in any of them."""
    put(session, clock, key="k:1")
    items = [
        OutboxItem(
            key=f"k:{n}",
            template="reminder",
            locale="en",
            to_address=f"u{n}@owner.example",
            rendered=RENDERED,
        )
        for n in range(count)
    ]
    result = enqueue_many(session, iter(items), clock=clock)
    expected = {f"k:{n}" for n in range(count)} - {"k:1"}
    assert result.created_keys == expected
    assert (result.total, result.existing) == (count, count - len(expected))
    assert stored_keys(session) == {f"k:{n}" for n in range(max(count, 2))}


def stored_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Message.idempotency_key)))


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("taro@owner.example\r\nBcc: victim@attacker.example", "line break"),
        ("taro@owner.example\n", "line break"),
        ("taro@owner.example, hanako@owner.example", "single bare address"),
        ("Taro <taro@owner.example>", "single bare address"),
        ("taro@owner.example;hanako@owner.example", "single bare address"),
        ("taro.owner.example", "local@domain"),
        ("", "empty"),
        ("taro@@owner.example", "more than one @"),
        ("taro@owner..example", "not a valid domain"),
        ("taro..yamada@owner.example", "characters or dots"),
        ("ta ro@owner.example", "space or control"),
        ("x" * 65 + "@owner.example", "longer than 64 octets"),
    ],
)
def test_a_recipient_must_be_one_plain_address(
    session: Session, clock: FixedClock, address: str, problem: str
) -> None:
    with pytest.raises(OutboxError, match=problem):
        put(session, clock, to_address=address)
    assert count(session) == 0


def test_one_bad_item_leaves_the_whole_batch_unwritten(session: Session, clock: FixedClock) -> None:
    items = [
        OutboxItem(
            key=f"k:{n}",
            template="reminder",
            locale="en",
            to_address="bad address@x.example" if n == 3 else f"u{n}@owner.example",
            rendered=RENDERED,
        )
        for n in range(5)
    ]
    put(session, clock, key="before")  # earlier work of the same transaction
    # A generator too: on PostgreSQL rows 0-2 are already sent when row 3 is refused.
    with pytest.raises(OutboxError, match=r"message 'k:3'.*space"):
        enqueue_many(session, (item for item in items), clock=clock)
    assert session.scalars(select(Message.idempotency_key)).all() == ["before"]
    good = [item for item in items if item.key != "k:3"]
    assert enqueue_many(session, iter(good), clock=clock).created == 4  # the transaction lives on
    assert count(session) == 5


@pytest.mark.parametrize(
    "address",
    [
        "taro@aoshio.example",
        "a.b-c+d@x.co.jp",
        "b@aoshio..example",
        ".a@x.com",
        "a..b@x.com",
        "a@-x.com",
        "a@x",
        "ü@x.com",
        "a b@x.com",
        "x" * 65 + "@x.com",
        "a@x.com.",
        "a@" + "b" * 64 + ".com",
        "Taro.Yamada@Aoshio.Example",
        " taro@aoshio.example",
        "taro@aoshio.example\n",
        "a@b.c@d.com",
        "a@xn--r8jz45g.jp",
    ],
)
def test_the_quick_address_test_passes_only_what_the_full_check_accepts(address: str) -> None:
    if plainly_deliverable(address):
        assert smtp_address(address).address == address


def test_international_addresses_are_accepted_as_given(session: Session, clock: FixedClock) -> None:
    assert put(session, clock, to_address=" 山田@例え.jp ").created
    assert session.scalar(select(Message.to_address)) == "山田@例え.jp"


def test_header_fields_are_stored_on_one_line(session: Session, clock: FixedClock) -> None:
    put(
        session,
        clock,
        to_name="Taro\r\nBcc: victim@attacker.example",
        rendered=RenderedEmail("Hello\r\n  there\tyou", "text", "<p>html</p>"),
    )
    row = session.scalars(select(Message)).one()
    assert row.to_name == "Taro Bcc: victim@attacker.example"
    assert row.subject == "Hello there you"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("key", "", "non-empty"),
        ("key", "k\n1", "one line"),
        ("key", "k" * 201, "at most 200"),
        ("rendered", RenderedEmail("", "t", "h"), "subject is empty"),
        ("rendered", RenderedEmail("s" * 501, "t", "h"), "at most 500"),
        ("locale", "fr", "'fr' is not a valid Locale"),
        ("template", "", "template name is empty"),
    ],
)
def test_invalid_fields_are_refused_with_the_reason(
    session: Session, clock: FixedClock, field: str, value: Any, problem: str
) -> None:
    with pytest.raises(OutboxError, match=problem):
        put(session, clock, **{field: value})


def test_send_after_delays_the_message(app: App, clock: FixedClock) -> None:
    later = clock.now() + dt.timedelta(hours=3)
    with app.unit_of_work() as session:
        put(session, clock, send_after=later)
        put(session, clock, key="past", send_after=clock.now() - dt.timedelta(days=1))
        with pytest.raises(ValueError, match="naive"):
            put(session, clock, key="naive", send_after=dt.datetime(2025, 7, 1, 12, 0))
    with app.sessions() as session:
        due = dict(session.execute(select(Message.idempotency_key, Message.next_attempt_at)).all())
    assert due == {"reminder:T-7:org:1": later, "past": clock.now()}


def items_for(keys: list[str], **changes: Any) -> list[OutboxItem]:
    fields: dict[str, Any] = {
        "template": "migration_activation",
        "locale": Locale.JA,
        "to_name": "山田 太郎",
        "rendered": RENDERED,
    }
    return [
        OutboxItem(key=key, **{"to_address": f"u{n}@owner.example", **fields, **changes})
        for n, key in enumerate(keys)
    ]


def test_new_keys_are_stored_as_enqueue_many_stores_them(
    session: Session, clock: FixedClock
) -> None:
    org = factories.organization(session, clock)
    enqueue_many(session, items_for(["many:0"], organization_id=org.id), clock=clock)
    queued = enqueue_new(session, iter(items_for(["new:0"], organization_id=org.id)), clock=clock)
    session.commit()
    assert queued == 1
    many, new = (
        session.scalars(select(Message).where(Message.idempotency_key == k)).one()
        for k in ("many:0", "new:0")
    )
    columns = [c.key for c in Message.__table__.columns if c.key not in ("id", "idempotency_key")]
    assert {c: getattr(new, c) for c in columns} == {c: getattr(many, c) for c in columns}


def test_new_keys_in_bulk_all_or_nothing(session: Session, clock: FixedClock) -> None:
    items = items_for([f"k:{n}" for n in range(7)] + ["k:0"])  # a repeat: queued once
    put(session, clock, key="before")
    bad = [*items[:4], items_for(["k:bad"], to_address="bad address@x.example")[0], *items[4:]]
    # A generator: on PostgreSQL four rows are on their way when the fifth is refused.
    with pytest.raises(OutboxError, match=r"message 'k:bad'.*space"):
        enqueue_new(session, (item for item in bad), clock=clock)
    assert stored_keys(session) == {"before"}
    assert enqueue_new(session, iter(items), clock=clock) == 7  # the transaction lives on
    assert stored_keys(session) == {"before", *(f"k:{n}" for n in range(7))}


def test_a_new_key_that_exists_is_an_error_not_a_second_email(
    session: Session, clock: FixedClock
) -> None:
    put(session, clock, key="k:1")
    with pytest.raises(IntegrityError):
        enqueue_new(session, items_for(["k:0", "k:1", "k:2"]), clock=clock)
