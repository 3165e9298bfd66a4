"""`manage.py demo` run by each test itself: its options, re-runs that change nothing and the
refusal in production. (tests/test_demo.py reads the data of one shared run.)"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import router
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveRun
from auditing.models import AuditLog
from calendars.models import Appointment
from tests.demo_helpers import DEMO_PASSWORD, FAST_HASHERS, LONDON, run_demo, yesterday_in_london
from tests.factories import AppointmentFactory
from tests.unchanged import unchanged

# Each test seeds the demo (up to two months of appointments) itself.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_demo_settings(settings: Settings, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DEMO_PASSWORD = DEMO_PASSWORD
    settings.MEDIA_ROOT = tmp_path


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if router.db_for_read(model) == "default"
    }


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
