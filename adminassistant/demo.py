"""The demo's data (`manage.py demo`): a consultant's real month (two months, in fact), built
through the services. Composition: it seeds every app.

Each day's appointments come from a generator seeded with that day; they are put into the fake
Microsoft 365 and archived by the real archive run (adminassistant/demo_archive.py), so
appointments, archive copies, overlaps and uncategorised items are what the archive writes. The
customers' rates and the timesheets (issued, voided, sent to Xero where Xero is configured) come
from adminassistant/demo_billing.py. Every run is idempotent: users and configurations are upserted
by their natural keys, days already archived are not archived again, timesheets issued once.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import User
from adminassistant.demo_archive import demo_archive_runs
from adminassistant.demo_billing import demo_billing_seed, demo_member_billing_seed
from adminassistant.demo_plan import (
    CATEGORY_COLORS,
    LOCATIONS,
    MEMBER_CATEGORIES,
    MEMBER_DAYS,
    MEMBER_LOCATIONS,
    ONLINE,
    OUTSIDE_ATTENDEES,
    POSSIBLY_BILLABLE,
    PlannedAppointment,
    at,
    day_plan,
    member_day_plan,
    overlapping_pairs,
)
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import AuditLog
from auditing.services import audit_record
from calendars.models import Category, Location

DEFAULT_PORT = "8000"
ADMIN_EMAIL = "admin@example.com"
MEMBER_EMAIL = "bob@example.com"
DEMO_TIMEZONE = "Europe/London"
MEMBER_TIMEZONE = "Europe/Berlin"
DEFAULT_DAYS = 61


@dataclass
class DemoSummary:
    admin: User
    member: User
    admin_plan: list[PlannedAppointment]
    member_plan: list[PlannedAppointment]
    clashes: list[tuple[PlannedAppointment, PlannedAppointment]]


def admin_url() -> str:
    """Where `scripts/dev` serves the admin: its PORT, else Django's 8000."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or DEFAULT_PORT}/admin/"


def demo_seed(*, days: int, password: str, today: date) -> DemoSummary:
    """Both demo users and their data for the `days` days before `today`, in one transaction."""
    window = [today - timedelta(days=offset) for offset in range(days, 0, -1)]
    with transaction.atomic():
        admin = demo_user_upsert(
            email=ADMIN_EMAIL,
            password=password,
            name="Ada Admin",
            role=User.Role.ADMIN,
            is_staff=True,
            is_superuser=True,
            timezone=DEMO_TIMEZONE,
        )
        member = demo_user_upsert(
            email=MEMBER_EMAIL,
            password=password,
            name="Bob Baker",
            role=User.Role.MEMBER,
            is_staff=True,
            is_superuser=False,
            timezone=MEMBER_TIMEZONE,
        )
        admin_plan, clashes = admin_data_seed(admin, window=window, today=today)
        member_plan = member_data_seed(member, window=window)
    return DemoSummary(admin, member, admin_plan, member_plan, clashes)


def admin_data_seed(
    admin: User, *, window: list[date], today: date
) -> tuple[list[PlannedAppointment], list[tuple[PlannedAppointment, PlannedAppointment]]]:
    zone = ZoneInfo(DEMO_TIMEZONE)
    owned_upsert(Location, admin, LOCATIONS, "address")
    # Two configurations read one source into two archive calendars, each with its own copies.
    general = demo_configuration_upsert(
        admin, "General archive", "General Archive", allow_overlaps=True
    )
    daily = demo_configuration_upsert(admin, "Daily archive", "Billable Archive")
    JobConfiguration.objects.update_or_create(
        user=admin,
        archive_configuration=daily,
        schedule_type=JobConfiguration.ScheduleType.DAILY,
        defaults={
            "archive_window_days": 1,
            "schedule_hour": 23,
            "schedule_minute": 59,
            "is_active": True,
        },
    )
    plan: list[PlannedAppointment] = []
    clashes: list[tuple[PlannedAppointment, PlannedAppointment]] = []
    for day in window:
        if day.weekday() >= 5:
            continue
        todays = day_plan(day, zone, random.Random(f"{ADMIN_EMAIL}:{day.isoformat()}"))
        clashes += [(todays[a], todays[b]) for a, b in overlapping_pairs(todays)]
        plan += todays
    possibly_billable_add(plan)
    plan.sort(key=lambda item: (item.start, item.end, item.subject))
    for item in plan:
        item.categories = ([item.category] if item.category else []) + (
            [ONLINE] if item.online else []
        )
    demo_archive_runs(
        user=admin,
        configurations=[daily, general],
        plan=plan,
        categories=CATEGORY_COLORS,
        window=window,
        zone=DEMO_TIMEZONE,
    )
    Category.objects.filter(user=admin, name__in=INTERNAL_CATEGORIES).update(is_internal=True)
    demo_billing_seed(admin, today=today)
    demo_audit_record(user=admin, appointments=len(plan))
    return plan, clashes


