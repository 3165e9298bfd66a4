"""Helpers for archive tests: events in the fake's source calendar and a run against it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from accounts.microsoft import graph_client
from accounts.models import User
from archiving.models import ArchiveConfiguration
from archiving.phrases import DateRange
from archiving.run import ArchiveResult, archive_run
from foundations.graph import RetryPolicy
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep

DAY = date(2025, 5, 8)  # a Thursday


def local(when: str, zone: str = "Europe/London") -> dict[str, str]:
    return {
        "dateTime": datetime.fromisoformat(when).strftime("%Y-%m-%dT%H:%M:%S"),
        "timeZone": zone,
    }


def add_event(
    fake: FakeMicrosoft,
    user: User,
    subject: str,
    start: str,
    minutes: int = 60,
    *,
    zone: str = "Europe/London",
    calendar: str = "Calendar",
    **fields: Any,
) -> dict[str, Any]:
    begin = datetime.fromisoformat(start)
    fields.setdefault("categories", ["Acme - billable"])
    return fake.add_event(
        user.email,
        calendar,
        subject=subject,
        start=local(start, zone),
        end=local((begin + timedelta(minutes=minutes)).isoformat(), zone),
        **fields,
    )


def run_archive(
    configuration: ArchiveConfiguration,
    start: date = DAY,
    end: date | None = None,
    *,
    sleep: RecordedSleep | None = None,
    **options: Any,
) -> ArchiveResult:
    client = graph_client(
        user=configuration.user,
        retry=RetryPolicy(sleep=sleep or RecordedSleep()),
    )
    return archive_run(
        configuration=configuration, dates=DateRange(start, end or start), client=client, **options
    )


def archive_copies(fake: FakeMicrosoft, user: User) -> list[dict[str, Any]]:
    names = [c["name"] for c in fake.calendars(user.email)]
    if "Billable Archive" not in names:
        return []
    return fake.events(user.email, "Billable Archive")


def writes(fake: FakeMicrosoft) -> list[Any]:
    """Requests that change Graph: POST/PATCH/DELETE outside and inside batches, less $batch."""
    return [
        r
        for r in fake.graph_requests()
        if r.method in {"POST", "PATCH", "DELETE", "PUT"} and not r.path.endswith("$batch")
    ]
