"""What simulated people do: register, fix what went wrong, click links, write to the helpdesk.

Each handler acts through the portal (HTTP) or the support mailbox, and schedules what the
person does next. Decisions come from the organization's or the person's own random stream.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db.enums import RegistrationStatus, Role
from db.models import Registration
from domain.recovery import RecoveryError
from domain.simulation.people import (
    AddressFate,
    Clicks,
    OrgPlan,
    click_delay,
    lognormal_delay,
    new_person,
    uniform_days,
)
from simulator import jobs, requests
from simulator.sink import Delivery
from simulator.state import Person, Sim
from simulator.world import SIMULATION_PASSWORD

AGENT = "simulated-helpdesk"
LIVE = (RegistrationStatus.PENDING, RegistrationStatus.VERIFIED, RegistrationStatus.MIGRATED)


def react_later(sim: Sim, plan: OrgPlan, kind: str, median_days: float, **data: object) -> None:
    delay = lognormal_delay(plan.rng, dt.timedelta(days=median_days))
    sim.schedule(sim.office_hours(sim.now + delay, plan.rng), kind, org=plan.id, **data)


def on_mailing(sim: Sim, sent: jobs.Sent, org_ids: set[int]) -> None:
    """Organizations that received a campaign or follow-up email decide what to do."""
    model = sim.model
    for org_id in sorted(org_ids):
        plan = sim.plans.get(org_id)
        if plan is None or plan.dormant:
            continue
        if sent.kind == "followup" or sim.app.calendar.phase(sim.now) != "open":
            if not plan.asked_helpdesk and plan.rng.random() < model.helpdesk_after_close:
                plan.asked_helpdesk = True
                react_later(sim, plan, "helpdesk", 1.0, reason="missed", recover=True)
        elif not plan.acted:
            if plan.rng.random() < model.register_chance(sent.step):
                plan.acted = True
                react_later(sim, plan, "register", model.reaction_median_days)
        elif plan.rng.random() < model.fix_on_reminder:
            react_later(sim, plan, "fix", model.reaction_median_days)


def _log_in(sim: Sim, plan: OrgPlan) -> bool:
    outcome = sim.browser.log_in(plan.login_id, SIMULATION_PASSWORD, sim.who(plan.id))
    sim.counts[f"log-in {outcome}"] += 1
    return outcome == "ok"


def _submit(sim: Sim, plan: OrgPlan, person: Person) -> None:
    result = sim.browser.register(
        sim.who(plan.id),
        person.plan.name,
        person.plan.email,
        person.plan.role.value,
        take_suggestion=person.rng.random() < 0.6,
    )
    sim.counts[f"registration {result.outcome}"] += 1
    if result.outcome != "registered":
        return
    if result.used_suggestion:  # the form caught the typo
        person.plan.email = person.plan.correct_email
        person.plan.fate = AddressFate.OK
        sim.counts["typo caught by the form"] += 1
    person.registration_id = result.registration_id
    person.latest_token = None
    person.reported = False
    sim.people[person.address] = person
    sim.sink.watched.add(person.address)
    if person.plan.bounces:
        sim.schedule(sim.now + dt.timedelta(days=4), "no_link", person=person.address)


def register(sim: Sim, plan: OrgPlan) -> None:
    """The organization logs in and registers the people it planned."""
    phase = sim.app.calendar.phase(sim.now)
    if phase != "open":
        sim.counts["too late to register"] += 1
        if not plan.asked_helpdesk and plan.rng.random() < sim.model.helpdesk_after_close:
            plan.asked_helpdesk = True
            react_later(sim, plan, "helpdesk", 0.5, reason="missed", recover=True)
        return
    if not _log_in(sim, plan):
        return
    for person_plan in plan.people:
        person = sim.people.get(person_plan.email.lower())
        if person is None:
            _submit(sim, plan, sim.add_person(plan, person_plan))


def fix(sim: Sim, plan: OrgPlan) -> None:
    """A reminder (or a person) said it is not done: resend, register again, add an admin."""
    if sim.app.calendar.phase(sim.now) != "open" or not _log_in(sim, plan):
        return
    with sim.app.sessions() as session:
        rows = session.execute(
            select(Registration.id, Registration.email, Registration.role, Registration.status)
            .where(Registration.organization_id == plan.id)
            .order_by(Registration.id)
        ).all()
    live_admin = any(r.role is Role.ADMINISTRATOR and r.status in LIVE for r in rows)
    live = {r.email for r in rows if r.status in LIVE}
    latest = {r.email: r for r in rows}
    for email, row in latest.items():
        person = sim.people.get(email)
        if person is None:
            continue
        if row.status is RegistrationStatus.PENDING and person.links:
            sim.counts["link resent"] += int(sim.browser.resend(sim.who(plan.id), row.id))
        elif row.status is RegistrationStatus.EXPIRED and email not in live:
            sim.counts["registered again after expiry"] += 1
            _submit(sim, plan, person)
        elif row.status is RegistrationStatus.BOUNCED and email not in live:
            if person.plan.fate is AddressFate.TYPO:
                fixed = new_person(plan, sim.model)
                fixed.name, fixed.role = person.plan.name, person.plan.role
                fixed.email = fixed.correct_email = person.plan.correct_email
                fixed.fate = AddressFate.OK
                sim.counts["typo corrected after a bounce"] += 1
                _submit(sim, plan, sim.add_person(plan, fixed))
            else:
                replacement = new_person(plan, sim.model, administrator=True)
                plan.people.append(replacement)
                _submit(sim, plan, sim.add_person(plan, replacement))
    if not live_admin:
        admin = new_person(plan, sim.model, administrator=True)
        admin.role = Role.ADMINISTRATOR
        plan.people.append(admin)
        sim.counts["administrator added"] += 1
        _submit(sim, plan, sim.add_person(plan, admin))


def delivered(sim: Sim, delivery: Delivery) -> None:
    """A link reached a person's inbox: the gateway may open it; the person may click later."""
    person = sim.people.get(delivery.address)
    if person is None or delivery.kind != "verify":
        return
    person.links += 1
    person.latest_token = delivery.token
    plan = sim.plans[person.org_id]
    if plan.scanner:
        state = sim.browser.open_link(delivery.token, sim.who(plan.id), scanner=True)
        sim.counts[f"scanner saw {state}"] += 1
    clicks = person.plan.clicks
    if person.links > 1 and clicks is Clicks.NEVER:
        if person.rng.random() < sim.model.click_after_nudge:
            clicks = Clicks.PROMPT
    elif person.links > 1 and clicks is Clicks.LATE:
        clicks = Clicks.SLOW  # a second email makes them look sooner
    lifetime = dt.timedelta(hours=sim.app.settings.verification_token_ttl_hours)
    delay = click_delay(person.rng, clicks, sim.model, lifetime)
    if delay is not None:
        # The person opens this email, with this link — maybe after a newer one has replaced it.
        sim.schedule(sim.now + delay, "click", person=person.address, token=delivery.token)


