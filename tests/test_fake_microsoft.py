"""The fake Microsoft services behave like Entra ID and Graph for real msal and plain requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import msal
import pytest
import requests

from tests.fakes.microsoft import FakeMicrosoft

ALICE = "alice@example.com"
SCOPES = ["User.Read", "Calendars.ReadWrite", "MailboxSettings.ReadWrite", "Files.ReadWrite"]
REDIRECT_URI = "http://testserver/microsoft/callback"
SOURCE_ID = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name SourceEventId"


@pytest.fixture
def fake(fake_microsoft: FakeMicrosoft) -> FakeMicrosoft:
    fake_microsoft.add_user(ALICE, name="Alice Archer")
    return fake_microsoft


@pytest.fixture
def app(fake: FakeMicrosoft) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        fake.client_id,
        client_credential=fake.client_secret,
        authority=f"{fake.authority_host}/{fake.tenant}",
        http_client=fake.http_session(),
        instance_discovery=False,
    )


@pytest.fixture
def public_app(fake: FakeMicrosoft) -> msal.PublicClientApplication:
    """msal offers the device-code flow only on public clients (no client secret)."""
    fake.allow_public_client_flows = True
    return msal.PublicClientApplication(
        fake.client_id,
        authority=fake.authority,
        http_client=fake.http_session(),
        instance_discovery=False,
    )


@pytest.fixture
def graph(fake: FakeMicrosoft) -> Iterator[requests.Session]:
    """A Graph session for Alice, as the real client would configure it."""
    session = fake.http_session()
    token = fake.sign_in(ALICE)["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    session.headers["Prefer"] = 'IdType="ImmutableId"'
    with session:
        yield session


def device_flow_sign_in(fake: FakeMicrosoft, app: msal.PublicClientApplication) -> dict[str, Any]:
    fake.auto_approve_device_codes = ALICE
    flow = app.initiate_device_flow(scopes=SCOPES)
    return app.acquire_token_by_device_flow(flow)


def auth_code_sign_in(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> dict[str, Any]:
    flow = app.initiate_auth_code_flow(
        scopes=SCOPES, redirect_uri=REDIRECT_URI, login_hint=ALICE, response_mode="form_post"
    )
    posted = fake.authorize_url_response(flow["auth_uri"])
    return app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(posted).query)))


def an_event(subject: str = "Workshop", **fields: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2025-05-08T10:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": "2025-05-08T11:00:00", "timeZone": "Europe/London"},
        **fields,
    }


# -- identity, with real msal ---------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_auth_code_flow_gives_msal_a_token_and_an_account(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> None:
    fake.next_sign_in = ALICE
    flow = app.initiate_auth_code_flow(scopes=SCOPES, redirect_uri=REDIRECT_URI)

    with fake.http_session() as browser:
        answer = browser.get(flow["auth_uri"], allow_redirects=False)
    location = answer.headers["Location"]
    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(location).query)))

    assert answer.status_code == 302
    assert location.startswith(REDIRECT_URI + "?")
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == ALICE
    assert [account["username"] for account in app.get_accounts()] == [ALICE]
    assert fake.token_requests["authorization_code"] == 1


def test_auth_code_flow_works_with_form_post(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> None:
    result = auth_code_sign_in(fake, app)

    assert "access_token" in result, result


def test_authorization_code_is_single_use_and_checks_pkce(fake: FakeMicrosoft) -> None:
    app = msal.ConfidentialClientApplication(
        fake.client_id,
        client_credential=fake.client_secret,
        authority=fake.authority,
        http_client=fake.http_session(),
        instance_discovery=False,
    )
    flow = app.initiate_auth_code_flow(
        scopes=SCOPES, redirect_uri=REDIRECT_URI, login_hint=ALICE, response_mode="form_post"
    )
    code = dict(parse_qsl(urlsplit(fake.authorize_url_response(flow["auth_uri"])).query))["code"]
    form = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    token_url = f"{fake.authority}/oauth2/v2.0/token"

    with fake.http_session() as session:
        wrong_verifier = session.post(token_url, data={**form, "code_verifier": "x" * 43})
        right = session.post(token_url, data={**form, "code_verifier": flow["code_verifier"]})
        again = session.post(token_url, data={**form, "code_verifier": flow["code_verifier"]})

    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"
    # A failed PKCE check does not burn the code; redeeming it does.
    assert right.status_code == 200
    assert again.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_an_invalid_client(fake: FakeMicrosoft) -> None:
    with fake.http_session() as session:
        answer = session.post(
            f"{fake.authority}/oauth2/v2.0/token",
            data={
                "client_id": fake.client_id,
                "client_secret": "wrong",
                "grant_type": "refresh_token",
                "refresh_token": fake.sign_in(ALICE)["refresh_token"],
            },
        )

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_device_flow_with_auto_approval_gives_msal_a_token(
    fake: FakeMicrosoft, public_app: msal.PublicClientApplication
) -> None:
    result = device_flow_sign_in(fake, public_app)

    assert "access_token" in result, result
    assert [account["username"] for account in public_app.get_accounts()] == [ALICE]


def test_device_flow_tokens_refresh_only_without_a_client_secret(
    fake: FakeMicrosoft, public_app: msal.PublicClientApplication
) -> None:
    fake.access_token_lifetime = 60  # msal refreshes tokens with under 5 minutes left
    cache = msal.SerializableTokenCache()
    public_app.token_cache = cache
    device_flow_sign_in(fake, public_app)
    confidential = msal.ConfidentialClientApplication(
        fake.client_id,
        client_credential=fake.client_secret,
        authority=fake.authority,
        http_client=fake.http_session(),
        instance_discovery=False,
        token_cache=cache,
    )

    as_public = public_app.acquire_token_silent_with_error(
        SCOPES, account=public_app.get_accounts()[0]
    )
    as_confidential = confidential.acquire_token_silent_with_error(
        SCOPES, account=confidential.get_accounts()[0]
    )

    assert as_public is not None and "access_token" in as_public, as_public
    # Entra ID: "AADSTS700025: Client is public so neither 'client_assertion' nor
    # 'client_secret' should be presented."
    assert as_confidential is not None
    assert as_confidential["error"] == "invalid_client"
    assert as_confidential["error_codes"] == [700025]


def test_device_code_is_pending_until_approved(fake: FakeMicrosoft) -> None:
    token_url = f"{fake.authority}/oauth2/v2.0/token"
    with fake.http_session() as session:
        flow = session.post(
            f"{fake.authority}/oauth2/v2.0/devicecode",
            data={"client_id": fake.client_id, "scope": "Calendars.ReadWrite offline_access"},
        ).json()
        poll = {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": flow["device_code"],
        }
        pending = session.post(token_url, data=poll)
        fake.approve_device_code(flow["user_code"], ALICE)
        approved = session.post(token_url, data=poll)

    assert flow["verification_uri"] == f"{fake.base_url}/devicelogin"
    assert flow["interval"] == 1
    assert pending.json()["error"] == "authorization_pending"
    assert approved.status_code == 200
    assert "refresh_token" in approved.json()


def test_denied_device_code_ends_msal_polling(
    fake: FakeMicrosoft, public_app: msal.PublicClientApplication
) -> None:
    flow = public_app.initiate_device_flow(scopes=SCOPES)
    fake.deny_device_code(flow["user_code"])

    result = public_app.acquire_token_by_device_flow(flow)

    assert result["error"] == "authorization_declined"


def test_msal_refreshes_silently_once_the_access_token_expires(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> None:
    fake.access_token_lifetime = 1
    first = auth_code_sign_in(fake, app)["access_token"]
    time.sleep(1.05)
    fake.access_token_lifetime = 3600

    with fake.http_session() as session:
        stale = session.get(f"{fake.graph_url}/me", headers={"Authorization": f"Bearer {first}"})
    refreshed = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0])

    assert stale.status_code == 401
    assert stale.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert refreshed is not None
    assert refreshed["access_token"] != first
    assert fake.token_requests["refresh_token"] == 1


def test_expired_access_tokens_get_401_until_msal_forces_a_refresh(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> None:
    account_token = auth_code_sign_in(fake, app)["access_token"]
    fake.expire_access_tokens(ALICE)

    cached = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0])
    forced = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0], force_refresh=True)
    with fake.http_session() as session:
        old = session.get(
            f"{fake.graph_url}/me", headers={"Authorization": f"Bearer {account_token}"}
        )
        new = session.get(
            f"{fake.graph_url}/me", headers={"Authorization": f"Bearer {forced['access_token']}"}
        )

    # msal trusts expires_in from its cache, so only the server knows the token died.
    assert cached is not None and cached["access_token"] == account_token
    assert old.status_code == 401
    assert new.status_code == 200
    assert new.json()["userPrincipalName"] == ALICE


def test_revoked_refresh_token_gives_msal_an_invalid_grant(
    fake: FakeMicrosoft, app: msal.ConfidentialClientApplication
) -> None:
    fake.access_token_lifetime = 1  # msal treats tokens with under 5 minutes left as expired
    auth_code_sign_in(fake, app)
    fake.revoke_refresh_tokens(ALICE)

    result = app.acquire_token_silent_with_error(SCOPES, account=app.get_accounts()[0])

    assert result is not None
    assert result["error"] == "invalid_grant"
    assert result["error_description"].startswith("AADSTS70000:")
    assert result["error_codes"] == [70000]


# -- Graph, with plain requests -------------------------------------------------------------


def test_graph_refuses_calls_without_a_valid_token(fake: FakeMicrosoft) -> None:
    with fake.http_session() as session:
        missing = session.get(f"{fake.graph_url}/me")
        unknown = session.get(f"{fake.graph_url}/me", headers={"Authorization": "Bearer nope"})

    assert missing.status_code == unknown.status_code == 401
    assert missing.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_events_page_through_next_links(fake: FakeMicrosoft, graph: requests.Session) -> None:
    for number in range(120):
        fake.add_event(ALICE, **an_event(f"Meeting {number}"))

    pages = []
    url: str | None = f"{fake.graph_url}/me/calendar/events?$select=subject"
    while url:
        page = graph.get(url).json()
        pages.append(page["value"])
        url = page.get("@odata.nextLink")

    assert [len(page) for page in pages] == [50, 50, 20]
    assert [event["subject"] for page in pages for event in page] == [
        f"Meeting {number}" for number in range(120)
    ]
    assert set(pages[0][0]) == {"@odata.etag", "id", "subject"}


def test_top_smaller_than_the_page_size_sets_the_page_size(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    for number in range(5):
        fake.add_event(ALICE, **an_event(f"Meeting {number}"))

    page = graph.get(f"{fake.graph_url}/me/events", params={"$top": "2"}).json()

    assert len(page["value"]) == 2
    assert page["@odata.nextLink"].startswith(f"{fake.graph_url}/me/events?")


def test_calendar_view_expands_a_weekly_series_across_the_dst_change(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    master = fake.add_event(
        ALICE,
        subject="Stand-up",
        start={"dateTime": "2025-03-18T10:00:00", "timeZone": "Europe/London"},
        end={"dateTime": "2025-03-18T10:30:00", "timeZone": "Europe/London"},
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
            "range": {"type": "noEnd", "startDate": "2025-03-18"},
        },
    )
    window = {"startDateTime": "2025-03-17T00:00:00Z", "endDateTime": "2025-04-07T00:00:00Z"}

    local = graph.get(
        f"{fake.graph_url}/me/calendarView",
        params=window,
        headers={"Prefer": 'IdType="ImmutableId", outlook.timezone="Europe/London"'},
    ).json()["value"]
    utc = graph.get(f"{fake.graph_url}/me/calendarView", params=window).json()["value"]

    assert [e["start"]["dateTime"] for e in local] == [
        "2025-03-18T10:00:00.0000000",
        "2025-03-25T10:00:00.0000000",
        "2025-04-01T10:00:00.0000000",
    ]
    assert {e["start"]["timeZone"] for e in local} == {"Europe/London"}
    assert [e["start"]["dateTime"][11:16] for e in utc] == ["10:00", "10:00", "09:00"]
    assert {e["type"] for e in local} == {"occurrence"}
    assert {e["seriesMasterId"] for e in local} == {master["id"]}
    assert len({e["id"] for e in local}) == 3


def test_a_cancelled_occurrence_is_still_listed_as_cancelled(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    master = fake.add_event(
        ALICE,
        subject="Daily check",
        start={"dateTime": "2025-05-05T09:00:00", "timeZone": "UTC"},
        end={"dateTime": "2025-05-05T09:15:00", "timeZone": "UTC"},
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2025-05-05", "numberOfOccurrences": 3},
        },
    )
    fake.cancel_occurrence(master["id"], "2025-05-06")

    view = graph.get(
        f"{fake.graph_url}/me/calendarView",
        params={"startDateTime": "2025-05-01T00:00:00Z", "endDateTime": "2025-05-31T00:00:00Z"},
    ).json()["value"]

    assert [(e["start"]["dateTime"][:10], e["isCancelled"]) for e in view] == [
        ("2025-05-05", False),
        ("2025-05-06", True),
        ("2025-05-07", False),
    ]


def test_calendar_view_without_a_window_is_a_bad_request(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    answer = graph.get(f"{fake.graph_url}/me/calendarView", params={"startDateTime": "tomorrow"})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ErrorInvalidParameter"


def test_transaction_id_prevents_a_duplicate_event(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    body = an_event(transactionId="archive-42")

    first = graph.post(f"{fake.graph_url}/me/events", json=body)
    second = graph.post(f"{fake.graph_url}/me/events", json=body)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(fake.events(ALICE)) == 1


def test_events_are_found_by_their_extended_property(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    archive = fake.add_calendar(ALICE, "Archive")
    for source in ("src-1", "src-2"):
        graph.post(
            f"{fake.graph_url}/me/calendars/{archive['id']}/events",
            json=an_event(singleValueExtendedProperties=[{"id": SOURCE_ID, "value": source}]),
        )

    found = graph.get(
        f"{fake.graph_url}/me/calendars/{archive['id']}/events",
        params={
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{SOURCE_ID.lower()}' "
            "and ep/value eq 'src-2')",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{SOURCE_ID}')",
        },
    ).json()["value"]

    assert [e["singleValueExtendedProperties"] for e in found] == [
        [{"id": SOURCE_ID, "value": "src-2"}]
    ]


def test_duplicate_calendar_names_conflict(fake: FakeMicrosoft, graph: requests.Session) -> None:
    created = graph.post(f"{fake.graph_url}/me/calendars", json={"name": "Archive"})
    duplicate = graph.post(f"{fake.graph_url}/me/calendars", json={"name": "archive"})

    assert created.status_code == 201
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "ErrorFolderExists"


def test_master_categories_are_listed_and_created(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    fake.add_category(ALICE, "Acme - billable", "preset0")

    created = graph.post(
        f"{fake.graph_url}/me/outlook/masterCategories",
        json={"displayName": "Internal", "color": "preset7"},
    )
    listed = graph.get(f"{fake.graph_url}/me/outlook/masterCategories").json()["value"]

    assert created.status_code == 201
    assert [(c["displayName"], c["color"]) for c in listed] == [
        ("Acme - billable", "preset0"),
        ("Internal", "preset7"),
    ]


def test_prefer_headers_are_recorded(fake: FakeMicrosoft, graph: requests.Session) -> None:
    graph.get(f"{fake.graph_url}/me/calendars")

    (request,) = fake.graph_requests(path_contains="/calendars")

    assert request.prefer["IdType"] == "ImmutableId"


def test_batch_of_twenty_answers_each_request_by_id(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    batch = {
        "requests": [
            {
                "id": str(number),
                "method": "POST",
                "url": "/me/events",
                "headers": {"Content-Type": "application/json"},
                "body": an_event(f"Batch {number}"),
            }
            for number in range(20)
        ]
    }

    answer = graph.post(f"{fake.graph_url}/$batch", json=batch)

    responses = answer.json()["responses"]
    assert answer.status_code == 200
    assert sorted(int(r["id"]) for r in responses) == list(range(20))
    assert [r["id"] for r in responses] != [str(n) for n in range(20)]
    assert {r["body"]["subject"] for r in responses} == {f"Batch {n}" for n in range(20)}
    assert len(fake.events(ALICE)) == 20
    assert len([r for r in fake.graph_requests() if r.in_batch]) == 20


def test_batch_of_twenty_one_is_refused(fake: FakeMicrosoft, graph: requests.Session) -> None:
    batch = {
        "requests": [{"id": str(n), "method": "GET", "url": "/me"} for n in range(21)],
    }

    answer = graph.post(f"{fake.graph_url}/$batch", json=batch)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_injected_429_carries_retry_after_then_clears(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    fault = fake.inject(status=429, retry_after=7, path_contains="/calendars")

    throttled = graph.get(f"{fake.graph_url}/me/calendars")
    retried = graph.get(f"{fake.graph_url}/me/calendars")

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert retried.status_code == 200
    assert fault.hits == 1


def test_injected_429_inside_a_batch_reaches_only_that_sub_request(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    fake.inject(status=429, retry_after=3, path_contains="/me/events", on_request=2)
    batch = {
        "requests": [
            {
                "id": str(n),
                "method": "POST",
                "url": "/me/events",
                "headers": {"Content-Type": "application/json"},
                "body": an_event(),
            }
            for n in range(3)
        ]
    }

    responses = graph.post(f"{fake.graph_url}/$batch", json=batch).json()["responses"]

    by_id = {r["id"]: r for r in responses}
    assert [by_id[n]["status"] for n in ("0", "1", "2")] == [201, 429, 201]
    assert by_id["1"]["headers"]["retry-after"] == "3"


def test_a_dropped_connection_raises_connection_error(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    fake.inject(drop=True, path_contains="/me")

    with pytest.raises(requests.ConnectionError):
        graph.get(f"{fake.graph_url}/me")
    assert graph.get(f"{fake.graph_url}/me").status_code == 200


def test_a_slow_answer_times_the_client_out(fake: FakeMicrosoft, graph: requests.Session) -> None:
    fake.inject(delay=0.3, path_contains="/me")

    with pytest.raises(requests.Timeout):
        graph.get(f"{fake.graph_url}/me", timeout=0.05)


def test_simple_upload_stores_the_file(fake: FakeMicrosoft, graph: requests.Session) -> None:
    answer = graph.put(
        f"{fake.graph_url}/me/drive/root:/Timesheets/2025/May%20report.pdf:/content",
        data=b"%PDF-1.7 fake",
    )

    assert answer.status_code == 201
    assert answer.json()["name"] == "May report.pdf"
    assert fake.files(ALICE) == {"Timesheets/2025/May report.pdf": b"%PDF-1.7 fake"}


def test_upload_session_assembles_three_fragments(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    content = bytes(range(256)) * 3000  # 768,000 bytes: two 320 KiB fragments and the rest
    fragment = 320 * 1024
    session = graph.post(
        f"{fake.graph_url}/me/drive/root:/Timesheets/big.xlsx:/createUploadSession",
        json={"item": {"@microsoft.graph.conflictBehavior": "replace"}},
    ).json()

    statuses = []
    with fake.http_session() as uploader:  # the upload URL is pre-authenticated
        for first in range(0, len(content), fragment):
            chunk = content[first : first + fragment]
            answer = uploader.put(
                session["uploadUrl"],
                data=chunk,
                headers={"Content-Range": f"bytes {first}-{first + len(chunk) - 1}/{len(content)}"},
            )
            statuses.append(answer.status_code)

    assert statuses == [202, 202, 201]
    assert answer.json()["size"] == len(content)
    assert fake.files(ALICE)["Timesheets/big.xlsx"] == content


def test_drive_item_metadata_and_missing_items(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    fake.put_file(ALICE, "Timesheets/2025/april.csv", b"a,b\n")

    found = graph.get(f"{fake.graph_url}/me/drive/root:/Timesheets/2025/april.csv")
    missing = graph.get(f"{fake.graph_url}/me/drive/root:/Timesheets/2025/june.csv")

    assert found.json()["size"] == 4
    assert found.json()["parentReference"]["path"] == "/drive/root:/Timesheets/2025"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "itemNotFound"


def test_a_patch_with_a_stale_if_match_is_a_412_and_changes_nothing(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    created = graph.post(f"{fake.graph_url}/me/events", json=an_event(categories=["Online"]))
    url = f"{fake.graph_url}/me/events/{quote(created.json()['id'], safe='')}"
    stale = created.json()["@odata.etag"]
    graph.patch(url, json={"subject": "Renamed"}, headers={"If-Match": stale})

    refused = graph.patch(
        url, json={"categories": ["Acme - billable"]}, headers={"If-Match": stale}
    )
    current = graph.get(url).json()
    accepted = graph.patch(
        url, json={"categories": ["Acme - billable"]}, headers={"If-Match": current["@odata.etag"]}
    )

    assert refused.status_code == 412
    assert refused.json()["error"]["code"] == "ErrorIrresolvableConflict"
    assert current["categories"] == ["Online"]
    # PATCH replaces the whole collection: the client must send the categories it keeps.
    assert (accepted.status_code, accepted.json()["categories"]) == (200, ["Acme - billable"])


def test_an_occurrence_changed_on_its_own_gets_its_own_etag(
    fake: FakeMicrosoft, graph: requests.Session
) -> None:
    master = fake.add_event(
        ALICE,
        subject="Weekly",
        start={"dateTime": "2025-05-05T10:00:00", "timeZone": "UTC"},
        end={"dateTime": "2025-05-05T11:00:00", "timeZone": "UTC"},
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2025-05-05", "numberOfOccurrences": 3},
        },
    )
    url = f"{fake.graph_url}/me/events/{quote(master['id'] + '_20250512', safe='')}"
    before = graph.get(url).json()["@odata.etag"]

    graph.patch(url, json={"categories": ["Acme - billable"]}, headers={"If-Match": before})
    again = graph.patch(url, json={"categories": []}, headers={"If-Match": before})

    assert again.status_code == 412
    assert graph.get(url).json()["categories"] == ["Acme - billable"]
