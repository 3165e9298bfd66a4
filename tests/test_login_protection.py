"""Password logins, admin and allauth alike, lock out one (user, IP) pair after repeated
failures, with a cool-off, and never lock the account for everyone; lockouts are audited."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from auditing.models import AuditLog

pytestmark = pytest.mark.django_db(databases=["default", "web"])

PASSWORD = "a-long-unusual-passphrase"


@pytest.fixture
def staff(db: None, settings: Settings) -> User:
    settings.AXES_FAILURE_LIMIT = 3
    settings.ACCOUNT_RATE_LIMITS = False
    return User.objects.create_user(email="carol@example.com", password=PASSWORD, is_staff=True)


def admin_login(ip: str, password: str) -> int:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/admin/login/", {"username": "carol@example.com", "password": password})
    return response.status_code


def test_repeated_wrong_passwords_lock_out_that_ip_even_for_the_right_password(
    staff: User,
) -> None:
    for _ in range(3):
        admin_login("10.0.0.1", "wrong")

    assert admin_login("10.0.0.1", PASSWORD) == 429


def test_a_stranger_cannot_lock_the_real_user_out_from_elsewhere(staff: User) -> None:
    for _ in range(5):
        admin_login("10.0.0.66", "wrong")

    assert admin_login("10.0.0.2", PASSWORD) == 302


def test_a_lockout_is_audited(staff: User) -> None:
    for _ in range(3):
        admin_login("10.0.0.1", "wrong")

    entry = AuditLog.objects.get(operation="login_lockout")
    assert entry.resource_id == "carol@example.com"
    assert entry.details["ip_address"] == "10.0.0.1"


def test_failures_at_the_allauth_login_count_towards_the_same_lockout(staff: User) -> None:
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(3):
        client.post("/accounts/login/", {"login": "carol@example.com", "password": "wrong"})

    assert admin_login("10.0.0.3", PASSWORD) == 429


def test_the_lockout_ends_after_the_cool_off(staff: User, settings: Settings) -> None:
    for _ in range(3):
        admin_login("10.0.0.4", "wrong")
    settings.AXES_COOLOFF_TIME = 0.0000001

    assert admin_login("10.0.0.4", PASSWORD) == 302
