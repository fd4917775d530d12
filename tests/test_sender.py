"""The sender against real SMTP servers on localhost: delivery, retries, failures, concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import ssl
import threading
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import MessageStatus
from db.models import Message
from domain.clock import FixedClock
from domain.context import App
from domain.emails.claims import claim
from domain.emails.mime import Composed
from domain.emails.outbox import OutboxItem, enqueue, enqueue_many
from domain.emails.rendered import RenderedEmail
from domain.emails.sender import Sender, drain, retry_delay
from domain.emails.transport import RelayConfigurationError, SmtpTransport
from tests.smtp_servers import (
    DROP,
    ScriptedHandler,
    Server,
    free_port,
    password_checker,
    self_signed_certificate,
    smtp_server,
)

TEXT = "Dear Taro Yamada,\n\nPlease register your email address before 14 September 2025.\n"
HTML = "<p>Dear Taro Yamada,</p>\n<p>Please register your email address.</p>\n"


def rendered(subject: str = "Please register your email address") -> RenderedEmail:
    return RenderedEmail(subject=subject, text=TEXT, html=HTML)


def queue(app: App, count: int, *, prefix: str = "reminder:T-7", **overrides: object) -> None:
    items = [
        OutboxItem(
            key=f"{prefix}:{n}",
            template="reminder",
            locale="en",
            to_address=f"user{n}@owner.example",
            to_name=f"User {n}",
            rendered=rendered(f"Reminder {n}"),
            **overrides,  # type: ignore[arg-type]
        )
        for n in range(count)
    ]
    with app.unit_of_work() as session:
        enqueue_many(session, items, clock=app.clock)


def messages(app: App) -> list[Message]:
    with app.sessions() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def at(app: App, server: Server, **settings: object) -> App:
    """The same database and clock, with settings pointing at `server`."""
    updated = app.settings.model_copy(
        update={"smtp_host": server.host, "smtp_port": server.port, **settings}
    )
    return App(settings=updated, engine=app.engine, clock=app.clock)


@pytest.fixture
def relay() -> Iterator[Server]:
    with smtp_server() as server:
        yield server


def test_delivers_every_message_over_one_connection_with_complete_headers(
    app: App, relay: Server, clock: FixedClock
) -> None:
    with app.unit_of_work() as session:
        enqueue(
            session,
            key="verify:1",
            template="verify_email",
            locale="ja",
            to_address="taro@owner.example",
            to_name="山田 太郎",
            rendered=RenderedEmail(
                "【重要】メールアドレスの確認", "本文です。\n", "<p>本文です。</p>"
            ),
            clock=clock,
        )
    queue(app, 4)

    summary = drain(at(app, relay))

    assert (summary.claimed, summary.sent, summary.retried, summary.failed) == (5, 5, 0, 0)
    assert summary.connections == 1
    assert len(relay.handler.connections) == 1
    rows = {row.idempotency_key: row for row in messages(app)}
    assert {row.status for row in rows.values()} == {MessageStatus.SENT}
    assert all(row.attempts == 1 and row.sent_at == clock.now() for row in rows.values())
    by_id = {str(item.message["Message-ID"]): item for item in relay.handler.received}
    assert set(by_id) == {row.message_id for row in rows.values()}

    row = rows["verify:1"]
    received = by_id[row.message_id or ""]
    assert received.mail_from == "no-reply@portal.example.com"
    assert received.rcpt_tos == ("taro@owner.example",)
    mail = received.message
    assert mail["From"] == "Web Service Portal <no-reply@portal.example.com>"
    assert mail["To"] == "山田 太郎 <taro@owner.example>"
    assert mail["Reply-To"] == "cch-portal@classnk.or.jp"
    assert mail["Subject"] == "【重要】メールアドレスの確認"
    assert mail["Date"] == format_datetime(clock.now())
    assert mail["Auto-Submitted"] == "auto-generated"
    assert row.message_id and row.message_id.endswith("@portal.example.com>")
    assert mail.get_content_type() == "multipart/alternative"
    text, html = list(mail.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == "本文です。\n"
    assert html.get_content().replace("\r\n", "\n") == "<p>本文です。</p>\n"
    # The relay offers 8BITMIME: UTF-8 bodies travel as they are, and the envelope says so.
    assert text["Content-Transfer-Encoding"] == "8bit"
    assert "BODY=8BITMIME" in received.mail_options
    ascii_mail = next(item for item in relay.handler.received if item is not received)
    assert "BODY=8BITMIME" not in ascii_mail.mail_options


def test_a_relay_without_8bitmime_gets_7bit_bodies(app: App, clock: FixedClock) -> None:
    with app.unit_of_work() as session:
        enqueue(
            session,
            key="verify:1",
            template="verify_email",
            locale="ja",
            to_address="taro@owner.example",
            to_name="山田 太郎",
            rendered=RenderedEmail("確認", "本文です。\n", "<p>本文です。</p>"),
            clock=clock,
        )
    with smtp_server(ScriptedHandler(hide_extensions=("8BITMIME",))) as server:
        assert drain(at(app, server)).sent == 1
    [received] = server.handler.received
    assert received.data.isascii()
    assert "BODY=8BITMIME" not in received.mail_options
    text, _ = received.message.iter_parts()
    assert text.get_content() == "本文です。\n"


def test_a_temporary_refusal_is_retried_and_sent_exactly_once(app: App, clock: FixedClock) -> None:
    handler = ScriptedHandler(on_data=lambda n, _: "451 4.3.0 Try again later" if n == 1 else None)
    queue(app, 1)
    with smtp_server(handler) as server:
        first = drain(at(app, server, mail_retry_base_seconds=60))
        [row] = messages(app)
        assert (first.sent, first.retried) == (0, 1)
        assert row.status is MessageStatus.QUEUED
        assert row.attempts == 1
        assert row.last_error == "DATA: 451 4.3.0 Try again later"
        assert row.claimed_by is None
        delay = row.next_attempt_at - clock.now()
        assert dt.timedelta(seconds=60) <= delay <= dt.timedelta(seconds=66)

        assert drain(at(app, server)).claimed == 0  # not due yet
        clock.advance(delay)
        second = drain(at(app, server))

    [row_after] = messages(app)
    assert (second.sent, second.retried) == (1, 0)
    assert row_after.status is MessageStatus.SENT
    assert row_after.attempts == 2
    # The retry carries the Message-ID of the first attempt, so a receiver can tell them apart.
    assert row_after.message_id == row.message_id
    assert handler.message_ids() == {row.message_id: 1}


def test_a_permanent_refusal_fails_at_once_and_the_connection_carries_on(
    app: App, clock: FixedClock
) -> None:
    handler = ScriptedHandler(
        on_rcpt=lambda _, rcpt: (
            "550 5.1.1 <user1@owner.example>: no such user"
            if rcpt == "user1@owner.example"
            else None
        )
    )
    queue(app, 3)
    with smtp_server(handler) as server:
        summary = drain(at(app, server))
        clock.advance(days=1)
        again = drain(at(app, server))

    assert (summary.sent, summary.failed, summary.retried) == (2, 1, 0)
    assert summary.connections == 1
    assert again.claimed == 0
    failed = [row for row in messages(app) if row.status is MessageStatus.FAILED]
    assert [row.to_address for row in failed] == ["user1@owner.example"]
    assert failed[0].last_error == "RCPT TO: 550 5.1.1 <user1@owner.example>: no such user"
    assert failed[0].attempts == 1
    assert len(handler.received) == 2


def test_content_refused_after_the_data_fails_that_message_only(
    app: App, clock: FixedClock
) -> None:
    handler = ScriptedHandler(
        on_data=lambda n, _: "554 5.7.1 Message rejected as spam" if n == 2 else None
    )
    queue(app, 4)
    with smtp_server(handler) as server:
        summary = drain(at(app, server))

    assert (summary.sent, summary.failed, summary.connections) == (3, 1, 1)
    failed = [row for row in messages(app) if row.status is MessageStatus.FAILED]
    assert [row.last_error for row in failed] == ["DATA: 554 5.7.1 Message rejected as spam"]
    assert len(handler.received) == 3


def test_dropped_connections_lose_nothing_and_duplicate_nothing(
    app: App, clock: FixedClock
) -> None:
    handler = ScriptedHandler(on_data=lambda n, _: DROP if n in (4, 7, 8) else None)
    queue(app, 12)
    with smtp_server(handler) as server:
        first = drain(at(app, server))
        clock.advance(hours=1)
        second = drain(at(app, server))

    assert (first.sent, first.retried) == (9, 3)
    assert first.connections == 4  # reconnected after each drop
    assert (second.sent, second.retried) == (3, 0)
    rows = messages(app)
    assert {row.status for row in rows} == {MessageStatus.SENT}
    counts = handler.message_ids()
    assert sorted(counts) == sorted(row.message_id or "" for row in rows)
    assert set(counts.values()) == {1}
    assert sum(row.attempts == 2 for row in rows) == 3
    assert all(row.last_error is None for row in rows)


def test_out_of_attempts_the_message_fails_with_the_last_reason(
    app: App, clock: FixedClock
) -> None:
    handler = ScriptedHandler(on_data=lambda n, _: "452 4.2.2 Mailbox full")
    queue(app, 1)
    with smtp_server(handler) as server:
        target = at(app, server, mail_max_attempts=3, mail_retry_base_seconds=1)
        outcomes = []
        for _ in range(4):
            outcomes.append(drain(target))
            clock.advance(minutes=5)

    assert [(s.retried, s.failed) for s in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    [row] = messages(app)
    assert row.status is MessageStatus.FAILED
    assert row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: DATA: 452 4.2.2 Mailbox full"


def test_an_unreachable_relay_puts_the_batch_back_with_backoff(app: App, clock: FixedClock) -> None:
    queue(app, 3)
    settings = app.settings.model_copy(update={"smtp_port": free_port(), "smtp_timeout_seconds": 2})
    summary = drain(App(settings=settings, engine=app.engine, clock=clock))

    assert summary.relay_error is not None and "cannot connect" in summary.relay_error
    assert (summary.claimed, summary.retried, summary.sent) == (3, 3, 0)
    rows = messages(app)
    assert {row.status for row in rows} == {MessageStatus.QUEUED}
    assert all(row.attempts == 1 and row.next_attempt_at > clock.now() for row in rows)
    assert all(row.claimed_by is None for row in rows)


def test_two_senders_at_once_never_send_a_message_twice(app: App, relay: Server) -> None:
    queue(app, 240)
    target = at(app, relay, mail_batch_size=15)
    barrier = threading.Barrier(2)
    summaries = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sender = Sender(target.settings, target.clock, target.sessions, record_every=5)
            barrier.wait()
            summaries.append(sender.run())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(s.sent for s in summaries) == 240
    assert all(s.sent > 0 for s in summaries)  # both really took part
    counts = relay.handler.message_ids()
    assert len(counts) == 240 and set(counts.values()) == {1}
    assert {row.status for row in messages(app)} == {MessageStatus.SENT}


def test_claims_of_a_crashed_sender_are_taken_over_when_the_lease_expires(
    app: App, relay: Server, clock: FixedClock
) -> None:
    queue(app, 2)
    with app.sessions() as session:
        now = clock.now()
        lease = dt.timedelta(seconds=app.settings.mail_claim_seconds)
        crashed = claim(session, worker="crashed", now=now, lease_until=now + lease, limit=10)
        session.commit()
    assert len(crashed) == 2

    assert drain(at(app, relay)).claimed == 0
    clock.advance(lease)
    summary = drain(at(app, relay))

    assert summary.sent == 2
    assert all(row.claimed_by is None for row in messages(app))


class _SlowTransport:
    """Each send takes 40 % of the lease; on the third, another sender tries to claim."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.sent: list[str] = []
        self.stolen: list[int] = []

    def offers(self, extension: str) -> bool:
        return False

    def finish(self) -> None:
        pass

    def start(self, message: Composed) -> None:
        clock = self.app.clock
        assert isinstance(clock, FixedClock)
        clock.advance(seconds=self.app.settings.mail_claim_seconds * 0.4)
        if len(self.sent) == 2:
            with self.app.sessions() as session:
                now = clock.now()
                taken = claim(session, worker="thief", now=now, lease_until=now, limit=10)
                session.commit()
            self.stolen.extend(message.id for message in taken)
        self.sent.append(message.recipient)

    def close(self) -> None:
        pass


