"""A person in a real browser: log in, select appointments, export a timesheet PDF."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from accounts.models import User
from tests.factories import PASSWORD, AppointmentFactory

# Drives headless Chromium.
pytestmark = [pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made here by
    # the test itself are still synchronous, which this flag lets Django accept.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_a_user_exports_selected_appointments_as_a_pdf_from_the_admin(
    browser: Browser, live_server: object, alice: User, settings: object, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    for n in range(3):
        start = datetime(2025, 5, 8 + n, 8, tzinfo=UTC)
        AppointmentFactory(
            user=alice,
            subject=f"Acme session {n}",
            customer="Acme",
            billing_type="billable",
            categories=["Acme - billable"],
            start_time=start,
            end_time=start + timedelta(hours=2),
        )
    page = browser.new_page(accept_downloads=True)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", alice.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/calendars/appointment/")
    for checkbox in page.locator("input.action-select").all()[:2]:
        checkbox.check()
    page.select_option("select[name=action]", "export_pdf")
    with page.expect_download() as download_info:
        page.click("button[name=index]")
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    assert download.suggested_filename == "Alice Archer timesheet for Acme 10 May 25.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    page.close()
