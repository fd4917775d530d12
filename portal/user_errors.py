"""The domain's refusals about users and invitations, in the visitor's language.

The domain words its errors in English for logs and scripts; the portal shows its own message,
chosen by the field at fault, so every message has a Japanese translation.
"""

from __future__ import annotations

from domain.accounts.invitations import InvitationError
from domain.accounts.users import UserError
from domain.registration import MAX_NAME_LENGTH
from portal.i18n import N_, Translator

_BY_FIELD = {
    "name": N_("Enter the name (at most %(max)d characters)."),
    "phone": N_("Enter the phone number with digits, spaces and + - ( ) only."),
    "locale": N_("Choose a language."),
    "role": N_("Choose an account type."),
}
LAST_ADMINISTRATOR = N_(
    "The organization needs at least one Administrator: make another user an Administrator first."
)
ALREADY_MEMBER = N_("This person is already a user of your organization.")
BAD_ADDRESS = N_("This email address cannot be used: %(reason)s")


def user_error_message(exc: UserError | InvitationError) -> tuple[str, str, dict[str, object]]:
    """(form field, message id, its values) for a refused change."""
    field = exc.field
    if field in _BY_FIELD:
        return field, _BY_FIELD[field], {"max": MAX_NAME_LENGTH}
    if field == "email":
        if "already a user" in str(exc):
            return field, ALREADY_MEMBER, {}
        return field, BAD_ADDRESS, {"reason": str(exc)}
    return "role", LAST_ADMINISTRATOR, {}


def user_error(words: Translator, exc: UserError | InvitationError) -> tuple[str, str]:
    """(form field, message in the visitor's language) for a refused change."""
    field, message, values = user_error_message(exc)
    return field, words.gettext(message, **values)
