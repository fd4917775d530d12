"""Bounce processing: reading real-world delivery reports, and what they change in the database."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db.enums import ContactKind, Locale, MessageStatus, RegistrationStatus
from db.models import AuditEvent, Message, Organization, OrganizationContact, Registration
from db.queries import BounceCounts, bounce_counts
from domain.context import App
from domain.emails.bounce_mailbox import MailboxError, MaildirBounceMailbox
from domain.emails.bounces import ACTOR, apply_report, process_mailbox, read_report
from domain.emails.dsn import DeliveryReport, parse_report
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
POSTFIX = "postfix_5_1_1.eml"
EXCHANGE_ONLINE = "exchange_online_5_1_10.eml"
EXCHANGE_LEGACY = "exchange_legacy_5_1_1.eml"
DELAYED = "postfix_delayed_4_4_1.eml"
OUT_OF_OFFICE = "out_of_office.eml"

# The Message-IDs the fixtures quote from the bounced originals.
POSTFIX_ORIGINAL = "<175132812800.7311.4242@portal.example.com>"
EXCHANGE_ORIGINAL = "<175132812900.7311.5151@portal.example.com>"
LEGACY_ORIGINAL = "<175132859800.7311.6161@portal.example.com>"
DELAYED_ORIGINAL = "<175132800000.7311.7171@portal.example.com>"


def _report(name: str) -> DeliveryReport | None:
    return read_report((FIXTURES / name).read_bytes())


def _dsn(recipient_block: str) -> bytes:
    """A minimal RFC 3464 report around one per-recipient block."""
    return (
        "From: MAILER-DAEMON@mx.example\nTo: no-reply@portal.example.com\n"
        "Subject: report\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nSee below.\n\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        f"{recipient_block}\n\n--b--\n"
    ).encode()


# --- reading reports ---------------------------------------------------------------------------


def test_postfix_user_unknown_is_permanent_with_the_remote_reason() -> None:
    report = _report(POSTFIX)
    assert report is not None
    [failure] = report.failures
    assert failure.address == "k.sato@oceanic-lines.example"
    assert failure.permanent
    assert failure.status == "5.1.1"
    assert failure.diagnostic == (
        "550 5.1.1 <k.sato@oceanic-lines.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert failure.reason == failure.diagnostic  # the code is in it already: said once
    assert report.original_message_id == POSTFIX_ORIGINAL
    assert report.report_message_id == "<20250701000211.4bXk2T0cQvz9vKp@mx1.portal.example.com>"


def test_exchange_online_ndr_is_read_from_its_delivery_status() -> None:
    report = _report(EXCHANGE_ONLINE)
    assert report is not None
    [failure] = report.failures
    assert failure.address == "Yuki.Tanaka@Tokai-Kisen.example"
    assert (failure.permanent, failure.status) == (True, "5.1.10")
    assert failure.diagnostic is not None
    assert "RESOLVER.ADR.RecipientNotFound" in failure.diagnostic
    assert report.original_message_id == EXCHANGE_ORIGINAL


def test_legacy_exchange_ndr_without_delivery_status_is_found_heuristically() -> None:
    message = email.message_from_bytes(
        (FIXTURES / EXCHANGE_LEGACY).read_bytes(), policy=email.policy.default
    )
    assert message.get_content_type() == "multipart/mixed"  # no RFC 3464 structure at all
    report = parse_report(message)
    assert report is not None
    [failure] = report.failures
    assert failure.address == "h.mori@nippon-marine.example"
    assert (failure.permanent, failure.status) == (True, "5.1.1")
    assert failure.diagnostic is not None
    assert failure.diagnostic.startswith("The e-mail account does not exist")
    assert len(failure.reason) <= 200
    assert report.original_message_id == LEGACY_ORIGINAL


def test_delayed_notice_is_temporary() -> None:
    report = _report(DELAYED)
    assert report is not None
    [failure] = report.failures
    assert (failure.address, failure.permanent, failure.status) == (
        "ops@kaiun-example.jp",
        False,
        "4.4.1",
    )
    assert report.permanent == ()
    assert report.original_message_id == DELAYED_ORIGINAL


def test_an_out_of_office_reply_is_not_a_report() -> None:
    assert _report(OUT_OF_OFFICE) is None


def test_status_code_decides_over_action() -> None:
    # The relay gave up on an unreachable server: "failed", but the mailbox may well exist.
    gave_up = read_report(
        _dsn("Final-Recipient: rfc822; a@slow.example\nAction: failed\nStatus: 4.4.7")
    )
    assert gave_up is not None
    assert [(f.address, f.permanent) for f in gave_up.failures] == [("a@slow.example", False)]

    no_code = read_report(_dsn("Final-Recipient: rfc822; b@gone.example\nAction: failed"))
    assert no_code is not None
    assert [(f.permanent, f.status, f.reason) for f in no_code.failures] == [
        (True, None, "permanent failure")
    ]


def test_success_notice_is_a_report_without_failures() -> None:
    report = read_report(
        _dsn("Final-Recipient: rfc822; c@fine.example\nAction: delivered\nStatus: 2.0.0")
    )
    assert report is not None
    assert report.failures == ()


def test_base64_delivery_status_part_is_still_read() -> None:
    import base64

    fields = "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; d@x.example\n"
    fields += "Action: failed\nStatus: 5.2.1\nDiagnostic-Code: smtp; 550 5.2.1 mailbox disabled\n"
    raw = (
        "From: MAILER-DAEMON@mx.example\nSubject: report\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
        f"{base64.encodebytes(fields.encode()).decode()}\n--b--\n"
    ).encode()
    report = read_report(raw)
    assert report is not None
    [failure] = report.failures
    assert (failure.address, failure.status, failure.diagnostic) == (
        "d@x.example",
        "5.2.1",
        "550 5.2.1 mailbox disabled",
    )


# --- applying reports to the database ----------------------------------------------------------


def _sent(
    session: Session,
    app: App,
    org: Organization,
    to: str,
    message_id: str | None,
    *,
    key: str,
    status: MessageStatus = MessageStatus.SENT,
) -> Message:
    now = app.clock.now()
    message = Message(
        idempotency_key=key,
        template="verify_email",
        locale=Locale.EN,
        to_address=to,
        subject="Please confirm your email address",
        body_text="text",
        body_html="<p>html</p>",
        organization_id=org.id,
        status=status,
        attempts=1,
        created_at=now - dt.timedelta(minutes=5),
        next_attempt_at=now - dt.timedelta(minutes=5),
        message_id=message_id,
        sent_at=now - dt.timedelta(minutes=4) if status is MessageStatus.SENT else None,
    )
    session.add(message)
    session.flush()
    return message


def _contact(session: Session, org: Organization, email_address: str) -> OrganizationContact:
    contact = OrganizationContact(
        organization_id=org.id, kind=ContactKind.PRIMARY, name="Ops", email=email_address
    )
    session.add(contact)
    session.flush()
    return contact


def _audit_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor == ACTOR)
        )
        or 0
    )


def _maildir(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "bounces"
    box = mailbox.Maildir(path, create=True)
    for name in names:
        box.add((FIXTURES / name).read_bytes())
    return path


@pytest.fixture
def world(app: App, session: Session) -> dict[str, int]:
    """Two organizations, the people and contacts the fixtures bounce, and the sent messages."""
    oceanic = factories.organization(session, app.clock, domains=("oceanic-lines.example",))
    tokai = factories.organization(session, app.clock, domains=("tokai-kisen.example",))
    sato = factories.registration(
        session, app.clock, app.calendar, oceanic, "k.sato@oceanic-lines.example"
    )
    # The same person also registered with a second organization (a consultant).
    sato_again = factories.registration(
        session, app.clock, app.calendar, tokai, "K.Sato@oceanic-lines.example"
    )
    tanaka = factories.registration(
        session, app.clock, app.calendar, tokai, "Yuki.Tanaka@Tokai-Kisen.example"
    )
    tanaka.status = RegistrationStatus.VERIFIED
    tanaka.verified_at = app.clock.now()
    contact = _contact(session, oceanic, "k.sato@oceanic-lines.example")
    delayed_contact = _contact(session, tokai, "ops@kaiun-example.jp")
    first = _sent(session, app, oceanic, "k.sato@oceanic-lines.example", POSTFIX_ORIGINAL, key="a")
    # An earlier email to the same address: the report quotes the other one.
    earlier = _sent(session, app, oceanic, "k.sato@oceanic-lines.example", "<older@p>", key="b")
    tanaka_mail = _sent(
        session, app, tokai, "Yuki.Tanaka@Tokai-Kisen.example", EXCHANGE_ORIGINAL, key="c"
    )
    delayed = _sent(session, app, tokai, "ops@kaiun-example.jp", DELAYED_ORIGINAL, key="d")
    session.commit()
    return {
        "sato": sato.id,
        "sato_again": sato_again.id,
        "tanaka": tanaka.id,
        "contact": contact.id,
        "delayed_contact": delayed_contact.id,
        "first": first.id,
        "earlier": earlier.id,
        "tanaka_mail": tanaka_mail.id,
        "delayed": delayed.id,
    }


def test_processing_a_mailbox_marks_what_bounced(
    app: App, session: Session, world: dict[str, int], tmp_path: Path
) -> None:
    path = _maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE, DELAYED, OUT_OF_OFFICE)
    summary = process_mailbox(app, MaildirBounceMailbox(path))

    assert (summary.read, summary.reports, summary.ignored) == (4, 3, 1)
    assert summary.bounced_addresses == {
        "k.sato@oceanic-lines.example",
        "yuki.tanaka@tokai-kisen.example",
    }
    assert summary.delayed_addresses == {"ops@kaiun-example.jp"}
    assert (summary.updated_messages, summary.updated_registrations) == (2, 3)
    assert (summary.updated_contacts, summary.changes.notes) == (1, 1)

    session.expire_all()
    first = session.get_one(Message, world["first"])
    assert first.status is MessageStatus.BOUNCED
    assert first.bounced_at == app.clock.now()
    assert first.last_error is not None and "User unknown" in first.last_error
    # Matched by the quoted Message-ID: the earlier email to the same address is not touched.
    assert session.get_one(Message, world["earlier"]).status is MessageStatus.SENT
    assert session.get_one(Message, world["tanaka_mail"]).status is MessageStatus.BOUNCED

    for key in ("sato", "sato_again", "tanaka"):
        registration = session.get_one(Registration, world[key])
        assert registration.status is RegistrationStatus.BOUNCED, key
        assert registration.status_changed_at == app.clock.now()
    sato = session.get_one(Registration, world["sato"])
    assert sato.bounce_reason is not None and sato.bounce_reason.startswith("550 5.1.1")
    tanaka = session.get_one(Registration, world["tanaka"])
    assert tanaka.verified_at is not None  # kept: it was verified before it bounced
    assert tanaka.bounce_reason is not None and "5.1.10" in tanaka.bounce_reason

    assert (
        session.get_one(OrganizationContact, world["contact"]).email_bounced_at == app.clock.now()
    )

    # The delay is a note only.
    delayed = session.get_one(Message, world["delayed"])
    assert delayed.status is MessageStatus.SENT
    assert delayed.bounced_at is None
    assert delayed.last_error == (
        "delivery delayed: 4.4.1 connect to mx.kaiun-example.jp[198.51.100.7]:25: "
        "Connection timed out"
    )
    assert session.get_one(OrganizationContact, world["delayed_contact"]).email_bounced_at is None

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.actor == ACTOR).order_by(AuditEvent.id)
    ).all()
    assert sorted(e.action for e in events) == sorted(
        ["message.bounced"] * 2
        + ["registration.bounced"] * 3
        + ["contact.email_bounced", "message.delivery_delayed"]
    )
    registration_event = next(
        e for e in events if (e.entity_type, e.entity_id) == ("registration", world["tanaka"])
    )
    assert registration_event.details is not None
    assert registration_event.details["before"] == "verified"
    assert registration_event.details["smtp_status"] == "5.1.10"

    # Reports are moved aside, marked seen; the out-of-office reply stays for a person.
    inbox = mailbox.Maildir(path, create=False)
    [left] = inbox.keys()
    assert "out of the office" in inbox.get_bytes(left).decode()
    processed = list((path / ".processed" / "cur").iterdir())
    assert len(processed) == 3
    assert all(p.name.endswith(":2,S") for p in processed)
    assert (path / ".processed" / "maildirfolder").exists()


def test_processing_again_changes_nothing(
    app: App, session: Session, world: dict[str, int], tmp_path: Path
) -> None:
    path = _maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE, DELAYED)
    process_mailbox(app, MaildirBounceMailbox(path))
    events = _audit_count(session)

    second = process_mailbox(app, MaildirBounceMailbox(path))
    assert (second.read, second.reports, second.ignored) == (0, 0, 0)

    # The same reports delivered again (a crash before they were moved aside, or a duplicate).
    again = _maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE, DELAYED)
    third = process_mailbox(app, MaildirBounceMailbox(again))
    assert third.reports == 3
    assert (third.updated_messages, third.updated_registrations, third.updated_contacts) == (
        0,
        0,
        0,
    )
    assert third.changes.notes == 0
    assert _audit_count(session) == events


def test_apply_report_twice_in_one_transaction_is_idempotent(
    app: App, session: Session, world: dict[str, int]
) -> None:
    report = _report(POSTFIX)
    assert report is not None
    first = apply_report(session, app.clock, report)
    assert (first.messages, first.registrations, first.contacts) == (1, 2, 1)
    second = apply_report(session, app.clock, report)
    assert (second.messages, second.registrations, second.contacts, second.notes) == (0, 0, 0, 0)
    session.commit()


def test_without_a_known_message_id_every_sent_message_to_the_address_bounces(
    app: App, session: Session, world: dict[str, int]
) -> None:
    queued = _sent(
        session,
        app,
        session.get_one(Organization, session.get_one(Message, world["first"]).organization_id),
        "k.sato@oceanic-lines.example",
        None,
        key="queued",
        status=MessageStatus.QUEUED,
    )
    raw = _dsn(
        "Final-Recipient: rfc822; K.Sato@Oceanic-Lines.example\nAction: failed\nStatus: 5.1.1"
    )
    report = read_report(raw)
    assert report is not None and report.original_message_id is None
    changes = apply_report(session, app.clock, report)
    session.commit()
    assert changes.messages == 2
    assert session.get_one(Message, world["first"]).status is MessageStatus.BOUNCED
    assert session.get_one(Message, world["earlier"]).status is MessageStatus.BOUNCED
    # Not yet sent: a report cannot be about it.
    assert session.get_one(Message, queued.id).status is MessageStatus.QUEUED


def test_finished_registrations_are_not_reopened(
    app: App, session: Session, world: dict[str, int]
) -> None:
    sato = session.get_one(Registration, world["sato"])
    sato.status = RegistrationStatus.WITHDRAWN
    sato_again = session.get_one(Registration, world["sato_again"])
    sato_again.status = RegistrationStatus.MIGRATED
    sato_again.verified_at = sato_again.migrated_at = app.clock.now()
    session.commit()

    report = _report(POSTFIX)
    assert report is not None
    changes = apply_report(session, app.clock, report)
    session.commit()
    assert changes.registrations == 0
    assert session.get_one(Registration, world["sato"]).status is RegistrationStatus.WITHDRAWN
    assert session.get_one(Registration, world["sato_again"]).status is RegistrationStatus.MIGRATED


def test_a_legacy_exchange_ndr_bounces_its_message(
    app: App, session: Session, world: dict[str, int], tmp_path: Path
) -> None:
    org = session.get_one(Organization, session.get_one(Message, world["first"]).organization_id)
    mori = _sent(session, app, org, "h.mori@nippon-marine.example", LEGACY_ORIGINAL, key="mori")
    session.commit()
    summary = process_mailbox(app, MaildirBounceMailbox(_maildir(tmp_path, EXCHANGE_LEGACY)))
    assert summary.updated_messages == 1
    session.expire_all()
    assert session.get_one(Message, mori.id).status is MessageStatus.BOUNCED


def test_dry_run_changes_and_moves_nothing(
    app: App, session: Session, world: dict[str, int], tmp_path: Path
) -> None:
    path = _maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE)
    summary = process_mailbox(app, MaildirBounceMailbox(path), dry_run=True)
    assert (summary.updated_messages, summary.updated_registrations) == (2, 3)
    session.expire_all()
    assert session.get_one(Message, world["first"]).status is MessageStatus.SENT
    assert session.get_one(Registration, world["sato"]).status is RegistrationStatus.PENDING
    assert _audit_count(session) == 0
    assert len(mailbox.Maildir(path, create=False)) == 2
    assert not (path / ".processed").exists()


def test_bounce_counts(app: App, session: Session, world: dict[str, int], tmp_path: Path) -> None:
    assert bounce_counts(session) == BounceCounts(messages=0, registrations=0, addresses=0)
    process_mailbox(
        app, MaildirBounceMailbox(_maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE, DELAYED))
    )
    session.expire_all()
    # k.sato: 1 message, 2 registrations, 1 contact; Yuki.Tanaka: 1 message, 1 registration, in
    # two spellings. Two mailboxes in all; the delayed one is not counted.
    assert bounce_counts(session) == BounceCounts(messages=2, registrations=3, addresses=2)


def test_a_folder_that_is_not_a_maildir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MailboxError, match="is not a Maildir"):
        MaildirBounceMailbox(tmp_path)


def test_cli_processes_the_configured_maildir(
    app: App,
    session: Session,
    world: dict[str, int],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cli.main import app as cli

    path = _maildir(tmp_path, POSTFIX, OUT_OF_OFFICE)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SWITCHOVER_DATABASE_URL", database_url)
    monkeypatch.setenv("SWITCHOVER_BOUNCE_MAILDIR", str(path))
    runner = CliRunner()

    dry = runner.invoke(cli, ["bounces", "process", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would mark bounced: 1 messages, 2 registrations, 1 contacts" in dry.output

    done = runner.invoke(cli, ["bounces", "process"])
    assert done.exit_code == 0, done.output
    assert "read 2, delivery reports 1, ignored 1" in done.output
    assert "marked bounced: 1 messages, 2 registrations, 1 contacts" in done.output
    session.expire_all()
    assert session.get_one(Message, world["first"]).status is MessageStatus.BOUNCED

    monkeypatch.delenv("SWITCHOVER_BOUNCE_MAILDIR")
    missing = runner.invoke(cli, ["bounces", "process"])
    assert missing.exit_code != 0
    assert "SWITCHOVER_BOUNCE_MAILDIR" in str(missing.exception) + missing.output


# --- IMAP --------------------------------------------------------------------------------------


class FakeImap:
    """Speaks imaplib's client API over an in-memory folder tree, as an IMAP server answers."""

    def __init__(self, messages: list[bytes], *, move: bool) -> None:
        self.folders: dict[str, dict[str, bytes]] = {
            "INBOX": {str(uid): raw for uid, raw in enumerate(messages, start=1)}
        }
        self.flags: dict[str, set[str]] = {}
        self.capabilities = ("IMAP4REV1", "UIDPLUS", *(("MOVE",) if move else ()))
        self.selected: str | None = None
        self.log: list[str] = []

    @staticmethod
    def _name(quoted: str) -> str:
        assert quoted.startswith('"') and quoted.endswith('"'), "folder names must be quoted"
        return quoted[1:-1]

    def select(self, mailbox: str) -> tuple[str, list[bytes]]:
        self.selected = self._name(mailbox)
        return "OK", [str(len(self.folders[self.selected])).encode()]

    def create(self, mailbox: str) -> tuple[str, list[bytes]]:
        name = self._name(mailbox)
        if name in self.folders:
            return "NO", [b"[ALREADYEXISTS] Mailbox already exists"]
        self.folders[name] = {}
        return "OK", [b"Create completed"]

    def uid(self, command: str, *args: str) -> tuple[str, list[object]]:
        assert self.selected is not None
        folder = self.folders[self.selected]
        self.log.append(command)
        if command == "SEARCH":
            live = [u for u in folder if "\\Deleted" not in self.flags.get(u, set())]
            return "OK", [" ".join(live).encode()]
        uid = args[0]
        if command == "FETCH":
            assert args[1] == "(BODY.PEEK[])"  # never marks the message seen
            if uid not in folder:
                return "OK", [None]
            return "OK", [(f"{uid} (UID {uid} BODY[] {{1}}".encode(), folder[uid]), b")"]
        if command in ("MOVE", "COPY"):
            target = self.folders[self._name(args[1])]
            target[str(len(target) + 1)] = folder[uid]
            if command == "MOVE":
                del folder[uid]
            return "OK", [b"done"]
        if command == "STORE":
            assert args[1] == "+FLAGS.SILENT"
            self.flags.setdefault(uid, set()).update(args[2].strip("()").split())
            return "OK", [None]
        if command == "EXPUNGE":
            if "\\Deleted" in self.flags.get(uid, set()):
                del folder[uid]
            return "OK", [None]
        raise AssertionError(f"unexpected UID {command}")

    def expunge(self) -> tuple[str, list[bytes]]:
        raise AssertionError("UIDPLUS is available: expunge only the processed message")

    def close(self) -> tuple[str, list[bytes]]:
        return "OK", [b""]

    def logout(self) -> tuple[str, list[bytes]]:
        return "BYE", [b""]


