"""Sending a timesheet to Xero: one draft ACCREC invoice with its PDF, exactly once.

The exchange with Xero is one gateway call (`_exchange`): find or create the contact, find
(by the marker in `Reference`) or create the invoice, find or attach the PDF. Each write is
recorded on the timesheet's `XeroPush` row before it goes out, so an attempt whose answer was
lost is looked up in Xero by a later one and adopted, never made twice; the invoice body is
frozen on that row at the first attempt, so a settings change between attempts cannot make a
second, different invoice. Pushes run as django-q2 tasks (queued by `xero_queue.py`); the
command runs its own in-process (`timesheet_xero_push`). The lines are built in `xero_lines.py`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.utils import timezone

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from foundations.days import today_in
from timesheets.models import Timesheet, XeroPush
from timesheets.onedrive import onedrive_name
from timesheets.recommendations import retry_recommendation
from timesheets.services import (
    TimesheetError,
    customer_settings_for,
    timesheet_billed,
    timesheet_file,
)
from timesheets.xero import ACCOUNTING, close_items, connection_for, reconnect_item
from timesheets.xero_client import XeroClient, XeroError, XeroNotConnected, XeroRefused
from timesheets.xero_lines import xero_invoice_lines

logger = logging.getLogger(__name__)

INVOICE_LINK = "https://go.xero.com/AccountsReceivable/Edit.aspx?InvoiceID={}"
LEASE = timedelta(minutes=10)  # a worker that died mid-push lets another take over after this
LIVE = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID")  # an invoice with our marker that counts
_EMAIL = re.compile(r"\S+@\S+")
# Xero's attachment names: the stricter reading (its docs are silent) keeps to OneDrive's
# rules and also drops '#', '%' and '&' that break URL paths and e-mail clients.
_XERO_EXTRA = str.maketrans({"#": "-", "%": "-", "&": "and"})


@dataclass
class XeroPushResult:
    invoice_id: str
    invoice_number: str
    invoice_url: str
    contact: str  # "mapped", "found", "created" or "already invoiced"
    requests_sent: int
    created: bool


def xero_marker(timesheet: Timesheet) -> str:
    """The timesheet's mark in the invoice's Reference: letters, digits and '-' only, so the
    `where` filter that looks for it never needs a quote escaped."""
    digest = hashlib.sha256(timesheet.xero_idempotency_key.encode()).hexdigest()[:16]
    return f"AA-{digest.upper()}"


def xero_attachment_name(timesheet: Timesheet, *, customer: str) -> str:
    """ "Timesheet <Customer> <start> to <end>.pdf", cleaned for Xero and OneDrive, no e-mail."""
    who = " ".join(_EMAIL.sub("", customer).split()) or "customer"
    stem = f"Timesheet {who} {timesheet.start_date:%Y-%m-%d} to {timesheet.end_date:%Y-%m-%d}"
    return onedrive_name(f"{stem.translate(_XERO_EXTRA)[:180].rstrip('. ')}.pdf")


# -- running a push ------------------------------------------------------------------------------


def xero_push_check(*, timesheet: Timesheet) -> None:
    """What must hold before a push is queued (changes nothing; the API answers 409)."""
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet cannot be sent to Xero.")
    if not (timesheet.currency and timesheet.hourly_rate is not None):
        raise TimesheetError(
            "This timesheet has no rate: set the customer's (or your default) rate and currency "
            "before issuing, then issue it again."
        )
    connection_for(timesheet.user)


def push_row(timesheet: Timesheet) -> XeroPush:
    push, _ = XeroPush.objects.get_or_create(
        timesheet=timesheet, defaults={"marker": xero_marker(timesheet)}
    )
    return push


def timesheet_xero_push(*, timesheet: Timesheet, user: User) -> XeroPushResult:
    """Push now, in this process (the command, which may wait for its own push)."""
    xero_push_check(timesheet=timesheet)
    push = push_row(timesheet)
    try:
        return xero_push_run(push_id=push.pk, user=user)
    finally:
        timesheet.refresh_from_db()


def xero_push_run(*, push_id: int, user: User | None = None) -> XeroPushResult:
    """Run one push (the task's body). Raises the XeroError or TimesheetError it recorded."""
    push = XeroPush.objects.select_related("timesheet__user").get(pk=push_id)
    timesheet = push.timesheet
    now = timezone.now()
    claimed = (
        XeroPush.objects.filter(pk=push.pk)
        .exclude(status=XeroPush.Status.SENDING, lease_until__gt=now)
        .update(status=XeroPush.Status.SENDING, lease_until=now + LEASE, started_at=now)
    )
    if not claimed:
        raise XeroError("This timesheet is being sent to Xero already: wait for that push.")
    push.refresh_from_db()
    owner = timesheet.user
    client: XeroClient | None = None
    try:
        with audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="xero_push",
            user=user or owner,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
            request_data={"timesheet": timesheet.pk, "attempt": push.attempts + 1},
        ) as audit:
            xero_push_check(timesheet=timesheet)
            client = XeroClient(connection_for(owner))
            result = _exchange(client, push, timesheet)
            audit.message = (
                f"Draft invoice {timesheet.xero_invoice_number} in Xero for timesheet "
                f"{timesheet.pk} (contact {result.contact})"
            )
            audit.details = {
                "invoice_id": timesheet.xero_invoice_id,
                "invoice_number": timesheet.xero_invoice_number,
                "attachment_id": timesheet.xero_attachment_id,
                "contact": result.contact,
                "requests": client.requests_sent,
                "limit_waits": client.budget.waits,
            }
    except (XeroError, TimesheetError) as error:
        _failed(push, client, error)
        raise
    except Exception as error:  # a bug must not leave the push "sending" for ever
        logger.exception("Xero push %s failed unexpectedly", push.pk)
        _failed(push, client, XeroError(f"An unexpected error stopped the push: {error}"))
        raise XeroError("An unexpected error stopped the push; it was logged.") from error
    _finished(push, client, status=XeroPush.Status.SENT, failure="", error="", limit_problem="")
    close_items(owner, ActionLog.EventType.XERO_PUSH_FAILED, str(timesheet.pk))
    close_items(owner, ActionLog.EventType.RECONNECT_XERO, "xero")
    return result


