"""Every response carries a correlation id: a valid incoming X-Request-ID, or a new one."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_valid_incoming_request_id_is_echoed(client: Client) -> None:
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="abc-123.DEF:9")

    assert response["X-Request-ID"] == "abc-123.DEF:9"


def test_a_request_without_an_id_gets_a_new_one(client: Client) -> None:
    first = client.get("/admin/login/")["X-Request-ID"]
    second = client.get("/admin/login/")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "<script>", "-leading-dash", "a\u00e9"])
def test_an_invalid_incoming_id_is_replaced(client: Client, bad: str) -> None:
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID=bad)

    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_not_found_page_still_carries_the_id(client: Client) -> None:
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="trace-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"
