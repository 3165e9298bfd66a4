"""Timesheet reads: what appointments would bill, per customer and in money, without writing.

The dashboard, the appointment form and the exports read their figures here; the workflows that
issue, void and upload (timesheets/services.py) build on the same functions, so a figure on a
page is the figure a timesheet for it prints.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, QuerySet

from accounts.models import User
from calendars.categories import NON_BILLABLE, CategoryError, parse_billing_category
from calendars.models import Appointment, AppointmentQuerySet, Category, category_names
from timesheets.billing import (
    DEFAULT_TRAVEL_RATE,
    NO_PRICING,
    BillableItem,
    EffortRow,
    Pricing,
    Rounding,
    TravelRow,
    format_hours,
    timesheet_row,
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
# Appointments of one customer that bill alike (billing type, travel, override) and last as long
# round and price alike, so the database counts them: a group, not a row, is priced.
GROUP_COLUMNS = ("customer", "billing_type", "is_travel", "billable_override", "duration")
DURATION = ExpressionWrapper(F("end_time") - F("start_time"), output_field=DurationField())


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
    categories = Category.objects.filter(user=user).order_by()  # sets: no join for the order
    for name, is_internal in categories.values_list("name", "is_internal"):
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
    """One customer's hours over a period as the timesheet for it would bill them (each row
    rounded by the customer's policy, then summed), priced at the customer's rates (else the
    user's default rate); `amount` is None without a rate. Internal time (see
    `internal_customers`) is flagged, never priced."""

    customer: str
    display_name: str
    first_day: date
    last_day: date
    pricing: Pricing = NO_PRICING
    effort: Decimal = Decimal(0)  # effort hours, billable or not
    billable: Decimal = Decimal(0)  # the billable share of the effort hours
    travel: Decimal = Decimal(0)
    travel_billable: Decimal = Decimal(0)  # travel's billable hours, at its travel share
    amount_total: Decimal = Decimal(0)
    internal: bool = False
    settings_id: int | None = None

    @property
    def non_billable(self) -> Decimal:
        return self.effort - self.billable

    @property
    def total(self) -> Decimal:
        return self.effort + self.travel

    @property
    def billable_total(self) -> Decimal:
        return self.billable + self.travel_billable

    @property
    def currency(self) -> str:
        return self.pricing.currency

    @property
    def amount(self) -> Decimal | None:
        return self.amount_total if self.pricing.priced else None

    def add(self, row: EffortRow | TravelRow, times: int = 1) -> None:
        """Count a timesheet row `times` times (a group of like appointments is one row's
        figures times its size: the same Decimals a timesheet sums)."""
        if isinstance(row, TravelRow):
            self.travel += row.duration * times
            self.travel_billable += row.billable * times
        else:
            self.effort += row.effort * times
            self.billable += row.billable * times
        if row.amount is not None:
            self.amount_total += row.amount * times


def hours_groups(appointments: AppointmentQuerySet) -> QuerySet[Appointment, tuple]:
    """The billable appointments counted in groups that bill alike: `GROUP_COLUMNS`, then the
    group's size and its first and last start. The one read `customer_hours` prices (and the
    benchmarks' floor)."""
    return (
        appointments.billable()
        .order_by()
        .annotate(duration=DURATION)
        .values_list(*GROUP_COLUMNS)
        .annotate(count=Count("pk"), first=Min("start_time"), last=Max("start_time"))
    )


@dataclass(frozen=True)
class BillingTerms:
    """What pricing a user's customers reads besides their appointments (three queries)."""

    customer_settings: dict[str, CustomerSettings]  # by customer, stripped, lower case
    default: BillingProfile | None
    internal: set[str]  # see `internal_customers`
    billable_categories: set[str]
    settings_rows: tuple[CustomerSettings, ...] = ()  # every row, as read

    @classmethod
    def of(cls, user: User) -> BillingTerms:
        shared = _SHARED_TERMS.get()
        if shared is not None and user.pk in shared:
            return shared[user.pk]
        settings = tuple(CustomerSettings.objects.filter(user=user).order_by("customer"))
        marked, billable = internal_customers(user=user)
        terms = cls(
            customer_settings={row.customer.strip().lower(): row for row in settings},
            default=BillingProfile.objects.filter(user=user).first(),
            internal=marked,
            billable_categories=billable,
            settings_rows=settings,
        )
        if shared is not None:
            shared[user.pk] = terms
        return terms


