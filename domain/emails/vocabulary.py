"""The words emails show people, in both locales: role names, helpdesk categories, permissions.

Kept as data next to each other so that a role is called the same thing in every message (and
on the portal, which reads the same tables). The permission matrix is derived from
`domain.roles.PERMISSIONS`, so an email can never promise a right the code does not grant.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.enums import HelpdeskCategory, Locale, Role
from domain.roles import PERMISSIONS, Action, Scope

ROLE_ORDER = (Role.ADMINISTRATOR, Role.NORMAL, Role.VISITOR)

ROLE_LABELS: dict[Locale, dict[Role, str]] = {
    Locale.EN: {
        Role.ADMINISTRATOR: "Administrator",
        Role.NORMAL: "Normal User",
        Role.VISITOR: "Visitor User",
    },
    Locale.JA: {
        Role.ADMINISTRATOR: "管理者",
        Role.NORMAL: "一般ユーザー",
        Role.VISITOR: "閲覧ユーザー",
    },
}

CATEGORY_LABELS: dict[Locale, dict[HelpdeskCategory, str]] = {
    Locale.EN: {
        HelpdeskCategory.CANNOT_LOG_IN: "Cannot log in",
        HelpdeskCategory.EMAIL_NOT_RECEIVED: "Email not received",
        HelpdeskCategory.LINK_EXPIRED: "Link expired",
        HelpdeskCategory.WRONG_ORGANIZATION: "Wrong organization",
        HelpdeskCategory.ADD_OR_REMOVE_USER: "Adding or removing a user",
        HelpdeskCategory.OTHER: "Other",
    },
    Locale.JA: {
        HelpdeskCategory.CANNOT_LOG_IN: "ログインできない",
        HelpdeskCategory.EMAIL_NOT_RECEIVED: "メールが届かない",
        HelpdeskCategory.LINK_EXPIRED: "リンクの有効期限切れ",
        HelpdeskCategory.WRONG_ORGANIZATION: "登録組織の誤り",
        HelpdeskCategory.ADD_OR_REMOVE_USER: "ユーザーの追加・削除",
        HelpdeskCategory.OTHER: "その他",
    },
}

# The rows of the announcement's table. It shows "add (invite), edit and delete users" as one
# row; the code keeps three actions, which must therefore agree for every role.
_ROWS: tuple[tuple[Action, ...], ...] = (
    (Action.LOG_IN_HUB,),
    (Action.LOG_IN_SERVICES,),
    (Action.APPLY_FOR_SERVICE,),
    (Action.INVITE_USER, Action.EDIT_USER, Action.DELETE_USER),
    (Action.EDIT_USER_INFORMATION,),
)

_ROW_LABELS: dict[Locale, tuple[str, ...]] = {
    Locale.EN: (
        "Log in to {portal}",
        "Log in to the services your organization uses",
        "Apply for a new service",
        "Add (invite), edit and delete users",
        "Edit user information",
    ),
    Locale.JA: (
        "{portal}へのログイン",
        "ご利用中の各サービスへのログイン",
        "サービスの新規利用申込",
        "ユーザーの追加（招待）・編集・削除",
        "ユーザー情報の編集",
    ),
}

_CELLS: dict[Locale, dict[Scope, str]] = {
    Locale.EN: {Scope.ORGANIZATION: "Yes", Scope.OWN: "Own only", Scope.NONE: "No"},
    Locale.JA: {Scope.ORGANIZATION: "〇", Scope.OWN: "〇（本人のみ）", Scope.NONE: "－"},
}

_OWN_ONLY_SUFFIX: dict[Locale, str] = {
    Locale.EN: " (own information only)",
    Locale.JA: "（ご本人の情報のみ）",
}


@dataclass(frozen=True)
class PermissionRow:
    label: str
    cells: tuple[str, ...]  # one per role, in ROLE_ORDER


@dataclass(frozen=True)
class RoleRights:
    role: str
    rights: tuple[str, ...]


@dataclass(frozen=True)
class PermissionMatrix:
    """The matrix twice: as a table (HTML) and as a list of rights per role (plain text)."""

    roles: tuple[str, ...]
    rows: tuple[PermissionRow, ...]
    by_role: tuple[RoleRights, ...]


def _scope(actions: tuple[Action, ...], role: Role) -> Scope:
    scopes = {PERMISSIONS[action][role] for action in actions}
    if len(scopes) != 1:
        raise AssertionError(f"{actions} differ for {role}; the email table cannot merge them")
    return scopes.pop()


def permission_matrix(locale: Locale, portal_name: str) -> PermissionMatrix:
    labels = [label.format(portal=portal_name) for label in _ROW_LABELS[locale]]
    rows = tuple(
        PermissionRow(
            label=label,
            cells=tuple(_CELLS[locale][_scope(actions, role)] for role in ROLE_ORDER),
        )
        for label, actions in zip(labels, _ROWS, strict=True)
    )
    by_role = []
    for role in ROLE_ORDER:
        rights = []
        for label, actions in zip(labels, _ROWS, strict=True):
            scope = _scope(actions, role)
            if scope is Scope.ORGANIZATION:
                rights.append(label)
            elif scope is Scope.OWN:
                rights.append(label + _OWN_ONLY_SUFFIX[locale])
        by_role.append(RoleRights(role=ROLE_LABELS[locale][role], rights=tuple(rights)))
    return PermissionMatrix(
        roles=tuple(ROLE_LABELS[locale][role] for role in ROLE_ORDER),
        rows=rows,
        by_role=tuple(by_role),
    )
