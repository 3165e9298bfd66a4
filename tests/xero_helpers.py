"""Shared set-up for the Xero tests: Alice connected to her organisation in the fake Xero."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django_q.conf import Conf

from accounts.models import User
from calendars.models import Appointment
from tests.factories import AppointmentFactory
from tests.fakes.xero import FakeXero, Organisation
from timesheets import xero, xero_client
from timesheets.models import CustomerSettings, Timesheet, XeroConnection
from timesheets.services import timesheet_generate

MAY = (date(2025, 5, 1), date(2025, 5, 31))


@pytest.fixture(autouse=True)
def fake_clock_sleep(monkeypatch: pytest.MonkeyPatch, fake_xero: FakeXero) -> list[float]:
    """Retry-After waits move the fake's clock on instead of sleeping."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        fake_xero.advance(seconds)

    monkeypatch.setattr(xero_client, "sleep", sleep)
    monkeypatch.setattr(xero_client, "clock", fake_xero.now)
    return waits


@pytest.fixture
def inline_tasks(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> Callable[..., Any]:
    """Call a view and run what it queued (django-q2 in sync mode, after the commit), as a
    worker would: `inline_tasks(client.post, url, ...)`."""
    monkeypatch.setattr(Conf, "SYNC", True)

    def call(view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return view(*args, **kwargs)

    return call


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: object) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(fake_xero: FakeXero) -> Organisation:
    return fake_xero.add_organisation("Archer Consulting Ltd")


def connect(fake: FakeXero, user: User) -> XeroConnection:
    url = xero.xero_connect_start(user=user)
    return xero.xero_connect_finish(user=user, redirect_url=fake.consent(url))


@pytest.fixture
def xero_alice(fake_xero: FakeXero, org: Organisation, alice: User) -> User:
    connect(fake_xero, alice)
    return alice


def acme(user: User, day: int, minutes: int, **fields: object) -> Appointment:
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    start = datetime(2025, 5, day, 8, 0, tzinfo=UTC)
    return AppointmentFactory(
        user=user, start_time=start, end_time=start + timedelta(minutes=minutes), **fields
    )


def priced_timesheet(user: User, **terms: object) -> Timesheet:
    CustomerSettings.objects.update_or_create(
        user=user,
        customer="Acme",
        defaults={
            "display_name": "Acme",
            "legal_name": "Acme Corporation Ltd",
            "currency": "GBP",
            "hourly_rate": Decimal("120.00"),
            "rounding_interval": 15,
            "rounding_mode": "up",
            "xero_account_code": "200",
            "xero_tax_type": "OUTPUT2",
            **terms,
        },
    )
    acme(user, 6, 50, subject="Review")
    acme(user, 7, 100, subject="Workshop")
    acme(user, 8, 20, subject="Call")
    acme(user, 9, 70, subject="Drive to Acme", is_travel=True)
    return timesheet_generate(user=user, customer="Acme", start=MAY[0], end=MAY[1]).timesheet
