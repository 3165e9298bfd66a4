"""Timestamps and JSON read back as Django's own loaders leave them, parsed in C on PostgreSQL
(foundations/postgres.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from accounts.models import User
from calendars.models import Appointment
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

postgres_only = pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="The C loaders are PostgreSQL's (CI runs the suite there).",
)


def _timestamp_loader() -> object:
    from psycopg.pq import Format

    connection = connections["default"]
    connection.ensure_connection()
    adapters = connection.connection.adapters
    loader_class = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
    with connection.cursor() as cursor:
        return loader_class(adapters.types["timestamptz"].oid, cursor.cursor)


def _parsed_in_c(loader: object) -> bool:
    return type(loader.load.__self__).__module__.startswith("psycopg_")  # type: ignore[attr-defined]


def test_a_timestamp_reads_back_as_the_same_instant_in_utc(alice: User) -> None:
    start = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)  # London's clocks go forward
    written = AppointmentFactory(
        user=alice,
        start_time=start,
        end_time=start + timedelta(hours=1),
        categories=["Acme - billable", "Ünïcode"],
    )
    read = Appointment.objects.get(pk=written.pk)
    assert read.start_time == start
    assert read.start_time.tzinfo is UTC
    assert read.end_time - read.start_time == timedelta(hours=1)
    assert read.categories == ["Acme - billable", "Ünïcode"]
    as_values = Appointment.objects.filter(pk=written.pk).values_list("start_time", flat=True)
    assert as_values[0] == start


@postgres_only
def test_on_postgresql_each_timestamp_is_parsed_by_psycopgs_c_parser() -> None:
    loader = _timestamp_loader()
    assert _parsed_in_c(loader)
    assert loader.timezone is UTC  # type: ignore[attr-defined]


@postgres_only
def test_a_session_in_another_zone_keeps_djangos_own_parsing() -> None:
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/London'")
    try:
        loader = _timestamp_loader()
        assert not _parsed_in_c(loader)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
