"""The demo's data (`manage.py demo`): a demo admin, a second member and two months of sample
calendar data. Composition: it seeds every app.

Every run is idempotent: rows are upserted by their natural keys, and each day's appointments come
from a generator seeded with that day, so re-running (today or next week) rewrites the same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record
from calendars.categories import is_travel
from calendars.models import Appointment, Calendar, Category, Location
from timesheets.models import Timesheet
from timesheets.services import TimesheetError, timesheet_generate

ADMIN_URL = "http://127.0.0.1:8000/admin/"
ADMIN_EMAIL = "admin@example.com"
MEMBER_EMAIL = "bob@example.com"
DEMO_TIMEZONE = "Europe/London"
MEMBER_TIMEZONE = "Europe/Berlin"
DEFAULT_DAYS = 61

# Minutes after local midnight: the working day that timed appointments must fit in.
DAY_START = 8 * 60
DAY_END = 18 * 60

# How often, in working days, the rare features recur (see `weekday_serial`): two months hold
# two or three days of leave and a clash a week, and even a fortnight shows a clash.
LEAVE_EVERY = 17
CLASH_EVERY = 5
PRIVATE_EVERY = 3
UNCATEGORISED_EVERY = 7

ONLINE = "Online"
# Outlook's preset colours, so the categories look as they would after a Graph sync.
CATEGORY_COLORS = {
    "Acme - billable": "preset7",
    "Acme - non-billable": "preset5",
    "Globex - billable": "preset4",
    "Initech - billable": "preset1",
    "Admin - non-billable": "preset12",
    "Break - non-billable": "preset3",
    ONLINE: "preset8",
}
LOCATIONS = {
    "Acme HQ": "1 Canada Square, London E14 5AB",
    "Globex Campus": "Cambridge Science Park, Milton Road, Cambridge CB4 0FZ",
    "Initech Office": "20 Station Road, Reading RG1 1JX",
    "Home office": "12 Elm Grove, London N1 2AB",
    "The Hive co-working": "45 Clerkenwell Road, London EC1M 5RS",
}


@dataclass(frozen=True)
class Work:
    subject: str
    category: str
    location: str | None = None
    online: bool = False


WORK = [
    Work("Acme design review", "Acme - billable", "Acme HQ"),
    Work("Acme weekly status call", "Acme - billable", online=True),
    Work("Acme API workshop", "Acme - billable", "Acme HQ"),
    Work("Acme code review", "Acme - billable", "Home office"),
    Work("Acme phase 2 proposal", "Acme - non-billable", "Home office"),
    Work("Acme account catch-up", "Acme - non-billable", online=True),
    Work("Drive to Globex", "Globex - billable"),
    Work("Globex data migration", "Globex - billable", "Globex Campus"),
    Work("Globex stakeholder interviews", "Globex - billable", "Globex Campus"),
    Work("Globex report drafting", "Globex - billable", "The Hive co-working"),
    Work("Initech sprint planning", "Initech - billable", online=True),
    Work("Initech backlog refinement", "Initech - billable", online=True),
    Work("Initech pairing session", "Initech - billable", "Initech Office"),
    Work("Drive to Initech", "Initech - billable"),
    Work("Invoicing and expenses", "Admin - non-billable", "Home office"),
    Work("Email triage", "Admin - non-billable", "Home office"),
    Work("Timesheet review", "Admin - non-billable", "Home office"),
]
LUNCH = Work("Lunch", "Break - non-billable")
PERSONAL_SUBJECTS = ["Dentist", "School run", "Gym", "GP appointment", "Parcel collection"]
UNCATEGORISED_SUBJECTS = ["Call with recruiter", "Catch-up with Sam", "Coffee with a former client"]
OUT_OF_OFFICE_SUBJECTS = ["Annual leave", "Out of office: training course", "Conference"]

MEMBER_CATEGORIES = {"Umbrella - billable": "preset9", "Admin - non-billable": "preset12"}
MEMBER_LOCATIONS = {"Umbrella Labs": "Invalidenstraße 1, 10115 Berlin"}
MEMBER_WORK = [
    Work("Umbrella lab audit", "Umbrella - billable", "Umbrella Labs"),
    Work("Umbrella security briefing", "Umbrella - billable", online=True),
    Work("Expenses", "Admin - non-billable"),
]
MEMBER_DAYS = 5

APPOINTMENT_FIELDS = [
    "start_time",
    "end_time",
    "subject",
    "location",
    "category",
    "calendar",
    "ms_event_data",
    "is_private",
    "is_archived",
    "is_out_of_office",
    "is_all_day",
    "show_as",
    "sensitivity",
    "importance",
    "categories",
    "customer",
    "billing_type",
    "is_travel",
]


@dataclass
class PlannedAppointment:
    """One appointment of the plan, before it meets the database."""

    subject: str
    start: datetime
    end: datetime
    category: str | None = None
    location: str | None = None
    online: bool = False
    show_as: str = Appointment.ShowAs.BUSY
    importance: str = Appointment.Importance.NORMAL
    is_private: bool = False
    is_out_of_office: bool = False
    is_all_day: bool = False
    ms_event_id: str = ""
    categories: list[str] = field(default_factory=list)


def billing_of(category: str | None) -> tuple[str | None, str | None]:
    """`Acme - billable` -> ("Acme", "billable"); marker categories carry no billing."""
    if not category or " - " not in category:
        return None, None
    customer, kind = category.split(" - ", 1)
    kind = kind.strip().lower()
    billing_type = kind if kind in Appointment.BillingType.values else None
    return customer.strip(), billing_type


def weekday_serial(day: date) -> int:
    """Weekdays counted from 1 Jan 0001 (a Monday): a calendar-stable clock for rare features.

    Rare features (leave, clashes) follow this rather than the random generator so that any
    window of a few weeks is guaranteed to show them, whatever day the demo is run.
    """
    return (day.toordinal() - 1) // 7 * 5 + day.weekday()


def at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    # Built from the wall clock rather than by adding to midnight, so DST days stay right.
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def overlapping_pairs(plan: list[PlannedAppointment]) -> list[tuple[int, int]]:
    """Index pairs of timed appointments whose times overlap."""
    timed = [index for index, item in enumerate(plan) if not item.is_all_day]
    return [
        (a, b)
        for position, a in enumerate(timed)
        for b in timed[position + 1 :]
        if plan[a].start < plan[b].end and plan[b].start < plan[a].end
    ]


def _work_item(
    item: Work, start: datetime, end: datetime, rng: random.Random
) -> PlannedAppointment:
    return PlannedAppointment(
        subject=item.subject,
        start=start,
        end=end,
        category=item.category,
        location=item.location,
        online=item.online,
        show_as=rng.choices(["busy", "tentative", "free"], weights=[80, 14, 6])[0],
        importance=rng.choices(["normal", "high", "low"], weights=[85, 12, 3])[0],
    )


def day_plan(day: date, zone: ZoneInfo, rng: random.Random) -> list[PlannedAppointment]:
    """A consultant's weekday: a day's leave, or 3-6 appointments between 08:00 and 18:00."""
    if weekday_serial(day) % LEAVE_EVERY == 5:
        plan = _leave(day, zone, rng)
    else:
        plan = _working_day(day, zone, rng)
    plan.sort(key=lambda item: (item.start, item.end, item.subject))
    for number, item in enumerate(plan, start=1):
        item.ms_event_id = f"demo-{day:%Y%m%d}-{number}"
    return plan


def _leave(day: date, zone: ZoneInfo, rng: random.Random) -> list[PlannedAppointment]:
    return [
        PlannedAppointment(
            subject=rng.choice(OUT_OF_OFFICE_SUBJECTS),
            start=at(day, 0, zone),
            end=datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
            show_as=Appointment.ShowAs.OOF,
            is_out_of_office=True,
            is_all_day=True,
        )
    ]


def _working_day(day: date, zone: ZoneInfo, rng: random.Random) -> list[PlannedAppointment]:
    serial = weekday_serial(day)
    slots: list[tuple[int, int]] = []
    cursor = DAY_START + rng.choice([0, 15, 30])
    for _ in range(rng.randint(3, 6)):
        end = cursor + rng.choice([30, 45, 60, 60, 90, 120])
        # The draws are bounded so three slots always fit; later ones may not.
        if end > DAY_END:
            break
        slots.append((cursor, end))
        cursor = end + rng.choice([0, 15, 30, 45, 60])

    plan: list[PlannedAppointment] = []
    for start, end in slots:
        had_lunch = any(item.subject == LUNCH.subject for item in plan)
        lunchtime = 12 * 60 <= start <= 13 * 60 + 30 and end - start <= 60
        if lunchtime and not had_lunch and rng.random() < 0.6:
            lunch = _work_item(LUNCH, at(day, start, zone), at(day, end, zone), rng)
            lunch.show_as = rng.choice(["free", "busy"])
            lunch.importance = Appointment.Importance.NORMAL
            plan.append(lunch)
        else:
            # One of each per day: nobody reviews the same design twice before lunch.
            fresh = [item for item in WORK if item.subject not in {done.subject for done in plan}]
            plan.append(
                _work_item(rng.choice(fresh), at(day, start, zone), at(day, end, zone), rng)
            )

    if serial % PRIVATE_EVERY == 0:
        personal = plan[rng.randrange(len(plan))]
        personal.subject = rng.choice(PERSONAL_SUBJECTS)
        personal.category = personal.location = None
        personal.online = False
        personal.is_private = True
        personal.show_as = Appointment.ShowAs.BUSY
    if serial % UNCATEGORISED_EVERY == 4:
        loose = next((item for item in reversed(plan) if not item.is_private), None)
        if loose is not None:
            loose.subject = rng.choice(UNCATEGORISED_SUBJECTS)
            loose.category = loose.location = None
            loose.online = False
    if serial % CLASH_EVERY == 1:
        plan.append(_clash(day, plan, zone, rng))
    return plan


def _clash(
    day: date, plan: list[PlannedAppointment], zone: ZoneInfo, rng: random.Random
) -> PlannedAppointment:
    """A second booking over an existing work appointment, as double-booked calendars have."""
    candidates = [item for item in plan if item.category and not item.is_private] or plan
    base = rng.choice(candidates)
    length = int((base.end - base.start).total_seconds() // 60)
    start = base.start + timedelta(minutes=min(30, length // 2))
    end = min(start + timedelta(minutes=60), at(day, DAY_END, zone))
    taken = {item.subject for item in plan}
    others = [item for item in WORK if item.category != base.category and item.subject not in taken]
    clash = _work_item(rng.choice(others), start, end, rng)
    # Both busy, or the archive would not have to choose between them.
    clash.show_as = base.show_as = Appointment.ShowAs.BUSY
    return clash


def member_day_plan(day: date, zone: ZoneInfo, rng: random.Random) -> list[PlannedAppointment]:
    """Two appointments a day for the second member: enough to see that he sees only his own."""
    start = DAY_START + 60 + rng.choice([0, 30, 60])
    plan = []
    for number, item in enumerate(rng.sample(MEMBER_WORK, 2), start=1):
        end = start + rng.choice([60, 90])
        planned = _work_item(item, at(day, start, zone), at(day, end, zone), rng)
        planned.ms_event_id = f"demo-{day:%Y%m%d}-{number}"
        plan.append(planned)
        start = end + rng.choice([30, 60, 120])
    return plan


def graph_event(item: PlannedAppointment, sensitivity: str) -> dict[str, Any]:
    """A trimmed Microsoft Graph event, as the archive stores what Graph returned."""

    def stamp(moment: datetime) -> dict[str, str]:
        return {
            "dateTime": f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.0000000",
            "timeZone": "UTC",
        }

    return {
        "id": item.ms_event_id,
        "subject": item.subject,
        "showAs": item.show_as,
        "categories": item.categories,
        "importance": item.importance,
        "sensitivity": sensitivity,
        "isAllDay": item.is_all_day,
        "start": stamp(item.start),
        "end": stamp(item.end),
        "location": {"displayName": item.location or ""},
    }


@dataclass
class DemoSummary:
    admin: User
    member: User
    admin_plan: list[PlannedAppointment]
    member_plan: list[PlannedAppointment]
    clashes: list[tuple[PlannedAppointment, PlannedAppointment]]


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
    categories = owned_upsert(Category, admin, CATEGORY_COLORS, "color")
    locations = owned_upsert(Location, admin, LOCATIONS, "address")
    calendar, _ = Calendar.objects.update_or_create(
        user=admin, name="Calendar", defaults={"is_archive": False}
    )
    billable_archive, _ = Calendar.objects.update_or_create(
        user=admin,
        name="Billable Archive",
        defaults={"is_archive": True, "description": "Billable time, as archived each night."},
    )
    general_archive, _ = Calendar.objects.update_or_create(
        user=admin,
        name="General Archive",
        defaults={"is_archive": True, "description": "Everything, as archived each night."},
    )
    # Two configurations read one source into two archive calendars, each with its own copies.
    ArchiveConfiguration.objects.update_or_create(
        user=admin,
        name="General archive",
        defaults={
            "source_calendar_uri": "msgraph://calendars/Calendar",
            "destination_calendar_uri": 'msgraph://calendars/"General Archive"',
            "timezone": DEMO_TIMEZONE,
            "is_active": True,
            "allow_overlaps": True,
            "source_calendar": calendar,
            "destination_calendar": general_archive,
        },
    )
    archive_configuration, _ = ArchiveConfiguration.objects.update_or_create(
        user=admin,
        name="Daily archive",
        defaults={
            "source_calendar_uri": "msgraph://calendars/Calendar",
            "destination_calendar_uri": 'msgraph://calendars/"Billable Archive"',
            "timezone": DEMO_TIMEZONE,
            "is_active": True,
            "source_calendar": calendar,
            "destination_calendar": billable_archive,
        },
    )
    JobConfiguration.objects.update_or_create(
        user=admin,
        archive_configuration=archive_configuration,
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
    appointments_upsert(
        user=admin, plan=plan, calendar=calendar, categories=categories, locations=locations
    )
    stale_demo_appointments_delete(user=admin, plan=plan, window=window, zone=zone)
    action_log_seed(admin, plan=plan, clashes=clashes)
    demo_timesheet_issue(admin, today=today)
    demo_audit_record(user=admin, appointments=len(plan))
    return plan, clashes


def demo_timesheet_issue(admin: User, *, today: date) -> Timesheet | None:
    """Last month's Acme timesheet, issued by the real generation service (rows, totals and
    its three files); issued once, kept on later runs."""
    month_end = today.replace(day=1) - timedelta(days=1)
    period = {"start_date": month_end.replace(day=1), "end_date": month_end}
    issued = Timesheet.objects.filter(
        user=admin, customer__iexact="Acme", status=Timesheet.Status.ISSUED, **period
    )
    # Older demos stored an empty "issued" row by hand: it is replaced by a real one.
    for stub in issued.filter(appointments__isnull=True):
        stub.delete()
    existing = issued.first()
    if existing is not None:
        return existing
    try:
        generation = timesheet_generate(
            user=admin, customer="Acme", start=period["start_date"], end=period["end_date"]
        )
    except TimesheetError:
        return None  # a short --days window holds nothing of last month to bill
    return generation.timesheet


def member_data_seed(member: User, *, window: list[date]) -> list[PlannedAppointment]:
    zone = ZoneInfo(MEMBER_TIMEZONE)
    categories = owned_upsert(Category, member, MEMBER_CATEGORIES, "color")
    locations = owned_upsert(Location, member, MEMBER_LOCATIONS, "address")
    calendar, _ = Calendar.objects.update_or_create(
        user=member, name="Calendar", defaults={"is_archive": False}
    )
    weekdays = [day for day in window if day.weekday() < 5][-MEMBER_DAYS:]
    plan = [
        item
        for day in weekdays
        for item in member_day_plan(day, zone, random.Random(f"{MEMBER_EMAIL}:{day.isoformat()}"))
    ]
    appointments_upsert(
        user=member, plan=plan, calendar=calendar, categories=categories, locations=locations
    )
    stale_demo_appointments_delete(user=member, plan=plan, window=window, zone=zone)
    demo_audit_record(user=member, appointments=len(plan))
    return plan


def action_log_seed(
    admin: User,
    *,
    plan: list[PlannedAppointment],
    clashes: list[tuple[PlannedAppointment, PlannedAppointment]],
) -> None:
    ids = dict(
        Appointment.objects.filter(
            user=admin, ms_event_id__in=[item.ms_event_id for item in plan]
        ).values_list("ms_event_id", "pk")
    )
    if clashes:
        overlap_item_ensure(admin, clashes[-1], ids)
    if len(clashes) > 1:
        # An older clash already dealt with, so that the log shows both states.
        item, created = overlap_item_ensure(admin, clashes[0], ids)
        if created:
            item.close(by=admin, note="kept both: they were both worked")
    loose = [
        item
        for item in plan
        if not item.category and not item.is_private and not item.is_out_of_office
    ]
    if loose:
        uncategorised = loose[-1]
        key = ids.get(uncategorised.ms_event_id, uncategorised.ms_event_id)
        seeded = ActionLog.objects.filter(
            user=admin, event_type=ActionLog.EventType.UNCATEGORISED, key=key
        ).exists()
    if loose and not seeded:
        ActionLog.objects.open_item(
            user=admin,
            event_type=ActionLog.EventType.UNCATEGORISED,
            key=key,
            description=f"“{uncategorised.subject}” on {uncategorised.start:%a %d %b %Y} "
            "has no billing category",
            details={"appointments": [appointment_summary(uncategorised, ids)]},
            recommendations=[
                "Add a billing category such as “Acme - billable” in Outlook.",
                "Mark the appointment private if it is personal.",
            ],
        )


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


def appointments_upsert(
    *,
    user: User,
    plan: list[PlannedAppointment],
    calendar: Calendar,
    categories: dict[str, Category],
    locations: dict[str, Location],
) -> None:
    """Insert new events and rewrite known ones, keyed by (user, ms_event_id).

    `bulk_create(update_conflicts=True)` cannot target the partial unique constraint on
    (user, ms_event_id): SQLite and PostgreSQL only accept ON CONFLICT for it with the
    constraint's WHERE clause, which Django does not emit. Hence a lookup, then two bulk writes.
    """
    existing = dict(
        Appointment.objects.filter(
            user=user, ms_event_id__in=[item.ms_event_id for item in plan]
        ).values_list("ms_event_id", "pk")
    )
    now = timezone.now()
    new: list[Appointment] = []
    known: list[Appointment] = []
    for item in plan:
        names = [item.category] if item.category else []
        item.categories = names + ([ONLINE] if item.online else [])
        customer, billing_type = billing_of(item.category)
        sensitivity = (
            Appointment.Sensitivity.PRIVATE if item.is_private else Appointment.Sensitivity.NORMAL
        )
        appointment = Appointment(
            pk=existing.get(item.ms_event_id),
            user=user,
            ms_event_id=item.ms_event_id,
            start_time=item.start,
            end_time=item.end,
            subject=item.subject,
            location=locations.get(item.location) if item.location else None,
            category=categories.get(item.category) if item.category else None,
            calendar=calendar,
            ms_event_data=graph_event(item, sensitivity),
            is_private=item.is_private,
            is_archived=True,
            is_out_of_office=item.is_out_of_office,
            is_all_day=item.is_all_day,
            show_as=item.show_as,
            sensitivity=sensitivity,
            importance=item.importance,
            categories=item.categories,
            customer=customer,
            billing_type=billing_type,
            is_travel=bool(customer) and is_travel(item.subject),
            updated_at=now,
        )
        (known if appointment.pk else new).append(appointment)
    Appointment.objects.bulk_create(new, batch_size=500)
    Appointment.objects.bulk_update(known, [*APPOINTMENT_FIELDS, "updated_at"], batch_size=200)


def stale_demo_appointments_delete(
    *, user: User, plan: list[PlannedAppointment], window: list[date], zone: ZoneInfo
) -> int:
    """Delete the demo's own events in the window that the plan no longer has.

    Only rows with a `demo-` id are touched, so anything else the user made survives; this keeps
    the window equal to the plan after the generator changes.
    """
    deleted, _ = (
        Appointment.objects.filter(user=user, ms_event_id__startswith="demo-")
        .in_period(window[0], window[-1], zone)
        .exclude(ms_event_id__in=[item.ms_event_id for item in plan])
        .delete()
    )
    return deleted


def appointment_summary(item: PlannedAppointment, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "id": ids.get(item.ms_event_id),
        "ms_event_id": item.ms_event_id,
        "subject": item.subject,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "category": item.category,
    }


def overlap_item_ensure(
    admin: User, clash: tuple[PlannedAppointment, PlannedAppointment], ids: dict[str, int]
) -> tuple[ActionLog, bool]:
    first, second = clash
    key = ",".join(str(i) for i in sorted(ids[item.ms_event_id] for item in clash))
    existing = ActionLog.objects.filter(
        user=admin, event_type=ActionLog.EventType.OVERLAP, key=key
    ).first()
    if existing is not None:
        return existing, False
    return ActionLog.objects.open_item(
        user=admin,
        event_type=ActionLog.EventType.OVERLAP,
        key=key,
        description=(
            f"“{first.subject}” and “{second.subject}” overlap on {first.start:%a %d %b %Y}"
        ),
        details={
            "key": key,
            "date": first.start.date().isoformat(),
            "appointments": [appointment_summary(item, ids) for item in clash],
        },
        recommendations=[
            f"Keep “{first.subject}” and mark “{second.subject}” as free.",
            f"Keep “{second.subject}” and mark “{first.subject}” as free.",
            "Shorten one of them so that they no longer overlap.",
            "Allow overlaps in the archive configuration if both were worked.",
        ],
    )


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
