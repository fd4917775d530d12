"""The domain's tables (see docs/design.md). Rules that must never be broken live here too:
uniqueness, allowed values and foreign keys are the database's job, not only the code's.

Emails are stored twice where people type them: ``email`` is the normalized form the rules
compare (lower-cased, IDN domain in Unicode), ``email_display`` is what was typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.enums import (
    ContactKind,
    HelpdeskCategory,
    HelpdeskChannel,
    HelpdeskStatus,
    Locale,
    MembershipStatus,
    MessageStatus,
    MigrationItemStatus,
    MigrationRunStatus,
    PersonStatus,
    RegistrationSource,
    RegistrationStatus,
    Role,
    ServiceApplicationStatus,
    TokenPurpose,
    WaveStatus,
)
from db.types import UTCDateTime, str_enum

# Named constraints, so Alembic can alter them later (SQLite batch mode needs the names).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL_LENGTH = 320
# Registrations that still occupy their address within an organization.
LIVE_REGISTRATION = "status IN ('pending', 'verified', 'migrated', 'bounced')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def created_at_column() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), nullable=False)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    legacy_login_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_local: Mapped[str | None] = mapped_column(String(300))  # e.g. the Japanese name
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    locale: Mapped[Locale] = mapped_column(str_enum(Locale, "locale"), default=Locale.EN)
    password_hash: Mapped[str] = mapped_column(String(200))
    legacy_login_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    legacy_login_disabled_at: Mapped[dt.datetime | None]
    # Set at the switch for an organization kept on its shared log-in for a grace period: the
    # log-in stops working at this instant without anyone having to turn it off.
    legacy_login_expires_at: Mapped[dt.datetime | None]
    account_manager: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = created_at_column()

    contacts: Mapped[list[OrganizationContact]] = relationship(back_populates="organization")
    domains: Mapped[list[OrganizationDomain]] = relationship(back_populates="organization")
    registrations: Mapped[list[Registration]] = relationship(back_populates="organization")
    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")

    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_iso2"),
        CheckConstraint("length(legacy_login_id) > 0", name="login_id_not_empty"),
        Index("ix_organizations_country", "country"),
    )


class OrganizationDomain(Base):
    """An email domain known to belong to the organization (matching, typo warnings)."""

    __tablename__ = "organization_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255))

    organization: Mapped[Organization] = relationship(back_populates="domains")

    __table_args__ = (
        UniqueConstraint("organization_id", "domain"),
        Index("ix_organization_domains_domain", "domain"),
        CheckConstraint("domain = lower(domain)", name="domain_lower"),
    )


class OrganizationContact(Base):
    """An address on file: whom campaigns write to before anyone of the organization registers."""

    __tablename__ = "organization_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind, "contact_kind"))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_bounced_at: Mapped[dt.datetime | None]

    organization: Mapped[Organization] = relationship(back_populates="contacts")

    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        Index("ix_organization_contacts_email", "email"),
    )


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str] = mapped_column(String(200))
    requires_preregistration: Mapped[bool] = mapped_column(Boolean)


class ServiceSubscription(Base):
    """An organization uses a service. Survives the migration untouched."""

    __tablename__ = "service_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    since: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("organization_id", "service_id"),
        Index("ix_service_subscriptions_service_id", "service_id"),
    )


class ServiceUsage(Base):
    """Monthly use of a service by an organization: history the announcement promises to keep."""

    __tablename__ = "service_usage"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month
    uses: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("organization_id", "service_id", "month"),
        CheckConstraint("uses >= 0", name="uses_not_negative"),
    )


class Person(Base):
    """One human, one account: at most one row per normalized email across all organizations."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[PersonStatus] = mapped_column(
        str_enum(PersonStatus, "person_status"), default=PersonStatus.PENDING_ACTIVATION
    )
    created_at: Mapped[dt.datetime] = created_at_column()
    activated_at: Mapped[dt.datetime | None]
    # User information the person (or an Administrator of one of their organizations) edits.
    phone: Mapped[str | None] = mapped_column(String(50))
    locale: Mapped[Locale | None] = mapped_column(str_enum(Locale, "locale"))
    password_changed_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_normalized"),)


