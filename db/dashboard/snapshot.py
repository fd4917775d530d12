"""The dashboard snapshot: the pages' heavy figures, computed ahead by the dashboard-refresh flow.

Some figures read every registration or the whole outbox index; computed while a manager waits,
they cost several times a count of the outbox. The refresh computes each of them (with the
same query functions the pages call) and keeps it, as JSON, in ``dashboard_snapshots``; a page
reads a snapshot younger than the age it accepts and computes the figure live otherwise, so a
dashboard without the flow shows the same figures, only more slowly.

JSON keeps what the figures are made of: dataclasses of `db.dashboard`, tuples, dates and
instants are tagged so that they read back equal to what was computed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import importlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.dashboard import campaigns, followup, helpdesk, migration, organizations, overview
from db.models import DashboardSnapshot


@dataclass(frozen=True)
class Inputs:
    """What the figures depend on besides the database."""

    tz: ZoneInfo
    now: dt.datetime
    followup_steps: tuple[str, ...]


# Each figure a snapshot keeps, by name: how the page computes it live. The names are the
# dashboard's cached reads (dashboard/data.py); a page's filters other than the defaults are
# always computed live.
FIGURES: Mapping[str, Callable[[Session, Inputs], Any]] = {
    "overview": lambda s, i: overview.overview(s, i.tz),
    "campaign_mail": lambda s, i: campaigns.campaign_mail(s),
    "followup": lambda s, i: followup.followup_page(s, i.followup_steps, followup.CallListFilter()),
    "account_managers": lambda s, i: followup.account_managers(s),
    "organization_options": lambda s, i: organizations.filter_options(s),
    "waves": lambda s, i: migration.waves(s),
    "migration_problems": lambda s, i: (migration.failure_reasons(s), migration.failures(s)),
    "rollback_history": lambda s, i: migration.rollback_history(s),
    "accounts": lambda s, i: migration.accounts(s),
    "helpdesk_per_day": lambda s, i: helpdesk.per_day(s, i.tz),
    "helpdesk_backlog": lambda s, i: helpdesk.backlog(s, i.now),
    "helpdesk_times": lambda s, i: helpdesk.response_times(s),
    # The lists as a page first shows them (no search; open contacts), the first page only.
    "helpdesk_contacts": lambda s, i: helpdesk.list_contacts(
        s, helpdesk.ContactFilter(statuses=helpdesk.OPEN_STATUSES)
    ),
    "organization_page": lambda s, i: organizations.list_organizations(
        s, organizations.OrganizationFilter(), offset=0
    ),
}


@dataclass(frozen=True)
class Figures:
    """A figure and when it was computed: `as_of` None means just now, live."""

    value: Any
    as_of: dt.datetime | None = None


def compute(session: Session, name: str, inputs: Inputs) -> Any:
    try:
        figure = FIGURES[name]
    except KeyError:
        raise ValueError(f"no dashboard figure named {name!r}") from None
    return figure(session, inputs)


def refresh(
    session: Session, inputs: Inputs, names: Sequence[str] | None = None
) -> dict[str, float]:
    """Compute every figure (or those named) as of `inputs.now` and keep them, replacing the
    snapshots before; returns each figure's seconds. The caller commits."""
    timings = {}
    rows = []
    for name in names or FIGURES:
        started = time.perf_counter()
        rows.append({"name": name, "figures": dumps(compute(session, name, inputs))})
        timings[name] = time.perf_counter() - started
    session.execute(delete(DashboardSnapshot).where(DashboardSnapshot.name.in_(list(timings))))
    session.add_all(DashboardSnapshot(computed_at=inputs.now, **row) for row in rows)
    session.flush()
    return timings


def forget(session: Session, names: Sequence[str]) -> None:
    """Drop the kept figures `names` (their data changed): pages compute them live until the
    next refresh. The caller commits."""
    session.execute(delete(DashboardSnapshot).where(DashboardSnapshot.name.in_(list(names))))


def read(session: Session, name: str, *, now: dt.datetime, max_age: dt.timedelta) -> Any:
    """The kept figure `name` if it was computed at most `max_age` before `now`, else None."""
    kept = session.execute(
        select(DashboardSnapshot.computed_at, DashboardSnapshot.figures).where(
            DashboardSnapshot.name == name
        )
    ).first()
    if kept is None:
        return None
    computed_at, figures = kept
    if not dt.timedelta(0) <= now - computed_at <= max_age:
        return None
    return Figures(loads(figures), computed_at)


def figures(
    session: Session, name: str, inputs: Inputs, *, max_age: dt.timedelta | None
) -> Figures:
    """The figure from a fresh enough snapshot, or computed now (`max_age` None: always now)."""
    if max_age is not None:
        kept = read(session, name, now=inputs.now, max_age=max_age)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
    return Figures(compute(session, name, inputs))


# --- JSON that reads back equal ---

# Only these modules' classes are rebuilt from a snapshot.
_MODULES = ("db.dashboard.", "db.enums")


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return _decode(json.loads(text))


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return {"~enum": _name(type(value)), "v": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError(f"a naive instant cannot be kept: {value!r}")
        return {"~dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"~d": value.isoformat()}
    if isinstance(value, tuple):
        return {"~t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return _encode_rows(value) or [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("~") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"~map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"~dc": _name(type(value)), "f": fields}
    raise TypeError(f"a dashboard figure cannot hold {type(value).__name__}: {value!r}")


def _encode_rows(values: list[Any]) -> dict[str, Any] | None:
    """A list of one dataclass as a table (names once, then rows of values): the long lists
    (contacts per day, the call list) read back in a fraction of the time and take half the
    room. None if `values` is not such a list."""
    cls = type(values[0]) if values else None
    if cls is None or not dataclasses.is_dataclass(cls) or any(type(v) is not cls for v in values):
        return None
    names = [f.name for f in dataclasses.fields(cls)]
    return {
        "~rows": _name(cls),
        "n": names,
        "v": [[_encode(getattr(v, name)) for name in names] for v in values],
    }


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "~rows" in value:
        cls, names = _class(value["~rows"]), value["n"]
        return [
            cls(**dict(zip(names, [_decode(v) for v in row], strict=True))) for row in value["v"]
        ]
    if "~dt" in value:
        return dt.datetime.fromisoformat(value["~dt"])
    if "~d" in value:
        return dt.date.fromisoformat(value["~d"])
    if "~t" in value:
        return tuple(_decode(v) for v in value["~t"])
    if "~map" in value:
        return {_decode(k): _decode(v) for k, v in value["~map"]}
    if "~enum" in value:
        return _class(value["~enum"])(value["v"])
    if "~dc" in value:
        return _class(value["~dc"])(**{k: _decode(v) for k, v in value["f"].items()})
    return {k: _decode(v) for k, v in value.items()}


@functools.cache
def _class(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(_MODULES):
        raise ValueError(f"a dashboard snapshot names a class outside db.dashboard: {name}")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type):
        raise ValueError(f"not a class: {name}")
    return found
