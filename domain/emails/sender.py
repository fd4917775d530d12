"""The outbox sender: claims due messages in batches and delivers them over one SMTP connection.

For each batch: claim and commit (so no other sender takes these messages), then send one
message after the other over the same connection, and commit the results every
`RECORD_EVERY` messages — a crash loses at most that many results, whose messages are sent once
more after their lease expires (at least once, never silently dropped). The relay sees one
command at a time (no PIPELINING); the sender uses the time the relay spends accepting a
message's data to compose the next message and commit results, which is where most of its
throughput comes from (see bench/email_delivery.py).

Temporary failures (4xx, timeouts, dropped or refused connections) are retried after
``mail_retry_base_seconds * 2 ** (attempts - 1)`` (capped, plus up to 10 % jitter so that a
batch refused together does not come back together) until ``mail_max_attempts``; permanent
failures (5xx) fail at once with the relay's reply in ``last_error``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.enums import MessageStatus
from domain.clock import Clock
from domain.context import App
from domain.emails.claims import Claimed, Outcome, claim, record, release, renew
from domain.emails.mime import Composed, Composer
from domain.emails.recipients import RecipientError
from domain.emails.transport import (
    DeliveryError,
    RelayUnavailable,
    SmtpTransport,
    Transport,
)
from domain.settings import Settings

log = logging.getLogger(__name__)

RECORD_EVERY = 100  # results per commit: what a crash can cost in duplicate sends
MAX_RETRY_DELAY = dt.timedelta(hours=6)
RETRY_JITTER = 0.1
# A rate-limited batch must be sent well within its lease, or another sender could take it over.
LEASE_SHARE_PER_BATCH = 0.5

Sleep = Callable[[float], None]


@dataclass
class DeliverySummary:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0  # claims given back untried because the run stopped early
    seconds: float = 0.0
    connections: int = 0
    relay_error: str | None = None  # why the run stopped early, if the relay was unreachable

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def messages_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def retry_delay(
    attempts: int, base_seconds: float, rng: random.Random | None = None
) -> dt.timedelta:
    """How long to wait before attempt number ``attempts + 1`` (``attempts`` ≥ 1 made so far)."""
    delay = min(
        dt.timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)),
        MAX_RETRY_DELAY,
    )
    jitter = (rng or random).random() * RETRY_JITTER
    return delay * (1 + jitter)


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class _Pacer:
    """Spaces sends ``1 / rate`` seconds apart on the injected clock, sleeping for real."""

    def __init__(self, rate_per_second: float, clock: Clock, sleep: Sleep) -> None:
        self._interval = dt.timedelta(seconds=1 / rate_per_second) if rate_per_second else None
        self._clock = clock
        self._sleep = sleep
        self._next: dt.datetime | None = None

    def wait_needed(self) -> float:
        if self._interval is None or self._next is None:
            return 0.0
        return max((self._next - self._clock.now()).total_seconds(), 0.0)

    def wait(self) -> None:
        if self._interval is None:
            return
        now = self._clock.now()
        if self._next is not None and now < self._next:
            self._sleep((self._next - now).total_seconds())
            # Schedule from the slot, not from the clock: a sleep that overshoots does not slow
            # the whole run down, and a test clock that does not move still sees exact spacing.
            now = self._next
        self._next = now + self._interval


class Sender:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sessions: sessionmaker[Session],
        *,
        transport: Transport | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        worker: str | None = None,
        record_every: int = RECORD_EVERY,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.sessions = sessions
        self.worker = worker or worker_name()
        self.composer = Composer(settings)
        self._transport = transport
        self.pacer = _Pacer(settings.mail_rate_per_second, clock, sleep)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.record_every = max(record_every, 1)
        self.lease = dt.timedelta(seconds=settings.mail_claim_seconds)

    def run(self, *, limit: int | None = None, key_prefix: str | None = None) -> DeliverySummary:
        """Deliver due messages until none is left (or `limit` were claimed)."""
        started = time.perf_counter()
        summary = DeliverySummary()
        transport = self._transport or SmtpTransport(self.settings)
        try:
            with self.sessions() as session:
                while limit is None or summary.claimed < limit:
                    size = self._batch_size(None if limit is None else limit - summary.claimed)
                    batch = self._claim(session, size, key_prefix)
                    summary.claimed += len(batch)
                    if batch:
                        self._deliver(session, transport, batch, summary)
                    if len(batch) < size or summary.relay_error:
                        break
        finally:
            if self._transport is None:
                transport.close()
            summary.connections = getattr(transport, "connections", 0)
            summary.seconds = time.perf_counter() - started
        return summary

    def _batch_size(self, remaining: int | None) -> int:
        size = self.settings.mail_batch_size
        rate = self.settings.mail_rate_per_second
        if rate:
            size = min(size, max(1, int(rate * self.lease.total_seconds() * LEASE_SHARE_PER_BATCH)))
        return size if remaining is None else min(size, remaining)

    def _claim(self, session: Session, size: int, key_prefix: str | None) -> list[Claimed]:
        now = self.clock.now()
        batch = claim(
            session,
            worker=self.worker,
            now=now,
            lease_until=now + self.lease,
            limit=size,
            key_prefix=key_prefix,
        )
        session.commit()
        return batch

    def _deliver(
        self,
        session: Session,
        transport: Transport,
        batch: list[Claimed],
        summary: DeliverySummary,
    ) -> None:
        _Batch(self, session, transport, batch, summary).deliver()

    def compose(self, transport: Transport, message: Claimed) -> tuple[str, Composed]:
        """The message's bytes, and its Message-ID (kept from an earlier attempt if any)."""
        message_id = message.message_id or self.composer.new_message_id()
        try:
            composed = self.composer.compose(
                to_address=message.to_address,
                to_name=message.to_name,
                subject=message.subject,
                text=message.text,
                html=message.html,
                message_id=message_id,
                date=self.clock.now(),
                eight_bit=transport.offers("8bitmime"),
            )
        except RecipientError as exc:
            raise _Undeliverable(message_id, str(exc)) from None
        return message_id, composed

    def sent(self, message: Claimed, message_id: str) -> Outcome:
        return Outcome(
            id=message.id,
            status=MessageStatus.SENT,
            attempts=message.attempts + 1,
            next_attempt_at=message.next_attempt_at,
            message_id=message_id,
            sent_at=self.clock.now(),
        )

    def failure(self, message: Claimed, message_id: str | None, error: DeliveryError) -> Outcome:
        attempts = message.attempts + 1
        message_id = message_id or message.message_id or self.composer.new_message_id()
        if error.permanent:
            status, reason = MessageStatus.FAILED, error.reason
            next_attempt_at = message.next_attempt_at
        elif attempts >= self.settings.mail_max_attempts:
            status = MessageStatus.FAILED
            reason = f"gave up after {attempts} attempts: {error.reason}"
            next_attempt_at = message.next_attempt_at
        else:
            status, reason = MessageStatus.QUEUED, error.reason
            next_attempt_at = self.clock.now() + retry_delay(
                attempts, self.settings.mail_retry_base_seconds, self._rng
            )
        return Outcome(
            id=message.id,
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            message_id=message_id,
            last_error=reason,
        )


