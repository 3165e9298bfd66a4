"""Tokens are encrypted at rest, read back as plaintext, re-encrypted on rotation, never shown."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.fields import DecryptionError
from accounts.models import User

ACCESS = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.access-token-plaintext"
REFRESH = "0.AAAA-refresh-token-plaintext"
CACHE = '{"AccessToken": {"secret": "cache-plaintext"}}'


def raw_token_columns(user: User) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ms_access_token, ms_refresh_token, ms_token_cache FROM users WHERE id = %s",
            [user.pk],
        )
        return cursor.fetchone()


@pytest.fixture
def connected_alice(alice: User) -> User:
    alice.ms_access_token = ACCESS
    alice.ms_refresh_token = REFRESH
    alice.ms_token_cache = CACHE
    alice.save()
    return alice


def test_token_columns_hold_no_plaintext(connected_alice: User) -> None:
    raw = raw_token_columns(connected_alice)

    for stored, plaintext in zip(raw, (ACCESS, REFRESH, CACHE), strict=True):
        assert plaintext not in stored
        assert "plaintext" not in stored


def test_token_fields_read_back_as_plaintext(connected_alice: User) -> None:
    fresh = User.objects.get(pk=connected_alice.pk)

    assert (fresh.ms_access_token, fresh.ms_refresh_token, fresh.ms_token_cache) == (
        ACCESS,
        REFRESH,
        CACHE,
    )


def test_empty_token_fields_stay_null(alice: User) -> None:
    assert raw_token_columns(alice) == (None, None, None)
    assert not User.objects.get(pk=alice.pk).is_microsoft_connected


def test_rotation_reencrypts_every_value_under_the_new_first_key(
    connected_alice: User, settings: Settings
) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    before = raw_token_columns(connected_alice)

    call_command("rotate_encryption_keys")

    after = raw_token_columns(connected_alice)
    assert after != before
    only_new = Fernet(new_key.encode())
    assert [only_new.decrypt(value.encode()).decode() for value in after] == [
        ACCESS,
        REFRESH,
        CACHE,
    ]
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert User.objects.get(pk=connected_alice.pk).ms_refresh_token == REFRESH


def test_rotation_reports_how_many_values_it_reencrypted(
    connected_alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("rotate_encryption_keys")

    assert "Re-encrypted 3 values" in capsys.readouterr().out


def test_a_value_under_a_dropped_key_is_a_clear_error(
    connected_alice: User, settings: Settings
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEYS"):
        User.objects.get(pk=connected_alice.pk)
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS"):
        call_command("rotate_encryption_keys")


@pytest.mark.django_db(databases=["default", "web"])
def test_user_page_shows_connection_state_but_never_a_token(
    connected_alice: User, admin_client: Client, settings: Settings
) -> None:
    settings.MS_CLIENT_ID, settings.MS_CLIENT_SECRET = "client", "secret"
    response = admin_client.get(reverse("admin:accounts_user_change", args=[connected_alice.pk]))

    assert response.status_code == 200
    assert 'state-connected">Connected</span>' in response.text
    for secret in (ACCESS, REFRESH, "cache-plaintext", "ms_access_token", "ms_token_cache"):
        assert secret not in response.text
    raw_access = raw_token_columns(connected_alice)[0]
    assert raw_access not in response.text


@pytest.mark.django_db(databases=["default", "web"])
def test_user_list_shows_who_is_connected(
    connected_alice: User, bob: User, admin_client: Client
) -> None:
    response = admin_client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 200
    assert response.text.count('alt="True"') >= 1
    assert ACCESS not in response.text