def test_a_long_batch_renews_its_lease_so_nobody_else_takes_it(app: App) -> None:
    queue(app, 5)
    transport = _SlowTransport(app)
    summary = drain(app, transport=transport)

    assert transport.stolen == []
    assert summary.sent == 5
    assert {row.status for row in messages(app)} == {MessageStatus.SENT}


def test_names_and_subjects_cannot_inject_headers(app: App, relay: Server) -> None:
    attack = "Taro\r\nBcc: victim@attacker.example\r\nX-Injected: yes"
    with app.unit_of_work() as session:
        enqueue(
            session,
            key="attack:1",
            template="reminder",
            locale="en",
            to_address="taro@owner.example",
            to_name=attack,
            rendered=RenderedEmail(f"Hello\nBcc: victim@attacker.example{attack}", TEXT, HTML),
            clock=app.clock,
        )
    with app.sessions() as session, session.begin():
        # Rows can also arrive from elsewhere (an import, an old version): the sender re-checks.
        row = session.scalars(select(Message)).one()
        row.subject = "Hi\r\nBcc: victim@attacker.example"
        row.to_name = "Eve\nX-Injected: yes"

    assert drain(at(app, relay)).sent == 1
    [received] = relay.handler.received
    assert received.rcpt_tos == ("taro@owner.example",)
    mail = received.message
    assert "Bcc" not in mail and "X-Injected" not in mail
    assert mail["Subject"] == "Hi Bcc: victim@attacker.example"
    assert mail["To"].addresses[0].display_name == "Eve X-Injected: yes"
    assert mail["To"].addresses[0].addr_spec == "taro@owner.example"


