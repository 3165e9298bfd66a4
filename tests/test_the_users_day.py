"""'Today' is the user's day, not the server's: just after midnight in Auckland it is already
the 1st of June there while the server (UTC) still says the 31st of May."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import User
from adminassistant.dashboard import dashboard_month
from adminassistant.days import day_bounds_utc, today_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

# 00:30 on 1 June 2025 in Auckland (NZST, UTC+12); 12:30 on 31 May on the server.
JUST_AFTER_AUCKLAND_MIDNIGHT = datetime(2025, 5, 31, 12, 30, tzinfo=UTC)


@pytest.fixture
def kiri(db: None, monkeypatch: pytest.MonkeyPatch) -> User:
    monkeypatch.setattr(timezone, "now", lambda: JUST_AFTER_AUCKLAND_MIDNIGHT)
    return UserFactory(email="kiri@example.com", name="Kiri Tane", timezone="Pacific/Auckland")


def test_today_is_the_date_in_the_zone_asked_for() -> None:
    assert today_in("Pacific/Auckland", now=JUST_AFTER_AUCKLAND_MIDNIGHT) == date(2025, 6, 1)
    assert today_in("UTC", now=JUST_AFTER_AUCKLAND_MIDNIGHT) == date(2025, 5, 31)


def test_a_local_day_spans_its_own_hours_across_a_dst_change() -> None:
    start, end = day_bounds_utc(date(2025, 3, 30), date(2025, 3, 30), "Europe/London")

    assert (start, end) == (
        datetime(2025, 3, 30, 0, 0, tzinfo=UTC),
        datetime(2025, 3, 30, 23, 0, tzinfo=UTC),
    )


def test_the_dashboard_opens_on_the_users_own_month(kiri: User) -> None:
    request = RequestFactory().get("/admin/")
    request.user = kiri

    assert dashboard_month(request, kiri) == date(2025, 6, 1)


def test_the_timesheet_commands_today_is_the_consultants_day(kiri: User) -> None:
    with pytest.raises(CommandError, match="from 2025-06-01 to 2025-06-01"):
        call_command(
            "timesheet", kiri.email, "--customer", "Acme", "--start", "today", "--end", "today"
        )
