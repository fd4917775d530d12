"""One step of a mailing to organizations (a reminder, a follow-up), for one range of ids.

For the organizations of the range that stand in the step's segments, it finds their addresses
(contacts on file, and where the step says so the people registered and waiting to verify),
leaves out those the step already reached, renders the rest through shared stencils and queues
them in one bulk insert — inside the caller's transaction, which the caller commits.

Idempotency key: ``<kind>:<step>:org:<id>:<address>`` (the address lower-cased), so a step
reaches each address of each organization once, however often it runs, and a new contact added
later still gets it. ``dry_run`` plans and renders the same messages and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Message
from domain.clock import Clock
from domain.emails.catalog import TEMPLATES
from domain.emails.outbox import OutboxItem, enqueue_deliverable, usable_address
from domain.emails.render import render_email
from domain.emails.rendered import RenderedEmail
from domain.segments import (
    OrgRow,
    Recipient,
    Recipients,
    Segment,
    classify,
    contacts,
    pending_registrants,
)
from domain.settings import Settings
from domain.stencil import Stencil

KEY_LIMIT = 200  # the outbox's idempotency_key column
SAMPLES_KEPT = 12  # a dry run shows three of them, as different as they come
SAMPLES_SAME_KIND = 3  # more of one kind only while there are fewer than this many


@dataclass(frozen=True)
class Mailing:
    """What one step sends: `fixed` is the context every message of the step shares."""

    kind: str  # "campaign" or "followup": the first part of the idempotency key
    step: str
    template: str
    segments: frozenset[Segment]
    recipients: Recipients
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def key(self, organization_id: int, address: str) -> str:
        key = f"{self.kind}:{self.step}:org:{organization_id}:{address.lower()}"
        if len(key) <= KEY_LIMIT:
            return key
        digest = hashlib.sha256(address.lower().encode("utf-8")).hexdigest()[:40]
        return f"{self.kind}:{self.step}:org:{organization_id}:sha256:{digest}"

    @property
    def key_prefix(self) -> str:
        """Every key of this step starts so (the sender drains a step by it)."""
        return f"{self.kind}:{self.step}:"


@dataclass(frozen=True)
class SampleEmail:
    segment: str
    locale: str
    recipient: str  # "contact" or "registered person"
    login_id: str
    to_address: str
    subject: str
    text: str

    @property
    def kind(self) -> tuple[str, str, str]:
        return (self.segment, self.locale, self.recipient)


def keep_sample(samples: list[SampleEmail], kind: tuple[str, str, str]) -> bool:
    """Keep the first email of each kind, and any email while there are too few to show."""
    if len(samples) >= SAMPLES_KEPT:
        return False
    return len(samples) < SAMPLES_SAME_KIND or all(s.kind != kind for s in samples)


@dataclass
class MailingResult:
    organizations: Counter[str] = field(default_factory=Counter)  # in a target segment
    unreachable: Counter[str] = field(default_factory=Counter)  # ...with no address to write to
    planned: Counter[str] = field(default_factory=Counter)  # new messages, by segment
    already_sent: int = 0  # addresses this step reached before
    invalid_addresses: int = 0  # on file but not usable as a recipient
    created: int = 0  # rows queued (0 in a dry run)
    samples: list[SampleEmail] = field(default_factory=list)

    def merge(self, other: MailingResult) -> MailingResult:
        self.organizations.update(other.organizations)
        self.unreachable.update(other.unreachable)
        self.planned.update(other.planned)
        self.already_sent += other.already_sent
        self.invalid_addresses += other.invalid_addresses
        self.created += other.created
        for sample in other.samples:
            if keep_sample(self.samples, sample.kind):
                self.samples.append(sample)
        return self


class StencilCache:
    """Stencils shared by every batch of a run (building and checking one costs a few renders)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stencils: dict[tuple[Any, ...], Stencil] = {}

    def get(
        self, template: str, locale: str, fixed: Mapping[str, Any], variable: tuple[str, ...]
    ) -> Stencil:
        key = (template, locale, tuple(sorted(fixed.items())), variable)
        stencil = self._stencils.get(key)
        if stencil is None:
            stencil = Stencil(template, locale, fixed, variable, self.settings)
            self._stencils[key] = stencil
        return stencil

    @property
    def renders(self) -> tuple[int, int]:
        """(filled in from a stencil, rendered in full)."""
        fast = sum(s.fast_renders for s in self._stencils.values())
        slow = sum(s.slow_renders for s in self._stencils.values())
        return fast, slow


