"""The rows the API benchmark reads: one consultant with a given number of appointments (each
archived once), as many audit rows, a few hundred timesheets, action items and archive runs.

Seeded once per size (the consultant is `bench-<size>@example.com`), so a second run starts at
once and the reduced CI size lives next to the full one in the same database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from seeding import archive_configuration  # benchmarks/, beside this module

from accounts.models import ApiToken, User
from archiving.models import ArchiveConfiguration, ArchiveCopy, ArchiveRun
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar
from timesheets.models import Timesheet

TIMESHEETS = ACTION_ITEMS = ARCHIVE_RUNS = 300
BATCH = 5000
PER_DAY = 8
UNBILLED_DAYS = 90  # the last three months are on no timesheet yet, the rest is billed


def month_end(now: datetime) -> datetime:
    """The last day of this month at 16:00 UTC: the newest appointment."""
    first_next = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (first_next - timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)


def api_month(now: datetime) -> tuple[datetime, datetime]:
    """A full month of work, six months back: the API benchmark's month page."""
    first = (now.replace(day=1) - timedelta(days=150)).replace(day=1)
    start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


def bench_user(size: int) -> User:
    """The consultant of this size, seeded on first use."""
    user, created = User.objects.get_or_create(
        email=bench_email(size),
        defaults={"name": "Bench Mark", "is_staff": True, "timezone": "Europe/London"},
    )
    if created or Appointment.objects.filter(user=user).count() != size:
        seed(user, size)
    return user


def bench_email(size: int) -> str:
    return f"bench-v3-{size}@example.com"


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
    # Eight a day back from the end of this month (100,000 reach 34 years back), billed on one
    # timesheet but for the last three months, as a consultant's history looks.
    newest = month_end(datetime.now(UTC))
    billed_before = datetime.now(UTC) - timedelta(days=UNBILLED_DAYS)
    billed = Timesheet.objects.create(
        user=user, customer="Acme", start_date=date(1980, 1, 1), end_date=billed_before.date()
    )
    for start in range(0, size, BATCH):
        begins = [
            newest - timedelta(days=n // PER_DAY, hours=n % PER_DAY)
            for n in range(start, min(size, start + BATCH))
        ]
        created = Appointment.objects.bulk_create(
            Appointment(
                user=user,
                ms_event_id=f"bench-{start + n}",
                subject=f"Acme work item {start + n}",
                customer="Acme",
                billing_type="billable",
                categories=["Acme - billable"],
                calendar=archive,
                is_archived=True,
                timesheet=billed if begin < billed_before else None,
                start_time=begin,
                end_time=begin + timedelta(minutes=45),
            )
            for n, begin in enumerate(begins)
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
    # Each overlap names its two unbilled members, as the archive's own items do: the API's
    # `at_stake` prices them (and the floor reads the same rows).
    unbilled = list(
        Appointment.objects.filter(user=user, timesheet__isnull=True)
        .order_by("-start_time")
        .values_list("pk", flat=True)[: 2 * ACTION_ITEMS]
    ) or [None]
    ActionLog.objects.bulk_create(
        ActionLog(
            user=user,
            event_type=ActionLog.EventType.OVERLAP,
            key=f"overlap-{n}",
            description=f"Overlap {n}",
            state=ActionLog.State.OPEN,
            details={
                "appointments": [
                    {"id": unbilled[(2 * n + side) % len(unbilled)]} for side in (0, 1)
                ]
            },
        )
        for n in range(ACTION_ITEMS)
    )
    configuration = archive_configuration(user)
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
    # Fresh rows: give the planner their statistics, and the visibility map an index-only scan
    # (the paginator's COUNT) needs, as autovacuum would in production (this server may run
    # without it). VACUUM cannot run in a transaction: the seeding is not in one.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
