"""The demo's money: customers with rates in two currencies and a travel rate, and last month's
timesheets issued (and the month before's, for every customer), one voided (so its month waits
to be invoiced again), and one sent to Xero
as a draft where Xero is configured and connected. Everything goes through the services and the
models' own validation, as the admin would write it; each timesheet is issued once.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import User
from timesheets.models import BillingProfile, CustomerSettings, Timesheet
from timesheets.services import TimesheetError, timesheet_generate, timesheet_void

logger = logging.getLogger(__name__)

# customer -> its settings: display and legal name, currency, hourly rate, travel's own rate.
CUSTOMERS: dict[str, dict[str, object]] = {
    "Acme": {
        "display_name": "Acme",
        "legal_name": "Acme Corporation Ltd",
        "currency": "GBP",
        "hourly_rate": Decimal("120.00"),
        "travel_hourly_rate": Decimal("60.00"),
        "rounding_interval": 15,
        "rounding_mode": "up",
    },
    "Globex": {
        "display_name": "Globex",
        "legal_name": "Globex Europe GmbH",
        "currency": "EUR",
        "hourly_rate": Decimal("135.00"),
        "travel_rate": Decimal("1.00"),
        "travel_hourly_rate": Decimal("45.00"),
    },
    "Initech": {
        "display_name": "Initech",
        "legal_name": "Initech UK Ltd",
        "currency": "GBP",
        "hourly_rate": Decimal("95.00"),
        "rounding_interval": 30,
        "rounding_mode": "nearest",
    },
}
MEMBER_CUSTOMERS: dict[str, dict[str, object]] = {
    "Umbrella": {"display_name": "Umbrella Labs", "currency": "EUR", "hourly_rate": Decimal("110")}
}
ISSUED = ("Acme", "Globex")  # last month's timesheets that stand
VOIDED = "Initech"  # issued, then voided: its month waits to be invoiced again


def customer_settings_upsert(user: User, customers: dict[str, dict[str, object]]) -> None:
    for customer, terms in customers.items():
        row = CustomerSettings.objects.filter(
            user=user, customer__iexact=customer
        ).first() or CustomerSettings(user=user, customer=customer)
        for name, value in terms.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def demo_billing_seed(admin: User, *, today: date) -> list[Timesheet]:
    profile, _ = BillingProfile.objects.get_or_create(user=admin)
    profile.currency, profile.hourly_rate = "GBP", Decimal("100.00")
    profile.full_clean()
    profile.save()
    customer_settings_upsert(admin, CUSTOMERS)
    start, end = last_month(today)
    # The month before was invoiced in full: what waits is this month and the voided one.
    earlier_start, earlier_end = last_month(start)
    for customer in CUSTOMERS:
        timesheet_issue_once(admin, customer, earlier_start, earlier_end)
    issued = [
        timesheet
        for customer in ISSUED
        if (timesheet := timesheet_issue_once(admin, customer, start, end)) is not None
    ]
    voided_before = Timesheet.objects.filter(
        user=admin, customer__iexact=VOIDED, status=Timesheet.Status.VOID, start_date=start
    ).exists()
    if not voided_before:
        wrong = timesheet_issue_once(admin, VOIDED, start, end)
        if wrong is not None:
            timesheet_void(timesheet=wrong, user=admin)
    if issued:
        xero_draft_send(admin, issued[0])
    return issued


def demo_member_billing_seed(member: User) -> None:
    customer_settings_upsert(member, MEMBER_CUSTOMERS)


def timesheet_issue_once(user: User, customer: str, start: date, end: date) -> Timesheet | None:
    """The customer's issued timesheet for the period, issued by the real generation service
    the first time; None when the window holds nothing of that month to bill."""
    existing = Timesheet.objects.filter(
        user=user,
        customer__iexact=customer,
        status=Timesheet.Status.ISSUED,
        start_date=start,
        end_date=end,
    ).first()
    if existing is not None:
        return existing
    try:
        return timesheet_generate(user=user, customer=customer, start=start, end=end).timesheet
    except TimesheetError:
        return None


def xero_draft_send(user: User, timesheet: Timesheet) -> None:
    """Send one timesheet to Xero as a draft invoice, when Xero is configured and the user
    connected an organisation; the demo never fails for Xero."""
    from timesheets.xero_client import XeroError, xero_configured
    from timesheets.xero_push import timesheet_xero_push

    connection = getattr(user, "xero_connection", None)
    if timesheet.xero_invoice_id or not xero_configured():
        return
    if connection is None or not connection.is_connected or not connection.tenant_id:
        return
    try:
        timesheet_xero_push(timesheet=timesheet, user=user)
    except (XeroError, TimesheetError) as error:
        logger.warning("The demo could not send timesheet %s to Xero: %s", timesheet.pk, error)