_SHARED_TERMS: ContextVar[dict[int, BillingTerms] | None] = ContextVar(
    "shared_billing_terms", default=None
)


@contextmanager
def billing_terms_shared() -> Iterator[None]:
    """Within the block each user's terms are read once, however many figures price them (the
    home page prices the month, the unbilled and the amount at stake). For a page that only
    reads: a change to a user's settings made inside the block is not seen by a later figure."""
    token = _SHARED_TERMS.set({})
    try:
        yield
    finally:
        _SHARED_TERMS.reset(token)


def shared_billing_terms(user_ids: Iterable[int]) -> dict[int, BillingTerms] | None:
    """The terms `BillingTerms.of` has read in this `billing_terms_shared` block for each of
    the users, or None when any of them is not among them (read them then)."""
    shared = _SHARED_TERMS.get()
    if shared is None:
        return None
    wanted = set(user_ids)
    return {pk: shared[pk] for pk in wanted} if wanted <= shared.keys() else None


def customer_hours(
    *,
    user: User,
    appointments: AppointmentQuerySet,
    start: date | None = None,
    terms: BillingTerms | None = None,
) -> list[CustomerHours]:
    """Hours and amounts per customer of the billable appointments given, priced by
    `timesheet_row` with each customer's travel rate, rounding and rates: the figures a
    timesheet for them shows. `start` is the period's first day (unused: kept for callers);
    `terms` the user's, when the caller has read them already.

    Four queries however many appointments (one with `terms`), one more when a customer's
    rates cap a day: the database groups the appointments that bill alike (`hours_groups`) and
    each group is priced once, as one row times its size. A daily cap depends on the day's
    other rows, so a capped customer's rows are read and priced one by one, as its timesheet
    does."""
    groups, names, spellings = _groups_by_customer(appointments)
    terms = terms or BillingTerms.of(user)
    customer_settings, default = terms.customer_settings, terms.default
    zone = zoneinfo.ZoneInfo(user.timezone)
    found_hours: dict[str, CustomerHours] = {}
    for key, rows in groups.items():
        nothing_billable = all((row[0] or "billable") == NON_BILLABLE for row in rows)
        internal = key in terms.internal or (
            nothing_billable and key not in terms.billable_categories
        )
        found = customer_settings.get(key)
        found_hours[key] = CustomerHours(
            customer=names[key],
            display_name=(found.display_name if found else "") or names[key],
            first_day=min(row[5] for row in rows).astimezone(zone).date(),
            last_day=max(row[6] for row in rows).astimezone(zone).date(),
            pricing=_pricing(name=names[key], found=found, default=default, internal=internal),
            internal=internal,
            settings_id=found.pk if found else None,
        )
    capped = [key for key, hours in found_hours.items() if hours.pricing.daily_cap is not None]
    items = _capped_items(appointments, {key: spellings[key] for key in capped})
    for key, hours in found_hours.items():
        found = customer_settings.get(key)
        _price(
            hours,
            groups=groups[key],
            items=items.get(key),
            zone=zone,
            travel_rate=found.travel_rate if found else DEFAULT_TRAVEL_RATE,
            rounding=found.rounding() if found else Rounding(),
        )
    result = list(found_hours.values())
    result.sort(key=lambda hours: (hours.internal, -hours.total, hours.customer.lower()))
    return result


def _groups_by_customer(
    appointments: AppointmentQuerySet,
) -> tuple[dict[str, list[tuple]], dict[str, str], dict[str, set[str]]]:
    """`hours_groups` by customer key (stripped, lower case) without the customer, each key's
    name and its stored spellings. A customer spelt two ways is named as its earliest
    appointment spells it."""
    groups: dict[str, list[tuple]] = {}
    names: dict[str, str] = {}
    spellings: dict[str, set[str]] = {}
    for group in sorted(hours_groups(appointments), key=lambda group: group[6]):
        customer = group[0]
        key = customer.strip().lower()
        names.setdefault(key, customer.strip())
        spellings.setdefault(key, set()).add(customer)
        groups.setdefault(key, []).append(group[1:])
    return groups, names, spellings


