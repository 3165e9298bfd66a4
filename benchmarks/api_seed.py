"""The rows the API benchmark reads: one consultant with a given number of appointments (each
archived once), as many audit rows, a few hundred timesheets, action items and archive runs.

Seeded once per size (the consultant is `bench-<size>@example.com`), so a second run starts at
once and the reduced CI size lives next to the full one in the same database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection

from accounts.models import ApiToken, User
from archiving.models import ArchiveConfiguration, ArchiveCopy, ArchiveRun
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar
from timesheets.models import Timesheet

FIRST = datetime(2023, 1, 1, 8, tzinfo=UTC)
STEP = timedelta(minutes=15)  # 100,000 appointments reach from 2023 to late 2025
MONTH = (datetime(2023, 6, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC))
TIMESHEETS = ACTION_ITEMS = ARCHIVE_RUNS = 300
BATCH = 5000


def bench_user(size: int) -> User:
    """The consultant of this size, seeded on first use."""
    user, created = User.objects.get_or_create(
        email=f"bench-{size}@example.com",
        defaults={"name": "Bench Mark", "is_staff": True, "timezone": "Europe/London"},
    )
    if created or Appointment.objects.filter(user=user).count() != size:
        seed(user, size)
    return user


def api_key(user: User) -> str:
    token = ApiToken(user=user, name="benchmark")
    key = token.set_new_key()
    token.save()
    return key


def seed(user: User, size: int) -> None:
    print(f"Seeding {size:,} appointments, copies and audit rows for {user.email}...", flush=True)
    for model in (AuditLog, ActionLog, Appointment, Timesheet, ArchiveConfiguration, Calendar):
        model.objects.filter(user=user).delete()
    archive = Calendar.objects.create(user=user, name="Archive", is_archive=True)
    for start in range(0, size, BATCH):
        created = Appointment.objects.bulk_create(
            Appointment(
                user=user,
                ms_event_id=f"bench-{n}",
                subject=f"Acme work item {n}",
                customer="Acme",
                billing_type="billable",
                categories=["Acme - billable"],
                calendar=archive,
                is_archived=True,
                start_time=FIRST + STEP * n,
                end_time=FIRST + STEP * n + timedelta(minutes=14),
            )
            for n in range(start, min(size, start + BATCH))
        )
        ArchiveCopy.objects.bulk_create(
            ArchiveCopy(
                appointment=appointment,
                destination=archive,
                event_id=f"copy-{appointment.pk}",
                digest="0" * 64,
            )
            for appointment in created
        )
        AuditLog.objects.bulk_create(
            AuditLog(
                user=user,
                action_type=AuditLog.ActionType.ARCHIVE,
                operation="archive.batch",
                status=AuditLog.Status.SUCCESS,
                message=f"Copied {n % 20 + 1} appointments",
                details={"created": n % 20 + 1, "updated": 0},
                correlation_id=f"bench-{n // 20}",
            )
            for n in range(start, min(size, start + BATCH))
        )
    Timesheet.objects.bulk_create(
        Timesheet(
            user=user,
            customer=f"Customer {n}",
            start_date=date(2023, 1, 1) + timedelta(days=n),
            end_date=date(2023, 1, 1) + timedelta(days=n),
            hourly_rate=Decimal("120.00"),
            amount_total=Decimal("960.00"),
            currency="GBP",
        )
        for n in range(TIMESHEETS)
    )
    ActionLog.objects.bulk_create(
        ActionLog(
            user=user,
            event_type=ActionLog.EventType.OVERLAP,
            key=f"overlap-{n}",
            description=f"Overlap {n}",
            state=ActionLog.State.OPEN,
        )
        for n in range(ACTION_ITEMS)
    )
    configuration = ArchiveConfiguration.objects.create(
        user=user,
        name="Bench",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone="Europe/London",
    )
    ArchiveRun.objects.bulk_create(
        ArchiveRun(
            task_id=f"bench-{user.pk}-{n}",
            configuration=configuration,
            requested_by=user,
            start=date(2023, 1, 1) + timedelta(days=n),
            end=date(2023, 1, 1) + timedelta(days=n),
            status=ArchiveRun.Status.SUCCESS,
            correlation_id=f"bench-run-{n}",
        )
        for n in range(ARCHIVE_RUNS)
    )
    with connection.cursor() as cursor:  # fresh rows: give the planner their statistics
        cursor.execute("ANALYZE")