@pytest.mark.parametrize("move", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_imap_mailbox_processes_and_moves_reports(
    app: App, session: Session, world: dict[str, int], move: bool
) -> None:
    from domain.emails.bounce_mailbox import ImapBounceMailbox

    server = FakeImap(
        [(FIXTURES / name).read_bytes() for name in (POSTFIX, OUT_OF_OFFICE, EXCHANGE_ONLINE)],
        move=move,
    )
    box = ImapBounceMailbox(server, processed_folder="Bounces Processed")  # type: ignore[arg-type]
    summary = process_mailbox(app, box)
    box.close()

    assert (summary.read, summary.reports, summary.ignored) == (3, 2, 1)
    assert summary.updated_messages == 2
    assert list(server.folders["INBOX"]) == ["2"]  # the out-of-office reply stays
    assert len(server.folders["Bounces Processed"]) == 2
    assert ("MOVE" in server.log) is move
    session.expire_all()
    assert session.get_one(Message, world["first"]).status is MessageStatus.BOUNCED

    again = ImapBounceMailbox(server, processed_folder="Bounces Processed")  # type: ignore[arg-type]
    assert process_mailbox(app, again).reports == 0


def test_a_message_that_cannot_be_read_is_left_and_named(
    app: App, world: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import domain.emails.bounces as bounces

    path = _maildir(tmp_path, POSTFIX, EXCHANGE_ONLINE)
    poison = (FIXTURES / EXCHANGE_ONLINE).read_bytes()
    real = bounces.read_report

    def flaky(raw: bytes) -> DeliveryReport | None:
        if raw == poison:
            raise ValueError("a detector choked")
        return real(raw)

    monkeypatch.setattr(bounces, "read_report", flaky)
    summary = process_mailbox(app, MaildirBounceMailbox(path))
    assert (summary.read, summary.reports, summary.ignored) == (2, 1, 0)
    [key] = summary.unreadable
    assert (path / key).read_bytes() == poison  # still in the inbox, untouched
