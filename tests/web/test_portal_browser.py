"""End to end, as a customer lives it: a real browser, a live portal, real email.

An organization logs in, registers two people; the outbox sender delivers the verification
emails over SMTP to the local mail sink; the browser opens the link found in the received email,
confirms, and the registration page shows the person as verified. Every page visited is saved as
a screenshot under test-artifacts/portal-e2e/.

Run only these with ``pytest -m browser``; they need Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from pydantic import AnyHttpUrl

from db.models import Organization
from domain.context import App
from domain.emails.mailsink import MailsinkServer, MailsinkStore
from domain.emails.sender import drain
from portal.app import create_app
from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal-e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(portal: App, tmp_path: Path) -> Iterator[tuple[App, str, MailsinkStore]]:
    """The portal on a free port, its links pointing there, its mail going to a local sink."""
    port, smtp_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = portal.settings.model_copy(
        update={
            "portal_base_url": AnyHttpUrl(base_url),
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "demo_mode": True,
            "mailsink_dir": tmp_path / "maildir",
        }
    )
    context = App(settings=settings, engine=portal.engine, clock=portal.clock)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context=context), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    with MailsinkServer(settings.mailsink_dir, port=smtp_port, clock=portal.clock):
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the portal did not start"
            time.sleep(0.05)
        try:
            yield context, base_url, MailsinkStore(settings.mailsink_dir)
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def verification_link(store: MailsinkStore, address: str) -> str:
    [summary] = store.list(to=address)
    mail = store.get(summary.id)
    assert mail is not None and mail.text is not None
    found = re.search(r"https?://\S+/verify/[A-Za-z0-9_-]+", mail.text)
    assert found, f"no verification link in the email to {address}:\n{mail.text}"
    return found.group(0)


def test_register_receive_and_confirm_in_a_browser(
    live: tuple[App, str, MailsinkStore], org: Organization
) -> None:
    from playwright.sync_api import expect, sync_playwright

    context, base_url, store = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        # The machine may be busy (CI, other suites): wait longer than Playwright's 5 s default.
        page.set_default_timeout(30_000)
        expect.set_options(timeout=20_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        step = iter(range(1, 100))

        def shot(name: str) -> None:
            page.screenshot(path=ARTIFACTS / f"{next(step):02d}-{name}.png", full_page=True)

        page.goto(base_url + "/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("log-in system")
        shot("home")
        page.get_by_role("link", name="Register", exact=True).click()
        expect(page).to_have_url(re.compile(r"/login$"))
        shot("login")
        page.get_by_label("Log-in ID").fill(org.legacy_login_id)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page).to_have_url(re.compile(r"/registrations$"))
        expect(page.get_by_text("has no verified Administrator yet")).to_be_visible()
        shot("registrations-empty")

        people = [
            ("Haruka Ito", "haruka.ito@owner.example", "Administrator"),
            ("Daniel Berg", "daniel.berg@owner.example", "Normal User"),
        ]
        for name, address, role in people:
            page.get_by_label("Full name").fill(name)
            page.get_by_label("Email address").fill(address)
            page.get_by_label(role).check()
            page.get_by_role("button", name="Register", exact=True).click()
            expect(page.get_by_role("status").first).to_contain_text(f"{name} has been registered")
        expect(page.locator(".registrations-table tbody tr")).to_have_count(2)
        shot("registrations-two-pending")

        summary = drain(context)
        assert summary.sent == 2, summary
        link = verification_link(store, "haruka.ito@owner.example")
        assert link.startswith(base_url + "/verify/")

        page.goto(base_url + "/mailbox")
        expect(page.locator("table.messages tbody tr")).to_have_count(2)
        shot("mailbox")
        page.get_by_role("link", name=re.compile("confirm|Confirm")).first.click()
        expect(page.locator("iframe.mail-html")).to_be_visible()
        shot("mailbox-verification-email")

        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
        expect(page.get_by_text("Haruka Ito").first).to_be_visible()
        shot("verify")
        page.get_by_role("button", name="Confirm my email address").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Thank you, your email address is confirmed"
        )
        shot("verified")

        page.goto(base_url + "/registrations")
        row = page.locator("tr", has_text="haruka.ito@owner.example")
        expect(row.locator(".badge")).to_have_text("Verified")
        other = page.locator("tr", has_text="daniel.berg@owner.example")
        expect(other.locator(".badge")).to_have_text("Pending verification")
        expect(page.get_by_text("has no verified Administrator yet")).to_have_count(0)
        shot("registrations-one-verified")

        page.goto(link)  # the link again: nothing to do, and says so
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "This address is already confirmed"
        )
        shot("verify-again")
        browser.close()
    # Any CSP violation (an inline style or script) would show up here.
    assert problems == []
