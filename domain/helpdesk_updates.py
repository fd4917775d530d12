"""An agent works a helpdesk contact: changes its status or category, adds a note.

Every change is audited, one event per changed field, in the caller's transaction. Response and
resolution times follow from the status: the first time an agent takes a new contact up counts
as the first response; resolving or closing stamps the resolution; reopening clears it, so the
resolution time measures the final resolution.

Two agents may have the same contact open; the caller passes the status it showed, and a contact
changed meanwhile is refused rather than overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import HelpdeskCategory, HelpdeskStatus
from db.models import HelpdeskContact
from domain import audit
from domain.clock import Calendar, Clock

MAX_NOTE_LENGTH = 5_000
MAX_ACTOR_LENGTH = 200
CLOSED_STATUSES = (HelpdeskStatus.RESOLVED, HelpdeskStatus.CLOSED)


class HelpdeskUpdateError(ValueError):
    """The change cannot be made as asked; the message says why, for the agent."""


class StaleContact(HelpdeskUpdateError):
    """Someone changed the contact since the agent looked at it."""


@dataclass(frozen=True)
class ContactUpdate:
    contact: HelpdeskContact
    changed: tuple[str, ...]  # "status", "category", "note", in that order

    @property
    def nothing_changed(self) -> bool:
        return not self.changed


def update_contact(
    session: Session,
    clock: Clock,
    calendar: Calendar,
    *,
    contact_id: int,
    actor: str,
    status: HelpdeskStatus | str | None = None,
    category: HelpdeskCategory | str | None = None,
    note: str | None = None,
    expected_status: HelpdeskStatus | str | None = None,
) -> ContactUpdate:
    """Apply the agent's changes to one contact; values equal to the current ones change nothing."""
    who = " ".join((actor or "").split())
    if not who.startswith("agent:") or len(who) <= len("agent:"):
        raise HelpdeskUpdateError("Changes need the agent's name (actor 'agent:<name>').")
    if len(who) > MAX_ACTOR_LENGTH:
        raise HelpdeskUpdateError(f"The agent's name is too long (at most {MAX_ACTOR_LENGTH}).")
    new_status = _choice(HelpdeskStatus, status, "status")
    new_category = _choice(HelpdeskCategory, category, "category")
    expected = _choice(HelpdeskStatus, expected_status, "expected status")
    text = (note or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise HelpdeskUpdateError(f"The note is too long (at most {MAX_NOTE_LENGTH:,} characters).")

    # FOR UPDATE: on PostgreSQL a second agent waits here, then sees the first agent's change.
    contact = session.scalars(
        select(HelpdeskContact).where(HelpdeskContact.id == contact_id).with_for_update()
    ).one_or_none()
    if contact is None:
        raise HelpdeskUpdateError(f"There is no helpdesk contact {contact_id}.")
    if expected is not None and contact.status is not expected:
        raise StaleContact(
            f"Contact {contact_id} is now '{contact.status.value}' (someone changed it since you "
            "opened it); look at it again before changing it."
        )

    now = clock.now()
    changed: list[str] = []

    def log(action: str, **details: object) -> None:
        audit.record(
            session,
            clock,
            actor=who,
            action=action,
            entity_type="helpdesk_contact",
            entity_id=contact.id,
            organization_id=contact.organization_id,
            **details,
        )

    if new_status is not None and new_status is not contact.status:
        before = contact.status
        contact.status = new_status
        if before is HelpdeskStatus.NEW and contact.first_response_at is None:
            contact.first_response_at = now
        if new_status in CLOSED_STATUSES:
            if contact.resolved_at is None:
                contact.resolved_at = now
        else:
            contact.resolved_at = None
        if contact.assignee is None:
            contact.assignee = who.removeprefix("agent:")
        log("helpdesk.status_changed", before=before.value, after=new_status.value)
        changed.append("status")

    if new_category is not None and new_category is not contact.category:
        before_category = contact.category
        contact.category = new_category
        log("helpdesk.category_changed", before=before_category.value, after=new_category.value)
        changed.append("category")

    if text:
        stamp = calendar.local(now).strftime("%Y-%m-%d %H:%M %Z")
        entry = f"[{stamp}] {who.removeprefix('agent:')}: {text}"
        contact.notes = f"{contact.notes}\n\n{entry}" if contact.notes else entry
        log("helpdesk.note_added", note=text)
        changed.append("note")

    session.flush()
    return ContactUpdate(contact=contact, changed=tuple(changed))


E = TypeVar("E", HelpdeskStatus, HelpdeskCategory)


def _choice(enum: type[E], value: E | str | None, what: str) -> E | None:
    if value is None or value == "":
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise HelpdeskUpdateError(f"Unknown {what} {value!r}; choose one of {allowed}.") from None
