"""`manage.py demo`: demo users who can log in, two months of realistic data, safe to re-run."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import router
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar
from tests.factories import AppointmentFactory
from tests.unchanged import unchanged

LONDON = ZoneInfo("Europe/London")
# Each test seeds the whole demo (two months of appointments).
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_demo_settings(settings: Settings) -> None:
    # The demo hashes two passwords per run; the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEMO_PASSWORD = "demo-secret-42"


def run_demo(*args: str) -> str:
    output = StringIO()
    call_command("demo", *args, stdout=output)
    return output.getvalue()


def yesterday_in_london() -> date:
    return timezone.now().astimezone(LONDON).date() - timedelta(days=1)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if router.db_for_read(model) == "default"
    }


@pytest.mark.django_db(databases=["default", "web"])
def test_demo_creates_a_superuser_who_can_log_in_with_the_printed_password() -> None:
    output = run_demo("--days", "14")

    admin = User.objects.get(email="admin@example.com")
    assert (admin.name, admin.role, admin.timezone) == ("Ada Admin", "admin", "Europe/London")
    assert admin.is_staff and admin.is_superuser
    assert "demo-secret-42" in output
    login = Client().post(
        "/admin/login/", {"username": "admin@example.com", "password": "demo-secret-42"}
    )
    assert login.status_code == 302


def test_demo_prints_the_admin_url_and_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    output = run_demo("--days", "14")

    assert "Log in at http://127.0.0.1:8000/admin/ as admin@example.com / demo-secret-42" in output
    assert "bob@example.com / demo-secret-42" in output


def test_demo_prints_the_address_scripts_dev_serves_when_port_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "8765")

    output = run_demo("--days", "1")

    assert "Log in at http://127.0.0.1:8765/admin/ as admin@example.com" in output


def test_password_option_overrides_the_demo_password_setting() -> None:
    output = run_demo("--days", "14", "--password", "other-secret-7")

    assert User.objects.get(email="admin@example.com").check_password("other-secret-7")
    assert User.objects.get(email="bob@example.com").check_password("other-secret-7")
    assert "demo-secret-42" not in output


def test_demo_creates_a_staff_member_who_is_not_a_superuser_and_owns_a_little_data() -> None:
    run_demo("--days", "14")

    bob = User.objects.get(email="bob@example.com")
    assert bob.is_staff and not bob.is_superuser
    assert bob.check_password("demo-secret-42")
    bob_appointments = Appointment.objects.filter(user=bob)
    assert 0 < bob_appointments.count() < Appointment.objects.exclude(user=bob).count()
    assert not bob_appointments.exclude(category__user=bob).exclude(category=None).exists()


def test_demo_spreads_appointments_over_two_months_ending_yesterday() -> None:
    run_demo()

    admin = User.objects.get(email="admin@example.com")
    days = {local_date(start) for start in admin.appointments.values_list("start_time", flat=True)}
    assert yesterday_in_london() - timedelta(days=3) <= max(days) <= yesterday_in_london()
    assert min(days) >= yesterday_in_london() - timedelta(days=60)
    assert (max(days) - min(days)).days >= 55
    assert all(day.weekday() < 5 for day in days)


def test_working_days_hold_three_to_six_appointments_between_eight_and_six() -> None:
    run_demo("--days", "14")

    timed = Appointment.objects.filter(user__email="admin@example.com", is_all_day=False)
    per_day: dict[date, int] = {}
    for appointment in timed:
        start = appointment.start_time.astimezone(LONDON)
        end = appointment.end_time.astimezone(LONDON)
        assert time(8) <= start.time() and end.time() <= time(18)
        assert end > start
        per_day[start.date()] = per_day.get(start.date(), 0) + 1
    assert per_day and all(3 <= count <= 7 for count in per_day.values())


def test_demo_includes_overlapping_appointments_on_several_days() -> None:
    run_demo()

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


def test_demo_includes_private_appointments_without_a_category() -> None:
    run_demo()

    private = Appointment.objects.filter(is_private=True)
    assert private.count() >= 3
    assert set(private.values_list("sensitivity", flat=True)) == {"private"}
    assert not private.exclude(category=None).exists()
    assert not private.exclude(customer=None).exists()


def test_out_of_office_days_span_the_whole_london_day() -> None:
    run_demo()

    out_of_office = Appointment.objects.filter(is_out_of_office=True)
    assert out_of_office.count() >= 2
    for appointment in out_of_office:
        start = appointment.start_time.astimezone(LONDON)
        end = appointment.end_time.astimezone(LONDON)
        assert (appointment.show_as, appointment.is_all_day) == ("oof", True)
        assert start.time() == end.time() == time(0)
        assert end.date() == start.date() + timedelta(days=1)


def test_billing_fields_follow_the_category_of_each_appointment() -> None:
    run_demo("--days", "14")

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


def test_demo_configures_a_valid_daily_archive_into_the_billable_archive() -> None:
    run_demo("--days", "14")

    configuration = ArchiveConfiguration.objects.get(
        name="Daily archive", user__email="admin@example.com"
    )
    configuration.full_clean()
    assert configuration.destination_calendar_uri == 'msgraph://calendars/"Billable Archive"'
    assert Calendar.objects.get(user=configuration.user, name="Billable Archive").is_archive
    job = JobConfiguration.objects.get(archive_configuration=configuration)
    assert job.schedule_type == "daily"


def test_the_archive_run_opens_an_overlap_item_naming_both_appointments() -> None:
    run_demo("--days", "14")

    item = ActionLog.objects.filter(event_type="overlap", state="open").first()
    assert item is not None
    first, second = (
        Appointment.objects.get(pk=entry["id"]) for entry in item.details["appointments"]
    )
    assert first.start_time < second.end_time and second.start_time < first.end_time
    assert f"{local_date(first.start_time):%d %b %Y}" in item.description
    assert item.recommendations
    assert AuditLog.objects.filter(action_type="demo", operation="seed").exists()


def test_running_demo_twice_creates_no_duplicates() -> None:
    run_demo()
    first_counts = row_counts()

    run_demo()

    assert row_counts() == first_counts


def test_running_demo_twice_rewrites_the_same_appointments() -> None:
    fields = ["user__email", "ms_event_id", "start_time", "end_time", "subject", "show_as"]
    run_demo("--days", "14")
    first = list(Appointment.objects.order_by("user", "ms_event_id").values_list(*fields))

    run_demo("--days", "14")

    assert list(Appointment.objects.order_by("user", "ms_event_id").values_list(*fields)) == first


def test_a_rerun_archives_no_day_twice_and_keeps_the_users_own_appointments() -> None:
    run_demo("--days", "14")
    runs = AuditLog.objects.filter(action_type="archive", operation="run").count()
    recorded = list(ArchiveRun.objects.values_list("pk", "status", "finished_at"))
    admin = User.objects.get(email="admin@example.com")
    noon = datetime.combine(yesterday_in_london() - timedelta(days=2), time(12), tzinfo=LONDON)
    own = AppointmentFactory(user=admin, start_time=noon, ms_event_id="AAMkAGI2-real-event")

    run_demo("--days", "14")

    assert AuditLog.objects.filter(action_type="archive", operation="run").count() == runs
    assert list(ArchiveRun.objects.values_list("pk", "status", "finished_at")) == recorded
    assert Appointment.objects.filter(pk=own.pk).exists()


def test_demo_refuses_to_run_in_production(settings: Settings) -> None:
    settings.PRODUCTION = True

    with unchanged(), pytest.raises(CommandError, match="does not run with DJANGO_ENV=production"):
        call_command("demo", "--days", "1")

    assert not User.objects.filter(email="admin@example.com").exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_the_demo_timesheet_is_issued_by_the_real_generation_with_rows_and_files() -> None:
    from timesheets.models import Timesheet
    from timesheets.services import timesheet_billed, timesheet_file

    run_demo("--days", "35")
    run_demo("--days", "35")

    timesheet = (
        Timesheet.objects.filter(customer="Acme", status=Timesheet.Status.ISSUED)
        .order_by("-start_date")
        .first()
    )
    assert timesheet is not None
    data = timesheet_billed(timesheet)
    assert Appointment.objects.filter(timesheet=timesheet).count() == len(data.effort_rows) + len(
        data.travel_rows
    )
    assert data.effort_rows and data.billable_total > 0
    for fmt in ("pdf", "csv", "xlsx"):
        name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
        assert content, name
    assert timesheet_file(timesheet=timesheet, fmt="pdf")[1].startswith(b"%PDF")


@pytest.mark.django_db(databases=["default", "web"])
def test_the_demo_has_two_archive_configurations_on_one_source() -> None:
    run_demo("--days", "14")

    configurations = ArchiveConfiguration.objects.filter(user__email="admin@example.com")
    assert {c.source_calendar_uri for c in configurations} == {"msgraph://calendars/Calendar"}
    assert sorted(c.destination_calendar.name for c in configurations) == [
        "Billable Archive",
        "General Archive",
    ]
