"""`manage.py demo`: demo users who can log in and two months of realistic data.

The tests here only read what the demo made, so they share one run (61 days, the default);
tests/test_demo_command.py has the tests that run the demo themselves: its options, re-runs and
the refusal in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
from django.test import Client
from pytest_django import DjangoDbBlocker

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar
from tests.demo_helpers import LONDON, local_date, shared_demo_run, yesterday_in_london

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_output(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """What one `manage.py demo` (two months of data) printed; its data is in the databases."""
    with shared_demo_run(django_db_blocker, tmp_path_factory.mktemp("demo-media")) as output:
        yield output


@pytest.mark.django_db(databases=["default", "web"])
def test_demo_creates_a_superuser_who_can_log_in_with_the_printed_password(
    demo_output: str,
) -> None:
    admin = User.objects.get(email="admin@example.com")
    assert (admin.name, admin.role, admin.timezone) == ("Ada Admin", "admin", "Europe/London")
    assert admin.is_staff and admin.is_superuser
    assert "demo-secret-42" in demo_output
    login = Client().post(
        "/admin/login/", {"username": "admin@example.com", "password": "demo-secret-42"}
    )
    assert login.status_code == 302


def test_demo_prints_the_admin_url_and_the_credentials(demo_output: str) -> None:
    # The shared run had PORT unset.
    assert (
        "Log in at http://127.0.0.1:8000/admin/ as admin@example.com / demo-secret-42"
        in demo_output
    )
    assert "bob@example.com / demo-secret-42" in demo_output


def test_demo_creates_a_staff_member_who_is_not_a_superuser_and_owns_a_little_data(
    demo_output: str,
) -> None:
    bob = User.objects.get(email="bob@example.com")
    assert bob.is_staff and not bob.is_superuser
    assert bob.check_password("demo-secret-42")
    bob_appointments = Appointment.objects.filter(user=bob)
    assert 0 < bob_appointments.count() < Appointment.objects.exclude(user=bob).count()
    assert not bob_appointments.exclude(category__user=bob).exclude(category=None).exists()


def test_demo_spreads_appointments_over_two_months_ending_yesterday(demo_output: str) -> None:
    admin = User.objects.get(email="admin@example.com")
    days = {local_date(start) for start in admin.appointments.values_list("start_time", flat=True)}
    assert yesterday_in_london() - timedelta(days=3) <= max(days) <= yesterday_in_london()
    assert min(days) >= yesterday_in_london() - timedelta(days=60)
    assert (max(days) - min(days)).days >= 55
    assert all(day.weekday() < 5 for day in days)


def test_working_days_hold_three_to_six_appointments_between_eight_and_six(
    demo_output: str,
) -> None:
    timed = Appointment.objects.filter(user__email="admin@example.com", is_all_day=False)
    per_day: dict[date, int] = {}
    for appointment in timed:
        start = appointment.start_time.astimezone(LONDON)
        end = appointment.end_time.astimezone(LONDON)
        assert time(8) <= start.time() and end.time() <= time(18)
        assert end > start
        per_day[start.date()] = per_day.get(start.date(), 0) + 1
    assert per_day and all(3 <= count <= 7 for count in per_day.values())


def test_demo_includes_overlapping_appointments_on_several_days(demo_output: str) -> None:
    overlap_days = {
        local_date(first.start_time)
        for first in Appointment.objects.filter(is_all_day=False)
        for second in Appointment.objects.filter(
            user=first.user,
            is_all_day=False,
            pk__gt=first.pk,
            start_time__lt=first.end_time,
            end_time__gt=first.start_time,
        )
    }
    assert len(overlap_days) >= 3


def test_demo_includes_private_appointments_without_a_category(demo_output: str) -> None:
    private = Appointment.objects.filter(is_private=True)
    assert private.count() >= 3
    assert set(private.values_list("sensitivity", flat=True)) == {"private"}
    assert not private.exclude(category=None).exists()
    assert not private.exclude(customer=None).exists()


def test_out_of_office_days_span_the_whole_london_day(demo_output: str) -> None:
    out_of_office = Appointment.objects.filter(is_out_of_office=True)
    assert out_of_office.count() >= 2
    for appointment in out_of_office:
        start = appointment.start_time.astimezone(LONDON)
        end = appointment.end_time.astimezone(LONDON)
        assert (appointment.show_as, appointment.is_all_day) == ("oof", True)
        assert start.time() == end.time() == time(0)
        assert end.date() == start.date() + timedelta(days=1)


def test_billing_fields_follow_the_category_of_each_appointment(demo_output: str) -> None:
    appointments = Appointment.objects.filter(user__email="admin@example.com")
    assert appointments.filter(billing_type="billable").exists()
    assert appointments.filter(billing_type="non-billable").exists()
    for appointment in appointments.select_related("category"):
        assert appointment.is_archived
        assert appointment.ms_event_data["id"] == appointment.ms_event_id
        assert appointment.ms_event_data["categories"] == appointment.categories
        if appointment.category is None:
            assert (appointment.customer, appointment.billing_type) == (None, None)
            continue
        customer, billing_type = appointment.category.name.split(" - ")
        assert (appointment.customer, appointment.billing_type) == (customer, billing_type)
        assert appointment.categories[0] == appointment.category.name


def test_demo_configures_a_valid_daily_archive_into_the_billable_archive(
    demo_output: str,
) -> None:
    configuration = ArchiveConfiguration.objects.get(
        name="Daily archive", user__email="admin@example.com"
    )
    configuration.full_clean()
    assert configuration.destination_calendar_uri == 'msgraph://calendars/"Billable Archive"'
    assert Calendar.objects.get(user=configuration.user, name="Billable Archive").is_archive
    job = JobConfiguration.objects.get(archive_configuration=configuration)
    assert job.schedule_type == "daily"


def test_the_archive_run_opens_an_overlap_item_naming_both_appointments(
    demo_output: str,
) -> None:
    item = ActionLog.objects.filter(event_type="overlap", state="open").first()
    assert item is not None
    first, second = (
        Appointment.objects.get(pk=entry["id"]) for entry in item.details["appointments"]
    )
    assert first.start_time < second.end_time and second.start_time < first.end_time
    assert f"{local_date(first.start_time):%d %b %Y}" in item.description
    assert item.recommendations
    assert AuditLog.objects.filter(action_type="demo", operation="seed").exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_the_demo_has_two_archive_configurations_on_one_source(demo_output: str) -> None:
    configurations = ArchiveConfiguration.objects.filter(user__email="admin@example.com")
    assert {c.source_calendar_uri for c in configurations} == {"msgraph://calendars/Calendar"}
    assert sorted(c.destination_calendar.name for c in configurations) == [
        "Billable Archive",
        "General Archive",
    ]