def _finished(push: XeroPush, client: XeroClient | None, *, status: str, **fields: Any) -> None:
    XeroPush.objects.filter(pk=push.pk).update(
        status=status,
        finished_at=timezone.now(),
        lease_until=None,
        attempts=push.attempts + 1,
        requests_sent=push.requests_sent + (client.requests_sent if client else 0),
        limit_waits=push.limit_waits + (client.budget.waits if client else 0),
        **fields,
    )


def _failed(push: XeroPush, client: XeroClient | None, error: BaseException) -> None:
    failure = getattr(error, "failure", XeroPush.Failure.REFUSED)
    problem = getattr(error, "problem", "")
    if isinstance(error, XeroNotConnected) or not isinstance(error, XeroError | TimesheetError):
        failure = XeroPush.Failure.REFUSED
    _finished(
        push,
        client,
        status=XeroPush.Status.FAILED,
        failure=failure,
        error=str(error),
        limit_problem=problem,
    )
    timesheet = push.timesheet
    if failure == XeroPush.Failure.RECONNECT:
        reconnect_item(timesheet.user, str(error))
    details = {
        "timesheet": timesheet.pk,
        "error": str(error)[:500],
        "failure": failure,
        "rate_limit_problem": problem,
    }
    item, opened = ActionLog.objects.open_item(
        user=timesheet.user,
        event_type=ActionLog.EventType.XERO_PUSH_FAILED,
        key=timesheet.pk,
        description=f"Sending timesheet {timesheet} to Xero failed: {str(error)[:300]}",
        details=details,
        recommendations=retry_recommendation("push", reason=_what_to_do(failure, problem)),
    )
    if not opened:
        ActionLog.objects.filter(pk=item.pk).update(
            details=details,
            description=f"Sending timesheet {timesheet} to Xero failed: {str(error)[:300]}",
            recommendations=retry_recommendation("push", reason=_what_to_do(failure, problem)),
        )


