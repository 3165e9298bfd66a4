"""The demo's calendar, archived for real: the planned appointments go into the project's fake
Microsoft 365 (tests/fakes, HTTPS on 127.0.0.1), and the real archive run reads them from there,
one run per day and configuration as the nightly job would. Each run takes the path of a queued
run (`archiving.services.archive_run_here`: its ArchiveRun record, run by the task function a
worker calls, here and now since the demo has no cluster), so the admin's archive runs,
appointments, archive copies, overlap decisions, uncategorised items and each configuration's
"last run" are what the archive itself wrote.

The fake lives only while `manage.py demo` runs: the user is connected to it for the runs and
disconnected afterwards (the dashboard then says Microsoft 365 is not configured or not
connected, which is the truth). A re-run archives only the days no earlier demo run archived,
so nothing is duplicated; the fake's event ids are made stable per day (see `_stable_ids`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.test.utils import override_settings

from accounts.microsoft import (
    UserTokenCache,
    microsoft_connect_complete,
    microsoft_disconnect,
    microsoft_scopes,
    msal_app,
)
from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.phrases import DateRange
from archiving.services import archive_run_here
from auditing.models import AuditLog
from calendars.services import categories_sync

if TYPE_CHECKING:
    from adminassistant.demo_plan import PlannedAppointment
    from tests.fakes.microsoft import FakeMicrosoft

# Ids of one day's events start at the day's ordinal times this: a day never holds this many.
IDS_PER_DAY = 1000


@dataclass
class DemoArchive:
    days: list[date]
    runs: list[ArchiveRun]


@contextlib.contextmanager
def fake_microsoft() -> Iterator[FakeMicrosoft]:
    """The fake Microsoft 365 with the app's MS_* settings pointing at it."""
    from tests.fakes.microsoft import FakeMicrosoft

    with (
        FakeMicrosoft() as fake,
        override_settings(
            MS_CLIENT_ID=fake.client_id,
            MS_CLIENT_SECRET=fake.client_secret,
            MS_TENANT_ID=fake.tenant,
            MS_AUTHORITY_HOST=fake.authority_host,
            MS_GRAPH_URL=fake.graph_url,
            MS_CA_BUNDLE=fake.ca_bundle,
        ),
    ):
        yield fake


def archived_through(configuration: ArchiveConfiguration) -> date | None:
    """The last day an earlier successful run of the configuration archived."""
    runs = AuditLog.objects.filter(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id=str(configuration.pk),
        status=AuditLog.Status.SUCCESS,
    ).values_list("request_data", flat=True)
    ends = [
        date.fromisoformat(str(data["dates"]).split(" to ")[-1])
        for data in runs
        if data and data.get("dates")
    ]
    return max(ends, default=None)


def demo_archive_runs(
    *,
    user: User,
    configurations: Sequence[ArchiveConfiguration],
    plan: list[PlannedAppointment],
    categories: dict[str, str],
    window: list[date],
    zone: str,
) -> DemoArchive:
    """Put the days not yet archived into the fake and archive each, every configuration."""
    done = min(
        (archived_through(configuration) or date.min for configuration in configurations),
        default=date.min,
    )
    days = [day for day in window if day > done]
    if not days:
        return DemoArchive(days=[], runs=[])
    runs = []
    before = (user.ms_tenant_id, user.ms_object_id)
    with fake_microsoft() as fake:
        fake.add_user(user.email, name=user.name)
        fake.set_mailbox_time_zone(user.email, zone)
        for configuration in configurations:
            name = configuration.destination_calendar_uri.split("/calendars/")[-1].strip('"')
            fake.add_calendar(user.email, name)
        for name, color in categories.items():
            fake.add_category(user.email, name, color)
        _connect(fake, user)
        try:
            categories_sync(user=user)
            for day in days:
                _seed_day(fake, user, [item for item in plan if item.start.date() == day], day)
            for day in days:
                for configuration in configurations:
                    runs.append(
                        archive_run_here(configuration=configuration, dates=DateRange(day, day))
                    )
        finally:
            microsoft_disconnect(user=user, by=user)
            user.ms_tenant_id, user.ms_object_id = before
            user.save(update_fields=["ms_tenant_id", "ms_object_id"])
    return DemoArchive(days=days, runs=runs)


def _connect(fake: FakeMicrosoft, user: User) -> None:
    """Connect the user to the fake the way "Sign in with Microsoft" does (msal, refresh
    token, the connection service)."""
    cache = UserTokenCache()
    answer = fake.sign_in(user.email, tuple(microsoft_scopes()))
    result = msal_app(cache).acquire_token_by_refresh_token(
        answer["refresh_token"], scopes=microsoft_scopes()
    )
    microsoft_connect_complete(user=user, cache=cache, result=result)


def _seed_day(fake: FakeMicrosoft, user: User, plan: list[PlannedAppointment], day: date) -> None:
    with _stable_ids(fake, day):
        for item in plan:
            fake.add_event(user.email, "Calendar", **graph_fields(item))


@contextlib.contextmanager
def _stable_ids(fake: FakeMicrosoft, day: date) -> Iterator[None]:
    """The fake numbers its ids in order; starting each day's at its own offset gives a day's
    events the same ids whichever days a run seeds, so a later demo run never reuses one."""
    graph = fake.graph
    saved = graph._serial
    graph._serial = day.toordinal() * IDS_PER_DAY
    try:
        yield
    finally:
        graph._serial = max(saved, graph._serial)


def graph_fields(item: PlannedAppointment) -> dict[str, Any]:
    """The planned appointment as a Graph event (Graph's field names)."""

    def stamp(moment: datetime) -> dict[str, str]:
        return {"dateTime": f"{moment:%Y-%m-%dT%H:%M:%S}", "timeZone": str(moment.tzinfo)}

    fields: dict[str, Any] = {
        "subject": item.subject,
        "start": stamp(item.start),
        "end": stamp(item.end),
        "showAs": item.show_as,
        "importance": item.importance,
        "sensitivity": "private" if item.is_private else "normal",
        "isAllDay": item.is_all_day,
        "categories": item.categories,
        "location": {"displayName": item.location or ""},
    }
    if item.attendees:
        fields["attendees"] = [
            {"emailAddress": {"address": address}, "type": "required"} for address in item.attendees
        ]
    return fields
