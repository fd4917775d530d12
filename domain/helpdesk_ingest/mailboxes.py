"""Where support mail is read from: a folder on an IMAP server, or a Maildir on disk.

The support mailbox is also the agents' mailbox: they read it in their mail client. So reading
it must change nothing they see — messages are fetched with BODY.PEEK (not marked read), never
moved, and remembered as ingested with an IMAP keyword of our own (`INGESTED_KEYWORD`), which
mail clients do not show. The next run asks the server only for messages without the keyword.
A server that does not keep keywords gets every message every time; the Message-ID check of
the ingest makes that correct, only slower. A Maildir is read whole every time, for the same
reason (it has no portable keywords), and left untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from domain.settings import Settings

INGESTED_KEYWORD = "$SwitchoverIngested"
FETCH_CHUNK = 50
_MAILDIR_TIME = re.compile(r"^(\d{9,11})\.")


class MailboxError(Exception):
    """The mailbox cannot be read; the message says which one and why (no password)."""


@dataclass(frozen=True)
class MailItem:
    key: str  # the IMAP UID, or the Maildir file's path under the Maildir
    raw: bytes
    delivered_at: dt.datetime | None  # when the server received it, if it says


class HelpdeskMailbox(Protocol):
    @property
    def location(self) -> str:
        """Where the mailbox is, for people (no password)."""
        ...

    def unread(self, limit: int | None = None) -> Iterator[MailItem]:
        """Messages not yet ingested (or every message, where that cannot be told), oldest first."""
        ...

    def mark_ingested(self, keys: Sequence[str]) -> None:
        """Remember these messages as ingested (their contacts are committed)."""
        ...

    def close(self) -> None: ...


class MaildirMailbox:
    """A Maildir (new/, cur/, tmp/) that a mail server delivers the support mail to."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        missing = [sub for sub in ("new", "cur", "tmp") if not (self.path / sub).is_dir()]
        if missing:
            raise MailboxError(
                f"{self.path} is not a Maildir (missing {', '.join(missing)}/); point "
                "SWITCHOVER_HELPDESK_MAILDIR or --maildir at the folder the support mail is "
                "delivered to"
            )

    @property
    def location(self) -> str:
        return str(self.path)

    def unread(self, limit: int | None = None) -> Iterator[MailItem]:
        names = [
            f"{sub}/{name}"
            for sub in ("cur", "new")
            for name in os.listdir(self.path / sub)
            if not name.startswith(".")
        ]
        # Maildir names start with the delivery time in seconds: name order is arrival order.
        names.sort(key=lambda key: (key.partition("/")[2], key))
        for count, key in enumerate(names):
            if limit is not None and count >= limit:
                return
            try:
                raw = (self.path / key).read_bytes()
            except FileNotFoundError:  # a mail client moved it from new/ to cur/ meanwhile
                continue
            yield MailItem(key, raw, _maildir_time(key))

    def mark_ingested(self, keys: Sequence[str]) -> None:
        """Nothing to write: the Message-ID check recognizes ingested messages."""

    def close(self) -> None:
        """Nothing to release."""


def _maildir_time(key: str) -> dt.datetime | None:
    found = _MAILDIR_TIME.match(key.partition("/")[2])
    return dt.datetime.fromtimestamp(int(found[1]), dt.UTC) if found else None


