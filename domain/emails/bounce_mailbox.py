"""Where bounces arrive: a Maildir folder on disk, or a folder on an IMAP server.

Both give the same two operations: list what is waiting, and put one message aside once its
report has been applied. "Aside" is a ``processed`` sub-folder, so the inbox holds exactly what
is still to do, a person can inspect the history with any mail client, and a message that is not
a bounce (a human reply, an out-of-office) stays in the inbox for a person to read.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

PROCESSED_FOLDER = "processed"


class MailboxError(Exception):
    """The bounce mailbox cannot be read or written; the message says which and why."""


@dataclass(frozen=True)
class MailboxItem:
    key: str
    raw: bytes


class BounceMailbox(Protocol):
    @property
    def location(self) -> str:
        """Where the mailbox is, for people (no password)."""
        ...

    def pending(self) -> Iterator[MailboxItem]:
        """Every message still in the inbox, oldest first."""
        ...

    def mark_processed(self, key: str) -> None:
        """Move one message out of the inbox into the processed folder, marked as seen."""
        ...

    def close(self) -> None: ...


class MaildirBounceMailbox:
    """A Maildir (new/, cur/, tmp/); processed messages go to its Maildir++ folder ``.processed``.

    Files are moved with one rename, so a message is never lost or copied half-way, and its bytes
    are kept exactly as the mail server delivered them.
    """

    def __init__(self, path: Path, *, processed_folder: str = PROCESSED_FOLDER) -> None:
        self.path = Path(path)
        self.processed_folder = processed_folder
        missing = [sub for sub in ("new", "cur", "tmp") if not (self.path / sub).is_dir()]
        if missing:
            raise MailboxError(
                f"{self.path} is not a Maildir (missing {', '.join(missing)}/); "
                "point SWITCHOVER_BOUNCE_MAILDIR or --maildir at the folder your mail server "
                "delivers bounces to"
            )

    @property
    def location(self) -> str:
        return str(self.path)

    def pending(self) -> Iterator[MailboxItem]:
        for sub in ("new", "cur"):
            # Maildir file names start with the delivery time, so name order is arrival order.
            for name in sorted(os.listdir(self.path / sub)):
                if name.startswith("."):
                    continue
                try:
                    raw = (self.path / sub / name).read_bytes()
                except FileNotFoundError:  # another run took it meanwhile
                    continue
                yield MailboxItem(f"{sub}/{name}", raw)

    def mark_processed(self, key: str) -> None:
        sub, _, name = key.partition("/")
        if sub not in ("new", "cur") or not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a key of this Maildir: {key!r}")
        unique, _, info = name.partition(":")
        flags = set(info[2:]) if info.startswith("2,") else set()
        flags.add("S")
        target = self._processed_path() / "cur" / f"{unique}:2,{''.join(sorted(flags))}"
        # FileNotFoundError: a concurrent run moved it already; the goal is reached either way.
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path / sub / name, target)

    def _processed_path(self) -> Path:
        folder = self.path / f".{self.processed_folder}"
        if not (folder / "cur").is_dir():
            # Creates new/, cur/, tmp/ and the maildirfolder marker that Dovecot expects.
            mailbox.Maildir(self.path, create=False).add_folder(self.processed_folder)
        return folder

    def close(self) -> None:
        """Nothing to release; here for the `BounceMailbox` protocol."""


def _quote(name: str) -> str:
    # imaplib sends arguments verbatim; a folder name with a space must be a quoted string.
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapBounceMailbox:
    """A folder on an IMAP server; processed messages are moved to another folder.

    Messages are fetched with BODY.PEEK so that reading them does not mark them seen, and moved
    with MOVE (RFC 6851) where the server has it, else with COPY, \\Deleted and EXPUNGE.
    Folder names must be ASCII (IMAP's modified UTF-7 is not implemented).
    """

    def __init__(
        self,
        client: imaplib.IMAP4,
        *,
        folder: str = "INBOX",
        processed_folder: str = "Processed",
        location: str = "imap",
    ) -> None:
        self.client = client
        self.folder = folder
        self.processed_folder = processed_folder
        self._location = location
        self._processed_ready = False
        self._selected = False

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
        processed_folder: str = "Processed",
        timeout: float = 30.0,
    ) -> ImapBounceMailbox:
        try:
            client: imaplib.IMAP4
            if security == "ssl":
                client = imaplib.IMAP4_SSL(host, port or 993, timeout=timeout)
            else:
                client = imaplib.IMAP4(host, port or 143, timeout=timeout)
                if security == "starttls":
                    client.starttls()
            client.login(username, password)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"cannot log in to IMAP server {host}: {exc}") from exc
        return cls(
            client,
            folder=folder,
            processed_folder=processed_folder,
            location=f"imap://{username}@{host}/{folder}",
        )

    @property
    def location(self) -> str:
        return self._location

    def _check(self, result: tuple[str, Sequence[object]], doing: str) -> Sequence[object]:
        status, data = result
        if status != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise MailboxError(f"IMAP server refused to {doing}: {detail or status}")
        return data

    def _select(self) -> None:
        if not self._selected:
            self._check(self.client.select(_quote(self.folder)), f"open folder {self.folder}")
            self._selected = True

    def pending(self) -> Iterator[MailboxItem]:
        self._select()
        data = self._check(self.client.uid("SEARCH", "UNDELETED"), "search the folder")
        first = data[0] if data else b""
        uids = first.decode("ascii").split() if isinstance(first, bytes) else []
        for uid in uids:
            fetched = self._check(self.client.uid("FETCH", uid, "(BODY.PEEK[])"), "fetch a message")
            raw = next(
                (
                    item[1]
                    for item in fetched
                    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes)
                ),
                None,
            )
            if raw is not None:  # None: expunged by someone else since the search
                yield MailboxItem(uid, raw)

    def mark_processed(self, key: str) -> None:
        if not key.isdigit():
            raise ValueError(f"not an IMAP UID: {key!r}")
        self._select()
        self._ensure_processed_folder()
        target = _quote(self.processed_folder)
        capabilities = {str(c).upper() for c in self.client.capabilities}
        if "MOVE" in capabilities:
            self._check(self.client.uid("MOVE", key, target), "move a message")
            return
        self._check(self.client.uid("COPY", key, target), "copy a message")
        self._check(
            self.client.uid("STORE", key, "+FLAGS.SILENT", r"(\Seen \Deleted)"),
            "flag a message",
        )
        if "UIDPLUS" in capabilities:
            self._check(self.client.uid("EXPUNGE", key), "expunge a message")
        else:
            self._check(self.client.expunge(), "expunge the folder")

    def _ensure_processed_folder(self) -> None:
        if self._processed_ready:
            return
        status, _ = self.client.create(_quote(self.processed_folder))
        # NO is what servers answer when the folder exists; a real problem shows at COPY/MOVE.
        if status not in ("OK", "NO"):
            raise MailboxError(f"IMAP server refused to create folder {self.processed_folder}")
        self._processed_ready = True

    def close(self) -> None:
        try:
            if self._selected:
                self.client.close()
            self.client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass  # the connection is going away anyway