class Membership(Base):
    """A person's role in one organization; a consultant may hold several."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.ACTIVE
    )
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    migration_item_id: Mapped[int | None] = mapped_column(ForeignKey("migration_items.id"))
    created_at: Mapped[dt.datetime] = created_at_column()
    disabled_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("person_id", "organization_id"),
        Index("ix_memberships_organization_id_role", "organization_id", "role"),
        Index("ix_memberships_migration_item_id", "migration_item_id"),
    )


class Registration(Base):
    """One email an organization submitted for one of its people, with the role they will get."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_display: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.PENDING
    )
    source: Mapped[RegistrationSource] = mapped_column(
        str_enum(RegistrationSource, "registration_source"), default=RegistrationSource.PORTAL
    )
    submitted_at: Mapped[dt.datetime]
    submitted_by: Mapped[str] = mapped_column(String(200))  # 'org:<login>', 'agent:<name>', ...
    verified_at: Mapped[dt.datetime | None]
    migrated_at: Mapped[dt.datetime | None]
    status_changed_at: Mapped[dt.datetime]
    nudged_at: Mapped[dt.datetime | None]
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    undeliverable_reason: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship(back_populates="registrations")

    __table_args__ = (
        # One live registration of an address per organization; withdrawn and expired ones stay
        # as history and the address can be submitted again.
        Index(
            "uq_registrations_live_org_email",
            "organization_id",
            "email",
            unique=True,
            sqlite_where=text(LIVE_REGISTRATION),
            postgresql_where=text(LIVE_REGISTRATION),
        ),
        Index("ix_registrations_email", "email"),
        Index("ix_registrations_status_submitted_at", "status", "submitted_at"),
        # The dashboard: each organization's funnel stage from the index alone, and
        # registrations in a window of days. (Its first two columns also serve every lookup by
        # organization and status.)
        Index(
            "ix_registrations_organization_id_status_role_submitted_at",
            "organization_id",
            "status",
            "role",
            "submitted_at",
        ),
        Index("ix_registrations_submitted_at_organization_id", "submitted_at", "organization_id"),
        # Verification dispatch: the registrations verified since its horizon, with their ids
        # (the anti-join on the confirmation's key reads the index alone).
        Index("ix_registrations_status_verified_at_id", "status", "verified_at", "id"),
        CheckConstraint("email = lower(email)", name="email_normalized"),
        CheckConstraint(
            "status NOT IN ('verified', 'migrated') OR verified_at IS NOT NULL",
            name="verified_has_time",
        ),
    )


class VerificationToken(Base):
    """A single-use link: only the SHA-256 of the random token is stored."""

    __tablename__ = "verification_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[dt.datetime] = created_at_column()
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint(
            "(purpose = 'verify_email' AND registration_id IS NOT NULL)"
            " OR (purpose IN ('activate_account', 'reset_password') AND person_id IS NOT NULL)",
            name="target_matches_purpose",
        ),
        Index("ix_verification_tokens_registration_id", "registration_id"),
        Index("ix_verification_tokens_person_id", "person_id"),
        Index("ix_verification_tokens_expires_at", "expires_at"),
    )


class Message(Base):
    """The outbox: every email, rendered when queued, sent at most once per idempotency key."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    template: Mapped[str] = mapped_column(String(100))
    locale: Mapped[Locale] = mapped_column(str_enum(Locale, "locale"))
    to_address: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    to_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    campaign_step: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = created_at_column()
    next_attempt_at: Mapped[dt.datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[dt.datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    bounced_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_messages_organization_id", "organization_id"),
        Index("ix_messages_registration_id", "registration_id"),
        # The dashboard reads the outbox through these, never its rows (which carry the bodies):
        # delivery by step and template, each step's start and audience, follow-up per organization.
        # (campaign_step, template, status) also serves what (campaign_step, status) did.
        Index("ix_messages_campaign_step_template_status", "campaign_step", "template", "status"),
        Index(
            "ix_messages_campaign_step_organization_id_created_at_status",
            "campaign_step",
            "organization_id",
            "created_at",
            "status",
        ),
        Index(
            "ix_messages_followup_organization_id",
            "organization_id",
            "campaign_step",
            "created_at",
            sqlite_where=text("template = 'followup'"),
            postgresql_where=text("template = 'followup'"),
        ),
        Index("ix_messages_to_address", "to_address"),
        Index("ix_messages_message_id", "message_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )


class MigrationWave(Base):
    __tablename__ = "migration_waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer)  # 0 = canary
    status: Mapped[WaveStatus] = mapped_column(
        str_enum(WaveStatus, "wave_status"), default=WaveStatus.PLANNED
    )
    created_at: Mapped[dt.datetime] = created_at_column()
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    rolled_back_at: Mapped[dt.datetime | None]
    halt_reason: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any] | None]

    items: Mapped[list[MigrationItem]] = relationship(back_populates="wave")


class MigrationItem(Base):
    """One organization in one wave: the unit a migration run halts, resumes and rolls back."""

    __tablename__ = "migration_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("migration_waves.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[MigrationItemStatus] = mapped_column(
        str_enum(MigrationItemStatus, "migration_item_status"),
        default=MigrationItemStatus.PENDING,
    )
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]
    # What the migration did or why it did not: registrations migrated and not (with reasons),
    # persons and memberships it created, whether the legacy log-in was turned off.
    details: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    wave: Mapped[MigrationWave] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("wave_id", "organization_id"),
        Index("ix_migration_items_organization_id", "organization_id"),
        Index("ix_migration_items_wave_id_status", "wave_id", "status"),
    )


class MigrationRun(Base):
    """One run of the login migration (not the dry runs): when, with what, how it ended.

    The first run freezes pre-registration (``frozen_at``): from then on nothing can be added,
    resent or withdrawn on the pre-registration page, whatever the calendar says.
    """

    __tablename__ = "migration_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[MigrationRunStatus] = mapped_column(
        str_enum(MigrationRunStatus, "migration_run_status"), default=MigrationRunStatus.RUNNING
    )
    actor: Mapped[str] = mapped_column(String(200))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any] | None]
    frozen_at: Mapped[dt.datetime | None]
    halt_reason: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_migration_runs_frozen_at", "frozen_at"),)


class Invitation(Base):
    """An Administrator invited an address to the organization with a role; single-use link.

    Accepting it creates the membership (and the person's account, with a password, if the
    address has none). Only the SHA-256 of the link's token is stored.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_display: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    invited_by_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))  # who accepted

    __table_args__ = (
        Index("ix_invitations_organization_id_email", "organization_id", "email"),
        CheckConstraint("email = lower(email)", name="email_normalized"),
    )


