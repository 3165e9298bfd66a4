"""`manage.py demo` is a consultant's real month: archived by real runs against the fake
Microsoft 365, customers with rates in two currencies, issued, voided and unbilled money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveCopy, ArchiveRun
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment
from tests.demo_helpers import shared_demo_run
from timesheets.models import Timesheet
from timesheets.selectors import amounts_by_currency, unbilled_customer_hours

pytestmark = [pytest.mark.django_db(databases=["default", "web"]), pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_run(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """One `manage.py demo --days 40` for the module's tests, which only read its data."""
    with shared_demo_run(django_db_blocker, tmp_path_factory.mktemp("demo-media"), "--days", "40"):
        yield


@pytest.fixture
def demo(demo_run: None) -> User:
    return User.objects.get(email="admin@example.com")


def test_the_demos_appointments_were_archived_by_real_runs_with_copies(demo: User) -> None:
    configuration = ArchiveConfiguration.objects.get(user=demo, name="Daily archive")
    runs = AuditLog.objects.filter(
        action_type="archive", operation="run", resource_id=str(configuration.pk)
    )
    assert runs.count() == 40 and not runs.exclude(status="success").exists()
    assert ArchiveCopy.objects.filter(appointment__user=demo).count() > 50
    assert Appointment.objects.filter(user=demo, is_archived=True).count() > 50
    # Graph's ids, as the archive stores them, not ids made up by a seeding script.
    assert not Appointment.objects.filter(user=demo, ms_event_id__startswith="demo-").exists()


def test_the_demo_has_overlaps_uncategorised_items_and_a_possibly_billable_meeting(
    demo: User,
) -> None:
    open_items = ActionLog.objects.filter(user=demo, state=ActionLog.State.OPEN)
    assert open_items.filter(event_type="overlap").exists()
    assert open_items.filter(event_type="uncategorised").exists()
    meeting = Appointment.objects.get(user=demo, subject="Globex budget review")
    assert meeting.categories == [] and not meeting.customer


def test_the_demos_customers_bill_in_two_currencies_with_a_travel_rate(demo: User) -> None:
    issued = Timesheet.objects.filter(user=demo, status=Timesheet.Status.ISSUED)
    assert {t.currency for t in issued} == {"GBP", "EUR"}
    assert all(t.amount_total and t.amount_total > 0 for t in issued)
    acme = issued.filter(customer="Acme").latest("start_date")
    assert acme.travel_hourly_rate == Decimal("60.00")
    assert Timesheet.objects.filter(user=demo, status=Timesheet.Status.VOID).count() == 1


def test_the_voided_month_waits_to_be_invoiced_again_and_internal_time_is_not_offered(
    demo: User,
) -> None:
    unbilled = unbilled_customer_hours(user=demo)
    customers = {row.customer: row for row in unbilled}
    assert customers["Initech"].amount and customers["Initech"].currency == "GBP"
    assert customers["Admin"].internal and customers["Break"].internal
    assert set(amounts_by_currency(unbilled)) == {"GBP", "EUR"}


def test_each_demo_day_was_archived_by_a_recorded_run_as_a_queued_run_is(demo: User) -> None:
    yesterday = timezone.now().astimezone(ZoneInfo("Europe/London")).date() - timedelta(days=1)
    days = [yesterday - timedelta(days=offset) for offset in range(39, -1, -1)]
    runs = ArchiveRun.objects.filter(configuration__user=demo)
    for name in ("Daily archive", "General archive"):
        own = runs.filter(configuration__name=name)
        assert sorted((run.start, run.end) for run in own) == [(day, day) for day in days]
        assert sum(run.result["counts"]["copied"] for run in own) > 50
    assert {(run.kind, run.status) for run in runs} == {("manual", "success")}
    assert all(run.started_at <= run.finished_at for run in runs)
    # The first configuration's run of a day creates its appointments; the second finds them.
    assert sum(run.result["counts"]["created"] for run in runs) > 50


def test_the_archive_run_list_shows_the_demo_users_runs_as_successes(demo: User) -> None:
    client = Client()
    client.force_login(User.objects.get(email="bob@example.com"))
    bobs = client.get(reverse("admin:archiving_archiverun_changelist"))
    client.force_login(demo)

    page = client.get(reverse("admin:archiving_archiverun_changelist"))

    assert page.status_code == 200
    body = page.content.decode()
    # 40 days, two configurations; the superuser also sees Bob's week.
    assert body.count('<td class="field-status">Success</td>') == 87
    assert "Daily archive" in body and "General archive" in body
    # Bob, who is no superuser, sees his own runs only: his configuration's week.
    assert bobs.status_code == 200 and bobs.context["cl"].result_count == 7


def test_the_dashboard_shows_when_each_configuration_last_ran(demo: User) -> None:
    client = Client()
    client.force_login(demo)
    response = client.get(reverse("admin:index"))
    yesterday = timezone.now().astimezone(ZoneInfo("Europe/London")).date() - timedelta(days=1)
    body = response.content.decode().split('id="dashboard-archive"')[1].split("</table>")[0]
    for name in ("Daily archive", "General archive"):
        run = ArchiveRun.objects.get(
            configuration__user=demo, configuration__name=name, end=yesterday
        )
        finished = run.finished_at.astimezone(ZoneInfo("Europe/London"))
        assert reverse("admin:archiving_archiverun_change", args=[run.pk]) in body
        assert f"{finished.day} {finished:%b %Y %H:%M}" in body
    assert body.count(">Success</span>") == 2 and "never" not in body