def send_step(
    session: Session,
    clock: Clock,
    settings: Settings,
    mailing: Mailing,
    first_id: int,
    last_id: int,
    *,
    stencils: StencilCache | None,
    dry_run: bool = False,
) -> MailingResult:
    """Plan (and unless `dry_run`, queue) the step for organizations with ids in the range.

    `stencils` renders each email once per group of like messages and fills it in; without it
    every message is rendered in full (the same bytes, slower: right for a handful of messages).
    """
    result = MailingResult()
    orgs = classify(session, first_id, last_id, mailing.segments)
    if not orgs:
        return result
    by_id = {org.id: org for org in orgs}
    addresses = _addresses(session, mailing, first_id, last_id, by_id)
    sent = _keys_sent(session, mailing, first_id, last_id)
    takes_segment = "segment" in TEMPLATES[mailing.template].keys
    render = _Renderer(settings, stencils, mailing, takes_segment)
    planned = _plan(orgs, addresses, sent, mailing, render, result, dry_run)
    if dry_run:
        for _ in planned:
            pass
        return result
    # Lazily: on PostgreSQL the outbox sends each row as it is rendered.
    queued, refused = enqueue_deliverable(session, planned, clock=clock)
    if refused:
        result.invalid_addresses += len(refused)
        result.planned.subtract(
            by_id[org_id].segment for item in refused if (org_id := item.organization_id)
        )
        result.planned = +result.planned  # drop the segments left at zero
        refused_addresses = {item.to_address for item in refused}
        result.samples = [s for s in result.samples if s.to_address not in refused_addresses]
    result.created = queued.created
    return result


def _plan(
    orgs: list[OrgRow],
    addresses: Mapping[int, list[Recipient]],
    sent: set[str],
    mailing: Mailing,
    render: _Renderer,
    result: MailingResult,
    dry_run: bool,
) -> Iterator[OutboxItem]:
    """The step's new messages, rendered one by one as they are taken; counts into `result`."""
    for org in orgs:
        result.organizations[org.segment] += 1
        recipients = addresses.get(org.id, [])
        if not recipients:
            result.unreachable[org.segment] += 1
            continue
        for recipient in recipients:
            key = mailing.key(org.id, recipient.email)
            if key in sent:
                result.already_sent += 1
                continue
            address = recipient.email.strip()
            # The outbox checks every address as it queues; a dry run queues nothing, so it
            # checks them here to count the same.
            if dry_run and not usable_address(address):
                result.invalid_addresses += 1
                continue
            rendered = render(org, recipient)
            result.planned[org.segment] += 1
            who = "contact" if recipient.registration_id is None else "registered person"
            if keep_sample(result.samples, (org.segment, org.locale, who)):
                result.samples.append(
                    SampleEmail(
                        org.segment,
                        org.locale,
                        who,
                        org.login_id,
                        address,
                        rendered.subject,
                        rendered.text,
                    )
                )
            yield OutboxItem(
                key=key,
                template=mailing.template,
                locale=org.locale,
                to_address=address,
                to_name=recipient.name,
                rendered=rendered,
                organization_id=org.id,
                registration_id=recipient.registration_id,
                campaign_step=mailing.step,
            )


class _Renderer:
    """Renders one step's emails, looking each group's stencil up once per batch."""

    def __init__(
        self,
        settings: Settings,
        stencils: StencilCache | None,
        mailing: Mailing,
        takes_segment: bool,
    ) -> None:
        self._settings = settings
        self._stencils = stencils
        self._mailing = mailing
        self._takes_segment = takes_segment
        self._groups: dict[tuple[Segment, str, bool], Stencil] = {}

    def _fixed(self, segment: Segment) -> dict[str, Any]:
        fixed = dict(self._mailing.fixed)
        if self._takes_segment:
            fixed["segment"] = segment.value
        return fixed

    def __call__(self, org: OrgRow, recipient: Recipient) -> RenderedEmail:
        values: dict[str, str | None] = {
            "organization_name": org.display_name,
            "login_id": org.login_id,
        }
        if recipient.name:
            values["contact_name"] = recipient.name
        if self._stencils is None:
            context = self._fixed(org.segment) | values
            return render_email(self._mailing.template, org.locale, context, self._settings)
        group = (org.segment, org.locale.value, bool(recipient.name))
        stencil = self._groups.get(group)
        if stencil is None:
            stencil = self._stencils.get(
                self._mailing.template, org.locale.value, self._fixed(org.segment), tuple(values)
            )
            self._groups[group] = stencil
        return stencil.render(values)


def _addresses(
    session: Session,
    mailing: Mailing,
    first_id: int,
    last_id: int,
    orgs: Mapping[int, OrgRow],
) -> dict[int, list[Recipient]]:
    """Each organization's distinct addresses: contacts first, then registered people."""
    found: Iterable[Recipient] = contacts(session, first_id, last_id, orgs)
    if mailing.recipients is Recipients.CONTACTS_AND_REGISTERED:
        found = [*found, *pending_registrants(session, first_id, last_id, orgs)]
    by_org: dict[int, list[Recipient]] = {}
    seen: set[tuple[int, str]] = set()
    for recipient in found:
        mark = (recipient.organization_id, recipient.email.strip().lower())
        if mark in seen:
            continue
        seen.add(mark)
        by_org.setdefault(recipient.organization_id, []).append(recipient)
    return by_org


def _keys_sent(session: Session, mailing: Mailing, first_id: int, last_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Message.idempotency_key).where(
                Message.campaign_step == mailing.step,
                Message.organization_id.between(first_id, last_id),
            )
        )
    )
