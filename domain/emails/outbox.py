"""The transactional outbox: an email is a row written in the same transaction as its cause.

`enqueue` and `enqueue_many` only add rows to the caller's transaction; the caller commits (or
rolls back, and then no email exists). The sender (`domain.emails.sender`) delivers them later.

Each message carries an idempotency key (``reminder:T-7:org:123``). Queueing a key that is
already there does nothing, with ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING``: a flow
that runs twice, or two flows racing, never produce a second email, and — unlike catching an
IntegrityError — the conflict does not abort the caller's PostgreSQL transaction.

The rendered subject and bodies are stored, so what was sent is what the row shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, Insert, Table, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from db.enums import Locale, MessageStatus
from db.inserts import insert_ignoring, insert_many
from db.models import Message
from domain.clock import Clock, as_utc
from domain.emails.mime import single_line
from domain.emails.recipients import RecipientError, check_recipient
from domain.emails.rendered import RenderedEmail

_LIMITS = {
    "idempotency_key": 200,
    "template": 100,
    "to_name": 200,
    "subject": 500,
    "campaign_step": 100,
}
_TABLE = cast(Table, Message.__table__)


class OutboxError(ValueError):
    """A message cannot be queued as given; the message names the field and the problem."""


@dataclass(frozen=True)
class OutboxItem:
    """One message to queue; see `enqueue` for the fields."""

    key: str
    template: str
    locale: Locale | str
    to_address: str
    rendered: RenderedEmail
    to_name: str | None = None
    organization_id: int | None = None
    registration_id: int | None = None
    person_id: int | None = None
    campaign_step: str | None = None
    send_after: dt.datetime | None = None


@dataclass(frozen=True)
class EnqueueResult:
    key: str
    created: bool  # False: a message with this key was already queued (or sent); nothing changed


@dataclass(frozen=True)
class BulkEnqueueResult:
    created_keys: frozenset[str]
    total: int  # distinct keys offered

    @property
    def created(self) -> int:
        return len(self.created_keys)

    @property
    def existing(self) -> int:
        return self.total - self.created


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    locale: Locale | str,
    to_address: str,
    to_name: str | None,
    rendered: RenderedEmail,
    clock: Clock,
    organization_id: int | None = None,
    registration_id: int | None = None,
    person_id: int | None = None,
    campaign_step: str | None = None,
    send_after: dt.datetime | None = None,
) -> EnqueueResult:
    """Queue one message in the caller's transaction, unless its key is already queued."""
    item = OutboxItem(
        key=key,
        template=template,
        locale=locale,
        to_address=to_address,
        to_name=to_name,
        rendered=rendered,
        organization_id=organization_id,
        registration_id=registration_id,
        person_id=person_id,
        campaign_step=campaign_step,
        send_after=send_after,
    )
    result = enqueue_many(session, [item], clock=clock)
    return EnqueueResult(key=key, created=result.created == 1)


def enqueue_many(
    session: Session, items: Iterable[OutboxItem], *, clock: Clock
) -> BulkEnqueueResult:
    """Queue many messages (a campaign step) in the caller's transaction.

    All or nothing: if any item is refused (`OutboxError`), none of them stays written and the
    transaction is as it was. A key repeated within `items` is queued once, first one wins.
    `items` may be a generator: on PostgreSQL rows are sent while later ones are still being
    produced (rendered), so the server inserts while Python renders.
    """
    now = clock.now()
    if session.get_bind().dialect.name == "postgresql":
        offered: set[str] = set()
        created = _insert_pipelined(session, _distinct_rows(items, now, offered))
        return BulkEnqueueResult(created_keys=frozenset(created), total=len(offered))
    # SQLite: every row is checked before any is written. Executed with a list of rows,
    # SQLAlchemy's "insertmanyvalues" sends one multi-row INSERT per page from one compilation.
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.key not in rows:
            rows[item.key] = _row(item, now)
    if not rows:
        return BulkEnqueueResult(created_keys=frozenset(), total=0)
    inserted = session.execute(_insert(session), list(rows.values())).scalars().all()
    return BulkEnqueueResult(created_keys=frozenset(inserted), total=len(rows))


