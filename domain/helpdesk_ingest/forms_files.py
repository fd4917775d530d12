"""Reading the contact form's export: the XLSX Microsoft Forms gives, or a CSV saved from it.

Excel in a Japanese locale saves CSV in Shift_JIS unless told otherwise, "Unicode text" is
UTF-16 with tabs, and times are written in the exporting user's zone without saying which; this
module turns all of that into rows of cells and aware instants, or says what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zipfile import BadZipFile
from zoneinfo import ZoneInfo


class FormsExportError(ValueError):
    """The file cannot be imported as a whole; the message says why and what to do."""


_TIME_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
)


def read_rows(path: Path) -> list[list[object]]:
    """Every row of the first sheet (XLSX) or of the CSV, the header first."""
    if not path.is_file():
        raise FormsExportError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return _csv_rows(path.read_bytes(), path)
    raise FormsExportError(f"{path}: give the .xlsx file Forms exports, or a .csv saved from it")


def _xlsx_rows(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FormsExportError(f"{path}: not a readable Excel file ({exc})") from None
    rows: list[list[object]] = []
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            if any(cell not in (None, "") for cell in values):
                rows.append(list(values))
    finally:
        workbook.close()
    return rows


def _csv_rows(raw: bytes, path: Path) -> list[list[object]]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        # Excel in a Japanese locale saves CSV in Shift_JIS (cp932) unless told UTF-8.
        candidates = ("utf-8-sig", "cp932")
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FormsExportError(f"{path}: the CSV is neither UTF-8 nor Shift_JIS; save it as UTF-8")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows: list[list[object]] = [
        list(row)
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        if any(cell.strip() for cell in row)
    ]
    return rows


def parse_time(value: object, tz: ZoneInfo) -> dt.datetime | None:
    """A time as Forms writes it, in `tz` when it carries no zone (Forms writes local time)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = " ".join(str(value).split())
        for pattern in _TIME_FORMATS:
            try:
                moment = dt.datetime.strptime(text, pattern)  # noqa: DTZ007 - zone added below
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} is not a time (expected e.g. 6/16/2025 9:14:03)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)