class _Undeliverable(Exception):
    """The row cannot become a message (its address is unusable): fail it, permanently."""

    def __init__(self, message_id: str, reason: str) -> None:
        super().__init__(reason)
        self.message_id = message_id
        self.error = DeliveryError(reason, permanent=True)


class _Batch:
    """One claimed batch on its way through the connection.

    While the relay digests a message's last line, the next message is composed and finished
    results are committed: `start` hands a message over, `land` reads its verdict just before
    the next one goes out. The relay still sees one command at a time.
    """

    def __init__(
        self,
        sender: Sender,
        session: Session,
        transport: Transport,
        batch: list[Claimed],
        summary: DeliverySummary,
    ) -> None:
        self.sender = sender
        self.session = session
        self.transport = transport
        self.batch = batch
        self.summary = summary
        self.pending: list[Outcome] = []  # settled, not yet committed
        self.unsettled = {message.id for message in batch}  # ours, without an outcome yet
        self.in_flight: tuple[Claimed, str] | None = None
        clock = sender.clock
        self.renew_at = clock.now() + sender.lease * 0.5

    def deliver(self) -> None:
        try:
            for index, message in enumerate(self.batch):
                if message.id not in self.unsettled:
                    continue  # lost at a lease renewal
                try:
                    self._one(message)
                except RelayUnavailable as exc:
                    self._give_up(index, exc)
                    break
            self.land()
            self.flush()
        except BaseException:
            # Keep what was really sent, and hand back what was not, before giving up.
            try:
                self.session.rollback()
                self.flush()
                self.summary.released += release(
                    self.session, worker=self.sender.worker, ids=self.unsettled
                )
                self.session.commit()
            except Exception:
                log.exception("could not record results after an error; leases will expire")
            raise

    def _one(self, message: Claimed) -> None:
        sender = self.sender
        try:
            # With a message in flight, this overlaps the relay's work on it.
            message_id, composed = sender.compose(self.transport, message)
        except _Undeliverable as exc:
            self.land()
            self.settle(sender.failure(message, exc.message_id, exc.error))
            return
        self.land()
        if sender.pacer.wait_needed() > 0:
            self.flush()  # do not sit on finished results while sleeping
        sender.pacer.wait()
        if sender.clock.now() >= self.renew_at:
            self.renew()
            if message.id not in self.unsettled:
                return
        try:
            self.transport.start(composed)
        except RelayUnavailable:
            raise
        except DeliveryError as exc:
            self.settle(sender.failure(message, message_id, exc))
            return
        self.in_flight = (message, message_id)
        if len(self.pending) >= sender.record_every:
            self.flush()  # overlaps the relay's work too

    def land(self) -> None:
        """Read the verdict on the message in flight, if any."""
        if self.in_flight is None:
            return
        message, message_id = self.in_flight
        self.in_flight = None
        try:
            self.transport.finish()
        except DeliveryError as exc:
            self.settle(self.sender.failure(message, message_id, exc))
        else:
            self.settle(self.sender.sent(message, message_id))

    def settle(self, outcome: Outcome) -> None:
        self.unsettled.discard(outcome.id)
        self.pending.append(outcome)
        if outcome.status is MessageStatus.SENT:
            self.summary.sent += 1
        elif outcome.status is MessageStatus.QUEUED:
            self.summary.retried += 1
        else:
            self.summary.failed += 1

    def flush(self) -> None:
        if not self.pending:
            return
        written = record(self.session, worker=self.sender.worker, outcomes=self.pending)
        self.session.commit()
        if 0 <= written < len(self.pending):
            log.warning(
                "%d result(s) not recorded: their lease expired and another sender claimed them",
                len(self.pending) - written,
            )
        self.pending.clear()

    def renew(self) -> None:
        self.flush()
        sender = self.sender
        kept = renew(
            self.session,
            worker=sender.worker,
            ids=self.unsettled,
            lease_until=sender.clock.now() + sender.lease,
        )
        self.session.commit()
        if len(kept) < len(self.unsettled):
            log.warning(
                "%d claim(s) were taken over by another sender", len(self.unsettled) - len(kept)
            )
        self.unsettled &= kept
        self.renew_at = sender.clock.now() + sender.lease * 0.5

    def _give_up(self, index: int, exc: RelayUnavailable) -> None:
        # Nothing will get through; every message left in the batch waits its turn.
        self.land()
        self.summary.relay_error = exc.reason
        log.warning("stopping delivery: %s", exc.reason)
        for rest in self.batch[index:]:
            if rest.id in self.unsettled:
                self.settle(self.sender.failure(rest, None, exc))


def drain(
    app: App,
    *,
    limit: int | None = None,
    only_keys_prefix: str | None = None,
    transport: Transport | None = None,
    sleep: Sleep = time.sleep,
) -> DeliverySummary:
    """Deliver what is due now; what flows call at their end, and what the outbox flow runs.

    `only_keys_prefix` restricts the run to one flow's own messages (``reminder:T-7:``).
    """
    sender = Sender(app.settings, app.clock, app.sessions, transport=transport, sleep=sleep)
    return sender.run(limit=limit, key_prefix=only_keys_prefix)
