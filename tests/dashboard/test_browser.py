"""The dashboard as managers see it: a live `streamlit run`, headless Chromium, every page.

Signs in, visits each page from the sidebar, opens a Japanese organization and a helpdesk
contact, and saves a screenshot of each into test-artifacts/dashboard/. Run only these with
``pytest -m browser``; they need Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from dashboard.launch import streamlit_command
from domain.context import App
from tests.dashboard.conftest import PASSWORD
from tests.dashboard.world import NOW, World

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PAGES = ("Overview", "Organizations", "Campaigns", "Migration", "Follow-up", "Helpdesk")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(app: App, world: World, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        SWITCHOVER_DATABASE_URL=app.settings.database_url,
        SWITCHOVER_DASHBOARD_PASSWORD=PASSWORD,
        SWITCHOVER_CLOCK_AT=NOW.isoformat(),
        HOME=str(tmp_path),  # no ~/.streamlit of whoever runs the tests
    )
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        streamlit_command("127.0.0.1", port), env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def settle(page: Page) -> None:
    """Wait until the script run is over and the charts have drawn."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000
    )
    page.wait_for_timeout(1_500)


def choose(page: Page, label: str) -> None:
    """Pick the first real option of a select box (the one after its placeholder)."""
    page.locator("[data-testid=stSelectbox]").filter(has_text=label).click()
    page.get_by_role("option").nth(1).click()
    settle(page)


def test_every_page_in_chromium(server: str, world: World) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="en-GB")
        page.goto(server)
        settle(page)
        assert page.get_by_text("Overview").count() == 0, "nothing before sign-in"
        page.screenshot(path=ARTIFACTS / "0-sign-in.png", full_page=True)
        page.get_by_role("textbox", name="Your name").fill("Aiko Tanaka")
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("[data-testid=stSidebarNav]", timeout=60_000)
        for number, name in enumerate(PAGES, start=1):
            page.locator("[data-testid=stSidebarNav]").get_by_text(name, exact=True).click()
            settle(page)
            body = page.locator("body").inner_text()
            assert "could not be shown" not in body, name
            assert page.locator("h1").first.inner_text().strip() == name
            page.screenshot(path=ARTIFACTS / f"{number}-{name.lower()}.png", full_page=True)
            if name == "Overview":
                assert "Pre-registration closes" in body and "75 days" in body
            if name == "Organizations":
                page.get_by_role("textbox", name="Search").fill(world.japanese_name)
                page.keyboard.press("Enter")
                settle(page)
                choose(page, "Open an organization")
                assert page.locator("h3").first.inner_text().strip() != ""
                assert page.get_by_text(world.japanese_name).count() >= 2  # table and heading
                page.screenshot(path=ARTIFACTS / "2b-organization.png", full_page=True)
            if name == "Helpdesk":
                choose(page, "Work on a contact")
                assert page.get_by_role("button", name="Save").is_visible()
                page.screenshot(path=ARTIFACTS / "6b-helpdesk-contact.png", full_page=True)
        browser.close()
