"""The fake Xero is as strict as Xero's documentation (so the client is tested against it)."""

from __future__ import annotations

import base64
import hashlib

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