def click(sim: Sim, person: Person, token: str) -> None:
    if person.verified:
        return
    state = _click(sim, person, token)
    if state in ("expired", "withdrawn") and person.latest_token not in (None, token):
        # "Earlier links no longer work": they look for the newest email and try that one.
        sim.counts["old link, then the newest"] += 1
        state = _click(sim, person, person.latest_token)
    if state in ("expired", "withdrawn") and not person.reported:
        person.reported = True
        _link_failed(sim, person, "expired", sim.model.helpdesk_on_expired)


def _click(sim: Sim, person: Person, token: str) -> str:
    who = sim.who(person.org_id) + "1"
    state = sim.browser.open_link(token, who)
    if state == "valid":
        state = sim.browser.confirm_link(token, who)
        person.verified = state == "confirmed"
    sim.counts[f"click: {state}"] += 1
    return state


def no_link(sim: Sim, person: Person) -> None:
    """Days after being registered, still no email (the address bounces)."""
    if person.verified or person.links or person.reported:
        return
    person.reported = True
    _link_failed(sim, person, "not_received", sim.model.helpdesk_on_not_received)


def _link_failed(sim: Sim, person: Person, reason: str, helpdesk_chance: float) -> None:
    plan = sim.plans[person.org_id]
    if person.rng.random() < sim.model.report_expired_to_org:
        react_later(sim, plan, "fix", 1.0)
    if person.rng.random() < helpdesk_chance:
        react_later(sim, plan, "helpdesk", 0.3, reason=reason, recover=False, person=person.address)


