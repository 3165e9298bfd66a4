"""Behind configured proxies the client's address comes from X-Forwarded-For (its right-most
untrusted hop) for the login lockout, the audit log and the API throttles; without them the
header is ignored, so nobody can choose the address they are counted under."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings
from rest_framework.request import Request
from rest_framework.test import APIClient

from accounts.models import User
from auditing.models import AuditLog
from foundations.api.throttling import ScopedThrottle
from foundations.client_ip import client_ip

pytestmark = pytest.mark.django_db(databases=["default", "web"])

PASSWORD = "a-long-unusual-passphrase"
BALANCER = "10.0.0.1"
CAROL = "203.0.113.5"
STRANGER = "198.51.100.66"


@pytest.fixture
def carol(db: None, settings: Settings) -> User:
    settings.AXES_FAILURE_LIMIT = 3
    settings.ACCOUNT_RATE_LIMITS = False
    return User.objects.create_user(email="carol@example.com", password=PASSWORD, is_staff=True)


@pytest.fixture
def one_balancer(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1


def admin_login(password: str, remote_addr: str, forwarded_for: str | None = None) -> int:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    client = Client(REMOTE_ADDR=remote_addr, **headers)
    response = client.post("/admin/login/", {"username": "carol@example.com", "password": password})
    return response.status_code


NETS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")]


@pytest.mark.parametrize(
    ("remote", "forwarded", "count", "proxies", "expected"),
    [
        # Nothing trusted: the header is ignored, whatever it says.
        ("10.0.0.1", "203.0.113.5", 0, [], "10.0.0.1"),
        # One balancer: the hop it appended.
        ("10.0.0.1", "203.0.113.5", 1, [], "203.0.113.5"),
        # A client's own forged hops sit left of the one the balancer appended.
        ("10.0.0.1", "1.2.3.4, 203.0.113.5", 1, [], "203.0.113.5"),
        # Two proxies in a row.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.0.0.1", 2, [], "203.0.113.5"),
        # Trusted networks: walk left over our own proxies only.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.9.9.9", 0, NETS, "203.0.113.5"),
        # A request that reached the web server directly, not through a trusted proxy.
        ("198.51.100.7", "203.0.113.5", 0, NETS, "198.51.100.7"),
        # A balancer's own probe: no header, so the balancer is the client.
        ("10.0.0.1", None, 1, [], "10.0.0.1"),
        # Every hop ours: the left-most one.
        ("10.0.0.2", "10.0.0.3", 0, NETS, "10.0.0.3"),
        # A malformed hop ends what can be believed: the proxy that reported it.
        ("10.0.0.1", "203.0.113.5, unknown", 2, [], "10.0.0.1"),
        # A Unix socket has no peer address: the proxy in front is the first trusted hop.
        ("", "1.2.3.4, 203.0.113.5", 1, [], "203.0.113.5"),
        ("", "203.0.113.5", 0, [], None),
        # IPv6, with the port some proxies add.
        ("2001:db8::1", "[2001:db8:ffff::5]:443", 0, [NETS[1]], "2001:db8:ffff::5"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    remote: str, forwarded: str | None, count: int, proxies: list, expected: str | None
) -> None:
    found = client_ip(
        remote_addr=remote, forwarded_for=forwarded, proxy_count=count, proxies=proxies
    )

    assert found == expected


def test_behind_a_trusted_balancer_the_lockout_locks_the_client_not_the_balancer(
    carol: User, one_balancer: None
) -> None:
    for _ in range(3):
        admin_login("wrong", BALANCER, STRANGER)

    assert admin_login(PASSWORD, BALANCER, STRANGER) == 429
    assert admin_login(PASSWORD, BALANCER, CAROL) == 302


def test_behind_a_trusted_balancer_a_forged_hop_does_not_lock_out_the_real_user(
    carol: User, one_balancer: None
) -> None:
    # The stranger claims Carol's address; the balancer appends the stranger's own.
    for _ in range(5):
        admin_login("wrong", BALANCER, f"{CAROL}, {STRANGER}")

    assert admin_login(PASSWORD, BALANCER, CAROL) == 302


def test_without_a_trusted_proxy_a_spoofed_header_cannot_lock_out_the_real_user(
    carol: User,
) -> None:
    for _ in range(5):
        admin_login("wrong", STRANGER, CAROL)

    assert admin_login(PASSWORD, CAROL) == 302
    assert admin_login(PASSWORD, STRANGER, CAROL) == 429


def test_the_lockout_audit_row_names_the_client_behind_the_balancer(
    carol: User, one_balancer: None
) -> None:
    for _ in range(3):
        admin_login("wrong", BALANCER, STRANGER)

    entry = AuditLog.objects.get(operation="login_lockout")
    assert entry.details["ip_address"] == STRANGER
    assert entry.ip_address == STRANGER


def test_behind_a_trusted_balancer_the_audit_log_records_the_clients_address(
    alice_api: APIClient, one_balancer: None
) -> None:
    response = alice_api.post(
        "/api/v1/locations/",
        {"name": "Acme HQ"},
        REMOTE_ADDR=BALANCER,
        HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CAROL}",
    )

    assert response.status_code == 201
    assert AuditLog.objects.get(resource_type="Location").ip_address == CAROL


def test_without_a_trusted_proxy_the_audit_log_ignores_forwarded_for(
    alice_api: APIClient,
) -> None:
    response = alice_api.post(
        "/api/v1/locations/", {"name": "Acme HQ"}, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=CAROL
    )

    assert response.status_code == 201
    assert AuditLog.objects.get(resource_type="Location").ip_address == BALANCER


@pytest.mark.parametrize(("count", "expected"), [(0, BALANCER), (1, CAROL)])
def test_the_api_throttle_counts_an_anonymous_caller_by_the_same_address(
    settings: Settings, count: int, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get(
        "/api/v1/", REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CAROL}"
    )

    assert ScopedThrottle().get_ident(Request(request)) == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRUSTED_PROXIES", "10.0.0.0/8,balancer.internal", "'balancer.internal' is neither"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be 0 or more"),
    ],
)
def test_a_bad_proxy_setting_stops_the_app_with_a_message(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    environment = {**os.environ, "VAR_DIR": str(tmp_path), variable: value}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert message in result.stderr