@pytest.mark.parametrize("server_has_smtputf8", [True, False])
def test_internationalized_addresses_need_smtputf8(
    app: App, clock: FixedClock, server_has_smtputf8: bool
) -> None:
    with app.unit_of_work() as session:
        for key, address in (("idn-domain", "taro@例え.jp"), ("idn-local", "山田@例え.jp")):
            enqueue(
                session,
                key=key,
                template="reminder",
                locale="ja",
                to_address=address,
                to_name="山田",
                rendered=rendered(),
                clock=clock,
            )
    with smtp_server(enable_SMTPUTF8=server_has_smtputf8) as server:
        summary = drain(at(app, server))

    rows = {row.idempotency_key: row for row in messages(app)}
    by_recipient = {item.rcpt_tos[0]: item for item in server.handler.received}
    # An internationalized domain travels as A-labels and needs nothing special.
    assert rows["idn-domain"].status is MessageStatus.SENT
    assert "SMTPUTF8" not in by_recipient["taro@xn--r8jz45g.jp"].mail_options
    if server_has_smtputf8:
        assert summary.sent == 2
        assert rows["idn-local"].status is MessageStatus.SENT
        received = by_recipient["山田@xn--r8jz45g.jp"]
        assert "SMTPUTF8" in received.mail_options
        # RFC 6532: on an SMTPUTF8 connection the header carries the address in raw UTF-8.
        assert "<山田@xn--r8jz45g.jp>\r\n".encode() in received.data
    else:
        assert (summary.sent, summary.failed) == (1, 1)
        assert rows["idn-local"].status is MessageStatus.FAILED
        assert "server does not support SMTPUTF8" in (rows["idn-local"].last_error or "")
        assert list(by_recipient) == ["taro@xn--r8jz45g.jp"]


