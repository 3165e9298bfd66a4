"""The fake Xero is as strict as Xero's documentation (so the client is tested against it)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.fakes.xero import FakeXero, Organisation


@pytest.fixture
def org(fake_xero: FakeXero) -> Organisation:
    return fake_xero.add_organisation("Archer Consulting Ltd")


def authorize_url(fake: FakeXero, **changes: str) -> str:
    from urllib.parse import urlencode

    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": fake.client_id,
        "redirect_uri": next(iter(fake.redirect_uris)),
        "scope": "offline_access accounting.invoices",
        "state": "s1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **changes,
    }
    return f"{fake.base_url}/identity/connect/authorize?{urlencode(query)}"


def token(fake: FakeXero, **form: str) -> requests.Response:
    return fake.http_session().post(
        f"{fake.base_url}/connect/token", data=form, auth=(fake.client_id, fake.client_secret)
    )


def test_authorize_refuses_a_plain_pkce_challenge_and_an_unknown_scope(
    fake_xero: FakeXero,
) -> None:
    session = fake_xero.http_session()
    for url in (
        authorize_url(fake_xero, code_challenge_method="plain"),
        authorize_url(fake_xero, scope="accounting.transactions"),
    ):
        assert session.get(url, allow_redirects=False).status_code == 400


def test_a_code_needs_the_matching_verifier_and_is_used_once(
    fake_xero: FakeXero, org: Organisation
) -> None:
    from urllib.parse import parse_qs, urlsplit

    code = parse_qs(urlsplit(fake_xero.consent(authorize_url(fake_xero))).query)["code"][0]
    redirect = next(iter(fake_xero.redirect_uris))
    wrong = token(
        fake_xero,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect,
        code_verifier="w" * 50,
    )
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    again = token(
        fake_xero,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect,
        code_verifier="v" * 50,
    )
    assert again.status_code == 400


def test_a_spent_refresh_token_is_refused_after_the_grace_period(
    fake_xero: FakeXero, org: Organisation
) -> None:
    from urllib.parse import parse_qs, urlsplit

    code = parse_qs(urlsplit(fake_xero.consent(authorize_url(fake_xero))).query)["code"][0]
    first = token(
        fake_xero,
        grant_type="authorization_code",
        code=code,
        redirect_uri=next(iter(fake_xero.redirect_uris)),
        code_verifier="v" * 50,
    ).json()
    rotated = token(fake_xero, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    # Within the 30-minute grace period the old token still works (a lost answer)...
    again = token(fake_xero, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 200
    fake_xero.advance(31 * 60)
    # ...after it, it is spent.
    spent = token(fake_xero, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert spent.json() == {"error": "invalid_grant"}


def test_the_api_wants_a_bearer_token(fake_xero: FakeXero) -> None:
    answer = fake_xero.http_session().get(f"{fake_xero.base_url}/connections")
    assert answer.status_code == 401


# -- the accounting API's rules, against a connected client -------------------------------------


@pytest.fixture
def api(fake_xero: FakeXero, org: Organisation) -> Callable[..., requests.Response]:
    """Raw calls to the fake's accounting API with a valid token and tenant."""
    from urllib.parse import parse_qs, urlsplit

    scope = "offline_access accounting.invoices accounting.contacts accounting.attachments"
    url = authorize_url(fake_xero, scope=scope)
    code = parse_qs(urlsplit(fake_xero.consent(url)).query)["code"][0]
    access = token(
        fake_xero,
        grant_type="authorization_code",
        code=code,
        redirect_uri=next(iter(fake_xero.redirect_uris)),
        code_verifier="v" * 50,
    ).json()["access_token"]
    session = fake_xero.http_session()

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {access}",
            "xero-tenant-id": org.tenant_id,
            "Accept": "application/json",
            **kwargs.pop("headers", {}),
        }
        return session.request(
            method, f"{fake_xero.base_url}/api.xro/2.0/{path}", headers=headers, **kwargs
        )

    return call


def draft(fake: FakeXero, org: Organisation, **line: Any) -> dict[str, Any]:
    contact = fake.add_contact(org, "Acme Ltd")
    return {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact["ContactID"]},
                "LineAmountTypes": "Exclusive",
                "LineItems": [{"Description": "Work", "Quantity": 2, "UnitAmount": 100, **line}],
            }
        ]
    }


def test_tax_is_added_to_the_total_of_an_exclusive_invoice(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    body = api("PUT", "Invoices", json=draft(fake_xero, org, TaxType="OUTPUT2")).json()
    [invoice] = body["Invoices"]
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (200.0, 40.0, 240.0)


def test_a_repeated_key_replays_the_first_answer_an_error_too_until_it_expires(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    bad = draft(fake_xero, org, AccountCode="999")
    key = {"Idempotency-Key": "k-1"}
    first = api("PUT", "Invoices", json=bad, headers=key)
    org.account_codes.add("999")  # the cause is gone, but the key still answers the refusal
    assert api("PUT", "Invoices", json=bad, headers=key).json() == first.json()
    assert first.status_code == 400 and not org.invoices
    fake_xero.age_idempotency_keys()
    assert api("PUT", "Invoices", json=bad, headers=key).status_code == 200
    assert len(org.invoices) == 1


def test_a_where_clause_with_an_escaped_quote_is_refused(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    fake_xero.add_contact(org, 'The "Quoted" Company')
    refused = api("GET", "Contacts", params={"where": 'Name=="The \\"Quoted\\" Company"'})
    assert refused.status_code == 400
    plain = api("GET", "Contacts", params={"where": 'Name.Contains("Quoted")'})
    assert plain.status_code == 200 and len(plain.json()["Contacts"]) == 1


def test_archived_contacts_are_listed_only_when_asked_for(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    fake_xero.add_contact(org, "Old Customer", status="ARCHIVED")
    assert api("GET", "Contacts", params={"searchTerm": "old"}).json()["Contacts"] == []
    found = api("GET", "Contacts", params={"searchTerm": "old", "includeArchived": "true"})
    assert [c["Name"] for c in found.json()["Contacts"]] == ["Old Customer"]


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [("offline", 503, "text/plain"), ("proxy_502", 502, "text/html")],
)
def test_an_outage_answers_a_body_that_is_not_json(
    fake_xero: FakeXero,
    org: Organisation,
    api: Callable[..., requests.Response],
    kind: str,
    status: int,
    content_type: str,
) -> None:
    fake_xero.fail_next(kind)
    answer = api("GET", "Contacts")
    assert (answer.status_code, answer.headers["Content-Type"]) == (status, content_type)
    with pytest.raises(ValueError):
        answer.json()


def test_the_minute_limit_answers_429_naming_the_limit_with_retry_after(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    for _ in range(60):
        assert api("GET", "Contacts").status_code == 200
    limited = api("GET", "Contacts")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 0 < int(limited.headers["Retry-After"]) <= 61
    assert fake_xero.limit_breaches == ["minute"]


def test_a_dropped_connection_after_the_write_keeps_what_was_written(
    fake_xero: FakeXero, org: Organisation, api: Callable[..., requests.Response]
) -> None:
    fake_xero.fail_next("drop_after", method="PUT")
    with pytest.raises(requests.ConnectionError):
        api("PUT", "Invoices", json=draft(fake_xero, org))
    assert len(org.invoices) == 1