class ServiceApplication(Base):
    """An Administrator applied for an NK service the organization does not use yet."""

    __tablename__ = "service_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    applied_by_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    applied_at: Mapped[dt.datetime]
    status: Mapped[ServiceApplicationStatus] = mapped_column(
        str_enum(ServiceApplicationStatus, "service_application_status"),
        default=ServiceApplicationStatus.SUBMITTED,
    )
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("organization_id", "service_id"),)


class HelpdeskContact(Base):
    """A request to the helpdesk from the contact form, the support mailbox or the phone."""

    __tablename__ = "helpdesk_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[HelpdeskChannel] = mapped_column(str_enum(HelpdeskChannel, "helpdesk_channel"))
    received_at: Mapped[dt.datetime]
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    organization_name_given: Mapped[str | None] = mapped_column(String(300))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    category: Mapped[HelpdeskCategory] = mapped_column(
        str_enum(HelpdeskCategory, "helpdesk_category"), default=HelpdeskCategory.OTHER
    )
    status: Mapped[HelpdeskStatus] = mapped_column(
        str_enum(HelpdeskStatus, "helpdesk_status"), default=HelpdeskStatus.NEW
    )
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    thread_of_id: Mapped[int | None] = mapped_column(ForeignKey("helpdesk_contacts.id"))
    assignee: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    first_response_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_helpdesk_contacts_status_received_at", "status", "received_at"),
        Index("ix_helpdesk_contacts_organization_id", "organization_id"),
        Index("ix_helpdesk_contacts_sender_email", "sender_email"),
    )


class AuditEvent(Base):
    """Who did what to which record, when: every state change leaves one."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    details: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_audit_events_entity_type_entity_id", "entity_type", "entity_id"),
        Index("ix_audit_events_organization_id", "organization_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )


class RateEvent(Base):
    """One counted attempt for throttling: a failed log-in, a contact-form post, a resent link.

    Kept in the database rather than in a process so that several portal workers share one count.
    The key (an IP address, an email, a login ID) is stored only as its SHA-256: the table answers
    "how many lately" and never "who". Rows older than the longest window are pruned.
    """

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40))
    key_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_rate_events_bucket_key_hash_occurred_at", "bucket", "key_hash", "occurred_at"),
        Index("ix_rate_events_occurred_at", "occurred_at"),
    )


class DashboardSnapshot(Base):
    """The dashboard's heavy figures for one page, computed by the dashboard-refresh flow.

    Pages read a snapshot younger than `dashboard_snapshot_max_age_seconds` instead of computing
    its figures while a manager waits, and compute them live otherwise. `figures` is JSON written
    by db.dashboard.snapshot (dataclasses, dates and instants tagged so they read back equal).
    """

    __tablename__ = "dashboard_snapshots"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    computed_at: Mapped[dt.datetime]
    figures: Mapped[str] = mapped_column(Text)
