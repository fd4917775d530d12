"""The contact form's Microsoft Forms export (CSV or XLSX), imported once per answer."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import HelpdeskCategory, HelpdeskChannel
from db.models import HelpdeskContact, Message
from domain.context import App
from domain.helpdesk_ingest.forms_export import detect_columns, import_file, parse_column_options
from domain.helpdesk_ingest.forms_files import FormsExportError, parse_time
from tests import factories

EN_HEADER = [
    "ID",
    "Start time",
    "Completion time",
    "Email",
    "Name",
    "Last modified time",
    "Your name",
    "Email address",
    "Organization name",
    "Log-in ID (e.g. NK000123)",
    "What is your inquiry about? (category)",
    "Message",
    "Preferred language",
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def contacts(session: Session) -> list[HelpdeskContact]:
    session.expire_all()
    return list(session.scalars(select(HelpdeskContact).order_by(HelpdeskContact.id)))


def test_an_english_csv_export_is_imported_and_reimport_adds_nothing(
    app: App, session: Session, tmp_path: Path
) -> None:
    org = factories.organization(session, app.clock, domains=("owner.example",))
    session.commit()
    rows = [
        EN_HEADER,
        [
            "1",
            "7/1/2025 9:14:03",
            "7/1/2025 9:16:40",
            "anonymous",
            "anonymous",
            "",
            "Taro Yamada",
            "taro@owner.example",
            "Owner Kaiun",
            org.legacy_login_id.lower(),
            "I cannot log in",
            "Since yesterday the portal refuses our ID.",
            "English",
        ],
        [
            "2",
            "7/2/2025 10:00:00",
            "7/2/2025 10:05:00",
            "anonymous",
            "anonymous",
            "",
            "Hanako",
            "not an address",
            "",
            "",
            "Other",
            "The verification email never arrived.",
            "",
        ],
        [
            "3",
            "7/2/2025 11:00:00",
            "7/2/2025 11:01:00",
            "anonymous",
            "anonymous",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]
    path = write_csv(tmp_path / "form.csv", rows)
    summary = import_file(session, app.clock, app.settings, path)
    session.commit()
    assert (summary.rows, summary.imported, summary.duplicates) == (3, 2, 0)
    assert summary.skipped == [(4, "the answer has no message")]
    assert summary.columns["message"] == "Message"
    assert summary.columns["login_id"].startswith("Log-in ID")

    first, second = contacts(session)
    assert first.channel is HelpdeskChannel.FORM
    assert first.organization_id == org.id  # by the login ID typed in lower case
    assert first.category is HelpdeskCategory.CANNOT_LOG_IN
    assert first.sender_email == "taro@owner.example"
    assert first.sender_name == "Taro Yamada"
    assert first.organization_name_given == f"Owner Kaiun ({org.legacy_login_id})"
    # Forms writes the exporting user's local time: Tokyo by the settings.
    assert first.received_at == dt.datetime(2025, 7, 1, 0, 16, 40, tzinfo=dt.UTC)
    assert "Preferred language: English" in first.body  # an unknown question is kept
    assert second.sender_email is None
    assert second.notes and "not usable" in second.notes
    # "Other" in the category question does not hide what the message says.
    assert second.category is HelpdeskCategory.EMAIL_NOT_RECEIVED
    assert session.scalars(select(Message)).all() == []  # no acknowledgement by default

    rows.append(
        [
            "4",
            "7/3/2025 8:00:00",
            "7/3/2025 8:02:00",
            "anonymous",
            "anonymous",
            "",
            "Ken",
            "ken@owner.example",
            "",
            "",
            "Add a user",
            "Please add a colleague.",
            "",
        ]
    )
    later = write_csv(tmp_path / "later-export.csv", rows)
    again = import_file(session, app.clock, app.settings, later)
    session.commit()
    assert (again.imported, again.duplicates) == (1, 2)
    assert contacts(session)[-1].category is HelpdeskCategory.ADD_OR_REMOVE_USER


def test_a_japanese_xlsx_export(app: App, session: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "ID",
            "開始時刻",
            "完了時刻",
            "メール",
            "名前",
            "お名前",
            "メールアドレス",
            "会社名",
            "お問い合わせ種別",
            "お問い合わせ内容",
        ]
    )
    sheet.append(
        [
            1,
            dt.datetime(2025, 8, 1, 9, 0),
            dt.datetime(2025, 8, 1, 9, 5),
            "anonymous",
            "anonymous",
            "山田 太郎",
            "yamada@kaiun.example",
            "山田海運",
            "リンクの有効期限切れ",
            "リンクをクリックしたら期限切れでした。",
        ]
    )
    path = tmp_path / "回答.xlsx"
    book.save(path)
    summary = import_file(session, app.clock, app.settings, path, acknowledge=True)
    session.commit()
    assert summary.imported == 1
    assert summary.columns == {
        "email": "メールアドレス",
        "organization": "会社名",
        "category": "お問い合わせ種別",
        "message": "お問い合わせ内容",
        "name": "お名前",
    }
    [contact] = contacts(session)
    assert contact.category is HelpdeskCategory.LINK_EXPIRED
    assert contact.received_at == dt.datetime(2025, 8, 1, 0, 5, tzinfo=dt.UTC)
    [ack] = session.scalars(select(Message)).all()
    assert ack.locale.value == "ja"


def test_a_shift_jis_csv_saved_by_japanese_excel(
    app: App, session: Session, tmp_path: Path
) -> None:
    rows = [
        ["ID", "開始時刻", "完了時刻", "メール", "名前", "お問い合わせ内容"],
        [
            "7",
            "2025/08/02 10:00",
            "2025/08/02 10:03",
            "anonymous",
            "anonymous",
            "ログインできません",
        ],
    ]
    path = write_csv(tmp_path / "export.csv", rows, encoding="cp932")
    assert import_file(session, app.clock, app.settings, path).imported == 1


def test_files_that_cannot_be_imported_say_why(app: App, session: Session, tmp_path: Path) -> None:
    not_forms = write_csv(tmp_path / "x.csv", [["When", "What"], ["1", "2"]])
    with pytest.raises(FormsExportError, match="no 'ID' column"):
        import_file(session, app.clock, app.settings, not_forms)
    no_message = write_csv(tmp_path / "y.csv", [["ID", "Start time", "Colour"], ["1", "", "r"]])
    with pytest.raises(FormsExportError, match="--column message="):
        import_file(session, app.clock, app.settings, no_message)
    with pytest.raises(FormsExportError, match="no such file"):
        import_file(session, app.clock, app.settings, tmp_path / "missing.xlsx")
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(FormsExportError, match=r"give the \.xlsx file"):
        import_file(session, app.clock, app.settings, pdf)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(FormsExportError, match="not a readable Excel file"):
        import_file(session, app.clock, app.settings, broken)


def test_a_bad_time_skips_only_its_row(app: App, session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [["ID", "Start time", "Message"], ["1", "yesterday", "hi"], ["2", "7/1/2025 9:00", "hi"]],
    )
    summary = import_file(session, app.clock, app.settings, path)
    assert summary.imported == 1
    [(row, why)] = summary.skipped
    assert row == 2 and "not a time" in why


def test_columns_can_be_named(app: App) -> None:
    header = ["ID", "Start time", "Your question for us", "Kind of problem"]
    found = detect_columns(header, parse_column_options(["category=Kind of problem"]))
    assert found.questions == {"category": 3, "message": 2}
    with pytest.raises(FormsExportError, match="FIELD=HEADER"):
        parse_column_options(["colour=Kind"])
    with pytest.raises(FormsExportError, match="no column 'Nope'"):
        detect_columns(header, {"message": "Nope"})


def test_times_in_the_formats_excel_writes() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    expected = dt.datetime(2025, 7, 1, 0, 14, tzinfo=dt.UTC)
    for text in ("7/1/2025 9:14", "07/01/25 09:14:00", "2025/07/01 9:14", "2025-07-01 09:14:00"):
        assert parse_time(text, zone) == expected
    assert parse_time("", zone) is None