def enqueue_new(session: Session, items: Iterable[OutboxItem], *, clock: Clock) -> int:
    """Queue messages whose keys cannot be queued yet, in bulk; returns how many were queued.

    For keys new by construction: each carries a fresh random token (an activation link's hash),
    and whether the message is due at all was decided in the caller's transaction (a person with
    a live link gets none). Such rows need no conflict check and no RETURNING, so they go as a
    plain bulk INSERT (COPY on PostgreSQL, streamed as `items` renders). A key that is there
    anyway breaks the unique constraint: an error, never a second email. All or nothing like
    `enqueue_many`: an item refused (`OutboxError`) leaves none of them written.
    """
    now = clock.now()
    offered: set[str] = set()
    rows = _distinct_rows(items, now, offered)
    if session.get_bind().dialect.name == "postgresql":
        # COPY stops at the refused row; the savepoint takes back what went before it.
        with session.begin_nested():
            return insert_many(session, _TABLE, rows)
    # SQLite's executemany keeps the rows before a failure: every row is checked first.
    return insert_many(session, _TABLE, list(rows))


def _distinct_rows(
    items: Iterable[OutboxItem], now: dt.datetime, offered: set[str]
) -> Iterator[dict[str, Any]]:
    """The rows of the items whose key was not offered before, adding each key to `offered`."""
    for item in items:
        if item.key not in offered:
            row = _row(item, now)
            offered.add(item.key)
            yield row


def enqueue_deliverable(
    session: Session, items: Iterable[OutboxItem], *, clock: Clock
) -> tuple[BulkEnqueueResult, list[OutboxItem]]:
    """`enqueue_many`, leaving out the items whose address the outbox refuses (an address on
    file can be malformed); returns the result and the items left out. Any other problem with
    the items is raised as `enqueue_many` raises it."""
    pending = iter(items)
    seen: list[OutboxItem] = []

    def remembered() -> Iterator[OutboxItem]:
        for item in pending:
            seen.append(item)
            yield item

    try:
        return enqueue_many(session, remembered(), clock=clock), []
    except OutboxError:
        # enqueue_many left nothing written; `pending` resumes after the item it refused.
        seen.extend(pending)
        refused = [item for item in seen if not usable_address(item.to_address)]
        if not refused:
            raise  # not an address problem: let it be seen
        left_out = {id(item) for item in refused}
        kept = [item for item in seen if id(item) not in left_out]
        return enqueue_many(session, kept, clock=clock), refused


def usable_address(address: str) -> bool:
    """Whether the outbox would take `address` as a recipient."""
    try:
        check_recipient(address)
    except RecipientError:
        return False
    return True


def _insert(session: Session) -> Insert:
    statement = insert_ignoring(session, _TABLE, "idempotency_key")
    # RETURNING reports only the rows actually inserted: that is how we learn which keys are new.
    return statement.returning(_TABLE.c.idempotency_key)


_SAVEPOINT = "switchover_outbox"
# Rows per INSERT statement on PostgreSQL: 3 × 16 columns stay under the 50 parameters above
# which psycopg stops caching a statement's parsing, and a third of the statements means a third
# of psycopg's per-statement work (sending, polling for answers), the most of its cost per row.
_ROWS_PER_STATEMENT = 3


