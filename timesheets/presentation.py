"""How a timesheet's money and hand-offs read in the admin list and on its page: the amount in
its currency (Babel), the Xero invoice (number linked to Xero) and where its files went.

The Xero part reads only the fields that exist on Timesheet today (invoice id, number, url,
uploaded_to_xero), in `timesheet_invoice` alone, so a richer push state changes one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from foundations.days import short_period
from timesheets.billing import format_money
from timesheets.models import Timesheet


def timesheet_period(timesheet: Timesheet) -> str:
    """`1-30 Nov 2026` (an en dash), `28 Nov - 3 Dec 2026`: short, for the list's column."""
    return short_period(timesheet.start_date, timesheet.end_date)


def timesheet_amount(timesheet: Timesheet) -> str:
    """`£1,234.50`, or "" when it was issued without a rate."""
    if timesheet.amount_total is None or not timesheet.currency:
        return ""
    return format_money(timesheet.amount_total, timesheet.currency)


def timesheet_rate_url(timesheet: Timesheet) -> str:
    """Where to set the rate of a timesheet's customer (for the next one: issued is frozen)."""
    query = urlencode({"q": timesheet.customer or "", "user": timesheet.user_id})
    return reverse("admin:timesheets_customersettings_changelist") + "?" + query


def timesheet_amount_html(timesheet: Timesheet) -> SafeString:
    amount = timesheet_amount(timesheet)
    if amount:
        return format_html('<span class="timesheet-amount">{}</span>', amount)
    return format_html(
        '<a class="no-rate" href="{}" title="Issued without a rate: set one, void and issue '
        'again">no rate</a>',
        timesheet_rate_url(timesheet),
    )


@dataclass(frozen=True)
class InvoiceState:
    label: str  # "Draft INV-0042", "Not sent"
    number: str
    url: str


def timesheet_invoice(timesheet: Timesheet) -> InvoiceState:
    """The timesheet's invoice in Xero as far as the app knows it."""
    push = getattr(timesheet, "xero_push", None)  # the push under way, if any
    if timesheet.xero_invoice_id:
        number = timesheet.xero_invoice_number or timesheet.xero_invoice_id[:8]
        state = "sent" if timesheet.uploaded_to_xero else "created, PDF not attached"
        if push is not None and push.status in (push.Status.QUEUED, push.Status.SENDING):
            state = "sending…"
        return InvoiceState(f"{number} ({state})", number, timesheet.xero_invoice_url)
    if push is not None and push.status in (push.Status.QUEUED, push.Status.SENDING):
        return InvoiceState(str(push.get_status_display()), "", "")
    if push is not None and push.status == push.Status.FAILED:
        return InvoiceState(f"Sending failed: {push.error}"[:160], "", "")
    return InvoiceState("Not sent", "", "")


def timesheet_invoice_html(timesheet: Timesheet) -> SafeString:
    invoice = timesheet_invoice(timesheet)
    if invoice.url:
        return format_html(
            '<a class="xero-invoice" href="{}" target="_blank" rel="noopener">{}</a>{}',
            invoice.url,
            invoice.number,
            invoice.label.removeprefix(invoice.number),
        )
    return format_html('<span class="xero-invoice">{}</span>', invoice.label)


def timesheet_uploads(timesheet: Timesheet) -> str:
    """Where the files went: "OneDrive, Xero", "OneDrive", or "—" (nowhere yet)."""
    places = [
        name
        for name, done in (
            ("OneDrive", timesheet.uploaded_to_onedrive),
            ("Xero", timesheet.uploaded_to_xero),
        )
        if done
    ]
    return ", ".join(places) or "\u2014"
