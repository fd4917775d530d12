"""A small but complete world for the dashboard's tests: seeded organizations, registrations in
every state, campaign and follow-up email, migration waves, helpdesk contacts — made through
the domain's own functions wherever one exists, so the pages see what production would write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from db.enums import (
    HelpdeskCategory,
    HelpdeskChannel,
    HelpdeskStatus,
    Locale,
    MessageStatus,
    MigrationItemStatus,
    RegistrationStatus,
    Role,
    WaveStatus,
)
from db.models import Message, MigrationItem, MigrationWave, Organization, Registration
from domain import audit
from domain.clock import FixedClock
from domain.context import App
from domain.emails.outbox import OutboxItem, enqueue_many
from domain.emails.rendered import RenderedEmail
from domain.helpdesk import record_contact
from domain.helpdesk_updates import update_contact
from domain.registration import set_status, submit
from domain.seed import seed_population

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2025, 7, 1, 9, 0, tzinfo=TOKYO)
ORGANIZATIONS = 40


@dataclass(frozen=True)
class World:
    organization_ids: list[int]
    japanese_name: str  # the local name of a Japanese organization, as stored


def _at(clock: FixedClock, day: int, hour: int = 10) -> None:
    clock.set(dt.datetime(2025, 6, day, hour, 0, tzinfo=TOKYO))


def build(app: App, clock: FixedClock) -> World:
    _at(clock, 14)
    seed_population(app.engine, orgs=ORGANIZATIONS, seed=11, clock=clock, known_password_count=0)
    with app.unit_of_work() as session:
        orgs = list(session.scalars(select(Organization).order_by(Organization.id)))
        japanese = next(o for o in orgs if o.name_local and o.locale is Locale.JA)

        def register(org: Organization, day: int, role: Role, email: str) -> Registration:
            _at(clock, day)
            return submit(
                session,
                clock,
                app.calendar,
                organization=org,
                name="Hanako Sato",
                email=email,
                role=role,
                submitted_by=f"org:{org.legacy_login_id}",
            ).registration

        # 0-9 ready (verified Administrator), 10-17 verified without Administrator,
        # 18-25 an Administrator registered but unverified, 26 withdrew its only registration.
        for i, org in enumerate(orgs[:27]):
            role = Role.NORMAL if 10 <= i < 18 else Role.ADMINISTRATOR
            registration = register(org, 15 + i % 14, role, f"person{i}@example.com")
            if i < 18:
                clock.advance(hours=3)
                registration.verified_at = clock.now()
                set_status(session, clock, registration, RegistrationStatus.VERIFIED, "person:x")
            elif i == 26:
                set_status(session, clock, registration, RegistrationStatus.WITHDRAWN, "org:x")
        session.flush()

        rendered = RenderedEmail(subject="Reminder", text="text", html="<p>html</p>")

        def send(step: str | None, template: str, day: int, targets: list[Organization]) -> None:
            _at(clock, day, 9)
            enqueue_many(
                session,
                [
                    OutboxItem(
                        key=f"{template}:{step}:org:{o.id}",
                        template=template,
                        locale=o.locale,
                        to_address=f"contact{o.id}@example.com",
                        rendered=rendered,
                        organization_id=o.id,
                        campaign_step=step,
                    )
                    for o in targets
                ],
                clock=clock,
            )

        send("T-90", "announcement", 15, orgs)
        send("T-75", "reminder", 20, orgs[18:])
        send(None, "verification", 16, orgs[:5])
        send("followup:close_plus_1", "followup", 22, orgs[30:34])
        send("followup:close_plus_7", "followup", 23, orgs[30:32])
        session.flush()
        # Delivery outcomes: most sent, a few failed or bounced, the T-75 tail still queued.
        session.execute(
            update(Message).values(status=MessageStatus.SENT, sent_at=Message.created_at)
        )
        for outcome, affected in (
            (MessageStatus.FAILED, orgs[0:2]),
            (MessageStatus.BOUNCED, orgs[2:5]),
        ):
            session.execute(
                update(Message)
                .where(Message.campaign_step == "T-90")
                .where(Message.organization_id.in_([o.id for o in affected]))
                .values(status=outcome, sent_at=None)
            )
        session.execute(
            update(Message)
            .where(Message.campaign_step == "T-75")
            .where(Message.organization_id.in_([o.id for o in orgs[35:]]))
            .values(status=MessageStatus.QUEUED, sent_at=None)
        )

        _at(clock, 28)
        canary = MigrationWave(
            name="canary",
            position=0,
            status=WaveStatus.COMPLETED,
            created_at=clock.now(),
            started_at=clock.now(),
            finished_at=clock.now() + dt.timedelta(minutes=20),
            report={
                "invariants": [
                    {"name": "usage history unchanged", "passed": True, "detail": "0 rows differ"},
                    {"name": "one person per address", "passed": False, "detail": "1 duplicate"},
                ]
            },
        )
        first = MigrationWave(name="wave-1", position=1, created_at=clock.now())
        undone = MigrationWave(
            name="wave-2",
            position=2,
            status=WaveStatus.ROLLED_BACK,
            created_at=clock.now(),
            rolled_back_at=clock.now() + dt.timedelta(hours=1),
            halt_reason="invariant failed",
        )
        session.add_all([canary, first, undone])
        session.flush()
        items = (
            [(canary, orgs[i], MigrationItemStatus.MIGRATED, None) for i in range(4)]
            + [
                (canary, orgs[4], MigrationItemStatus.FAILED, "no verified Administrator"),
                (canary, orgs[5], MigrationItemStatus.FAILED, "no verified Administrator"),
                (canary, orgs[6], MigrationItemStatus.SKIPPED, "already migrated"),
            ]
            + [(first, orgs[i], MigrationItemStatus.PENDING, None) for i in range(7, 10)]
            + [
                (undone, orgs[10], MigrationItemStatus.ROLLED_BACK, "wave rolled back"),
            ]
        )
        for wave, org, status, reason in items:
            session.add(
                MigrationItem(
                    wave_id=wave.id,
                    organization_id=org.id,
                    status=status,
                    reason=reason,
                    updated_at=clock.now(),
                )
            )
        audit.record(
            session,
            clock,
            actor="flow:migration-rollback",
            action="migration.wave_rolled_back",
            entity_type="migration_wave",
            entity_id=undone.id,
            reason="invariant failed",
        )

        contacts = []
        for day, category, channel in (
            (20, HelpdeskCategory.CANNOT_LOG_IN, HelpdeskChannel.FORM),
            (21, HelpdeskCategory.EMAIL_NOT_RECEIVED, HelpdeskChannel.MAILBOX),
            (24, HelpdeskCategory.LINK_EXPIRED, HelpdeskChannel.FORM),
            (27, HelpdeskCategory.OTHER, HelpdeskChannel.MAILBOX),
            (29, HelpdeskCategory.ADD_OR_REMOVE_USER, HelpdeskChannel.FORM),
            (30, HelpdeskCategory.CANNOT_LOG_IN, HelpdeskChannel.FORM),
        ):
            _at(clock, day)
            contacts.append(
                record_contact(
                    session,
                    clock,
                    name="Ken Ito",
                    email=f"person{day}@example.com",
                    organization_name=japanese.name_local,
                    category=category,
                    message="I cannot find the registration page.",
                    channel=channel,
                    subject=f"Help on the {day}th",
                )
            )
        # Two answered after 2 and 6 hours, one of them resolved a day later.
        for contact, hours in ((contacts[0], 2), (contacts[1], 6)):
            clock.set(contact.received_at + dt.timedelta(hours=hours))
            update_contact(
                session,
                clock,
                app.calendar,
                contact_id=contact.id,
                actor="agent:mika",
                status=HelpdeskStatus.OPEN,
            )
        clock.set(contacts[0].received_at + dt.timedelta(days=1))
        update_contact(
            session,
            clock,
            app.calendar,
            contact_id=contacts[0].id,
            actor="agent:mika",
            status=HelpdeskStatus.RESOLVED,
        )
        organization_ids = [o.id for o in orgs]
        name = japanese.name_local or ""
    clock.set(NOW)
    return World(organization_ids=organization_ids, japanese_name=name)
