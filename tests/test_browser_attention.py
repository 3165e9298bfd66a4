"""A consultant at month end in a real browser: the attention inbox applies the confident
suggestions in one action, the rest with one click each, and Outlook and the next archive run
agree.

Set SCREENSHOTS_DIR to keep screenshots (the list, the confirmation, an item's page)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, expect

from accounts.models import User
from auditing.models import ActionLog
from calendars.models import Appointment
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.test_browser_dashboard import log_in, shoot
from tests.test_browser_export import browser  # noqa: F401  (the shared Chromium)

pytestmark = [
    pytest.mark.django_db(databases=["default", "web"], transaction=True),
    pytest.mark.browser,
]

MODENA, ACME = "Modena - billable", "Acme - billable"


def guest(address: str) -> list[dict]:
    return [{"emailAddress": {"address": address}, "type": "required"}]


def test_the_inbox_applies_the_confident_ones_then_one_click_each_and_outlook_agrees(
    browser: Browser,  # noqa: F811
    live_server: object,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
) -> None:
    config = ArchiveConfigurationFactory(user=connected_alice)
    for day in ("01", "02", "04", "05", "06", "07"):
        add_event(
            fake_alice, connected_alice, "Steering group", f"2025-05-{day}T10:00",
            categories=[MODENA], attendees=guest("gianni@modena.example"),
        )  # fmt: skip
    add_event(
        fake_alice, connected_alice, "Pipeline chat", "2025-05-07T15:00",
        categories=[ACME], attendees=guest("wile@acme.example"),
    )  # fmt: skip
    modena = add_event(
        fake_alice, connected_alice, "Budget review", "2025-05-08T14:00",
        categories=[], attendees=guest("paola@modena.example"),
    )  # fmt: skip
    acme = add_event(
        fake_alice, connected_alice, "Quick question", "2025-05-08T16:00",
        categories=[], attendees=guest("wile@acme.example"),
    )  # fmt: skip
    run_archive(config, date(2025, 5, 1), date(2025, 5, 8))
    assert ActionLog.objects.filter(event_type="possibly_billable", state="open").count() == 2

    page = log_in(browser, live_server, connected_alice)
    page.goto(f"{live_server.url}/admin/auditing/actionlog/?state__exact=open")
    expect(page.locator("#result_list")).to_contain_text("✓ Bill it: set the category 'Modena")
    shoot(page, "attention-list.png")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "apply_top_recommendation")
    page.click("button[name=index]")
    expect(page.locator("#content")).to_contain_text("below 80% confidence")
    shoot(page, "attention-confirm.png")
    page.click("button[value=confident]")
    expect(page.locator(".messagelist")).to_contain_text("1 item(s) settled")

    [left] = ActionLog.objects.filter(event_type="possibly_billable", state="open")
    page.goto(f"{live_server.url}/admin/auditing/actionlog/{left.pk}/change/")
    expect(page.locator(".attention-evidence")).to_contain_text("Thu 08 May 2025 16:00")
    expect(page.locator(".attention-evidence")).to_contain_text("wile@acme.example")
    shoot(page, "attention-item.png")
    page.click("input[value=\"Bill it: set the category 'Acme - billable'\"]")
    expect(page.locator(".messagelist")).to_contain_text("Billed to Acme")
    page.close()

    outlook = {e["id"]: e["categories"] for e in fake_alice.events(connected_alice.email)}
    assert (outlook[modena["id"]], outlook[acme["id"]]) == ([MODENA], [ACME])
    run_archive(config, date(2025, 5, 8))
    assert not ActionLog.objects.filter(event_type="possibly_billable", state="open")
    billed = Appointment.objects.billable().filter(ms_event_id__in=[modena["id"], acme["id"]])
    assert sorted(billed.values_list("customer", flat=True)) == ["Acme", "Modena"]