def test_the_rate_limit_spaces_messages_on_the_clock(
    app: App, relay: Server, clock: FixedClock
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    queue(app, 5)
    summary = drain(at(app, relay, mail_rate_per_second=4), sleep=sleep)

    assert summary.sent == 5
    assert waits == pytest.approx([0.25, 0.25, 0.25, 0.25])
    sent_at = sorted(row.sent_at for row in messages(app) if row.sent_at)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert gaps == pytest.approx([0.25] * 4)


def test_without_a_rate_limit_nothing_sleeps(app: App, relay: Server) -> None:
    waits: list[float] = []
    queue(app, 3)
    assert drain(at(app, relay), sleep=waits.append).sent == 3
    assert waits == []


def test_a_rate_limited_batch_fits_in_its_lease(app: App, relay: Server) -> None:
    settings = at(app, relay, mail_rate_per_second=0.1, mail_claim_seconds=100).settings
    sender = Sender(settings, app.clock, app.sessions)
    assert sender._batch_size(None) == 5  # 0.1/s x 100 s x 50 %


def test_login_over_plain_smtp(app: App) -> None:
    queue(app, 2)
    checker = password_checker("portal", "s3cret")
    with smtp_server(authenticator=checker, auth_require_tls=False) as server:
        good = drain(at(app, server, smtp_username="portal", smtp_password=SecretStr("s3cret")))
        assert good.sent == 2
        queue(app, 1, prefix="later")
        with pytest.raises(RelayConfigurationError, match="refused the login of 'portal'"):
            drain(at(app, server, smtp_username="portal", smtp_password=SecretStr("wrong")))

    later = [row for row in messages(app) if row.idempotency_key.startswith("later")]
    # A configuration problem is not the message's fault: it goes back untried.
    assert [(row.status, row.attempts, row.claimed_by) for row in later] == [
        (MessageStatus.QUEUED, 0, None)
    ]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _contexts(cert: Path, key: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_starttls_then_login(app: App, tls_files: tuple[Path, Path]) -> None:
    server_context, client_context = _contexts(*tls_files)
    queue(app, 2)
    with smtp_server(
        tls_context=server_context,
        require_starttls=True,
        authenticator=password_checker("portal", "s3cret"),
    ) as server:
        target = at(
            app,
            server,
            smtp_security="starttls",
            smtp_username="portal",
            smtp_password=SecretStr("s3cret"),
        )
        transport = SmtpTransport(target.settings, ssl_context=client_context)
        with transport:
            summary = drain(target, transport=transport)

    assert summary.sent == 2
    assert transport.connections == 1


def test_starttls_required_but_not_offered(app: App, relay: Server) -> None:
    queue(app, 1)
    with pytest.raises(RelayConfigurationError, match="does not offer STARTTLS"):
        drain(at(app, relay, smtp_security="starttls"))
    assert [row.status for row in messages(app)] == [MessageStatus.QUEUED]


def test_an_untrusted_certificate_is_a_configuration_error(
    app: App, tls_files: tuple[Path, Path]
) -> None:
    server_context, _ = _contexts(*tls_files)
    queue(app, 1)
    with (
        smtp_server(tls_context=server_context) as server,
        pytest.raises(RelayConfigurationError, match="not trusted"),
    ):
        drain(at(app, server, smtp_security="starttls"))


def test_implicit_tls(app: App, tls_files: tuple[Path, Path]) -> None:
    server_context, client_context = _contexts(*tls_files)
    queue(app, 1)
    with smtp_server(ssl_context=server_context) as server:
        target = at(app, server, smtp_security="ssl")
        summary = drain(
            target, transport=SmtpTransport(target.settings, ssl_context=client_context)
        )
    assert summary.sent == 1


def test_a_connection_closed_while_idle_is_reopened_without_costing_an_attempt(
    app: App, relay: Server
) -> None:
    target = at(app, relay)
    transport = SmtpTransport(target.settings)
    sender = Sender(target.settings, target.clock, target.sessions, transport=transport)
    queue(app, 1)
    assert sender.run().sent == 1
    relay.drop_all_connections()
    queue(app, 1, prefix="second")
    summary = sender.run()
    transport.close()

    assert (summary.sent, summary.retried) == (1, 0)
    assert transport.connections == 2
    assert all(row.attempts == 1 for row in messages(app))


class _SlowHandler(ScriptedHandler):
    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        await asyncio.sleep(4)
        return "250 OK"


def test_a_timeout_is_temporary(app: App) -> None:
    queue(app, 1)
    with smtp_server(_SlowHandler()) as server:
        summary = drain(at(app, server, smtp_timeout_seconds=1))
    [row] = messages(app)
    assert summary.retried == 1
    assert row.status is MessageStatus.QUEUED
    assert "DATA: connection lost before the server confirmed" in (row.last_error or "")


def test_only_the_flows_own_messages_and_at_most_the_limit(app: App, relay: Server) -> None:
    queue(app, 3, prefix="verify_email")
    queue(app, 3, prefix="verifyXemail")  # "_" must not act as a LIKE wildcard
    target = at(app, relay)

    first = drain(target, only_keys_prefix="verify_email:", limit=2)
    rest = drain(target, only_keys_prefix="verify_email:")

    assert (first.claimed, first.sent, rest.sent) == (2, 2, 1)
    sent = sorted(row.idempotency_key for row in messages(app) if row.status is MessageStatus.SENT)
    assert sent == ["verify_email:0", "verify_email:1", "verify_email:2"]


class _CrashingTransport:
    def __init__(self, crash_on: int) -> None:
        self.crash_on = crash_on
        self.calls = 0

    def offers(self, extension: str) -> bool:
        return False

    def finish(self) -> None:
        pass

    def start(self, message: Composed) -> None:
        self.calls += 1
        if self.calls == self.crash_on:
            raise RuntimeError("the sender process is going down")

    def close(self) -> None:
        pass


def test_an_error_mid_batch_keeps_what_was_sent_and_gives_back_the_rest(app: App) -> None:
    queue(app, 5)
    with pytest.raises(RuntimeError, match="going down"):
        drain(app, transport=_CrashingTransport(crash_on=3))

    statuses = [(row.status, row.attempts, row.claimed_by) for row in messages(app)]
    assert statuses == [(MessageStatus.SENT, 1, None)] * 2 + [(MessageStatus.QUEUED, 0, None)] * 3


def test_a_row_with_an_undeliverable_address_fails_permanently(
    app: App, relay: Server, session: Session
) -> None:
    queue(app, 1)
    row = session.scalars(select(Message)).one()
    row.to_address = "two@at@owner.example"
    session.commit()

    summary = drain(at(app, relay))

    assert summary.failed == 1
    session.refresh(row)
    assert row.status is MessageStatus.FAILED
    assert "more than one @" in (row.last_error or "")


def test_retry_delays_double_and_are_capped() -> None:
    rng = random.Random(7)
    delays = [retry_delay(n, 60, rng).total_seconds() for n in range(1, 12)]
    bases = [min(60 * 2 ** (n - 1), 6 * 3600) for n in range(1, 12)]
    assert all(base <= d <= base * 1.1 for d, base in zip(delays, bases, strict=True))
    assert delays[-1] <= 6 * 3600 * 1.1
