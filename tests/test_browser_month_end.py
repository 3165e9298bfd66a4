"""Month end in a real browser (Debian's Chromium), light and dark: the dashboard, the timesheet
list and page, an action item and the user page show the services' amounts, log no console
error and fit 1280 px without scrolling sideways. Screenshots go to test-results/browser/ (CI
keeps them as artefacts)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from accounts.models import User
from archiving.models import ArchiveRun
from auditing.models import ActionLog
from calendars.models import Category
from tests.factories import PASSWORD, AppointmentFactory, ArchiveConfigurationFactory
from tests.test_browser_export import browser  # noqa: F401  (the shared Chromium)
from timesheets.billing import format_money
from timesheets.models import CustomerSettings, Timesheet
from timesheets.presentation import timesheet_amount
from timesheets.selectors import amounts_by_currency, period_customer_hours
from timesheets.services import timesheet_generate

pytestmark = [
    pytest.mark.django_db(databases=["default", "web"], transaction=True),
    pytest.mark.browser,
]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "browser"
WIDTH = 1280
SCHEMES = ["light", "dark"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def first_of_month(user: User) -> datetime:
    zone = zoneinfo.ZoneInfo(user.timezone)
    first = timezone.now().astimezone(zone).date().replace(day=1)
    return datetime.combine(first, time(0), tzinfo=zone)


def booked(user: User, day: int, hour: int, minutes: int, customer: str, **fields: object) -> None:
    start = first_of_month(user) + timedelta(days=day, hours=hour)
    fields.setdefault("billing_type", "billable")
    fields.setdefault("is_archived", True)
    AppointmentFactory(
        user=user,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        customer=customer,
        categories=[f"{customer} - {fields['billing_type']}"],
        **fields,
    )


@pytest.fixture
def month(alice: User) -> Timesheet:
    """Alice's month: Acme in GBP with a travel rate, Globex in EUR, Initech with no rate,
    Admin time (internal), an Acme timesheet issued, an overlap waiting for a decision."""
    for customer, terms in {
        "Acme": {"currency": "GBP", "hourly_rate": "120", "travel_hourly_rate": "60"},
        "Globex": {"currency": "EUR", "hourly_rate": "135"},
    }.items():
        CustomerSettings.objects.create(
            user=alice, customer=customer, display_name=customer, **terms
        )
    Category.objects.create(user=alice, name="Admin - non-billable", is_internal=True)
    booked(alice, 0, 9, 90, "Acme", subject="Acme design review")
    booked(alice, 1, 8, 60, "Acme", subject="Drive to Acme", is_travel=True)
    booked(alice, 1, 10, 120, "Acme", subject="Acme workshop")
    booked(alice, 2, 9, 150, "Globex", subject="Globex migration")
    booked(alice, 2, 14, 45, "Initech", subject="Initech planning")
    booked(alice, 3, 9, 60, "Admin", subject="Invoicing", billing_type="non-billable")
    ActionLog.objects.open_item(
        user=alice,
        event_type=ActionLog.EventType.OVERLAP,
        key="demo-overlap",
        description="“Acme workshop” and “Globex call” overlap",
        recommendations=[
            {
                "id": "keep-all",
                "label": "Keep them all",
                "action": "keep",
                "params": {"keep_ids": []},
                "confidence": 0.2,
                "reason": "Only if you were in both at once.",
            }
        ],
    )
    first = first_of_month(alice).date()
    return timesheet_generate(
        user=alice, customer="Acme", start=first, end=first + timedelta(days=1)
    ).timesheet


@pytest.fixture(params=SCHEMES)
def page(
    request: pytest.FixtureRequest,
    browser: Browser,  # noqa: F811
    live_server: object,
    alice: User,
) -> Iterator[Page]:
    yield from signed_in(browser, live_server, alice, request.param)


@pytest.fixture(params=SCHEMES)
def superuser_page(
    request: pytest.FixtureRequest,
    browser: Browser,  # noqa: F811
    live_server: object,
    admin_user: User,
) -> Iterator[Page]:
    """A superuser's pages: every user's rows, and who owns each."""
    yield from signed_in(browser, live_server, admin_user, request.param)


def signed_in(chromium: Browser, live_server: object, user: User, scheme: str) -> Iterator[Page]:
    opened = chromium.new_page(color_scheme=scheme, viewport={"width": WIDTH, "height": 900})
    errors: list[str] = []
    opened.on("console", lambda message: _console_error(message, errors))
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"{live_server.url}/admin/login/")
    opened.fill("#id_username", user.email)
    opened.fill("#id_password", PASSWORD)
    opened.click("input[type=submit]")
    opened.scheme = scheme  # type: ignore[attr-defined]
    yield opened
    opened.close()
    assert errors == [], f"console errors in {scheme} mode: {errors}"


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"{message.text} ({message.location.get('url', '')})")


def looked_at(page: Page, name: str) -> None:
    """A full-page screenshot to look at, then no sideways scrolling at 1280 px: neither the
    page nor a box on it (a list's results, a module)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.scheme}.png"), full_page=True)  # type: ignore[attr-defined]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {WIDTH} px"
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.results, .module')]"
        ".filter(box => box.scrollWidth > box.clientWidth + 1)"
        ".map(box => `${box.id || box.className}: ${box.scrollWidth} > ${box.clientWidth}`)"
    )
    assert clipped == [], f"{name}: these boxes scroll sideways at {WIDTH} px: {clipped}"
    # No button of the page's tools lies over the title's or the subtitle's text.
    covered = page.evaluate(
        "() => { const text = el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return r.getBoundingClientRect(); };"
        " const heads = [...document.querySelectorAll('#content > h1, #content > h2')];"
        " const tools = '.object-tools li > a, .object-tools li button';"
        " return [...document.querySelectorAll(tools)].flatMap(tool => {"
        " const b = tool.getBoundingClientRect(); return heads.filter(h => { const t = text(h);"
        " return b.left < t.right && t.left < b.right && b.top < t.bottom && t.top < b.bottom; })"
        ".map(h => `${tool.innerText.trim()} over ${h.innerText.trim()}`); }); }"
    )
    assert covered == [], f"{name}: {covered}"


