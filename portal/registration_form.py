"""The "add a person" form: what was typed, what is wrong with it, what deserves a second look.

Errors refuse the submission (an address that cannot receive mail, a missing name). Warnings do
not: a free-mail address or a domain the organization is not known to use may be right, so the
form asks for an explicit "submit anyway" — bound to the exact address that was warned about, so
changing the address asks again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from db.enums import Role
from domain.addresses import Address, InvalidAddress, parse
from domain.registration import MAX_NAME_LENGTH
from domain.roles import PERMISSIONS, Action, Scope
from portal.i18n import N_, Translator

# Messages of domain.addresses that are ours (the others come from email_validator, in English).
_ADDRESS_MESSAGES = (
    N_("Enter an email address."),
    N_("Enter one email address, without spaces, names or separators."),
)

ROLE_TEXT = {
    Role.ADMINISTRATOR: (
        N_("Administrator"),
        N_("Manages the organization's users and applies for new NK services."),
    ),
    Role.NORMAL: (
        N_("Normal User"),
        N_("Uses the NK services; can edit only their own user information."),
    ),
    Role.VISITOR: (
        N_("Visitor User"),
        N_("Views information in the Customer Hub; can edit only their own user information."),
    ),
}

# The announcement's permission summary; the marks are read from domain.roles, not restated.
PERMISSION_ROWS = (
    (N_("Log in to the Customer Hub"), (Action.LOG_IN_HUB,)),
    (N_("Log in to NK services"), (Action.LOG_IN_SERVICES,)),
    (N_("New application for NK service usage"), (Action.APPLY_FOR_SERVICE,)),
    (N_("Add (invite), edit and delete users"), (Action.INVITE_USER, Action.EDIT_USER)),
    (N_("Edit user information"), (Action.EDIT_USER_INFORMATION,)),
)


def permission_mark(actions: tuple[Action, ...], role: Role) -> str:
    """'yes', 'own' (only their own information) or 'no' for a row of the summary."""
    scopes = {PERMISSIONS[action][role] for action in actions}
    if scopes == {Scope.ORGANIZATION}:
        return "yes"
    if Scope.NONE in scopes:
        return "no"
    return "own"


@dataclass
class RegistrationForm:
    name: str = ""
    email: str = ""
    role: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    suggestion: str | None = None
    confirm_email: str | None = None  # set when the warnings need a "submit anyway"

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.warnings) and not self.errors


def clean_name(raw: str) -> str:
    return " ".join((raw or "").split())


def check(
    form: RegistrationForm,
    words: Translator,
    *,
    known_domains: list[str],
    confirmed_email: str | None,
) -> Address | None:
    """Fill the form's errors and warnings; the parsed address when it may be submitted."""
    name = clean_name(form.name)
    if not name:
        form.errors["name"] = words.gettext("Enter the person's name.")
    elif len(name) > MAX_NAME_LENGTH:
        form.errors["name"] = words.gettext(
            "The name is too long (at most %(max)d characters).", max=MAX_NAME_LENGTH
        )
    try:
        Role(form.role)
    except ValueError:
        form.errors["role"] = words.gettext("Choose an account type.")
    address: Address | None = None
    try:
        address = parse(form.email, known_domains=known_domains)
    except InvalidAddress as exc:
        reason = str(exc)
        form.errors["email"] = (
            words.gettext(reason)
            if reason in _ADDRESS_MESSAGES
            else words.gettext("This email address cannot be used: %(reason)s", reason=reason)
        )
    if address is None or form.errors:
        return None
    form.email = address.display
    form.suggestion = address.suggestion
    if address.suggestion:
        form.warnings.append(words.gettext("Did you mean %(address)s?", address=address.suggestion))
    if address.is_free_mail:
        form.warnings.append(
            words.gettext(
                "%(domain)s is a free-mail service. A company address is better for a work "
                "account: it stays with the organization when people change jobs.",
                domain=address.domain,
            )
        )
    elif known_domains and not _is_known(address.domain, known_domains):
        form.warnings.append(
            words.gettext(
                "%(domain)s is not one of your organization's known email domains (%(known)s).",
                domain=address.domain,
                known=", ".join(sorted(known_domains)),
            )
        )
    if form.warnings and (confirmed_email or "").strip().lower() != address.normalized:
        form.confirm_email = address.normalized
        return None
    return address


def _is_known(domain: str, known: list[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in (k.lower() for k in known))
