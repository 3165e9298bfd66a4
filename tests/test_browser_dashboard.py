"""A consultant in a real browser: the home page's hours, a timesheet's page, Archive now.

Set SCREENSHOTS_DIR to keep screenshots of the pages (light and dark home page, timesheet)."""

from __future__ import annotations

import os
import re
import zoneinfo
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.monitor import save_task
from django_q.signing import SignedPackage
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from archiving.tasks import archive_task
from auditing.models import ActionLog
from tests.archive_helpers import add_event
from tests.factories import PASSWORD, AppointmentFactory, ArchiveConfigurationFactory, UserFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.test_browser_export import browser  # noqa: F401  (the shared Chromium)
from timesheets.services import timesheet_generate

# Drives headless Chromium.
pytestmark = [
    pytest.mark.django_db(databases=["default", "web"], transaction=True),
    pytest.mark.browser,
]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def this_month(user: User, day: int, hour: int) -> datetime:
    zone = zoneinfo.ZoneInfo(user.timezone)
    first = timezone.now().astimezone(zone).date().replace(day=1)
    return datetime.combine(first + timedelta(days=day), time(hour), tzinfo=zone)


def month_of_work(user: User) -> None:
    for day, hour, minutes, fields in [
        (0, 9, 90, {"customer": "Acme", "subject": "Acme design review"}),
        (1, 10, 120, {"customer": "Acme", "subject": "Acme workshop"}),
        (1, 8, 60, {"customer": "Acme", "subject": "Drive to Acme", "is_travel": True}),
        (2, 14, 60, {"customer": "Acme", "subject": "Invoicing", "billing_type": "non-billable"}),
        (2, 9, 45, {"customer": "Globex", "subject": "Dentist", "is_private": True}),
        (3, 9, 150, {"customer": "Initech", "subject": "Initech migration"}),
    ]:
        start = this_month(user, day, hour)
        fields.setdefault("billing_type", "billable")
        AppointmentFactory(
            user=user,
            start_time=start,
            end_time=start + timedelta(minutes=minutes),
            is_archived=True,
            categories=[f"{fields['customer']} - billable"],
            **fields,
        )


def log_in(chromium: Browser, live_server: object, user: User, **options: object) -> Page:
    page = chromium.new_page(**options)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    return page


def hours_table(page: Page) -> dict[str, list[str]]:
    rows = page.locator("#dashboard-hours-table tbody tr")
    return {
        row.locator("th").inner_text().strip(): [
            cell.strip() for cell in row.locator("td").all_inner_texts()
        ]
        for row in rows.all()
    }


def test_a_consultant_sees_this_months_hours_per_customer_as_a_timesheet_bills_them(
    browser: Browser,  # noqa: F811
    live_server: object,
    alice: User,
) -> None:
    month_of_work(alice)
    page = log_in(browser, live_server, alice, color_scheme="light")
    expect(page.locator("#dashboard-hours h2")).to_contain_text("Hours and amounts in")
    shown = hours_table(page)
    assert set(shown) == {"Acme", "Globex", "Initech"}
    assert page.locator("svg.dashboard-chart rect").count() >= 4
    shoot(page, "home-light.png")

    first = this_month(alice, 0, 0).date()
    issued = timesheet_generate(
        user=alice, customer="Acme", start=first, end=first + timedelta(days=27)
    )
    page.goto(f"{live_server.url}/admin/timesheets/timesheet/{issued.timesheet.pk}/change/")
    billable_total = page.locator("#timesheet-billable-total").inner_text()
    assert shown["Acme"][-2] == billable_total == "4.00 hrs"
    effort = page.locator("#timesheet-effort tbody tr")
    assert effort.count() == 3
    expect(page.locator("#timesheet-effort tfoot")).to_contain_text("4.50 hrs")
    expect(page.locator("#timesheet-travel tfoot")).to_contain_text("0.50 hrs")
    expect(page.locator(".object-tools .object-tool-button")).to_have_count(2)
    shoot(page, "timesheet.png")

    dark = log_in(browser, live_server, alice, color_scheme="dark")
    assert hours_table(dark) == shown
    shoot(dark, "home-dark.png")
    for opened in (page, dark):
        opened.close()


def test_a_private_appointment_is_masked_on_the_timesheet_page(
    browser: Browser,  # noqa: F811
    live_server: object,
    alice: User,
) -> None:
    month_of_work(alice)
    first = this_month(alice, 0, 0).date()
    issued = timesheet_generate(
        user=alice, customer="Globex", start=first, end=first + timedelta(days=27)
    )
    page = log_in(browser, live_server, alice)
    page.goto(f"{live_server.url}/admin/timesheets/timesheet/{issued.timesheet.pk}/change/")
    rows = page.locator("#timesheet-effort tbody").inner_text()
    assert "Private appointment" in rows and "Dentist" not in rows
    page.close()


def test_a_staff_user_sees_no_other_users_figures(
    browser: Browser,  # noqa: F811
    live_server: object,
    alice: User,
) -> None:
    month_of_work(alice)
    bob = UserFactory(email="bob@example.com", name="Bob Baker")
    ActionLog.objects.create(user=alice, event_type="overlap", state=ActionLog.State.OPEN)
    page = log_in(browser, live_server, bob)
    page.goto(f"{live_server.url}/admin/?user={alice.pk}")
    expect(page.locator("#dashboard-hours")).to_contain_text("No billable appointments")
    assert page.locator("#dashboard-user").count() == 0
    expect(page.locator("#dashboard-attention")).to_contain_text("Nothing needs attention")
    body = page.locator("#content").inner_text()
    assert "Acme" not in body and "alice@example.com" not in body
    page.close()


def run_queued_task() -> None:
    """What a django-q2 worker does with the one queued task, in this process."""
    broker = get_broker()
    ((ack_id, payload),) = broker.dequeue()
    task = SignedPackage.loads(payload)
    task["started"] = timezone.now()
    task["result"] = archive_task(*task["args"], **task["kwargs"])
    task["success"] = True
    task["stopped"] = timezone.now()
    task["sync"] = True  # keep this thread's database connection open
    save_task(task, broker)
    broker.acknowledge(ack_id)


def test_archive_now_is_watched_to_the_end_on_its_run_page(
    browser: Browser,  # noqa: F811
    live_server: object,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(
        zoneinfo.ZoneInfo(configuration.timezone)
    )
    add_event(fake_alice, connected_alice, "Acme review", f"{yesterday:%Y-%m-%d}T10:00")
    add_event(
        fake_alice, connected_alice, "Mystery call", f"{yesterday:%Y-%m-%d}T14:00", categories=["?"]
    )
    page = log_in(browser, live_server, connected_alice)
    page.goto(f"{live_server.url}/admin/archiving/archiveconfiguration/{configuration.pk}/change/")
    page.click("text=Archive now")
    page.fill("#id_dates", "yesterday")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}/$"))
    expect(page.locator("#archive-run-status")).to_have_text("Queued")
    address = page.url

    run_queued_task()

    expect(page.locator("#archive-run-status")).to_have_text("Success", timeout=10_000)
    assert page.url == address  # polled, not reloaded
    expect(page.locator("#archive-run-counts")).to_contain_text("2 copied")
    expect(page.locator("#archive-run-items")).to_contain_text("Mystery call")
    shoot(page, "archive-run.png")
    page.close()