def _insert_pipelined(session: Session, rows: Iterator[dict[str, Any]]) -> list[str]:
    """The rows through psycopg's pipelined executemany, in the session's transaction.

    A message row is ~7 KB. As large multi-row INSERTs (SQLAlchemy's insertmanyvalues) psycopg
    parses each page's parameters anew and waits for every page's answer; one prepared
    three-row INSERT streamed in pipeline mode keeps the server busy instead. `rows` is consumed
    as it is sent, so a caller that renders lazily overlaps its rendering with the server's
    inserting (two cores, both busy). A row refused midway undoes the rows before it through a
    savepoint. RETURNING says which keys were new (a key already queued returns nothing).
    SQLAlchemy's type processing is bypassed, so the rows hold plain values (`_row` makes them
    so). A message or two (a confirmation, a reset link) takes one plain statement.
    """
    # The first rows are taken (and checked) before anything is sent.
    head = list(itertools.islice(rows, _ROWS_PER_STATEMENT))
    if not head:
        return []
    connection = session.connection()
    columns = tuple(head[0])
    driver = connection.connection.driver_connection
    created: list[str] = []
    if len(head) < _ROWS_PER_STATEMENT:
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(_sql(connection.dialect, columns, len(head)), _parameters(head, columns))
            return [key for (key,) in cursor.fetchall()]
    leftover: list[dict[str, Any]] = []

    def statements() -> Iterator[dict[str, Any]]:
        yield _parameters(head, columns)
        group: list[dict[str, Any]] = []
        for row in rows:
            group.append(row)
            if len(group) == _ROWS_PER_STATEMENT:
                yield _parameters(group, columns)
                group = []
        leftover.extend(group)

    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            sql = _sql(connection.dialect, columns, _ROWS_PER_STATEMENT)
            cursor.executemany(sql, statements(), returning=True)
            while True:
                created.extend(key for (key,) in cursor.fetchall())
                if not cursor.nextset():
                    break
            if leftover:
                sql = _sql(connection.dialect, columns, len(leftover))
                cursor.execute(sql, _parameters(leftover, columns))
                created.extend(key for (key,) in cursor.fetchall())
        except OutboxError:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            raise
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return created


@functools.lru_cache(maxsize=16)
def _parameter_names(columns: tuple[str, ...], count: int) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(f"{column}__{n}" for column in columns) for n in range(count))


@functools.lru_cache(maxsize=16)
def _sql(dialect: Dialect, columns: tuple[str, ...], count: int) -> str:
    """The INSERT of `count` rows of `columns`, compiled once (a confirmation email per portal
    request would otherwise compile it every time)."""
    statement = postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"])
    values: list[dict[str, Any]] = [
        {column: bindparam(name) for column, name in zip(columns, names, strict=True)}
        for names in _parameter_names(columns, count)
    ]
    returning = statement.values(values).returning(_TABLE.c.idempotency_key)
    return str(returning.compile(dialect=dialect))


def _parameters(group: list[dict[str, Any]], columns: tuple[str, ...]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for row, names in zip(group, _parameter_names(columns, len(group)), strict=True):
        parameters.update(zip(names, [row[column] for column in columns], strict=True))
    return parameters


def _row(item: OutboxItem, now: dt.datetime) -> dict[str, Any]:
    key = item.key.strip() if isinstance(item.key, str) else ""
    if not key or key != item.key or any(ch in key for ch in "\r\n\t"):
        raise OutboxError(f"idempotency key {item.key!r} must be non-empty, on one line, trimmed")
    try:
        to_address = check_recipient(item.to_address)
        locale = Locale(item.locale)
        send_after = None if item.send_after is None else as_utc(item.send_after)
    except ValueError as exc:
        raise OutboxError(f"message {key!r}: {exc}") from None
    # Header fields are stored as they will be sent: on one line (see mime.single_line).
    subject = single_line(item.rendered.subject)
    if not subject:
        raise OutboxError(f"message {key!r}: the subject is empty")
    values: dict[str, Any] = {
        "idempotency_key": key,
        "template": item.template,
        # Enum members as their values: psycopg (pipelined path) would send their names.
        "locale": locale.value,
        "to_address": to_address,
        "to_name": single_line(item.to_name) or None,
        "subject": subject,
        "body_text": item.rendered.text,
        "body_html": item.rendered.html,
        "organization_id": item.organization_id,
        "registration_id": item.registration_id,
        "person_id": item.person_id,
        "campaign_step": item.campaign_step,
        "status": MessageStatus.QUEUED.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now if send_after is None else max(send_after, now),
    }
    for field, limit in _LIMITS.items():
        value = values[field]
        if value is not None and len(value) > limit:
            raise OutboxError(
                f"message {key!r}: {field} is {len(value)} characters, at most {limit} fit"
            )
    if not item.template:
        raise OutboxError(f"message {key!r}: the template name is empty")
    return values
