"""Read a support mailbox into helpdesk contacts, a batch of messages per transaction.

This driver owns its transactions because the mailbox is not in the database: a batch is
committed first and only then marked as ingested in the mailbox, so a crash in between means the
batch is read again next time — which the Message-ID check makes harmless. With ``dry_run``
everything is computed and rolled back, and the mailbox is left as it was.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from db.models import HelpdeskContact
from domain.context import App
from domain.helpdesk_ingest.mailboxes import HelpdeskMailbox, MailboxError, MailItem
from domain.helpdesk_ingest.parsing import parse, quick_message_id
from domain.helpdesk_ingest.records import Recorded, record_mail

log = logging.getLogger(__name__)

EXAMPLES_KEPT = 10


@dataclass
class IngestSummary:
    read: int = 0
    new_contacts: int = 0
    replies: int = 0
    duplicates: int = 0
    own_messages: int = 0  # copies of our own outgoing mail: not requests
    acknowledged: int = 0
    reopened: int = 0
    unreadable: list[str] = field(default_factory=list)  # keys left in the mailbox
    matches: Counter[str] = field(default_factory=Counter)  # how organizations were found
    categories: Counter[str] = field(default_factory=Counter)
    threaded_by: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(
        self, recorded: Recorded, item: MailItem, subject: str | None, sender: str | None
    ) -> None:
        if recorded.kind == "duplicate":
            self.duplicates += 1
            return
        if recorded.kind == "own":
            self.own_messages += 1
            return
        if recorded.kind == "reply":
            self.replies += 1
            self.threaded_by[recorded.thread_by or "?"] += 1
        else:
            self.new_contacts += 1
        self.acknowledged += int(recorded.acknowledged)
        self.reopened += int(recorded.reopened)
        self.matches[recorded.match or "none"] += 1
        if recorded.category is not None:
            self.categories[recorded.category.value] += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(
                {
                    "contact": recorded.contact_id,
                    "kind": recorded.kind,
                    "from": sender or "",
                    "subject": subject or "",
                    "category": recorded.category.value if recorded.category else "",
                    "organization match": recorded.match or "",
                    "thread of": recorded.thread_of_id or "",
                }
            )

    @property
    def stored(self) -> int:
        return self.new_contacts + self.replies


def ingest_mailbox(
    app: App,
    mailbox: HelpdeskMailbox,
    *,
    dry_run: bool = False,
    acknowledge: bool = True,
    limit: int | None = None,
    batch_size: int = 100,
) -> IngestSummary:
    """Store every message not yet ingested; returns what was read and what it became."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1 (got {batch_size})")
    summary = IngestSummary()
    batch: list[MailItem] = []
    for item in mailbox.unread(limit):
        batch.append(item)
        if len(batch) >= batch_size:
            _batch(app, mailbox, batch, summary, dry_run=dry_run, acknowledge=acknowledge)
            batch = []
    if batch:
        _batch(app, mailbox, batch, summary, dry_run=dry_run, acknowledge=acknowledge)
    return summary


def _batch(
    app: App,
    mailbox: HelpdeskMailbox,
    items: list[MailItem],
    summary: IngestSummary,
    *,
    dry_run: bool,
    acknowledge: bool,
) -> None:
    done: list[str] = []
    with app.sessions() as session:
        session.begin()
        try:
            # Messages stored before (a Maildir is read whole every run) are recognized by their
            # Message-ID in one query, without decoding them.
            quick = {item.key: quick_message_id(item.raw) for item in items}
            stored = set(
                session.scalars(
                    select(HelpdeskContact.message_id).where(
                        HelpdeskContact.message_id.in_(set(quick.values()))
                    )
                )
            )
            for item in items:
                summary.read += 1
                if quick[item.key] in stored:
                    summary.duplicates += 1
                    done.append(item.key)
                    continue
                try:
                    mail = parse(item.raw)
                except Exception:
                    # One malformed message must not stop every later run at the same place.
                    log.exception("cannot read message %s in %s", item.key, mailbox.location)
                    summary.unreadable.append(item.key)
                    continue
                recorded = record_mail(
                    session,
                    app.clock,
                    app.settings,
                    mail,
                    delivered_at=item.delivered_at,
                    acknowledge=acknowledge,
                )
                summary.add(recorded, item, mail.subject, mail.from_address)
                done.append(item.key)
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
            return
        session.commit()
    try:
        mailbox.mark_ingested(done)
    except MailboxError as exc:
        # The contacts are stored; the next run reads these messages again and skips them.
        summary.warnings.append(str(exc))
