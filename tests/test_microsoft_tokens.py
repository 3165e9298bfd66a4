"""Tokens come silently from each user's encrypted msal cache, and never leak."""

from __future__ import annotations

import json
import logging

import pytest
from django.core import checks
from django.test import Client
from django.urls import reverse

from accounts.microsoft import (
    MicrosoftNotConnected,
    MicrosoftReconnectRequired,
    graph_client,
    microsoft_access_token,
)
from accounts.models import User
from auditing.models import ActionLog, AuditLog
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import connect_microsoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_an_expired_access_token_is_refreshed_silently_and_the_cache_saved_back(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.access_token_lifetime = 60  # msal refreshes tokens with < 5 minutes left
    connect_microsoft(fake_alice, connected_alice)
    stored_before = User.objects.get(pk=connected_alice.pk).ms_token_cache
    refreshes_before = fake_alice.token_requests["refresh_token"]

    token = microsoft_access_token(user=connected_alice)

    stored_after = User.objects.get(pk=connected_alice.pk)
    assert fake_alice.token_requests["refresh_token"] == refreshes_before + 1
    assert stored_after.ms_token_cache != stored_before
    assert stored_after.ms_access_token == token


def test_a_valid_cached_token_is_used_without_asking_microsoft(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    before = sum(fake_alice.token_requests.values())

    microsoft_access_token(user=connected_alice)

    assert sum(fake_alice.token_requests.values()) == before


def test_graph_refuses_a_revoked_access_token_and_the_client_refreshes_once(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    client = graph_client(user=connected_alice)
    client.me()
    fake_alice.expire_access_tokens(connected_alice.email)
    refreshes = fake_alice.token_requests["refresh_token"]

    me = client.me()

    assert me["mail"] == connected_alice.email
    assert fake_alice.token_requests["refresh_token"] == refreshes + 1
    profile_reads = [r for r in fake_alice.graph_requests() if r.path == "/v1.0/me"]
    assert len(profile_reads) == 3  # ok, 401, retried ok


def test_a_revoked_refresh_token_opens_one_reconnect_item_and_raises_a_clear_error(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.revoke_refresh_tokens(connected_alice.email)

    for _ in range(2):
        with pytest.raises(MicrosoftReconnectRequired, match="must be reconnected"):
            microsoft_access_token(user=connected_alice, force_refresh=True)

    items = ActionLog.objects.filter(user=connected_alice, event_type="reconnect_microsoft")
    assert items.count() == 1
    assert items.get().state == "open"
    [reconnect] = items.get().recommendations
    assert reconnect["action"] == "reconnect"
    assert "connect_microsoft alice@example.com" in reconnect["reason"]
    assert AuditLog.objects.filter(operation="token_refresh", status="failure").count() == 2


def test_reconnecting_closes_the_reconnect_item(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.revoke_refresh_tokens(connected_alice.email)
    with pytest.raises(MicrosoftReconnectRequired):
        microsoft_access_token(user=connected_alice, force_refresh=True)

    connect_microsoft(fake_alice, connected_alice)

    assert ActionLog.objects.get(event_type="reconnect_microsoft").state == "resolved"


def test_a_user_who_never_connected_gets_a_clear_error(
    alice: User, fake_microsoft: FakeMicrosoft
) -> None:
    with pytest.raises(MicrosoftNotConnected, match="has not connected Microsoft 365"):
        microsoft_access_token(user=alice)


def test_tokens_never_appear_in_logs_audit_rows_or_admin_pages(
    connected_alice: User,
    fake_alice: FakeMicrosoft,
    admin_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_alice.access_token_lifetime = 60
    connect_microsoft(fake_alice, connected_alice)
    client = graph_client(user=connected_alice)
    client.me()
    fake_alice.expire_access_tokens()
    client.list_calendars()
    pages = "".join(
        admin_client.get(url).text
        for url in (
            reverse("admin:accounts_user_change", args=[connected_alice.pk]),
            reverse("admin:accounts_user_changelist"),
            reverse("admin:auditing_auditlog_changelist"),
        )
    )
    audit_rows = json.dumps(list(AuditLog.objects.values()), default=str)

    tokens = fake_alice.issued_tokens(connected_alice.email)
    assert len(tokens) >= 4
    for token in tokens:
        assert token not in caplog.text
        assert token not in audit_rows
        assert token not in pages


def test_a_system_check_warns_when_microsoft_is_not_configured(settings: object) -> None:
    settings.MS_CLIENT_ID = ""

    messages = checks.run_checks()

    assert any(m.id == "accounts.W001" for m in messages)
