"""A new API key is shown once, from the server side, and never travels in a cookie."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_new_api_key_is_shown_once_and_never_set_in_a_cookie(alice_client: Client) -> None:
    created = alice_client.post(reverse("admin:accounts_apitoken_add"), {"name": "script"})
    token = ApiToken.objects.get()

    shown = alice_client.get(created["Location"])
    again = alice_client.get(created["Location"])

    key = next(str(m) for m in shown.context["messages"] if "copy it now" in str(m))
    key = key.split(" is ", 1)[1].split(" ", 1)[0]
    assert ApiToken.hash_key(key) == token.key_hash
    for response in (created, shown):
        assert all(key not in morsel.value for morsel in response.cookies.values())
        assert "messages" not in response.cookies
    assert key not in again.content.decode()