def test_the_dashboard_shows_the_months_amounts_per_customer_and_currency(
    page: Page, live_server: object, alice: User, month: Timesheet
) -> None:
    page.goto(f"{live_server.url}/admin/")
    first = first_of_month(alice).date()
    figures = period_customer_hours(user=alice, start=first, end=first + timedelta(days=27))
    table = page.locator("#dashboard-hours-table")
    for row in figures:
        if row.internal:
            continue
        cells = table.locator("tbody tr", has=page.locator(f"th:text-is('{row.customer}')"))
        expected = format_money(row.amount, row.currency) if row.amount is not None else "no rate"
        expect(cells.locator("td.amount")).to_have_text(expected)
    totals = [
        format_money(amount, currency) for currency, amount in amounts_by_currency(figures).items()
    ]
    assert totals == ["€337.50", "£450.00"]
    for total in totals:
        expect(table.locator("tfoot")).to_contain_text(total)
    expect(table.locator("tbody.dashboard-internal")).to_contain_text("Admin")
    expect(page.locator("#dashboard-unbilled tbody")).not_to_contain_text("Admin")
    expect(page.locator("#dashboard-unbilled-internal")).to_contain_text("Admin 1.00 hrs")
    expect(page.locator("#dashboard-unbilled a.no-rate")).to_have_count(1)
    tooltip = page.locator("svg.dashboard-chart g.chart-bar title").first.text_content()
    assert tooltip and "billed" in tooltip
    connections = page.locator("#dashboard-connections tr.connection th").all_inner_texts()
    assert connections == ["Microsoft 365", "Xero"]
    looked_at(page, "dashboard")


def test_the_timesheet_list_and_page_show_its_amount_invoice_and_uploads(
    page: Page, live_server: object, month: Timesheet
) -> None:
    amount = timesheet_amount(month)
    assert amount == "£450.00"
    page.goto(f"{live_server.url}/admin/timesheets/timesheet/")
    row = page.locator("#result_list tbody tr").first
    expect(row.locator("td.field-amount")).to_have_text(amount)
    expect(row.locator("td.field-invoice")).to_have_text("Not sent")
    expect(row.locator("td.field-uploads")).to_have_text("\u2014")
    looked_at(page, "timesheet-list")
    page.goto(f"{live_server.url}/admin/timesheets/timesheet/{month.pk}/change/")
    expect(page.locator("#timesheet-amount")).to_have_text(amount)
    assert month.amount_total == Decimal("450.00")
    expect(page.locator("#timesheet-effort-amount")).to_have_text("£420.00")
    expect(page.locator("#timesheet-travel-amount")).to_have_text("£30.00")
    looked_at(page, "timesheet")