class ImapMailbox:
    """A folder on an IMAP server, read with imapclient."""

    def __init__(self, client: IMAPClient, *, folder: str, location: str) -> None:
        self.client = client
        self.folder = folder
        self._location = location
        try:
            selected = client.select_folder(folder)
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"cannot open folder {folder!r} at {location}: {exc}") from exc
        permanent = selected.get(b"PERMANENTFLAGS", ())
        self.keeps_keywords = b"\\*" in permanent or INGESTED_KEYWORD.encode() in permanent

    @classmethod
    def connect(
        cls,
        host: str,
        *,
        username: str,
        password: str,
        port: int | None = None,
        security: Literal["ssl", "starttls", "none"] = "ssl",
        folder: str = "INBOX",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> ImapMailbox:
        location = f"imap://{username}@{host}:{port or (993 if security == 'ssl' else 143)}"
        location += f"/{folder}"
        try:
            client = IMAPClient(
                host,
                port=port or (993 if security == "ssl" else 143),
                ssl=security == "ssl",
                ssl_context=ssl_context,
                timeout=timeout,
            )
        except (OSError, IMAPClientError) as exc:
            raise MailboxError(f"cannot connect to {location}: {_reason(exc)}") from exc
        try:
            if security == "starttls":
                client.starttls(ssl_context)
            client.login(username, password)
        except (OSError, IMAPClientError) as exc:
            _quietly_logout(client)
            raise MailboxError(f"cannot log in to {location}: {_reason(exc)}") from exc
        # Aware datetimes from INTERNALDATE, rather than naive local time.
        client.normalise_times = False
        try:
            return cls(client, folder=folder, location=location)
        except MailboxError:
            _quietly_logout(client)
            raise

    @property
    def location(self) -> str:
        return self._location

    def unread(self, limit: int | None = None) -> Iterator[MailItem]:
        criteria: list[str | bytes] = (
            ["NOT", "KEYWORD", INGESTED_KEYWORD] if self.keeps_keywords else ["ALL"]
        )
        try:
            uids = sorted(self.client.search(criteria))
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"cannot search {self._location}: {_reason(exc)}") from exc
        if limit is not None:
            uids = uids[:limit]
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            try:
                fetched = self.client.fetch(chunk, ["BODY.PEEK[]", "INTERNALDATE"])
            except (IMAPClientError, OSError) as exc:
                raise MailboxError(f"cannot fetch from {self._location}: {_reason(exc)}") from exc
            for uid in chunk:
                data = fetched.get(uid)
                if data is None:  # expunged since the search
                    continue
                raw = data.get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue
                delivered = data.get(b"INTERNALDATE")
                yield MailItem(
                    str(uid),
                    raw,
                    delivered.astimezone(dt.UTC)
                    if isinstance(delivered, dt.datetime) and delivered.tzinfo
                    else None,
                )

    def mark_ingested(self, keys: Sequence[str]) -> None:
        if not self.keeps_keywords or not keys:
            return
        try:
            self.client.add_flags([int(k) for k in keys], [INGESTED_KEYWORD], silent=True)
        except (IMAPClientError, OSError) as exc:
            # Not fatal: the next run reads them again and the Message-ID check skips them.
            raise MailboxError(f"cannot flag messages in {self._location}: {_reason(exc)}") from exc

    def close(self) -> None:
        _quietly_logout(self.client)


def _quietly_logout(client: IMAPClient) -> None:
    # The connection is going away anyway; a failed goodbye changes nothing.
    with contextlib.suppress(IMAPClientError, OSError):
        client.logout()


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def open_mailbox(settings: Settings, *, maildir: Path | None = None) -> HelpdeskMailbox:
    """The support mailbox the settings name: IMAP when a host is set, else the Maildir."""
    if maildir is not None:
        return MaildirMailbox(maildir)
    if settings.helpdesk_imap_host:
        password = settings.helpdesk_imap_password
        if not settings.helpdesk_imap_username or password is None:
            raise MailboxError(
                "SWITCHOVER_HELPDESK_IMAP_HOST is set, so SWITCHOVER_HELPDESK_IMAP_USERNAME and "
                "SWITCHOVER_HELPDESK_IMAP_PASSWORD must be set too"
            )
        return ImapMailbox.connect(
            settings.helpdesk_imap_host,
            username=settings.helpdesk_imap_username,
            password=password.get_secret_value(),
            port=settings.helpdesk_imap_port,
            security=settings.helpdesk_imap_security,
            folder=settings.helpdesk_imap_folder,
            timeout=settings.helpdesk_imap_timeout_seconds,
        )
    if settings.helpdesk_maildir is not None:
        return MaildirMailbox(settings.helpdesk_maildir)
    raise MailboxError(
        "no support mailbox: set SWITCHOVER_HELPDESK_IMAP_HOST (with _USERNAME and _PASSWORD) "
        "or SWITCHOVER_HELPDESK_MAILDIR"
    )
