"""Personas shared by every test: alice owns data, bob is another staff user, admin sees all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from calendars.models import Appointment, Category, Location

pytest_plugins = ["tests.fakes.fixtures"]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    """Tests log in often; the production hasher's cost would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(email: str, **fields: Any) -> User:
    fields.setdefault("is_staff", True)
    fields.setdefault("role", User.Role.MEMBER)
    return User.objects.create_user(email, PASSWORD, **fields)


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice@example.com", name="Alice Archer", timezone="Europe/London")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob@example.com", name="Bob Baker", timezone="Europe/Berlin")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("admin@example.com", PASSWORD, name="Ada Admin")


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice: User) -> Client:
    return logged_in(alice)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return logged_in(bob)


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    return logged_in(admin_user)


def make_appointment(user: User, **fields: Any) -> Appointment:
    start = fields.pop("start_time", None) or datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
    fields.setdefault("end_time", start + timedelta(hours=1))
    fields.setdefault("subject", "Workshop")
    return Appointment.objects.create(user=user, start_time=start, **fields)


@pytest.fixture
def alice_appointment(alice: User) -> Appointment:
    category = Category.objects.create(user=alice, name="Acme - billable", color="preset0")
    location = Location.objects.create(user=alice, name="Acme HQ")
    return make_appointment(
        alice,
        subject="Acme design review",
        category=category,
        location=location,
        customer="Acme",
        billing_type=Appointment.BillingType.BILLABLE,
        categories=["Acme - billable"],
    )
