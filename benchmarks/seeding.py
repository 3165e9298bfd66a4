"""What the benchmarks seed, in one place and not part of the tests: scratch databases, Django
set up against them (and against the fake Microsoft), connected users, appointments in the
database and events in the fake calendar.

A benchmark script starts with

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import seeding

then calls `seeding.scratch_databases(...)` (before Django is set up) and `seeding.django_start()`.
The fakes themselves still come from tests/fakes (they are the HTTP boundary the tests use).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from archiving.models import ArchiveConfiguration
    from tests.fakes.microsoft import FakeMicrosoft

ZONE = "Europe/London"


def scratch_databases(scratch: Path, *, keep_configured: bool = False) -> None:
    """Point both databases at SQLite files in `scratch` (and the development keys there).
    With `keep_configured`, DATABASE_URL / WEB_DATABASE_URL already set win (PostgreSQL)."""
    set_value = os.environ.setdefault if keep_configured else os.environ.__setitem__
    set_value("DATABASE_URL", f"sqlite:///{scratch / 'core.sqlite3'}")
    set_value("WEB_DATABASE_URL", f"sqlite:///{scratch / 'web.sqlite3'}")
    os.environ.setdefault("VAR_DIR", str(scratch / "var"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def microsoft_fake_settings(fake: FakeMicrosoft) -> None:
    """The settings that send every Microsoft call to `fake` (before Django is set up)."""
    os.environ.update(
        {
            "MS_CLIENT_ID": fake.client_id,
            "MS_CLIENT_SECRET": fake.client_secret,
            "MS_TENANT_ID": fake.tenant,
            "MS_AUTHORITY_HOST": fake.authority_host,
            "MS_GRAPH_URL": fake.graph_url,
            "MS_CA_BUNDLE": fake.ca_bundle,
        }
    )


def django_start(*, migrate: bool = True) -> None:
    """Set Django up; with `migrate`, both databases are migrated and the cache table made."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if not migrate:
        return
    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    call_command("createcachetable", database="web", verbosity=0)


def connected_user(fake: FakeMicrosoft, email: str, *, name: str = "Bench Mark") -> User:
    """A user with a mailbox in the fake, connected the way "Sign in with Microsoft" does."""
    from accounts.microsoft import (
        UserTokenCache,
        microsoft_connect_complete,
        microsoft_scopes,
        msal_app,
    )
    from accounts.models import User

    fake.add_user(email, name=name)
    user = User.objects.create_user(email, None, name=name, timezone=ZONE)
    cache = UserTokenCache()
    answer = fake.sign_in(email, tuple(microsoft_scopes()))
    result = msal_app(cache).acquire_token_by_refresh_token(
        answer["refresh_token"], scopes=microsoft_scopes()
    )
    microsoft_connect_complete(user=user, cache=cache, result=result)
    return user


def archive_configuration(user: User) -> ArchiveConfiguration:
    """The user's configuration archiving Calendar into Archive, days counted in ZONE."""
    from archiving.models import ArchiveConfiguration

    return ArchiveConfiguration.objects.create(
        user=user,
        name="Benchmark",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone=ZONE,
    )


def appointments_seed(
    user: User,
    count: int,
    *,
    start: datetime,
    every: timedelta = timedelta(minutes=10),
    length: timedelta = timedelta(minutes=9),
    customer: str = "Acme",
    **fields: Any,
) -> None:
    """`count` archived billable appointments of `customer`, one every `every` from `start`."""
    from calendars.models import Appointment

    fields.setdefault("billing_type", "billable")
    fields.setdefault("categories", [f"{customer} - billable"])
    fields.setdefault("is_archived", True)
    Appointment.objects.bulk_create(
        [
            Appointment(
                user=user,
                ms_event_id=f"bench-{n}",
                subject=f"{customer} work item {n}",
                customer=customer,
                start_time=start + n * every,
                end_time=start + n * every + length,
                **fields,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def graph_time(moment: datetime, zone: str = "UTC") -> dict[str, str]:
    """A Graph {dateTime, timeZone} for a wall-clock `moment` in `zone`."""
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone}


def events_seed(
    fake: FakeMicrosoft, email: str, count: int, *, start: datetime, every: timedelta
) -> None:
    """`count` single 20-minute events in the fake calendar, one every `every` from `start`."""
    for n in range(count):
        begins = start + n * every
        fake.add_event(
            email,
            subject=f"Event {n}",
            start=graph_time(begins),
            end=graph_time(begins + timedelta(minutes=20)),
        )


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
SLOT = timedelta(minutes=15)  # the archive calendar's events start on quarter hours
SLOTS_PER_DAY = 96


def archive_calendar_seed(
    fake: FakeMicrosoft, email: str, events: int, *, first_day: date, days: int
) -> None:
    """`events` occurrences over `days` days in ZONE: a fifth from weekday series, and overlaps.

    Each series is Monday to Friday at its own quarter hour; single events fill the other quarter
    hours of each day from midnight, the same number every day, so the mix is the same for any
    `events`. Every 25th single lasts 40 minutes and overlaps the next two: a tentative one loses
    automatically, every 50th is busy and makes a conflict for a human. Every 17th is free (never
    copied) and a third are personal (copied as private).
    """
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    per_series = sum(1 for day in day_list if day.weekday() < 5)
    series = events // 5 // per_series
    for n in range(series):
        _weekday_series(fake, email, n, day_list)
    series_slots = {4 * n + 2 for n in range(series)}
    singles = events - series * per_series
    free_slots = [slot for slot in range(SLOTS_PER_DAY) if slot not in series_slots]
    per_day = -(-singles // days)
    if per_day > len(free_slots):
        raise SystemExit(f"{events} events do not fit in {days} days of quarter hours")
    categories: list[list[str]] = [["Acme - billable"], ["Globex - non-billable", "Online"], []]
    for n in range(singles):
        start = _quarter(day_list[n // per_day], free_slots[n % per_day])
        long = n % 25 == 0
        fields: dict[str, Any] = {
            "subject": f"Meeting {n}",
            "start": graph_time(start, ZONE),
            "end": graph_time(start + timedelta(minutes=40 if long else 10), ZONE),
            "categories": categories[n % 3],
            "showAs": "free" if n % 17 == 0 else ("tentative" if long and n % 50 else "busy"),
        }
        if n % 5 == 0:
            fields["location"] = {"displayName": f"Room {n % 7}"}
        fake.add_event(email, **fields)


def _quarter(day: date, slot: int) -> datetime:
    return datetime.combine(day, datetime.min.time()) + slot * SLOT


def _weekday_series(fake: FakeMicrosoft, email: str, n: int, days: Iterable[date]) -> None:
    day_list = list(days)
    start = _quarter(day_list[0], 4 * n + 2)
    fake.add_event(
        email,
        subject=f"Stand-up {n}",
        start=graph_time(start, ZONE),
        end=graph_time(start + timedelta(minutes=10), ZONE),
        categories=["Acme - billable"],
        recurrence={
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": WEEKDAYS,
                "firstDayOfWeek": "monday",
            },
            "range": {
                "type": "endDate",
                "startDate": day_list[0].isoformat(),
                "endDate": day_list[-1].isoformat(),
                "recurrenceTimeZone": ZONE,
            },
        },
    )
