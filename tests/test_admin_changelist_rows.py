"""The change lists' rows and date links, planned once per page, are the page Django itself
renders: every cell, link, checkbox, icon and year, for the owner and for a superuser."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from calendars.models import Appointment, Calendar
from foundations.admin_list import PlannedChangeList
from tests.factories import AppointmentFactory
from tests.test_admin_smoke import REGISTERED, one_of_everything  # noqa: F401 - the fixture
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])

# The change lists that plan their rows (every other one is Django's own page already).
PLANNED = [
    m
    for m in REGISTERED
    if issubclass(admin.site._registry[m].get_changelist(None), PlannedChangeList)
]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return CSRF.sub("", response.text)


def django_page(client: Client, url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The same page with Django's own rows and date links."""
    with monkeypatch.context() as patched:
        patched.setattr(PlannedChangeList, "planned_result_list", lambda self: None)
        patched.setattr(PlannedChangeList, "planned_date_hierarchy", lambda self: None)
        return page(client, url)


def changelist(model: type) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def alices_years(alice: User, alice_appointment: Appointment) -> None:
    """Appointments in 2019, 2021 and 2025 (none in 2020), one billed, one gone from Outlook,
    one whose subject is markup, one private and out of office, one with a blank subject."""
    timesheet = Timesheet.objects.create(
        user=alice, customer="Acme", start_date="2021-03-01", end_date="2021-03-31"
    )
    calendar = Calendar.objects.create(user=alice, name="Work")
    AppointmentFactory(
        user=alice,
        subject="Billed",
        start_time=datetime(2021, 3, 2, 9, tzinfo=UTC),
        timesheet=timesheet,
        calendar=calendar,
        show_as="busy",
    )
    AppointmentFactory(
        user=alice,
        subject="<b>Bold</b> & co",
        start_time=datetime(2019, 12, 31, 23, 30, tzinfo=UTC),
        source_deleted_at=datetime(2020, 1, 2, tzinfo=UTC),
        billing_type="non-billable",
    )
    AppointmentFactory(
        user=alice,
        subject=" ",
        start_time=datetime(2025, 1, 1, 0, 30, tzinfo=UTC),
        is_private=True,
        is_out_of_office=True,
        is_archived=True,
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?billing_type__exact=billable",
        "?start_time__year=2021",
        "?start_time__year=2021&start_time__month=3",
        "?q=Acme&o=3.-1",
        "?_popup=1",
    ],
)
def test_appointment_list_is_the_page_django_renders(
    alice_client: Client, alices_years: None, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = changelist(Appointment) + query

    assert page(alice_client, url) == django_page(alice_client, url, monkeypatch)


def test_appointment_list_of_a_superuser_is_the_page_django_renders(
    admin_client: Client, alices_years: None, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    AppointmentFactory(user=bob, subject="Bob's", start_time=datetime(2022, 6, 1, tzinfo=UTC))
    url = changelist(Appointment)

    assert page(admin_client, url) == django_page(admin_client, url, monkeypatch)


def test_year_links_are_the_years_that_hold_appointments(
    alice_client: Client, alices_years: None
) -> None:
    body = page(alice_client, changelist(Appointment))

    years = re.findall(r'<a href="\?start_time__year=(\d+)">', body)
    # 31 Dec 2019 23:30 UTC is still 2019 in London; 1 Jan 2025 00:30 UTC is 2025.
    assert years == ["2019", "2021", "2025"]


def test_a_list_within_one_month_opens_at_its_days(
    alice_client: Client, alice_appointment: Appointment, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = changelist(Appointment)

    body = page(alice_client, url)

    assert re.search(r'start_time__day=8[^"]*">8 May</a>', body)
    assert body == django_page(alice_client, url, monkeypatch)


def test_archive_run_list_is_the_page_django_renders(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    configuration = ArchiveConfiguration.objects.create(
        user=alice,
        name="Daily <archive>",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone="Europe/London",
    )
    for n, status in enumerate(ArchiveRun.Status):
        ArchiveRun.objects.create(
            task_id=f"task-{n}",
            configuration=configuration,
            start=date(2024 + n, 5, 1),
            end=date(2024 + n, 5, 1),
            status=status,
            correlation_id=f"run-{n}",
        )
    url = changelist(ArchiveRun)

    assert "task-" not in page(alice_client, url)  # the runs show their configuration
    assert page(alice_client, url) == django_page(alice_client, url, monkeypatch)


def test_the_appointment_and_archive_run_lists_plan_their_rows() -> None:
    assert {Appointment, ArchiveRun} <= set(PLANNED)


@pytest.mark.parametrize("model", PLANNED, ids=lambda m: m._meta.label)
def test_every_planned_change_list_is_the_page_django_renders(
    admin_client: Client,
    one_of_everything: None,  # noqa: F811 - the fixture imported above
    model: type,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = changelist(model)

    assert page(admin_client, url) == django_page(admin_client, url, monkeypatch)


def test_the_when_column_writes_each_day_and_time_in_the_viewers_zone(
    alice: User, alice_client: Client
) -> None:
    for start, end, all_day in (
        (datetime(2025, 6, 2, 8, 0, tzinfo=UTC), datetime(2025, 6, 2, 9, 30, tzinfo=UTC), False),
        (datetime(2025, 6, 3, 8, 0, tzinfo=UTC), datetime(2025, 6, 3, 9, 30, tzinfo=UTC), False),
        (datetime(2025, 6, 3, 22, 0, tzinfo=UTC), datetime(2025, 6, 4, 1, 0, tzinfo=UTC), False),
        (datetime(2025, 6, 9, 23, 0, tzinfo=UTC), datetime(2025, 6, 11, 23, 0, tzinfo=UTC), True),
    ):
        AppointmentFactory(user=alice, start_time=start, end_time=end, is_all_day=all_day)

    body = page(alice_client, changelist(Appointment) + "?o=1")

    cells = re.findall(r'<th class="field-when"><a [^>]*>(.*?)</a></th>', body)
    assert cells == [
        '2 Jun 2025<span class="list-owner">9 a.m. \u2013 10:30 a.m.</span>',
        '3 Jun 2025<span class="list-owner">9 a.m. \u2013 10:30 a.m.</span>',
        '3 Jun 2025<span class="list-owner">11 p.m. \u2013 4 Jun 2025, 2 a.m.</span>',
        '10 Jun 2025<span class="list-owner">all day, to 11 Jun 2025</span>',
    ]