def helpdesk(sim: Sim, plan: OrgPlan, reason: str, recover: bool, address: str | None) -> None:
    person = sim.people.get(address) if address else None
    writer = person.plan if person else plan.people[0]
    name = writer.name
    # Someone whose mailbox does not exist writes from a colleague's.
    sender = (
        writer.correct_email if writer.fate is not AddressFate.DEAD else f"office@{plan.domain}"
    )
    subject, text = requests.words(reason, plan.locale, plan.login_id)
    if plan.rng.random() < sim.model.helpdesk_by_email:
        message_id = f"<sim.{plan.id}.{sim.counts['helpdesk email']}@{plan.domain}>"
        requests.write_email(
            sim.folders.support,
            sender_name=name,
            sender=sender,
            to=str(sim.app.settings.helpdesk_email),
            subject=subject,
            text=text,
            at=sim.now,
            message_id=message_id,
        )
        sim.counts["helpdesk email"] += 1
        if plan.rng.random() < sim.model.helpdesk_reply:
            sim.schedule(
                sim.now + dt.timedelta(days=1),
                "helpdesk_reply",
                org=plan.id,
                name=name,
                sender=sender,
                subject=f"Re: {subject}",
                reply_to=message_id,
            )
    else:
        reference = sim.browser.contact(
            sim.who(plan.id),
            name=name,
            email=sender,
            organization=plan.login_id,
            category=requests.FORM_CATEGORY[reason].value,
            message=text,
        )
        sim.counts["helpdesk form" if reference else "helpdesk form refused"] += 1
    if recover:
        delay = uniform_days(plan.rng, sim.model.agent_days)
        sim.schedule(sim.office_hours(sim.now + delay, plan.rng), "recover", org=plan.id)


def helpdesk_reply(sim: Sim, plan: OrgPlan, data: dict[str, object]) -> None:
    requests.write_email(
        sim.folders.support,
        sender_name=str(data["name"]),
        sender=str(data["sender"]),
        to=str(sim.app.settings.helpdesk_email),
        subject=str(data["subject"]),
        text=requests.REPLY[plan.locale],
        at=sim.now,
        message_id=f"<sim.reply.{plan.id}.{sim.counts['helpdesk reply']}@{plan.domain}>",
        in_reply_to=str(data["reply_to"]),
    )
    sim.counts["helpdesk reply"] += 1


def recover(sim: Sim, plan: OrgPlan) -> None:
    """An agent registers an Administrator for the organization (the helpdesk-recovery flow)."""
    admin = new_person(plan, sim.model, administrator=True)
    admin.role, admin.fate, admin.email = Role.ADMINISTRATOR, AddressFate.OK, admin.correct_email
    admin.clicks = Clicks.PROMPT  # they asked for it
    try:
        done = jobs.helpdesk_recovery(
            sim.app,
            sim.jobs,
            login_id=plan.login_id,
            name=admin.name,
            email=admin.email,
            agent=AGENT,
        )
    except RecoveryError as exc:
        sim.counts[f"recovery refused: {str(exc)[:60]}"] += 1
        return
    plan.people.append(admin)
    person = sim.add_person(plan, admin)
    person.registration_id = done.registration_id
    sim.people[person.address] = person
    sim.sink.watched.add(person.address)
    sim.counts["recovered by an agent"] += 1


def locked_out(sim: Sim, plan: OrgPlan) -> None:
    """After the switch: someone tries the shared log-in, finds it closed, asks for help."""
    outcome = sim.browser.log_in(plan.login_id, SIMULATION_PASSWORD, sim.who(plan.id))
    sim.counts[f"after the switch, log-in {outcome}"] += 1
    if outcome != "ok" and not plan.asked_helpdesk:
        plan.asked_helpdesk = True
        helpdesk(sim, plan, "locked_out", True, None)