INTERNAL_CATEGORIES = ["Admin - non-billable"]  # Break is internal without saying so


def possibly_billable_add(plan: list[PlannedAppointment]) -> None:
    """One customer meeting with no category but people from outside, the week before last:
    the archive keeps it as personal time; it may well be billable."""
    last = max((item.start.date() for item in plan), default=None)
    if last is None:
        return
    day = last - timedelta(days=7 + last.weekday() - 2)  # a Wednesday
    zone = ZoneInfo(DEMO_TIMEZONE)
    plan.append(
        PlannedAppointment(
            subject=POSSIBLY_BILLABLE,
            start=at(day, 17 * 60, zone),
            end=at(day, 18 * 60, zone),
            location="Globex Campus",
            attendees=OUTSIDE_ATTENDEES,
            ms_event_id=f"demo-{day:%Y%m%d}-99",
        )
    )


def demo_configuration_upsert(
    user: User, name: str, destination: str, *, allow_overlaps: bool = False
) -> ArchiveConfiguration:
    configuration, _ = ArchiveConfiguration.objects.update_or_create(
        user=user,
        name=name,
        defaults={
            "source_calendar_uri": "msgraph://calendars/Calendar",
            "destination_calendar_uri": f'msgraph://calendars/"{destination}"',
            "timezone": user.timezone,
            "is_active": True,
            "allow_overlaps": allow_overlaps,
        },
    )
    return configuration


def member_data_seed(member: User, *, window: list[date]) -> list[PlannedAppointment]:
    zone = ZoneInfo(MEMBER_TIMEZONE)
    owned_upsert(Location, member, MEMBER_LOCATIONS, "address")
    configuration = demo_configuration_upsert(member, "Daily archive", "Archive")
    weekdays = [day for day in window if day.weekday() < 5][-MEMBER_DAYS:]
    plan = [
        item
        for day in weekdays
        for item in member_day_plan(day, zone, random.Random(f"{MEMBER_EMAIL}:{day.isoformat()}"))
    ]
    for item in plan:
        item.categories = [item.category] if item.category else []
    demo_archive_runs(
        user=member,
        configurations=[configuration],
        plan=plan,
        categories=MEMBER_CATEGORIES,
        window=window[-7:],
        zone=MEMBER_TIMEZONE,
    )
    demo_member_billing_seed(member)
    demo_audit_record(user=member, appointments=len(plan))
    return plan


def demo_user_upsert(*, email: str, password: str, **fields: Any) -> User:
    """The demo user by email (any case), created or brought back to the demo's settings."""
    user = User.objects.filter(email__iexact=email).first() or User(email=email)
    for name, value in fields.items():
        setattr(user, name, value)
    user.is_active = True
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def owned_upsert(
    model: type[Category] | type[Location], user: User, values: dict[str, str], attribute: str
) -> dict[str, Any]:
    """Rows by (user, name), with `attribute` set from `values`; returned by name."""
    rows = {}
    for name, value in values.items():
        row, _ = model.objects.update_or_create(
            user=user, name__iexact=name, defaults={"name": name, attribute: value}
        )
        rows[name] = row
    return rows


def demo_audit_record(*, user: User, appointments: int) -> None:
    if AuditLog.objects.filter(
        user=user, action_type=AuditLog.ActionType.DEMO, operation="seed"
    ).exists():
        return
    audit_record(
        action_type=AuditLog.ActionType.DEMO,
        operation="seed",
        user=user,
        resource_type="User",
        resource_id=user.pk,
        message=f"Seeded demo data for {user.email}",
        details={"appointments": appointments},
    )
