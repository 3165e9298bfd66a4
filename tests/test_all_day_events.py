"""All-day events are dates, not instants: archived, shown and billed on their own date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.microsoft import graph_client
from accounts.models import User
from calendars.models import Appointment
from tests.archive_helpers import run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

NEW_YORK = ZoneInfo("America/New_York")


def all_day(fake: FakeMicrosoft, user: User, subject: str, day: str, zone: str, **fields: object):
    following = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
    return fake.add_event(
        user.email,
        "Calendar",
        subject=subject,
        start={"dateTime": f"{day}T00:00:00", "timeZone": zone},
        end={"dateTime": f"{following}T00:00:00", "timeZone": zone},
        isAllDay=True,
        **fields,
    )


def test_graph_answers_an_all_day_event_midnight_to_midnight_in_the_zone_asked_for(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    all_day(fake_alice, connected_alice, "Bank holiday", "2025-05-26", "GMT Standard Time")
    client = graph_client(user=connected_alice)

    events = list(
        client.calendar_view(
            None,
            datetime(2025, 5, 25, 23, tzinfo=ZoneInfo("UTC")),
            datetime(2025, 5, 26, 23, tzinfo=ZoneInfo("UTC")),
        )
    )

    assert [(e["start"]["dateTime"][:19], e["start"]["timeZone"]) for e in events] == [
        ("2025-05-26T00:00:00", "UTC")
    ]


def test_an_all_day_event_is_archived_on_its_own_date_west_of_utc(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice, timezone="America/New_York")
    all_day(
        fake_alice,
        connected_alice,
        "Acme training day",
        "2025-05-09",
        "Eastern Standard Time",
        categories=["Acme - billable"],
    )

    run_archive(configuration, start=date(2025, 5, 9))

    appointment = Appointment.objects.get()
    assert appointment.is_all_day
    assert appointment.start_time.astimezone(NEW_YORK) == datetime(2025, 5, 9, tzinfo=NEW_YORK)
    assert appointment.end_time.astimezone(NEW_YORK) == datetime(2025, 5, 10, tzinfo=NEW_YORK)
    copy = fake_alice.events(connected_alice.email, "Billable Archive")[0]
    assert copy["isAllDay"] is True
    assert copy["start"]["dateTime"].startswith("2025-05-09T00:00:00")


def test_an_all_day_out_of_office_day_is_archived_but_not_billed(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    all_day(
        fake_alice,
        connected_alice,
        "Out of office",
        "2025-05-09",
        "GMT Standard Time",
        showAs="oof",
        categories=["Acme - billable"],
    )
    fake_alice.add_event(
        connected_alice.email,
        "Calendar",
        subject="Acme review",
        start={"dateTime": "2025-05-08T10:00:00", "timeZone": "Europe/London"},
        end={"dateTime": "2025-05-08T11:00:00", "timeZone": "Europe/London"},
        categories=["Acme - billable"],
    )

    run_archive(configuration, start=date(2025, 5, 8), end=date(2025, 5, 9))
    generation = timesheet_generate(
        user=connected_alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    )

    holiday = Appointment.objects.get(subject="Out of office")
    assert holiday.is_archived and holiday.is_out_of_office
    assert holiday.start_time.astimezone(ZoneInfo("Europe/London")).date() == date(2025, 5, 9)
    billed = Appointment.objects.filter(timesheet=generation.timesheet)
    assert [a.subject for a in billed] == ["Acme review"]


def test_an_all_day_copy_that_is_not_midnight_is_refused_by_graph(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    client = graph_client(user=connected_alice)
    calendar = client.resolve_calendar("Calendar")["id"]

    [answer] = client.create_events(
        calendar,
        [
            {
                "subject": "Half day",
                "isAllDay": True,
                "start": {"dateTime": "2025-05-09T12:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2025-05-10T00:00:00", "timeZone": "UTC"},
            }
        ],
    )

    assert answer.status == 400
    assert fake_alice.events(connected_alice.email, "Calendar") == []
