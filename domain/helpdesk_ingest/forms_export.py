"""The contact form's answers, as Microsoft Forms exports them (XLSX, or a CSV saved from it).

Microsoft Forms puts fixed columns first — ``ID``, ``Start time``, ``Completion time``,
``Email``, ``Name`` (``Last modified time`` in newer exports; ``開始時刻``, ``完了時刻``,
``メール``, ``名前`` in a Japanese tenant) — then one column per question, headed by the question's
text. ``Email`` and ``Name`` are the responder's Microsoft account, "anonymous" on a public
form, so the form asks for them again; the question columns are recognized by their words
(`QUESTION_WORDS`), or named explicitly (``columns=``) when a form words them otherwise.

Each answer becomes a helpdesk contact (channel "form") whose Message-ID is made from the
response's ID and start time, so importing the same export again, or a later export that
repeats earlier answers, adds only the new ones. Answers to questions this module does not
know are kept in the contact's text, so nothing typed into the form is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import HelpdeskChannel, HelpdeskStatus, Locale
from db.models import HelpdeskContact, Organization
from domain import audit, helpdesk
from domain.addresses import InvalidAddress, parse
from domain.clock import Clock
from domain.helpdesk_ingest.categories import categorize
from domain.helpdesk_ingest.forms_files import FormsExportError, parse_time, read_rows
from domain.helpdesk_ingest.records import insert_contact, looks_japanese, match_sender
from domain.settings import Settings

ACTOR = "system:forms-import"
MESSAGE_ID_DOMAIN = "contact-form.switchover.invalid"
MAX_ROWS = 100_000

FIXED_COLUMNS = {
    "id": ("id",),
    "start": ("start time", "開始時刻"),
    "completion": ("completion time", "完了時刻"),
    "account_email": ("email", "メール"),
    "account_name": ("name", "名前"),
    "modified": ("last modified time", "最終変更時刻"),
}
# Words of the form's own questions, checked in this order (the category question before the
# message question: "お問い合わせ種別" and "お問い合わせ内容" share their first word).
QUESTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("email address", "e-mail address", "e-mail", "email", "メールアドレス", "メール")),
    ("login_id", ("login id", "log-in id", "log in id", "ログインid", "ログイン id")),
    ("organization", ("organization", "organisation", "company", "会社", "組織", "企業", "法人")),
    (
        "category",
        ("category", "type of", "inquiry type", "enquiry type", "topic", "種別", "種類", "区分"),
    ),
    (
        "message",
        (
            "message",
            "details",
            "detail",
            "describe",
            "question",
            "inquiry",
            "enquiry",
            "内容",
            "詳細",
            "本文",
            "ご質問",
            "お問い合わせ",
        ),
    ),
    ("name", ("your name", "full name", "name", "氏名", "お名前", "名前", "担当者")),
)
KNOWN_FIELDS = tuple(name for name, _ in QUESTION_WORDS)
_ANONYMOUS = {"anonymous", "匿名", ""}


@dataclass(frozen=True)
class Columns:
    id: int
    start: int | None
    completion: int | None
    account_email: int | None
    account_name: int | None
    questions: Mapping[str, int]  # our field name -> column
    others: tuple[int, ...]  # questions we do not know: kept in the text


@dataclass
class FormsImportSummary:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, why)
    matches: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)  # our field -> header found


def _key(header: object) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(header or "")).casefold().split())


def detect_columns(
    headers: Sequence[object], overrides: Mapping[str, str] | None = None
) -> Columns:
    """Which column holds what; `overrides` maps a field (`KNOWN_FIELDS`) to a header."""
    keys = [_key(h) for h in headers]
    fixed: dict[str, int] = {}
    for name, spellings in FIXED_COLUMNS.items():
        for index, key in enumerate(keys):
            if key in spellings and name not in fixed:
                fixed[name] = index
    if "id" not in fixed:
        raise FormsExportError(
            "no 'ID' column: this is not a Microsoft Forms export (columns found: "
            + ", ".join(repr(str(h)) for h in headers if str(h or "").strip())
            + ")"
        )
    taken = set(fixed.values())
    questions: dict[str, int] = {}
    for name, header in (overrides or {}).items():
        if name not in KNOWN_FIELDS:
            raise FormsExportError(
                f"unknown field {name!r} in the column names given; use {', '.join(KNOWN_FIELDS)}"
            )
        if _key(header) not in keys:
            raise FormsExportError(f"no column {header!r} in the file (for {name})")
        questions[name] = keys.index(_key(header))
        taken.add(questions[name])
    for name, words in QUESTION_WORDS:
        if name in questions:
            continue
        for index, key in enumerate(keys):
            if index not in taken and any(word in key for word in words):
                questions[name] = index
                taken.add(index)
                break
    if "message" not in questions:
        raise FormsExportError(
            "cannot tell which column holds the message (columns found: "
            + ", ".join(repr(str(h)) for h in headers if str(h or "").strip())
            + "); name it with --column message='<header>'"
        )
    others = tuple(i for i, key in enumerate(keys) if i not in taken and key)
    return Columns(
        id=fixed["id"],
        start=fixed.get("start"),
        completion=fixed.get("completion"),
        account_email=fixed.get("account_email"),
        account_name=fixed.get("account_name"),
        questions=questions,
        others=others,
    )


def _cell(row: Sequence[object], index: int | None) -> str:
    if index is None or index >= len(row) or row[index] is None:
        return ""
    value = row[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def response_message_id(
    response_id: str, started: dt.datetime | None, row: Sequence[object]
) -> str:
    if started is not None:
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
    else:
        stamp = hashlib.sha256(repr(list(row)).encode("utf-8")).hexdigest()[:16]
    safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", response_id)[:60]
    return f"<forms.{safe_id}.{stamp}@{MESSAGE_ID_DOMAIN}>"


def import_rows(
    session: Session,
    clock: Clock,
    settings: Settings,
    rows: Sequence[Sequence[object]],
    *,
    columns: Mapping[str, str] | None = None,
    acknowledge: bool = False,
    timezone: ZoneInfo | None = None,
) -> FormsImportSummary:
    """Store every answer not stored before; the caller commits."""
    if not rows:
        raise FormsExportError("the file is empty")
    if len(rows) - 1 > MAX_ROWS:
        raise FormsExportError(f"the file has {len(rows) - 1:,} answers; at most {MAX_ROWS:,}")
    header, answers = rows[0], rows[1:]
    found = detect_columns(header, columns)
    summary = FormsImportSummary(
        columns={name: str(header[index]) for name, index in found.questions.items()}
    )
    tz = timezone or settings.tz
    seen: set[str] = set()
    for number, row in enumerate(answers, start=2):  # row numbers as a spreadsheet shows them
        summary.rows += 1
        try:
            _import_one(
                session,
                clock,
                settings,
                found,
                header,
                row,
                tz,
                seen,
                summary,
                acknowledge=acknowledge,
            )
        except ValueError as exc:
            summary.skipped.append((number, str(exc)))
    return summary


def _import_one(
    session: Session,
    clock: Clock,
    settings: Settings,
    found: Columns,
    header: Sequence[object],
    row: Sequence[object],
    tz: ZoneInfo,
    seen: set[str],
    summary: FormsImportSummary,
    *,
    acknowledge: bool,
) -> None:
    response_id = _cell(row, found.id)
    if not response_id:
        raise ValueError("no ID")
    started = parse_time(row[found.start] if found.start is not None else None, tz)
    completed = parse_time(row[found.completion] if found.completion is not None else None, tz)
    message_id = response_message_id(response_id, started, row)
    if message_id in seen or session.scalar(
        select(HelpdeskContact.id).where(HelpdeskContact.message_id == message_id)
    ):
        summary.duplicates += 1
        return
    seen.add(message_id)
    q = found.questions
    text = _cell(row, q.get("message"))
    extra = [
        f"{' '.join(str(header[i]).split())}: {_cell(row, i)}"
        for i in found.others
        if _cell(row, i)
    ]
    if not text and not extra:
        raise ValueError("the answer has no message")
    notes: list[str] = []
    email_given = _cell(row, q.get("email")) or _cell(row, found.account_email)
    sender: str | None = None
    if email_given.casefold() not in _ANONYMOUS:
        try:
            sender = parse(email_given).normalized
        except InvalidAddress as exc:
            notes.append(f"Address given {email_given!r} is not usable: {exc}")
    name = _cell(row, q.get("name")) or _cell(row, found.account_name)
    if name.casefold() in _ANONYMOUS:
        name = ""
    organization_given = " ".join(_cell(row, q.get("organization")).split())
    login_id = _cell(row, q.get("login_id")).upper()
    match = _match(session, sender, organization_given, login_id)
    answer = _cell(row, q.get("category"))
    guess = categorize(answer, None) if answer else categorize(None, "")
    if not guess.guessed:
        guess = categorize(None, text)
    body = "\n\n".join(part for part in (text, "\n".join(extra)) if part)
    if answer:
        body = f"{body}\n\n({answer})"
    given = organization_given + (f" ({login_id})" if login_id else "")
    contact = insert_contact(
        session,
        channel=HelpdeskChannel.FORM,
        received_at=completed or started or clock.now(),
        sender_name=" ".join(name.split())[:200] or None,
        sender_email=sender,
        organization_name_given=given[:300] or None,
        organization_id=match.organization_id,
        category=guess.category,
        status=HelpdeskStatus.NEW,
        subject=answer[:500] or None,
        body=body,
        message_id=message_id,
        thread_of_id=None,
        notes="\n".join(notes) or None,
    )
    if contact is None:  # imported meanwhile by another run
        summary.duplicates += 1
        return
    audit.record(
        session,
        clock,
        actor=ACTOR,
        action="helpdesk.form_imported",
        entity_type="helpdesk_contact",
        entity_id=contact.id,
        organization_id=match.organization_id,
        channel=HelpdeskChannel.FORM.value,
        category=guess.category.value,
        category_rule=guess.rule,
        match=match.reason,
        response_id=response_id,
    )
    if acknowledge and sender is not None:
        japanese = looks_japanese(text, answer)
        helpdesk.acknowledge(
            session, clock, settings, contact, locale=Locale.JA if japanese else Locale.EN
        )
    summary.imported += 1
    summary.matches[match.reason] += 1
    summary.categories[guess.category.value] += 1


def _match(
    session: Session, sender: str | None, organization: str, login_id: str
) -> helpdesk.Match:
    if login_id:
        by_login = session.scalar(
            select(Organization.id).where(func.upper(Organization.legacy_login_id) == login_id)
        )
        if by_login is not None:
            return helpdesk.Match(by_login, "login_id")
    found = match_sender(session, sender)
    if found.organization_id is None and organization:
        return helpdesk.match_organization(session, sender, organization)
    return found


def import_file(
    session: Session,
    clock: Clock,
    settings: Settings,
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    acknowledge: bool = False,
    timezone: ZoneInfo | None = None,
) -> FormsImportSummary:
    return import_rows(
        session,
        clock,
        settings,
        read_rows(path),
        columns=columns,
        acknowledge=acknowledge,
        timezone=timezone,
    )


def parse_column_options(values: Iterable[str]) -> dict[str, str]:
    """``field=header`` options from the command line, checked."""
    result: dict[str, str] = {}
    for value in values:
        name, sep, header = value.partition("=")
        if not sep or not header.strip() or name.strip() not in KNOWN_FIELDS:
            raise FormsExportError(
                f"--column {value!r}: write FIELD=HEADER, FIELD one of {', '.join(KNOWN_FIELDS)}"
            )
        result[name.strip()] = header.strip()
    return result
