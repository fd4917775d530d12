"""End to end in a real browser: "forgot your password" and "I never got the email to set it".

A person who has a password asks for a reset link from the log-in page; the outbox sender
delivers it over SMTP to the local mail sink; the browser opens the link from the received email,
is refused a weak password, sets a good one and lands in the Customer Hub; the used link then
says it is no longer valid. A person who never set a password asks, in Japanese, for a new
activation link and sets a password with it. Every page is saved as a screenshot under
test-artifacts/account-recovery-e2e/.

Run only these with ``pytest -m browser``; they need Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

from db.enums import MembershipStatus, PersonStatus, Role
from db.models import Membership, Organization, Person
from domain.context import App
from domain.emails.mailsink import MailsinkStore
from domain.emails.sender import drain
from tests.web import test_portal_browser as e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "account-recovery-e2e"
ACTIVE = "haruka.ito@owner.example"
PENDING = "kenji.mori@owner.example"
NEW_PASSWORD = "lanterns over the harbour at dusk"

live = e2e.live  # the live portal with its mail sink, shared with the registration test
pytestmark = e2e.pytestmark


def received_link(store: MailsinkStore, address: str, path: str) -> str:
    [summary] = store.list(to=address)
    mail = store.get(summary.id)
    assert mail is not None and mail.text is not None
    found = re.search(rf"https?://\S+/{path}/[A-Za-z0-9_-]+", mail.text)
    assert found, f"no /{path}/ link in the email to {address}:\n{mail.text}"
    return found.group(0)


def add_people(portal: App, org: Organization, password_hash: str) -> None:
    with portal.unit_of_work() as session:
        for email, name, status, hashed in (
            (ACTIVE, "Haruka Ito", PersonStatus.ACTIVE, password_hash),
            (PENDING, "Kenji Mori", PersonStatus.PENDING_ACTIVATION, None),
        ):
            person = Person(
                email=email,
                display_name=name,
                password_hash=hashed,
                status=status,
                created_at=portal.clock.now(),
            )
            session.add(person)
            session.flush()
            session.add(
                Membership(
                    person_id=person.id,
                    organization_id=org.id,
                    role=Role.ADMINISTRATOR,
                    status=MembershipStatus.ACTIVE,
                    created_at=portal.clock.now(),
                )
            )


def test_forgot_password_and_new_activation_link_in_a_browser(
    live: tuple[App, str, MailsinkStore], org: Organization, password_hash: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    context, base_url, store = live
    add_people(context, org, password_hash)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(e2e.CHROMIUM), args=e2e.CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page.set_default_timeout(30_000)
        expect.set_options(timeout=20_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        step = iter(range(1, 100))

        def shot(name: str) -> None:
            page.screenshot(path=ARTIFACTS / f"{next(step):02d}-{name}.png", full_page=True)

        # --- a person who forgot their password -------------------------------------------
        page.goto(base_url + "/account/login")
        shot("login")
        page.get_by_role(
            "link", name="Forgot your password? Didn't get the email to set it?"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
        page.get_by_label("Email address").fill("not an address")
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_text("This is not a valid email address")).to_be_visible()
        shot("recover-invalid-address")
        page.get_by_label("Email address").fill(ACTIVE.upper())
        shot("recover-form")
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        expect(page.get_by_text(ACTIVE)).to_be_visible()
        shot("recover-sent")

        summary = drain(context)
        assert summary.sent == 1, summary
        link = received_link(store, ACTIVE, "reset-password")
        assert link.startswith(base_url + "/reset-password/")
        page.goto(base_url + "/mailbox")
        page.get_by_role("link", name=re.compile("Choose a new password")).first.click()
        expect(page.locator("iframe.mail-html")).to_be_visible()
        shot("mailbox-reset-email")

        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
        shot("reset-form")
        page.get_by_label("New password", exact=True).fill("password1234567")
        page.get_by_label("Repeat the password").fill("password1234567")
        page.get_by_role("button", name="Set my new password and log in").click()
        expect(page.get_by_text("This password is too common")).to_be_visible()
        shot("reset-weak-password")
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set my new password and log in").click()
        expect(page).to_have_url(re.compile(r"/hub$"))
        expect(page.get_by_role("status").first).to_contain_text("Your new password is set")
        shot("hub-after-reset")

        page.goto(link)  # the link again: used, says what to do instead
        expect(page.get_by_role("heading", level=1)).to_have_text("This link is no longer valid")
        expect(page.get_by_text(ACTIVE)).to_have_count(0)
        shot("reset-link-used")

        # --- a person who never received the email to set a password, in Japanese -------------
        fresh = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        fresh.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        fresh.on("pageerror", lambda error: problems.append(str(error)))
        page = fresh
        page.goto(base_url + "/account/login")
        page.get_by_role("link", name=re.compile("パスワードをお忘れの方")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("パスワードをお忘れの方")
        page.get_by_label("メールアドレス").fill(PENDING)
        shot("ja-recover-form")
        page.get_by_role("button", name="リンクを送信する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("メールをご確認ください")
        shot("ja-recover-sent")

        summary = drain(context)
        assert summary.sent == 1, summary
        activation_link = received_link(store, PENDING, "activate")
        page.goto(activation_link)
        expect(page.get_by_role("heading", level=1)).to_have_text("パスワードの設定")
        shot("ja-activate-form")
        page.get_by_label("新しいパスワード", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("パスワード（確認用）").fill(NEW_PASSWORD)
        page.get_by_role("button", name="パスワードを設定してログイン").click()
        expect(page).to_have_url(re.compile(r"/hub$"))
        shot("ja-hub-after-activation")
        page.goto(base_url + "/reset-password/" + "Z" * 43)
        expect(page.get_by_role("heading", level=1)).to_have_text("このリンクを確認できません")
        shot("ja-reset-link-unknown")
        browser.close()
    # Any CSP violation (an inline style or script) would show up here. The refusals are meant to
    # carry their status (422 weak password or bad address, 410 used link, 404 unknown link).
    intended = re.compile(r"Failed to load resource: .* status of (404|410|422) ")
    assert [p for p in problems if not intended.match(p)] == []