def _pricing(
    *, name: str, found: CustomerSettings | None, default: BillingProfile | None, internal: bool
) -> Pricing:
    """The customer's rates, else the user's default rate; internal time is never priced."""
    if internal or (found is None and default is None):
        return NO_PRICING
    return (found or CustomerSettings(customer=name)).pricing(default=default)


def _capped_items(
    appointments: AppointmentQuerySet, spellings: dict[str, set[str]]
) -> dict[str, list[BillableItem]]:
    """The rows of the customers whose day is capped (one query, none without such a customer),
    as billing items per customer key; `spellings` holds each key's stored names."""
    if not spellings:
        return {}
    items: dict[str, list[BillableItem]] = {key: [] for key in spellings}
    for customer, *values in (
        appointments.billable()
        .filter(customer__in=set().union(*spellings.values()))
        .order_by()
        .values_list("customer", *HOURS_COLUMNS)
    ):
        items.setdefault(customer.strip().lower(), []).append(hours_item(*values))
    return items


def _price(
    hours: CustomerHours,
    *,
    groups: list[tuple],
    items: list[BillableItem] | None,
    zone: zoneinfo.ZoneInfo,
    travel_rate: Decimal,
    rounding: Rounding,
) -> None:
    """Add the customer's rows to `hours`: each group once, times its size; a capped customer's
    rows (`items`) one by one through `timesheet_rows`, whose daily cap needs them all."""
    if items is not None:
        effort, travel = timesheet_rows(
            items,
            timezone=str(zone),
            travel_rate=travel_rate,
            rounding=rounding,
            pricing=hours.pricing,
        )
        for rows in (effort, travel):
            for each in rows:
                hours.add(each)
        return
    for billing_type, is_travel, override, duration, count, first, _last in groups:
        item = hours_item(0, first, first + duration, billing_type, is_travel, override)
        row = timesheet_row(
            item, zone=zone, travel_rate=travel_rate, rounding=rounding, pricing=hours.pricing
        )
        hours.add(row, count)


def amounts_by_currency(rows: Iterable[CustomerHours]) -> dict[str, Decimal]:
    """The rows' amounts summed per currency (never EUR added to GBP), currencies in order."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row.amount is not None:
            totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.amount
    return dict(sorted(totals.items()))


def period_appointments(*, user: User, start: date, end: date) -> AppointmentQuerySet:
    """The user's appointments that start on the days `start`..`end` in their zone."""
    return Appointment.objects.filter(user=user).in_period(start, end, user.timezone)


def unbilled_appointments(*, user: User) -> AppointmentQuerySet:
    """The user's archived appointments on no issued timesheet."""
    return Appointment.objects.filter(user=user, is_archived=True).unlocked()


def period_customer_hours(*, user: User, start: date, end: date) -> list[CustomerHours]:
    """The period's hours per customer (billed or not), as timesheets for it would show."""
    appointments = period_appointments(user=user, start=start, end=end)
    return customer_hours(user=user, appointments=appointments, start=start)


def unbilled_customer_hours(*, user: User) -> list[CustomerHours]:
    """Archived appointments on no issued timesheet, per customer."""
    return customer_hours(user=user, appointments=unbilled_appointments(user=user))


def period_and_unbilled_customer_hours(
    *, user: User, start: date, end: date
) -> tuple[list[CustomerHours], list[CustomerHours]]:
    """`period_customer_hours` and `unbilled_customer_hours` at once, the user's terms read
    once (the home page shows both)."""
    terms = BillingTerms.of(user)
    period = period_appointments(user=user, start=start, end=end)
    return (
        customer_hours(user=user, appointments=period, start=start, terms=terms),
        customer_hours(user=user, appointments=unbilled_appointments(user=user), terms=terms),
    )


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
