"""Sending to Xero when Xero fails: every fault ends in a message (never a 500) and a retry ends
with exactly one invoice, one contact and one PDF, however late the retry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from tests.fakes.xero import FakeXero, Organisation
from tests.xero_helpers import (
    MAY,
    acme,
    fake_clock_sleep,
    inline_tasks,
    media_in_tmp,
    org,
    priced_timesheet,
    xero_alice,
)
from timesheets import xero_client, xero_push, xero_queue
from timesheets.models import CustomerSettings, Timesheet, XeroPush
from timesheets.tasks import xero_push_task, xero_upkeep_task

__all__ = ["fake_clock_sleep", "inline_tasks", "media_in_tmp", "org", "xero_alice"]

pytestmark = pytest.mark.django_db(databases=["default", "web"])

INVOICES = "/api.xro/2.0/Invoices"
CONTACTS = "/api.xro/2.0/Contacts"
ATTACHMENTS = "/Attachments/"  # matched as a path prefix below via the invoice's path
ALL_ATTEMPTS = xero_client.MAX_ATTEMPTS  # a fault on every attempt of one call fails the push


@pytest.fixture(autouse=True)
def short_read_timeout(settings: Settings) -> None:
    settings.XERO_READ_TIMEOUT = 0.3


def push_fails(timesheet: Timesheet, user: User) -> xero_client.XeroError:
    with pytest.raises(xero_client.XeroError) as raised:
        xero_push.timesheet_xero_push(timesheet=timesheet, user=user)
    return raised.value


def assert_once(org: Organisation, timesheet: Timesheet) -> dict[str, Any]:
    """One invoice, one contact, one PDF, and the timesheet knows its invoice."""
    [invoice] = org.invoices.values()
    assert len(org.contacts) == 1
    assert len(org.attachments[invoice["InvoiceID"]]) == 1
    timesheet.refresh_from_db()
    assert timesheet.uploaded_to_xero
    assert (timesheet.xero_invoice_id, timesheet.xero_invoice_number) == (
        invoice["InvoiceID"],
        invoice["InvoiceNumber"],
    )
    return invoice


def open_failures() -> list[ActionLog]:
    return list(ActionLog.objects.filter(event_type="xero_push_failed").open())


WRITES = [("PUT", CONTACTS), ("PUT", INVOICES), ("PUT", "attachment")]
FAULTS = ["drop_before", "drop_after", "read_timeout", "offline", "proxy_502", "server_500"]


@pytest.mark.parametrize("kind", FAULTS)
@pytest.mark.parametrize(("method", "path"), WRITES, ids=["contact", "invoice", "attachment"])
def test_a_fault_on_any_write_fails_the_push_with_an_item_and_a_retry_makes_everything_once(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, kind: str, method: str, path: str
) -> None:
    timesheet = priced_timesheet(xero_alice)
    if path == "attachment":
        # The invoice is made first; its attachment path is known once it exists.
        fake_xero.fail_next(kind, method="PUT", path=INVOICES + "/", times=ALL_ATTEMPTS, delay=0.6)
    else:
        fake_xero.fail_next(kind, method=method, path=path, times=ALL_ATTEMPTS, delay=0.6)

    error = push_fails(timesheet, xero_alice)

    assert str(error)
    [item] = open_failures()
    assert item.description.startswith(f"Sending timesheet {timesheet} to Xero failed")
    assert AuditLog.objects.filter(operation="xero_push", status="failure").count() == 1
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)
    item.refresh_from_db()
    assert item.state == "resolved"


def test_a_lost_answer_retried_after_the_key_expired_and_the_settings_changed_keeps_the_first_body(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    # Xero makes the invoice, the answer is lost, then Xero is offline for every retry.
    fake_xero.fail_next("drop_after", method="PUT", path=INVOICES)
    fake_xero.fail_next("offline", path=INVOICES, times=ALL_ATTEMPTS)
    push_fails(timesheet, xero_alice)
    assert len(org.invoices) == 1 and not Timesheet.objects.get(pk=timesheet.pk).xero_invoice_id
    fake_xero.age_idempotency_keys()
    CustomerSettings.objects.filter(user=xero_alice).update(
        xero_account_code="260", legal_name="Acme Renamed Ltd", hourly_rate=999
    )

    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)

    invoice = assert_once(org, timesheet)
    assert {line["AccountCode"] for line in invoice["LineItems"]} == {"200"}
    assert [c["Name"] for c in org.contacts.values()] == ["Acme Corporation Ltd"]


def test_a_contact_made_whose_answer_was_lost_is_found_again_not_made_twice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    fake_xero.fail_next("drop_after", method="PUT", path=CONTACTS)
    fake_xero.fail_next("proxy_502", method="PUT", path=CONTACTS, times=ALL_ATTEMPTS)
    push_fails(timesheet, xero_alice)
    fake_xero.age_idempotency_keys()
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)


def test_a_pdf_attached_whose_answer_was_lost_is_found_again_not_attached_twice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    fake_xero.fail_next("drop_after", method="PUT", path=INVOICES + "/")
    fake_xero.fail_next("server_500", method="PUT", path=INVOICES + "/", times=ALL_ATTEMPTS)
    push_fails(timesheet, xero_alice)
    fake_xero.age_idempotency_keys()
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)


def test_the_attachment_is_online_and_named_for_the_customer_and_period(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice, display_name="Modena: S.p.A. <info@modena.it>")
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [attachment] = next(iter(org.attachments.values()))
    assert attachment["IncludeOnline"] is True
    assert attachment["FileName"] == "Timesheet Modena- S.p.A. 2025-05-01 to 2025-05-31.pdf"
    assert "alice" not in attachment["FileName"]


def test_the_invoice_is_dated_today_in_the_consultants_time_zone(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    from datetime import UTC, datetime

    from foundations.days import today_in

    # Whatever the hour, one of these zones is on another date than UTC: Kiritimati (UTC+14)
    # from 10:00 UTC, Pago Pago (UTC-11) before 11:00 UTC.
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    User.objects.filter(pk=xero_alice.pk).update(timezone=zone)
    timesheet = priced_timesheet(User.objects.get(pk=xero_alice.pk))
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [invoice] = org.invoices.values()
    assert invoice["Date"] == f"{today_in(zone):%Y-%m-%d}"
    assert invoice["Date"] != f"{datetime.now(UTC):%Y-%m-%d}"


@pytest.mark.parametrize(
    "name", ["O'Brien & Sons", 'The "Quoted" Company', "Café Zürich Ørsted", "back\\slash Ltd"]
)
def test_an_archived_contact_with_quotes_or_accents_is_found_by_its_exact_name(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, name: str
) -> None:
    existing = fake_xero.add_contact(org, name.upper(), status="ARCHIVED")
    fake_xero.add_contact(org, f"{name} Holdings")  # contains the name: not the one
    timesheet = priced_timesheet(xero_alice, legal_name=name)
    push = xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert push.contact == "found"
    [invoice] = org.invoices.values()
    assert invoice["Contact"]["ContactID"] == existing["ContactID"]
    assert len(org.contacts) == 2


# -- limits ----------------------------------------------------------------------------------


def test_a_day_limit_429_fails_the_push_naming_the_limit_in_the_item(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    fake_xero.fail_next("day", retry_after=40_000)
    error = push_fails(timesheet, xero_alice)
    assert "day limit" in str(error)
    [item] = open_failures()
    assert item.details["rate_limit_problem"] == "day"
    assert "day limit" in item.recommendations[0]["reason"]
    assert XeroPush.objects.get().failure == "limit"


@pytest.mark.parametrize("problem", ["minute", "concurrent", "appminute"])
def test_a_short_429_of_any_limit_is_waited_out_in_the_worker(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    problem: str,
    fake_clock_sleep: list[float],
) -> None:
    fake_xero.fail_next(problem, retry_after=9)
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert 9 in fake_clock_sleep
    assert_once(org, timesheet)


def test_the_budget_keeps_a_push_within_the_minute_limit_without_a_429(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, fake_clock_sleep: list[float]
) -> None:
    from timesheets.models import XeroCallSlot

    now = xero_client.clock()
    tenant = org.tenant_id
    XeroCallSlot.objects.bulk_create(
        [XeroCallSlot(tenant_id=tenant, started=now - 5, finished=now - 5) for _ in range(60)]
    )
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert fake_clock_sleep and 50 < fake_clock_sleep[0] <= 57
    assert fake_xero.limit_breaches == []
    assert XeroPush.objects.get().limit_waits >= 1


# -- tokens ----------------------------------------------------------------------------------


def test_a_failing_identity_service_is_retried_and_opens_no_reconnect_item(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    fake_xero.expire_access_tokens()
    fake_xero.fail_next("offline", path="/connect/token")
    fake_xero.fail_next("read_timeout", path="/connect/token", delay=0.6)
    fake_xero.fail_next("concurrent", path="/connect/token")
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)
    assert not ActionLog.objects.filter(event_type="reconnect_xero").exists()


def test_a_revoked_connection_opens_one_reconnect_item_for_two_pushes(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    from decimal import Decimal

    from timesheets.services import timesheet_generate

    first = priced_timesheet(xero_alice)
    CustomerSettings.objects.create(
        user=xero_alice, customer="Beta", currency="GBP", hourly_rate=Decimal(90)
    )
    acme(xero_alice, 20, 60, customer="Beta")
    second = timesheet_generate(
        user=xero_alice, customer="Beta", start=MAY[0], end=MAY[1]
    ).timesheet
    fake_xero.revoke_connections()
    for timesheet in (first, second):
        error = push_fails(timesheet, xero_alice)
        assert isinstance(error, xero_client.XeroReconnectNeeded)
    assert ActionLog.objects.filter(event_type="reconnect_xero").open().count() == 1
    assert XeroPush.objects.filter(failure="reconnect").count() == 2


def test_the_scheduled_upkeep_refreshes_an_idle_token_before_its_60_days(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    for _ in range(3):  # a consultant who invoices once a quarter; the task runs meanwhile
        fake_xero.advance(35 * 86400)
        fake_xero.age_refresh_tokens(0)
        assert xero_upkeep_task()["tokens"]["refreshed"] == 1
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)
    assert not ActionLog.objects.filter(event_type="reconnect_xero").exists()


def test_without_the_upkeep_a_token_unused_for_60_days_asks_to_reconnect(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    fake_xero.advance(61 * 86400)
    error = push_fails(priced_timesheet(xero_alice), xero_alice)
    assert isinstance(error, xero_client.XeroReconnectNeeded)
    assert ActionLog.objects.filter(event_type="reconnect_xero").open().count() == 1


def test_the_scheduled_upkeep_sends_again_a_push_that_failed_on_an_outage(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice)
    fake_xero.fail_next("offline", times=50)
    push_fails(timesheet, xero_alice)
    fake_xero.faults.clear()
    XeroPush.objects.update(finished_at=XeroPush.objects.get().finished_at - xero_queue.RETRY_AFTER)
    assert inline_tasks(xero_upkeep_task)["retried"] == 1
    assert_once(org, timesheet)
    assert not open_failures()


# -- through the API, the admin, the command and the task -----------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "says"),
    [
        ("offline", 503, "organisation is offline"),
        ("proxy_502", 502, "HTML page"),
        ("drop_before", 503, "could not be reached"),
        ("read_timeout", 503, "did not answer in time"),
    ],
)
def test_the_api_reports_a_failed_push_with_its_status_and_a_retry_heals_it(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
    kind: str,
    status: int,
    says: str,
) -> None:
    timesheet = priced_timesheet(xero_alice)
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    fake_xero.fail_next(kind, method="PUT", path=INVOICES, times=ALL_ATTEMPTS, delay=0.6)
    assert inline_tasks(alice_client.post, url).status_code == 202
    failed = alice_client.get(url)
    assert failed.status_code == status
    assert says in failed.json()["detail"]
    assert "retried automatically" in failed.json()["what_to_do"]
    assert inline_tasks(alice_client.post, url).status_code == 202
    assert alice_client.get(url).status_code == 200
    assert_once(org, timesheet)
    assert not open_failures()


def test_the_admin_shows_a_failed_push_as_a_message_and_sending_again_heals_it(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice)
    changelist = reverse("admin:timesheets_timesheet_changelist")
    form = {"action": "send_to_xero", "_selected_action": [timesheet.pk]}
    fake_xero.fail_next("offline", path=INVOICES, times=ALL_ATTEMPTS)
    inline_tasks(alice_client.post, changelist, form)
    page = alice_client.get(reverse("admin:timesheets_timesheet_change", args=[timesheet.pk]))
    assert page.status_code == 200
    assert "Sending to Xero failed: Xero answered 503" in page.text
    assert "failed: Xero answered 503" in alice_client.get(changelist).text
    inline_tasks(alice_client.post, changelist, form)
    assert_once(org, timesheet)
    assert "INV-0001</a>" in alice_client.get(changelist).text


def test_the_command_says_in_one_line_what_failed_and_running_it_again_heals_it(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    priced_timesheet(xero_alice)  # the terms; the command issues its own timesheet below
    Timesheet.objects.all().delete()
    fake_xero.fail_next("proxy_502", path=INVOICES, times=ALL_ATTEMPTS)
    with pytest.raises(CommandError) as raised:
        call_command(
            "timesheet",
            xero_alice.email,
            customer="Acme",
            start=str(MAY[0]),
            end=str(MAY[1]),
            upload=["xero"],
            stdout=StringIO(),
        )
    assert "\n" not in str(raised.value)
    assert "sending it to Xero failed: Xero answered 502 with an HTML page" in str(raised.value)
    timesheet = Timesheet.objects.get()
    call_command("xero_upkeep", stdout=StringIO())  # not yet due: nothing sent twice
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)


def test_the_push_task_never_raises_and_records_the_failure(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    push = XeroPush.objects.create(timesheet=timesheet, marker=xero_push.xero_marker(timesheet))
    fake_xero.fail_next("server_500", times=50)
    assert xero_push_task(push.pk, "task-trace-1")["status"] == "failed"
    push.refresh_from_db()
    assert (push.status, push.failure) == ("failed", "bad_answer")
    assert AuditLog.objects.get(operation="xero_push").correlation_id == "task-trace-1"


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_two_pushes_of_one_timesheet_at_once_make_one_invoice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def push() -> None:
        start.wait()
        try:
            xero_push.timesheet_xero_push(
                timesheet=Timesheet.objects.get(pk=timesheet.pk), user=xero_alice
            )
            outcomes.append("sent")
        except xero_client.XeroError as error:
            outcomes.append(str(error))
        except OperationalError as error:
            # The SQLite test database is in memory, shared between threads: a second writer
            # finds the table locked at once (a file database waits for it, settings.py).
            if "locked" not in str(error):
                raise
            outcomes.append("locked")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=push) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert "sent" in outcomes
    assert len(org.invoices) == 1
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)


def test_a_tls_failure_is_a_message_and_a_retry_once_it_is_fixed_makes_one_invoice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, settings: Settings
) -> None:
    import certifi

    timesheet = priced_timesheet(xero_alice)
    fake_xero.expire_access_tokens()
    settings.XERO_CA_BUNDLE = certifi.where()  # the fake's self-signed certificate fails
    error = push_fails(timesheet, xero_alice)
    assert "TLS connection" in str(error) and "XERO_CA_BUNDLE" in str(error)
    assert XeroPush.objects.get().failure == "unavailable"
    settings.XERO_CA_BUNDLE = fake_xero.ca_bundle
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert_once(org, timesheet)
