"""Seeding for tests and benchmarks that start real `qcluster` processes: a user connected to
the fake Microsoft through msal, with one daily archive job. Imported by the scripts those
tests run in a subprocess, after `django.setup()`."""

from __future__ import annotations

from typing import Any

from accounts.microsoft import (
    UserTokenCache,
    microsoft_connect_complete,
    microsoft_scopes,
    msal_app,
)
from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.schedules import job_schedule_sync


def connected_daily_job(
    *,
    email: str,
    refresh_token: str,
    zone: str,
    hour: int,
    window_days: int = 3,
    **user_fields: Any,
) -> JobConfiguration:
    """A user connected with `refresh_token`, archiving Calendar into Archive every day at
    `hour` (in `zone`), with its django-q2 schedule."""
    user_fields.setdefault("name", email)
    user = User.objects.create_user(email, None, **user_fields)
    cache = UserTokenCache()
    result = msal_app(cache).acquire_token_by_refresh_token(
        refresh_token, scopes=microsoft_scopes()
    )
    microsoft_connect_complete(user=user, cache=cache, result=result)
    configuration = ArchiveConfiguration.objects.create(
        user=user,
        name="Daily",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone=zone,
    )
    job = JobConfiguration.objects.create(
        user=user,
        archive_configuration=configuration,
        schedule_type="daily",
        schedule_hour=hour,
        schedule_minute=0,
        archive_window_days=window_days,
    )
    job_schedule_sync(job=job)
    return job