def xero_push_what_to_do(push: XeroPush) -> str:
    return _what_to_do(push.failure, push.limit_problem)


def _what_to_do(failure: str, problem: str) -> str:
    if failure == XeroPush.Failure.RECONNECT:
        return "Connect Xero again, then 'Send to Xero' on the timesheet."
    if failure == XeroPush.Failure.REFUSED:
        return "Correct what Xero refused (the customer's Xero settings), then 'Send to Xero'."
    if failure == XeroPush.Failure.LIMIT:
        return (
            f"Xero's {problem or 'rate'} limit was reached: the push is retried automatically "
            "once it resets, or 'Send to Xero' later."
        )
    return "Xero was unavailable: the push is retried automatically, or 'Send to Xero' again."


# -- the exchange with Xero --------------------------------------------------------------------


def _frozen_body(push: XeroPush, timesheet: Timesheet) -> dict[str, Any]:
    """The invoice as first attempted; built (and saved) now if there is none yet."""
    if push.body:
        return push.body
    terms = customer_settings_for(user=timesheet.user, customer=timesheet.customer or "")
    data = timesheet_billed(timesheet)
    period = data.period[: 255 - len(push.marker) - 3]
    body = {
        "contact_name": terms.legal_name or terms.display_name or terms.customer,
        "contact_id": terms.xero_contact_id,
        "contact": "mapped" if terms.xero_contact_id else "",
        "attachment_name": xero_attachment_name(
            timesheet, customer=terms.display_name or terms.customer
        ),
        "invoice": {
            "Type": "ACCREC",
            # The consultant's today, not the server's UTC date.
            "Date": f"{today_in(timesheet.user.timezone or 'UTC'):%Y-%m-%d}",
            "Reference": f"{period} [{push.marker}]",
            "Status": "DRAFT",
            "CurrencyCode": timesheet.currency,
            "LineAmountTypes": "Exclusive",
            "LineItems": xero_invoice_lines(data, terms=terms),
        },
    }
    push.body = body
    push.save(update_fields=["body"])
    return body


def _exchange(client: XeroClient, push: XeroPush, timesheet: Timesheet) -> XeroPushResult:
    body = _frozen_body(push, timesheet)
    created = False
    contact = "already invoiced"
    if not timesheet.xero_invoice_id:
        contact = _contact(client, push, body, timesheet.xero_idempotency_key)
        created = _invoice(client, push, body, timesheet)
    if not timesheet.xero_attachment_id:
        timesheet.xero_attachment_id = _attachment(client, push, body, timesheet)
    timesheet.uploaded_to_xero = True
    timesheet.save(update_fields=["xero_attachment_id", "uploaded_to_xero"])
    return XeroPushResult(
        invoice_id=timesheet.xero_invoice_id,
        invoice_number=timesheet.xero_invoice_number,
        invoice_url=timesheet.xero_invoice_url,
        contact=contact,
        requests_sent=client.requests_sent,
        created=created,
    )


def _contact(client: XeroClient, push: XeroPush, body: dict[str, Any], key: str) -> str:
    """The contact's id into the frozen body: mapped, found by exact case-insensitive name
    (archived ones too; `searchTerm` needs no quoting) or created once."""
    if body["contact_id"]:
        return str(body["contact"] or "mapped")
    name = body["contact_name"]
    found = client.call(
        "GET",
        f"{ACCOUNTING}/Contacts",
        params={"searchTerm": name, "includeArchived": "true", "summaryOnly": "true"},
    ).body.get("Contacts", [])
    exact = [c for c in found if c.get("Name", "").casefold() == name.casefold()]
    if exact:
        body["contact_id"], body["contact"] = exact[0]["ContactID"], "found"
    else:
        push.contact_sent_at = timezone.now()
        push.save(update_fields=["contact_sent_at"])
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        try:
            reply = client.call(
                "PUT",
                f"{ACCOUNTING}/Contacts",
                json_body={"Contacts": [{"Name": name}]},
                idempotency_key=f"{key}-contact-{digest}",
            )
        except XeroRefused:
            # Nothing was made: the next attempt takes the (corrected) name afresh.
            push.body, push.contact_sent_at = None, None
            push.save(update_fields=["body", "contact_sent_at"])
            raise
        body["contact_id"], body["contact"] = reply.body["Contacts"][0]["ContactID"], "created"
    push.body = body
    push.save(update_fields=["body"])
    return str(body["contact"])


