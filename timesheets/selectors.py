"""Timesheet reads: what appointments would bill, per customer and in money, without writing.

The dashboard, the appointment form and the exports read their figures here; the workflows that
issue, void and upload (timesheets/services.py) build on the same functions, so a figure on a
page is the figure a timesheet for it prints.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import User
from calendars.categories import NON_BILLABLE, CategoryError, parse_billing_category
from calendars.models import Appointment, AppointmentQuerySet, Category, category_names
from foundations.days import today_in
from timesheets.billing import (
    DEFAULT_TRAVEL_RATE,
    BillableItem,
    Pricing,
    Rounding,
    TimesheetData,
    format_hours,
    timesheet_rows,
)
from timesheets.models import BillingProfile, CustomerSettings


def customer_pricing(*, user: User, customer_settings: CustomerSettings) -> Pricing:
    """The rates the customer bills at now: its own, else the user's default rate."""
    default = BillingProfile.objects.filter(user=user).first()
    return customer_settings.pricing(default=default)


ITEM_COLUMNS = (
    "pk",
    "start_time",
    "end_time",
    "subject",
    "categories",
    "location__name",
    "billing_type",
    "is_travel",
    "is_private",
    "billable_override",
)


# What hours and money need of an appointment: no subject, categories or location (a join and a
# JSON decode per row that the dashboard's figures never show).
HOURS_COLUMNS = ("pk", "start_time", "end_time", "billing_type", "is_travel", "billable_override")


def hours_item(
    pk: int,
    start: datetime,
    end: datetime,
    billing_type: str | None,
    travel: bool,
    override: bool | None,
) -> BillableItem:
    return BillableItem(
        key=pk,
        start=start,
        end=end,
        subject="",
        billing_type=billing_type or "billable",
        is_travel=travel,
        billable_override=override,
    )


def billing_items(
    appointments: Iterable[Appointment] | QuerySet[Appointment],
) -> list[BillableItem]:
    """Billing's view of appointments; a queryset is read as plain values (no model objects),
    which keeps a year's export fast."""
    if isinstance(appointments, QuerySet):
        return [billing_item(*values) for values in appointments.values_list(*ITEM_COLUMNS)]
    return [
        billing_item(
            a.pk,
            a.start_time,
            a.end_time,
            a.subject,
            a.categories,
            a.location.name if a.location is not None else None,
            a.billing_type,
            a.is_travel,
            a.is_private,
            a.billable_override,
        )
        for a in appointments
    ]


def billing_item(
    pk: int,
    start: datetime,
    end: datetime,
    subject: str | None,
    categories: list[str] | None,
    location: str | None,
    billing_type: str | None,
    travel: bool,
    private: bool,
    override: bool | None,
) -> BillableItem:
    return BillableItem(
        key=pk,
        start=start,
        end=end,
        subject=subject or "",
        categories=category_names(categories),
        location=location or "",
        billing_type=billing_type or "billable",
        is_travel=travel,
        is_private=private,
        billable_override=override,
    )


def internal_customers(*, user: User) -> tuple[set[str], set[str]]:
    """Customers (lower case) the user's categories mark as internal time, and those that have
    a billable category: a customer with only non-billable time and no billable category
    (Admin, Break) is internal too, whatever it is called."""
    internal: set[str] = set()
    billable: set[str] = set()
    for name, is_internal in Category.objects.filter(user=user).values_list("name", "is_internal"):
        try:
            parsed = parse_billing_category(name)
        except CategoryError:
            continue
        key = parsed.customer.strip().lower()
        if is_internal:
            internal.add(key)
        if parsed.billing_type != NON_BILLABLE:
            billable.add(key)
    return internal, billable


@dataclass
class CustomerHours:
    """One customer's hours over a period, as the timesheet for it would bill them, priced at
    the customer's rates (else the user's default rate); `amount` is None without a rate."""

    data: TimesheetData
    first_day: date
    last_day: date
    internal: bool = False
    settings_id: int | None = None

    @property
    def customer(self) -> str:
        return self.data.customer

    @property
    def billable(self) -> Decimal:
        return self.data.effort_billable_total

    @property
    def non_billable(self) -> Decimal:
        return self.data.effort_total - self.data.effort_billable_total

    @property
    def travel(self) -> Decimal:
        return self.data.travel_total

    @property
    def total(self) -> Decimal:
        return self.data.effort_total + self.data.travel_total

    @property
    def billable_total(self) -> Decimal:
        return self.data.billable_total

    @property
    def currency(self) -> str:
        return self.data.currency

    @property
    def amount(self) -> Decimal | None:
        return self.data.amount_total if self.data.priced else None


