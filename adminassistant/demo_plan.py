"""The demo consultant's calendar, planned: a generator seeded with each day gives the same
weekday whenever the demo runs (3-6 appointments between 08:00 and 18:00, lunch, private
appointments, clashes, leave, uncategorised meetings). Pure: no ORM, no Graph; the demo puts the
plan into the fake Microsoft 365 and archives it (adminassistant/demo_archive.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Graph's values (calendars.models.Appointment.ShowAs and Importance use the same).
BUSY, OOF, NORMAL = "busy", "oof", "normal"

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
# A customer meeting nobody categorised, with people from outside: possibly billable.
POSSIBLY_BILLABLE = "Globex budget review"
OUTSIDE_ATTENDEES = ["cfo@globex.example", "pm@globex.example"]
OUT_OF_OFFICE_SUBJECTS = ["Annual leave", "Out of office: training course", "Conference"]

MEMBER_CATEGORIES = {"Umbrella - billable": "preset9", "Admin - non-billable": "preset12"}
MEMBER_LOCATIONS = {"Umbrella Labs": "Invalidenstraße 1, 10115 Berlin"}
MEMBER_WORK = [
    Work("Umbrella lab audit", "Umbrella - billable", "Umbrella Labs"),
    Work("Umbrella security briefing", "Umbrella - billable", online=True),
    Work("Expenses", "Admin - non-billable"),
]
MEMBER_DAYS = 5


@dataclass
class PlannedAppointment:
    """One appointment of the plan, before it meets the database."""

    subject: str
    start: datetime
    end: datetime
    category: str | None = None
    location: str | None = None
    online: bool = False
    show_as: str = BUSY
    importance: str = NORMAL
    is_private: bool = False
    is_out_of_office: bool = False
    is_all_day: bool = False
    ms_event_id: str = ""
    categories: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)


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
            show_as=OOF,
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
            lunch.importance = NORMAL
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
        personal.show_as = BUSY
    if serial % UNCATEGORISED_EVERY == 4:
        loose = next((item for item in reversed(plan) if not item.is_private), None)
        if loose is not None:
            loose.subject = rng.choice(UNCATEGORISED_SUBJECTS)
            # Only a marker category: the archive sees no customer and opens an item.
            loose.category = loose.location = None
            loose.online = True
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
    clash.show_as = base.show_as = BUSY
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
