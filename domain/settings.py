"""Every knob of Switchover, read from the environment (prefix ``SWITCHOVER_``) and ``.env``.

Dates of the calendar are calendar days in the configured time zone (Asia/Tokyo by default),
because that is how the announcement states them; ``Calendar`` turns them into UTC instants.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SQLITE_PATH = Path("var") / "switchover.db"


class SettingsError(Exception):
    """A settings value cannot be used; the message is one line naming the variable and the fix."""


def normalize_database_url(raw: str) -> str:
    """Validate a database URL and pick the driver we ship (psycopg 3 for PostgreSQL).

    ``postgresql://`` and ``postgres://`` are what people paste from their hosting panel; without a
    driver SQLAlchemy would reach for psycopg2, which we do not install.
    """
    try:
        url: URL = make_url(raw)
    except ArgumentError as exc:
        raise ValueError(
            f"{raw!r} is not a database URL; use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/dbname"
        ) from exc
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ValueError(
            f"unsupported database {backend!r}; Switchover runs on sqlite or postgresql"
        )
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database cannot be shared; give a file path")
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHOVER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL: a SQLite file (default) or postgresql://user@host/db.",
    )
    database_echo: bool = False

    # --- the calendar (calendar days in `timezone`) ---
    timezone: str = "Asia/Tokyo"
    preregistration_opens: dt.date = dt.date(2025, 6, 15)
    preregistration_closes: dt.date = dt.date(2025, 9, 14)
    switch_date: dt.date = dt.date(2025, 9, 28)
    clock_at: dt.datetime | None = Field(
        default=None,
        description="Let the whole stack stand on this instant (it then advances in real time); "
        "for demos and rehearsals. Naive values are read in `timezone`.",
    )

    # --- tokens ---
    verification_token_ttl_hours: Annotated[int, Field(gt=0, le=24 * 90)] = 24 * 14
    activation_token_ttl_hours: Annotated[int, Field(gt=0, le=24 * 90)] = 24 * 7
    # A password-reset link is a key to the account: it lives for hours, not days.
    password_reset_token_ttl_hours: Annotated[int, Field(gt=0, le=24)] = 2
    account_recovery_min_seconds: Annotated[float, Field(ge=0, le=5)] = Field(
        default=0.25,
        description="Every answer of the portal's 'forgot your password' form takes at least "
        "this long, so its timing does not tell whether the address has an account.",
    )
    unverified_nudge_after_days: Annotated[int, Field(gt=0)] = 5
    registration_confirmed_within_days: Annotated[int, Field(gt=0, le=30)] = Field(
        default=3,
        description="Verification dispatch sends the 'registration confirmed' email to addresses "
        "verified within this many days (a dispatch that was down over a weekend catches up); "
        "older verifications are not looked at again.",
    )

    # --- mail ---
    mail_from: EmailStr = "no-reply@portal.example.com"
    mail_from_name: str = "Web Service Portal"
    reply_to: EmailStr = "cch-portal@classnk.or.jp"

    # --- SMTP relay (defaults: the local mail sink of `switchover mailsink`) ---
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] = 8025
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    mail_rate_per_second: Annotated[float, Field(ge=0)] = 0.0  # 0: no limit
    mail_batch_size: Annotated[int, Field(gt=0, le=10_000)] = 500
    mail_max_attempts: Annotated[int, Field(gt=0, le=50)] = 8
    mail_retry_base_seconds: Annotated[float, Field(gt=0)] = 60.0
    mail_claim_seconds: Annotated[float, Field(gt=0)] = 300.0

    # --- local mail sink and bounce mailbox ---
    mailsink_host: str = "127.0.0.1"
    mailsink_port: Annotated[int, Field(gt=0, lt=65536)] = 8025
    mailsink_dir: Path = Path("var") / "mailsink"
    bounce_maildir: Path | None = None
    demo_mode: bool = False

    # --- helpdesk (defaults from the announcement) ---
    helpdesk_email: EmailStr = "cch-portal@classnk.or.jp"
    helpdesk_form_url: AnyHttpUrl = AnyHttpUrl("https://forms.office.com/r/1cPRhM26MH")
    helpdesk_name: str = "CCH Portal Account Helpdesk"
    helpdesk_response_business_days: Annotated[int, Field(gt=0, le=30)] = 2

    # --- the support mailbox that helpdesk-ingest reads (IMAP, or a Maildir on disk) ---
    helpdesk_imap_host: str | None = Field(
        default=None,
        description="IMAP server of the support mailbox; unset: read helpdesk_maildir instead.",
    )
    helpdesk_imap_port: Annotated[int, Field(gt=0, lt=65536)] | None = None  # 993 / 143
    helpdesk_imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    helpdesk_imap_username: str | None = None
    helpdesk_imap_password: SecretStr | None = None
    helpdesk_imap_folder: str = "INBOX"
    helpdesk_imap_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0
    helpdesk_maildir: Path | None = None
    helpdesk_acknowledge_mail: bool = Field(
        default=True,
        description="Acknowledge each new request read from the mailbox by email (never replies, "
        "auto-replies or bounces).",
    )

    # --- `switchover demo`: ports of what it starts (the mail sink and dashboard have theirs) ---
    demo_portal_port: Annotated[int, Field(gt=0, lt=65536)] = 8000
    demo_prefect_port: Annotated[int, Field(gt=0, lt=65536)] = 4200

    # --- the portal ---
    portal_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    portal_name: str = "Web Service Portal"
    portal_secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the portal's session cookies; every worker must share it. When unset, "
        "a random key is generated once and kept in var/portal_secret_key.",
    )
    portal_content_dir: Path | None = Field(
        default=None,
        description="Directory with {en,ja}/{home,faq,news,contact}.md that operators edit; "
        "unset: the content shipped in portal/content.",
    )

    # --- the managers' dashboard ---
    dashboard_password: SecretStr | None = Field(
        default=None,
        description="Password managers type to open the dashboard (at least 12 characters); "
        "not needed when OIDC is configured in .streamlit/secrets.toml [auth].",
    )
    dashboard_host: str = "127.0.0.1"
    dashboard_port: Annotated[int, Field(gt=0, lt=65536)] = 8501
    dashboard_snapshot_max_age_seconds: Annotated[int, Field(ge=0, le=86_400)] = Field(
        default=300,
        description="Pages show the heavy figures the dashboard-refresh flow keeps (every "
        "minute) while they are at most this old, and compute them live otherwise; 0: always "
        "live.",
    )
    dashboard_work_mem: str = Field(
        default="64MB",
        pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$",
        description="PostgreSQL work_mem of the dashboard's own connections (e.g. 64MB): its "
        "per-organization aggregates sort and hash more than the default 4MB holds in memory. "
        "A handful of managers means a handful of connections.",
    )

    # --- the flows of the pre-registration period ---
    campaign_file: Path | None = Field(
        default=None,
        description="TOML file with the reminder campaign and the follow-up steps that operators "
        "edit; unset: domain/campaign.toml as shipped.",
    )
    mx_check: bool = Field(
        default=False,
        description="Look up the MX records of newly registered addresses' domains and hold back "
        "links to domains that cannot receive mail.",
    )
    mx_check_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 3.0

    # --- the switch to individual log-ins ---
    unregistered_legacy_grace_days: Annotated[int, Field(ge=0, le=365)] = Field(
        default=0,
        description="Organizations without a verified registration at the switch keep their "
        "shared log-in for this many days (0: it is turned off at the switch).",
    )
    password_min_length: Annotated[int, Field(ge=8, le=64)] = Field(
        default=15,
        description="Shortest password an individual account accepts. NIST SP 800-63B-4 asks "
        "for 15 where the password is the only factor, as here.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Asia/Tokyo"
            ) from exc
        return value

    @model_validator(mode="after")
    def _calendar_in_order(self) -> Settings:
        if not self.preregistration_opens <= self.preregistration_closes < self.switch_date:
            raise ValueError(
                "the calendar must satisfy preregistration_opens <= preregistration_closes "
                f"< switch_date (got {self.preregistration_opens}, "
                f"{self.preregistration_closes}, {self.switch_date})"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    def public_url(self, path: str) -> str:
        return str(self.portal_base_url).rstrip("/") + "/" + path.lstrip("/")


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "settings"
        variable = f"SWITCHOVER_{name.upper()}" if item["loc"] else "the calendar settings"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{variable}: {message}")
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one `SettingsError` line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(
            f"invalid setting — {_describe(exc)} (fix it in the environment or in .env)"
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests and the simulator pass their own `Settings` instead."""
    return load_settings()