def _invoice(client: XeroClient, push: XeroPush, body: dict[str, Any], ts: Timesheet) -> bool:
    """Adopt the invoice an earlier attempt may have made, else create it; True if created."""
    stored = _invoice_find(client, push) if push.invoice_sent_at else None
    created = stored is None
    if stored is None:
        invoice = {**body["invoice"], "Contact": {"ContactID": body["contact_id"]}}
        push.invoice_sent_at = timezone.now()  # recorded before the request goes out
        push.save(update_fields=["invoice_sent_at"])
        try:
            reply = client.call(
                "PUT",
                f"{ACCOUNTING}/Invoices",
                json_body={"Invoices": [invoice]},
                params={"unitdp": "4"},
                idempotency_key=_content_key(ts.xero_idempotency_key, invoice),
            )
        except XeroRefused:
            # Xero refused it: nothing was made, so the next attempt builds the body afresh
            # from the (corrected) settings.
            push.body, push.invoice_sent_at = None, None
            push.save(update_fields=["body", "invoice_sent_at"])
            raise
        [stored] = reply.body["Invoices"]
    ts.xero_invoice_id = stored["InvoiceID"]
    ts.xero_invoice_number = stored.get("InvoiceNumber", "")
    ts.xero_invoice_url = INVOICE_LINK.format(stored["InvoiceID"])
    ts.save(update_fields=["xero_invoice_id", "xero_invoice_number", "xero_invoice_url"])
    return created


def _invoice_find(client: XeroClient, push: XeroPush) -> dict[str, Any] | None:
    found = client.call(
        "GET",
        f"{ACCOUNTING}/Invoices",
        params={
            "where": f'Type=="ACCREC" AND Reference.Contains("{push.marker}")',
            "Statuses": ",".join(LIVE),
            "summaryOnly": "true",
        },
    ).body.get("Invoices", [])
    live = [i for i in found if i.get("Status") in LIVE and push.marker in i.get("Reference", "")]
    return live[0] if live else None


def _attachment(client: XeroClient, push: XeroPush, body: dict[str, Any], ts: Timesheet) -> str:
    """Adopt the PDF an earlier attempt may have attached, else attach it (online too)."""
    name = body["attachment_name"]
    path = f"{ACCOUNTING}/Invoices/{ts.xero_invoice_id}/Attachments"
    if push.attachment_sent_at:
        for attachment in client.call("GET", path).body.get("Attachments", []):
            if attachment.get("FileName") == name:
                return str(attachment["AttachmentID"])
    _, pdf = timesheet_file(timesheet=ts, fmt="pdf")
    push.attachment_sent_at = timezone.now()
    push.save(update_fields=["attachment_sent_at"])
    reply = client.call(
        "PUT",
        f"{path}/{quote(name)}",
        data=pdf,
        content_type="application/pdf",
        params={"IncludeOnline": "true"},
        idempotency_key=f"{ts.xero_idempotency_key}-pdf",
    )
    return str(reply.body["Attachments"][0]["AttachmentID"])


def _content_key(key: str, invoice: dict[str, Any]) -> str:
    """The timesheet's key plus a digest of the invoice: a retry of the same body replays,
    while a body rebuilt after Xero refused it is a new request, not a replay of the refusal."""
    digest = hashlib.sha256(json.dumps(invoice, sort_keys=True).encode()).hexdigest()[:16]
    return f"{key}-{digest}"
