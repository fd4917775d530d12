"""The closed vocabularies of the domain. The database enforces them with CHECK constraints."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    NORMAL = "normal"
    VISITOR = "visitor"

    @property
    def label(self) -> str:
        return {
            Role.ADMINISTRATOR: "Administrator",
            Role.NORMAL: "Normal User",
            Role.VISITOR: "Visitor User",
        }[self]


class Locale(StrEnum):
    EN = "en"
    JA = "ja"


class RegistrationStatus(StrEnum):
    PENDING = "pending"  # submitted, waiting for the person to click the link
    VERIFIED = "verified"
    MIGRATED = "migrated"  # became a membership of an individual account
    EXPIRED = "expired"  # the link ran out before it was used
    BOUNCED = "bounced"  # the address does not receive mail
    WITHDRAWN = "withdrawn"  # the organization took it back


class RegistrationSource(StrEnum):
    PORTAL = "portal"
    HELPDESK = "helpdesk"
    IMPORT = "import"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    ACTIVATE_ACCOUNT = "activate_account"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a token purpose, not a password)


class ContactKind(StrEnum):
    PRIMARY = "primary"
    TECHNICAL = "technical"
    BILLING = "billing"


class PersonStatus(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    DISABLED = "disabled"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender; the claim expires if that sender dies
    SENT = "sent"
    FAILED = "failed"  # permanently, or out of retries
    BOUNCED = "bounced"  # accepted by the relay, bounced later


class WaveStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    HALTED = "halted"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"


class MigrationRunStatus(StrEnum):
    RUNNING = "running"
    HALTED = "halted"  # stopped by a failure rate or an invariant; a re-run resumes
    FAILED = "failed"  # stopped by an error; a re-run resumes
    COMPLETED = "completed"


class ServiceApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # an Administrator applied; the service desk decides
    APPROVED = "approved"
    DECLINED = "declined"


class MigrationItemStatus(StrEnum):
    PENDING = "pending"
    MIGRATED = "migrated"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class HelpdeskChannel(StrEnum):
    FORM = "form"
    MAILBOX = "mailbox"
    PHONE = "phone"


class HelpdeskCategory(StrEnum):
    CANNOT_LOG_IN = "cannot_log_in"
    EMAIL_NOT_RECEIVED = "email_not_received"
    LINK_EXPIRED = "link_expired"
    WRONG_ORGANIZATION = "wrong_organization"
    ADD_OR_REMOVE_USER = "add_or_remove_user"
    OTHER = "other"


class HelpdeskStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
