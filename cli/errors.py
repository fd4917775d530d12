"""Errors a person can fix: printed as one line naming the fix, never as a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

from sqlalchemy.exc import OperationalError

from db.schema import SchemaError
from domain.settings import SettingsError

T = TypeVar("T")


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except (SettingsError, SchemaError, CommandError) as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(
            f"the database is unreachable or refused the request ({first_line(exc)}); "
            "check SWITCHOVER_DATABASE_URL and that the server is running"
        )


def run_guarded(func: Callable[[], T]) -> T:
    with user_errors():
        return func()
    raise AssertionError("unreachable")  # pragma: no cover - user_errors exits on error
