"""The catalogue of email templates: what each one is for and the context it needs.

This is the contract between the code that queues mail and the templates. Every key a template
reads is declared here (a test parses the templates to hold us to it), so a caller learns from
one place what to pass, and a missing key fails before anything is rendered.

Besides these keys, every template receives values from settings (see `render.base_context`):
``portal_name``, ``portal_url``, ``helpdesk_name``, ``helpdesk_email``, ``helpdesk_form_url``,
``opens_on``, ``closes_on``, ``switch_on`` (dates) and ``deadline`` (the last minute of
pre-registration, an aware datetime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from db.enums import Locale
from domain.emails import samples
from domain.emails.template_errors import TemplateContextError
from domain.settings import Settings

Sample = Callable[[Locale, Settings], dict[str, Any]]
Derive = Callable[[Mapping[str, Any]], dict[str, Any]]

_ORGANIZATION = "the organization's name as its people know it (the Japanese name for ja)"
_CONTACT = "name of the contact person; without it the email greets the organization"
_LOGIN_ID = "the organization's current (shared) login ID"
_PERSON = "the recipient's name"
_EMAIL = "the recipient's email address (their future login ID)"
_ROLE = "the account type: a Role or 'administrator' | 'normal' | 'visitor'"
_EXPIRES = "when the link stops working (aware datetime)"


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    description: str
    required: Mapping[str, str]  # context key -> what to pass
    sample: Sample
    optional: Mapping[str, str] = field(default_factory=dict)
    # Keys whose value must be one of a closed set; checked before rendering.
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Keys (of the context or of the settings values) holding URLs the message must link to.
    links: tuple[str, ...] = ()
    # Values computed from the context before rendering (rules belong in Python, not in six
    # copies of a template), and the names of the keys it adds.
    derive: Derive | None = None
    derived: tuple[str, ...] = ()

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


REMINDER_SEGMENTS = ("never_registered", "nothing_verified", "no_verified_admin")
FOLLOWUP_STEPS = ("close_plus_1", "close_plus_7", "after_switch")
REMINDER_TONES = ("early", "soon", "urgent", "tomorrow", "today")


def reminder_tone(days_left: int) -> str:
    """How firmly a reminder speaks, from T-n: polite early on, "last day" at T-1 and T-0."""
    if isinstance(days_left, bool) or not isinstance(days_left, int) or days_left < 0:
        raise TemplateContextError(
            f"days_left must be a whole number of days >= 0 (got {days_left!r}); "
            "after the close, send the followup template instead"
        )
    if days_left == 0:
        return "today"
    if days_left == 1:
        return "tomorrow"
    if days_left <= 7:
        return "urgent"
    if days_left <= 14:
        return "soon"
    return "early"


def _reminder_values(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"tone": reminder_tone(context["days_left"])}


_SPECS = (
    TemplateSpec(
        name="announcement",
        description="Pre-registration is open: what changes, the window, how to register, "
        "the account types (to an organization's contacts).",
        required={"organization_name": _ORGANIZATION, "login_id": _LOGIN_ID},
        optional={
            "contact_name": _CONTACT,
            "instructions_url": "URL of the step-by-step pre-registration instructions",
        },
        links=("portal_url", "instructions_url"),
        sample=samples.announcement,
    ),
    TemplateSpec(
        name="reminder",
        description="Campaign reminder to an organization that is not ready; wording follows "
        "the segment and grows firmer as the close nears (last-day wording at T-1 and T-0).",
        required={
            "organization_name": _ORGANIZATION,
            "login_id": _LOGIN_ID,
            "segment": "why the organization is not ready: " + " | ".join(REMINDER_SEGMENTS),
            "days_left": "whole days until the close date (0 on the last day)",
        },
        optional={"contact_name": _CONTACT},
        choices={"segment": REMINDER_SEGMENTS},
        links=("portal_url",),
        derive=_reminder_values,
        derived=("tone",),
        sample=samples.reminder,
    ),
    TemplateSpec(
        name="verification",
        description="To a registered person: confirm your email address (link, expiry, "
        "what happens next).",
        required={
            "person_name": _PERSON,
            "organization_name": _ORGANIZATION,
            "role": _ROLE,
            "verify_url": "the confirmation link (opens a page with a confirm button)",
            "expires_at": _EXPIRES,
        },
        optional={"email": _EMAIL},
        links=("verify_url",),
        sample=samples.verification,
    ),
    TemplateSpec(
        name="verification_nudge",
        description="To a registered person who has not confirmed after some days: a fresh "
        "link and its expiry.",
        required={
            "person_name": _PERSON,
            "organization_name": _ORGANIZATION,
            "role": _ROLE,
            "verify_url": "the new confirmation link (earlier links no longer work)",
            "expires_at": _EXPIRES,
        },
        optional={
            "email": _EMAIL,
            "days_waiting": "whole days since the address was registered",
        },
        links=("verify_url",),
        sample=samples.verification_nudge,
    ),
    TemplateSpec(
        name="registration_confirmed",
        description="To a person who has just confirmed their address: what was registered "
        "and what happens on the switch date.",
        required={
            "person_name": _PERSON,
            "email": _EMAIL,
            "organization_name": _ORGANIZATION,
            "role": _ROLE,
        },
        links=("helpdesk_form_url",),
        sample=samples.registration_confirmed,
    ),
    TemplateSpec(
        name="followup",
        description="After the close, to an organization with no confirmed registration; "
        "after the switch it explains how to regain access through the helpdesk.",
        required={
            "organization_name": _ORGANIZATION,
            "login_id": _LOGIN_ID,
            "step": "which follow-up: " + " | ".join(FOLLOWUP_STEPS),
        },
        optional={"contact_name": _CONTACT},
        choices={"step": FOLLOWUP_STEPS},
        links=("helpdesk_form_url",),
        sample=samples.followup,
    ),
    TemplateSpec(
        name="migration_activation",
        description="Your individual login is ready: set your password (single-use link), "
        "with the organizations and account types of the person.",
        required={
            "person_name": _PERSON,
            "email": _EMAIL,
            "activation_url": "the single-use link to set the password",
            "expires_at": _EXPIRES,
            "memberships": "list of mappings with organization_name and role, one per "
            "organization the person belongs to",
        },
        links=("activation_url", "portal_url"),
        sample=samples.migration_activation,
    ),
    TemplateSpec(
        name="activation_resent",
        description="A person without a password asked for a new link on the log-in page: "
        "set your password (single-use link; earlier links no longer work).",
        required={
            "person_name": _PERSON,
            "email": _EMAIL,
            "activation_url": "the new single-use link to set the password",
            "expires_at": _EXPIRES,
            "memberships": "list of mappings with organization_name and role, one per "
            "organization the person belongs to (may be empty)",
        },
        links=("activation_url", "portal_url"),
        sample=samples.activation_resent,
    ),
    TemplateSpec(
        name="password_reset",
        description="A person with a password asked to reset it on the log-in page: choose a "
        "new password (single-use, short-lived link); ignore the email if you did not ask.",
        required={
            "person_name": _PERSON,
            "email": _EMAIL,
            "reset_url": "the single-use link to choose a new password",
            "expires_at": _EXPIRES,
        },
        links=("reset_url",),
        sample=samples.password_reset,
    ),
    TemplateSpec(
        name="helpdesk_acknowledgement",
        description="Acknowledges a helpdesk request: reference number, category, a copy of "
        "the message, expected response time.",
        required={
            "reference": "the reference number of the request",
            "category": "a HelpdeskCategory or its value",
            "message": "the text the person sent (shown escaped, line breaks kept)",
            "received_at": "when the request arrived (aware datetime)",
            "response_business_days": "business days within which the helpdesk replies",
        },
        optional={
            "person_name": "the sender's name; without it the email greets 'Customer'",
            "message_subject": "the subject the person gave, if any",
        },
        sample=samples.helpdesk_acknowledgement,
    ),
    TemplateSpec(
        name="invitation",
        description="After the switch: an Administrator invited a person to an organization.",
        required={
            "person_name": "the invited person's name",
            "email": "the invited address",
            "organization_name": _ORGANIZATION,
            "role": _ROLE,
            "inviter_name": "the Administrator who sent the invitation",
            "invitation_url": "the link to accept the invitation",
            "expires_at": _EXPIRES,
        },
        links=("invitation_url",),
        sample=samples.invitation,
    ),
)

TEMPLATES: Mapping[str, TemplateSpec] = {spec.name: spec for spec in _SPECS}