def test_an_action_item_and_the_user_page_read_well(
    page: Page, live_server: object, alice: User, month: Timesheet
) -> None:
    item = ActionLog.objects.get(user=alice, key="demo-overlap")
    page.goto(f"{live_server.url}/admin/auditing/actionlog/{item.pk}/change/")
    expect(page.locator("#content")).to_contain_text("overlap")
    looked_at(page, "action-item")
    page.goto(f"{live_server.url}/admin/accounts/user/{alice.pk}/change/")
    states = page.locator("#user-connections tr.connection").all_inner_texts()
    assert [state.split("\t")[0] for state in states] == ["Microsoft 365", "Xero"]
    expect(page.locator("#user-connections")).to_contain_text("Not configured")
    looked_at(page, "user")


def test_a_superusers_timesheet_list_names_each_owner_and_fits(
    superuser_page: Page, live_server: object, bob: User, month: Timesheet
) -> None:
    CustomerSettings.objects.create(
        user=bob, customer="Umbrella", display_name="Umbrella", currency="EUR", hourly_rate="110"
    )
    booked(bob, 0, 9, 60, "Umbrella", subject="Umbrella review")
    first = first_of_month(bob).date()
    timesheet_generate(user=bob, customer="Umbrella", start=first, end=first + timedelta(days=1))
    page = superuser_page
    page.goto(f"{live_server.url}/admin/timesheets/timesheet/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    acme = rows.filter(has_text="Acme")
    expect(acme.locator("td.field-amount")).to_have_text(timesheet_amount(month))
    expect(acme.locator(".list-owner")).to_have_text("Alice Archer")
    expect(rows.filter(has_text="Umbrella").locator(".list-owner")).to_have_text("Bob Baker")
    looked_at(page, "timesheet-list-superuser")


def test_a_superusers_archive_run_list_names_each_owner_and_fits(
    superuser_page: Page, live_server: object, alice: User, bob: User
) -> None:
    for user in (alice, bob):
        configuration = ArchiveConfigurationFactory(user=user, name="Daily archive")
        for day in range(1, 4):
            finished = timezone.now() - timedelta(days=day)
            ArchiveRun.objects.create(
                configuration=configuration,
                start=finished.date(),
                end=finished.date(),
                correlation_id=f"{user.pk}-{day}",
                status=ArchiveRun.Status.SUCCESS,
                started_at=finished,
                finished_at=finished,
            )
    page = superuser_page
    page.goto(f"{live_server.url}/admin/archiving/archiverun/")
    expect(page.locator("#result_list tbody td.field-status")).to_have_text(["Success"] * 6)
    expect(page.locator(".list-owner", has_text="Bob Baker")).to_have_count(3)
    looked_at(page, "archive-runs-superuser")


def test_a_superusers_appointment_list_fits_with_each_owner_and_what_sets_a_row_apart(
    superuser_page: Page, live_server: object, alice: User, bob: User, month: Timesheet
) -> None:
    booked(bob, 0, 9, 60, "Umbrella", subject="Umbrella review", is_private=True)
    booked(alice, 4, 9, 30, "Acme", subject="Acme call", show_as="tentative", is_archived=False)
    page = superuser_page
    page.goto(f"{live_server.url}/admin/calendars/appointment/")
    umbrella = page.locator("#result_list tbody tr", has_text="Umbrella review")
    expect(umbrella.locator(".field-subject_place_and_owner .list-owner")).to_have_text("Bob Baker")
    expect(umbrella.locator(".list-flag")).to_have_text(["Private"])
    call = page.locator("#result_list tbody tr", has_text="Acme call")
    expect(call.locator(".list-flag")).to_have_text(["Tentative", "Not archived"])
    expect(call.locator(".field-customer_and_type")).to_have_text("AcmeBillable")
    start = first_of_month(alice) + timedelta(days=4, hours=9)
    expect(call.locator(".field-when")).to_contain_text(f"{start.day} {start:%b %Y}")
    # The issued Acme timesheet bills the first two days: its period, linked to it.
    review = page.locator("#result_list tbody tr", has_text="Acme design review")
    expect(review.locator(".field-timesheet_period a")).to_have_attribute(
        "href", f"/admin/timesheets/timesheet/{month.pk}/change/"
    )
    looked_at(page, "appointment-list-superuser")


def test_a_consultants_appointment_list_fits_and_names_no_owner(
    page: Page, live_server: object, month: Timesheet
) -> None:
    page.goto(f"{live_server.url}/admin/calendars/appointment/")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    expect(page.locator("#result_list thead th")).to_have_text(
        ["", "When", "Subject", "Customer", "Flags", "Timesheet"], ignore_case=True
    )
    looked_at(page, "appointment-list")