def customer_hours(
    *, user: User, appointments: AppointmentQuerySet, start: date | None = None
) -> list[CustomerHours]:
    """Hours and amounts per customer of the billable appointments given, computed by
    `timesheet_rows` with each customer's travel rate, rounding and rates: the same figures a
    timesheet shows. Internal time (see `internal_customers`) is flagged, never priced.

    Four queries however many appointments: the rows are read as plain values, one pass."""
    by_customer: dict[str, list[tuple]] = {}
    names: dict[str, str] = {}
    for customer, *values in (
        appointments.billable()
        .order_by()
        .values_list("customer", *HOURS_COLUMNS)
        .iterator(chunk_size=5000)
    ):
        key = customer.strip().lower()
        names.setdefault(key, customer.strip())
        by_customer.setdefault(key, []).append(values)
    customer_settings = {
        row.customer.strip().lower(): row for row in CustomerSettings.objects.filter(user=user)
    }
    default = BillingProfile.objects.filter(user=user).first()
    marked, billable_categories = internal_customers(user=user)
    result = []
    for key, rows in by_customer.items():
        items = [hours_item(*values) for values in rows]
        nothing_billable = all(item.billing_type == NON_BILLABLE for item in items)
        internal = key in marked or (nothing_billable and key not in billable_categories)
        result.append(
            _customer_hours_row(
                user=user,
                name=names[key],
                items=items,
                found=customer_settings.get(key),
                default=default,
                internal=internal,
                start=start,
            )
        )
    result.sort(key=lambda hours: (hours.internal, -hours.total, hours.customer.lower()))
    return result


def _customer_hours_row(
    *,
    user: User,
    name: str,
    items: list[BillableItem],
    found: CustomerSettings | None,
    default: BillingProfile | None,
    internal: bool,
    start: date | None,
) -> CustomerHours:
    """One customer's hours priced as its timesheet would be (internal time never is)."""
    zone = zoneinfo.ZoneInfo(user.timezone)
    pricing = Pricing()
    if found is not None and not internal:
        pricing = found.pricing(default=default)
    elif found is None and not internal and default is not None:
        pricing = CustomerSettings(customer=name).pricing(default=default)
    effort, travel = timesheet_rows(
        items,
        timezone=user.timezone,
        travel_rate=found.travel_rate if found else DEFAULT_TRAVEL_RATE,
        rounding=found.rounding() if found else Rounding(),
        pricing=pricing,
    )
    days = [item.start.astimezone(zone).date() for item in items]
    return CustomerHours(
        data=TimesheetData(
            customer=name,
            customer_display_name=(found.display_name if found else "") or name,
            consultant=user.name or user.email,
            report_date=today_in(zone),
            start_date=start or min(days),
            end_date=max(days),
            effort_rows=effort,
            travel_rows=travel,
            pricing=pricing,
        ),
        first_day=min(days),
        last_day=max(days),
        internal=internal,
        settings_id=found.pk if found else None,
    )


def amounts_by_currency(rows: Iterable[CustomerHours]) -> dict[str, Decimal]:
    """The rows' amounts summed per currency (never EUR added to GBP), currencies in order."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row.amount is not None:
            totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.amount
    return dict(sorted(totals.items()))


def period_customer_hours(*, user: User, start: date, end: date) -> list[CustomerHours]:
    """The period's hours per customer (billed or not), as timesheets for it would show."""
    appointments = Appointment.objects.filter(user=user).in_period(start, end, user.timezone)
    return customer_hours(user=user, appointments=appointments, start=start)


def unbilled_customer_hours(*, user: User) -> list[CustomerHours]:
    """Archived appointments on no issued timesheet, per customer."""
    appointments = Appointment.objects.filter(user=user, is_archived=True).unlocked()
    return customer_hours(user=user, appointments=appointments)


def appointment_billing(appointment: Appointment) -> str:
    """What a timesheet would make of the appointment, in words: why it is left out, or its
    row's hours and billable hours by the customer's settings."""
    reasons = {
        "shown as free": appointment.show_as == Appointment.ShowAs.FREE,
        "cancelled": appointment.is_cancelled,
        "out of office": appointment.is_out_of_office,
        "no customer": not (appointment.customer or "").strip(),
        f"overlap {appointment.overlap_state}": appointment.overlap_state
        in Appointment.UNBILLED_OVERLAP_STATES,
    }
    left_out = [reason for reason, applies in reasons.items() if applies]
    if left_out:
        return f"Not billed: {', '.join(left_out)}."
    if not (appointment.start_time and appointment.end_time and appointment.user_id):
        return "Not billed yet: no times."
    found = CustomerSettings.objects.filter(
        user_id=appointment.user_id, customer__iexact=(appointment.customer or "").strip()
    ).first()
    (item,) = billing_items([appointment])
    effort, travel = timesheet_rows(
        [item],
        timezone=appointment.user.timezone,
        travel_rate=found.travel_rate if found else DEFAULT_TRAVEL_RATE,
        rounding=found.rounding() if found else Rounding(),
    )
    if travel:
        trip = travel[0]
        return (
            f"Travel for {appointment.customer}: {format_hours(trip.duration)}, "
            f"{format_hours(trip.billable)} billable."
        )
    work = effort[0]
    return (
        f"Effort for {appointment.customer}: {format_hours(work.effort)}, "
        f"{format_hours(work.billable)} billable."
    )
