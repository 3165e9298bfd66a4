"""Sending a timesheet to Xero: one draft invoice with the PDF, amounts to the cent, limits."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from tests.fakes.xero import FakeXero, Organisation
from tests.unchanged import unchanged
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
from timesheets import xero_client, xero_push
from timesheets.models import CustomerSettings, Timesheet, XeroConnection, XeroPush
from timesheets.services import TimesheetError, timesheet_void

__all__ = ["fake_clock_sleep", "inline_tasks", "media_in_tmp", "org", "xero_alice"]

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_push_creates_a_draft_sales_invoice_with_the_pdf_and_a_new_contact(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    push = xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)

    [invoice] = org.invoices.values()
    assert (invoice["Type"], invoice["Status"], invoice["CurrencyCode"]) == (
        "ACCREC",
        "DRAFT",
        "GBP",
    )
    assert push.contact == "created"
    assert [c["Name"] for c in org.contacts.values()] == ["Acme Corporation Ltd"]
    [attachment] = org.attachments[invoice["InvoiceID"]]
    assert attachment["MimeType"] == "application/pdf"
    assert PdfReader(io.BytesIO(attachment["Content"])).pages
    timesheet.refresh_from_db()
    assert timesheet.uploaded_to_xero
    assert (timesheet.xero_invoice_id, timesheet.xero_invoice_number) == (
        invoice["InvoiceID"],
        "INV-0001",
    )
    assert invoice["InvoiceID"] in timesheet.xero_invoice_url


def test_the_invoice_total_matches_the_timesheet_pdf_to_the_cent(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [invoice] = org.invoices.values()
    [attachment] = org.attachments[invoice["InvoiceID"]]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment["Content"])).pages)
    assert Decimal(str(invoice["SubTotal"])) == timesheet.amount_total == Decimal("465.00")
    assert "£465.00" in text
    lines = invoice["LineItems"]
    assert [(line["Quantity"], line["UnitAmount"]) for line in lines] == [
        (3.25, 120.0),
        (0.625, 120.0),
    ]
    assert {line["AccountCode"] for line in lines} == {"200"}
    assert invoice["Reference"]


def test_a_line_per_row_setting_sends_one_line_per_row(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice, xero_line_per_row=True)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [invoice] = org.invoices.values()
    assert len(invoice["LineItems"]) == 4
    assert Decimal(str(invoice["SubTotal"])) == Decimal("465.00")


def test_rounding_that_differs_from_the_printed_lines_is_made_up_by_a_line(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(
        xero_alice, hourly_rate=Decimal("100.01"), rounding_interval=0, rounding_mode="none"
    )
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [invoice] = org.invoices.values()
    assert Decimal(str(invoice["SubTotal"])) == timesheet.amount_total


def test_a_daily_cap_reaches_the_invoice_as_a_line_and_the_totals_agree(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice, daily_cap=Decimal(150))
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    [invoice] = org.invoices.values()
    # The 1 3/4 hours workshop (210.00) is capped at 150.00 on its day.
    assert timesheet.amount_total == Decimal("405.00")
    assert Decimal(str(invoice["SubTotal"])) == timesheet.amount_total
    assert invoice["LineItems"][-1]["Description"].startswith("Daily cap")


def test_pushing_again_creates_no_second_invoice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    again = xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert not again.created
    assert len(org.invoices) == 1
    assert len(org.attachments[again.invoice_id]) == 1


def test_a_lost_answer_is_retried_with_the_same_idempotency_key_and_makes_one_invoice(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    # Two workers: the second never saw the first's answer (nothing stored on its row).
    Timesheet.objects.filter(pk=timesheet.pk).update(
        xero_invoice_id="", xero_attachment_id="", uploaded_to_xero=False
    )
    stale = Timesheet.objects.get(pk=timesheet.pk)
    writes = len(fake_xero.requests_to("/api.xro/2.0/Invoices", "PUT"))
    xero_push.timesheet_xero_push(timesheet=stale, user=xero_alice)
    assert len(org.invoices) == 1
    assert len(next(iter(org.attachments.values()))) == 1
    # The second push found the invoice (by its Reference marker) and the PDF, and wrote nothing.
    assert len(fake_xero.requests_to("/api.xro/2.0/Invoices", "PUT")) == writes
    assert Timesheet.objects.get(pk=timesheet.pk).xero_invoice_number == "INV-0001"


def test_a_mapped_or_existing_contact_is_used(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    existing = fake_xero.add_contact(org, "Acme Corporation Ltd")
    push = xero_push.timesheet_xero_push(timesheet=priced_timesheet(xero_alice), user=xero_alice)
    assert push.contact == "found"
    [invoice] = org.invoices.values()
    assert invoice["Contact"]["ContactID"] == existing["ContactID"]
    assert len(org.contacts) == 1


def test_a_429_storm_is_waited_out_with_retry_after(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, fake_clock_sleep: list[float]
) -> None:
    fake_xero.forced_429 = 4
    fake_xero.forced_retry_after = 7
    xero_push.timesheet_xero_push(timesheet=priced_timesheet(xero_alice), user=xero_alice)
    assert fake_clock_sleep == [7, 7, 7, 7]
    assert len(org.invoices) == 1


def test_a_429_storm_that_does_not_end_fails_the_push_with_an_action_item(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    fake_xero.forced_429 = 100
    timesheet = priced_timesheet(xero_alice)
    with pytest.raises(xero_client.XeroError, match="minute limit is reached"):
        xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert ActionLog.objects.filter(event_type="xero_push_failed").open().exists()
    assert not org.invoices


def test_the_day_limit_fails_the_push_and_says_when_to_come_back(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    org.day_calls.extend([fake_xero.now() - 3600] * 5000)
    with pytest.raises(xero_client.XeroError, match="day limit is reached: try again in"):
        xero_push.timesheet_xero_push(timesheet=priced_timesheet(xero_alice), user=xero_alice)


def test_the_minute_limit_is_honoured(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, fake_clock_sleep: list[float]
) -> None:
    org.minute_calls.extend([fake_xero.now()] * 60)
    xero_push.timesheet_xero_push(timesheet=priced_timesheet(xero_alice), user=xero_alice)
    assert fake_clock_sleep and fake_clock_sleep[0] <= 61
    assert len(org.invoices) == 1


def test_a_failure_opens_an_action_item_and_a_retry_closes_it(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice, xero_account_code="999")
    with pytest.raises(xero_client.XeroError, match="Account code '999' is not a valid code"):
        xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    item = ActionLog.objects.get(event_type="xero_push_failed")
    assert item.state == "open" and not Timesheet.objects.get(pk=timesheet.pk).uploaded_to_xero
    CustomerSettings.objects.filter(user=xero_alice).update(xero_account_code="200")
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    item.refresh_from_db()
    assert item.state == "resolved"


def test_an_expired_refresh_token_fails_the_push_with_a_reconnect_item(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    fake_xero.expire_access_tokens()
    fake_xero.expire_refresh_tokens()
    with pytest.raises(xero_client.XeroReconnectNeeded):
        xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert ActionLog.objects.filter(event_type="reconnect_xero").open().exists()
    assert not org.invoices


def test_every_push_is_audited_without_secrets(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    row = AuditLog.objects.get(operation="xero_push")
    assert row.status == "success"
    assert row.details["invoice_number"] == "INV-0001"
    tokens = XeroConnectionTokens(xero_alice)
    assert not any(t in str(row.request_data) + str(row.details) for t in tokens)


def XeroConnectionTokens(user: User) -> list[str]:
    import json

    stored = json.loads(XeroConnection.objects.get(user=user).token_set)
    return [stored["access_token"], stored["refresh_token"]]


def test_a_pushed_timesheet_is_not_voided_while_its_invoice_stands_in_xero(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice)
    xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    with pytest.raises(TimesheetError, match="delete or void that invoice in Xero"):
        timesheet_void(timesheet=timesheet, user=xero_alice)
    timesheet_void(timesheet=timesheet, user=xero_alice, void_in_xero=True)
    assert next(iter(org.invoices.values()))["Status"] == "DELETED"
    assert Timesheet.objects.get(pk=timesheet.pk).status == "void"
    assert AuditLog.objects.filter(operation="xero_void", status="success").exists()


def test_an_unpriced_timesheet_is_not_sent(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    timesheet = priced_timesheet(xero_alice, currency="", hourly_rate=None)
    with pytest.raises(TimesheetError, match="no rate"):
        xero_push.timesheet_xero_push(timesheet=timesheet, user=xero_alice)
    assert not fake_xero.requests_to("/api.xro")


# -- from the admin, the API and the command -----------------------------------------------------


def test_the_admin_send_to_xero_action_creates_the_draft_and_again_creates_nothing(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice)
    changelist = reverse("admin:timesheets_timesheet_changelist")
    form = {"action": "send_to_xero", "_selected_action": [timesheet.pk]}
    first = inline_tasks(alice_client.post, changelist, form, follow=True)
    assert "Sending 1 timesheet(s) to Xero…" in first.text
    listing = alice_client.get(changelist)
    [invoice_id] = org.invoices
    link = f"https://go.xero.com/AccountsReceivable/Edit.aspx?InvoiceID={invoice_id}"
    assert (
        f'<a class="xero-invoice" href="{link}" target="_blank" rel="noopener">INV-0001</a>'
        in listing.text
    )
    inline_tasks(alice_client.post, changelist, form, follow=True)
    assert len(org.invoices) == 1
    assert len(org.attachments[next(iter(org.invoices))]) == 1


def test_the_api_queues_a_push_answers_202_and_the_status_url_gives_the_invoice(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice)
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    queued = inline_tasks(alice_client.post, url)
    assert queued.status_code == 202, queued.content
    answer = alice_client.get(queued.json()["status_url"])
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["invoice_number"], body["contact"]) == (
        "sent",
        "INV-0001",
        "created",
    )
    assert body["timesheet"]["uploaded_to_xero"] is True
    assert body["timesheet"]["amount_total"] == "465.000"
    inline_tasks(alice_client.post, url)
    assert alice_client.get(url).json()["invoice_id"] == body["invoice_id"]
    assert len(org.invoices) == 1


def test_a_queued_push_answers_202_until_a_worker_takes_it(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, alice_client: Client
) -> None:
    timesheet = priced_timesheet(xero_alice)
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    assert alice_client.post(url).status_code == 202
    status = alice_client.get(url)
    assert (status.status_code, status.json()["status"]) == (202, "queued")
    assert not org.invoices


def test_the_api_answers_409_when_xero_is_not_connected(
    fake_xero: FakeXero, alice: User, alice_client: Client
) -> None:
    timesheet = priced_timesheet(alice)
    with unchanged(xero=fake_xero, allow_new=["auditing.AuditLog"]):
        answer = alice_client.post(reverse("api:timesheet-xero", args=[timesheet.pk]))
    assert answer.status_code == 409
    assert "not connected" in answer.text
    from auditing.models import ActionLog

    assert not ActionLog.objects.exists()  # set-up to do, not a failure to chase


def test_the_api_answers_409_when_xero_refuses_a_setting_and_bob_cannot_push_alices(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    bob_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice, xero_tax_type="NOPE")
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    with unchanged(xero=fake_xero):
        assert bob_client.post(url).status_code == 404
    assert inline_tasks(alice_client.post, url).status_code == 202
    answer = alice_client.get(url)
    assert answer.status_code == 409
    assert "TaxType code 'NOPE'" in answer.json()["detail"]
    assert "customer's Xero settings" in answer.json()["what_to_do"]


def test_the_timesheet_command_issues_and_uploads_to_xero(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    from decimal import Decimal

    from timesheets.models import CustomerSettings

    CustomerSettings.objects.create(
        user=xero_alice,
        customer="Acme",
        display_name="Acme",
        currency="GBP",
        hourly_rate=Decimal(100),
    )
    acme(xero_alice, 6, 60)
    out = StringIO()
    call_command(
        "timesheet",
        xero_alice.email,
        customer="Acme",
        start=str(MAY[0]),
        end=str(MAY[1]),
        upload=["xero"],
        stdout=out,
    )
    assert "Draft invoice INV-0001 in Xero (contact created)" in out.getvalue()
    assert Timesheet.objects.get().uploaded_to_xero


def test_the_timesheet_command_says_in_one_line_when_xero_is_not_connected(
    fake_xero: FakeXero, alice: User
) -> None:
    from decimal import Decimal

    from timesheets.models import CustomerSettings

    CustomerSettings.objects.create(
        user=alice, customer="Acme", currency="GBP", hourly_rate=Decimal(100)
    )
    acme(alice, 6, 60)
    with pytest.raises(CommandError, match="sending it to Xero failed: Xero is not connected"):
        call_command(
            "timesheet",
            alice.email,
            customer="Acme",
            start=str(MAY[0]),
            end=str(MAY[1]),
            upload=["xero"],
            stdout=StringIO(),
        )


def test_a_push_through_the_api_is_audited_under_the_requests_correlation_id(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    from auditing.models import AuditLog

    timesheet = priced_timesheet(xero_alice)
    inline_tasks(
        alice_client.post,
        reverse("api:timesheet-xero", args=[timesheet.pk]),
        HTTP_X_REQUEST_ID="push-trace-1",
    )
    row = AuditLog.objects.get(operation="xero_push")
    assert (row.correlation_id, row.status) == ("push-trace-1", "success")


def test_the_timesheet_page_shows_sending_then_the_invoice_linked_to_xero(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    from timesheets.xero_queue import xero_push_queue

    timesheet = priced_timesheet(xero_alice)
    page = reverse("admin:timesheets_timesheet_change", args=[timesheet.pk])
    xero_push_queue(timesheet=timesheet, user=xero_alice)  # queued; no worker has taken it
    assert "Queued" in alice_client.get(page).text
    XeroPush.objects.update(status="sending")
    assert "Sending…" in alice_client.get(page).text
    XeroPush.objects.update(status="failed")
    inline_tasks(alice_client.post, reverse("api:timesheet-xero", args=[timesheet.pk]))
    [invoice_id] = org.invoices
    assert f"InvoiceID={invoice_id}" in alice_client.get(page).text
    assert ">INV-0001</a>" in alice_client.get(page).text


def test_the_timesheet_list_shows_the_push_in_its_invoice_column(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    from timesheets.xero_queue import xero_push_queue

    timesheet = priced_timesheet(xero_alice)
    changelist = reverse("admin:timesheets_timesheet_changelist")
    assert "Not sent" in alice_client.get(changelist).text
    xero_push_queue(timesheet=timesheet, user=xero_alice)
    assert ">Queued</span>" in alice_client.get(changelist).text
    XeroPush.objects.update(status="failed", error="Xero answered 503")
    assert "Sending failed: Xero answered 503" in alice_client.get(changelist).text
    inline_tasks(alice_client.post, reverse("api:timesheet-xero", args=[timesheet.pk]))
    assert ">INV-0001</a> (sent)" in alice_client.get(changelist).text


def test_the_api_queues_a_batch_and_reports_its_progress_and_bob_sees_none_of_it(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    bob_client: Client,
    inline_tasks: Callable[..., Any],
) -> None:
    timesheet = priced_timesheet(xero_alice)
    url = reverse("api:timesheet-xero-batch")
    body = {"timesheets": [timesheet.pk]}
    assert bob_client.post(url, body, content_type="application/json").status_code == 400
    queued = inline_tasks(alice_client.post, url, body, content_type="application/json")
    assert queued.status_code == 202, queued.content
    assert (queued.json()["total"], queued.json()["refused"]) == (1, [])
    progress = alice_client.get(queued.json()["status_url"])
    assert progress.status_code == 200
    assert (progress.json()["sent"], progress.json()["done"]) == (1, True)
    assert bob_client.get(queued.json()["status_url"]).status_code == 404
    assert len(org.invoices) == 1
