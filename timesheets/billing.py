"""Billing arithmetic: pure functions from appointments to timesheet rows and totals.

No ORM here. Hours are `Decimal`; raw times are kept and each row's hours are rounded by the
customer's policy; totals are the sums of the rounded rows. Money follows the same order: a row's
billable hours (already rounded) times its rate, rounded once to the currency's minor unit
(Babel's CLDR data, not a table of ours); totals are the sums of those printed amounts.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency
from django.db.models import TextChoices

# The one way money and hours print (foundations/figures.py), re-exported for the app's callers.
from foundations.days import EN_DASH
from foundations.figures import (  # noqa: F401
    HOURS_UNIT,
    MONEY_LOCALE,
    format_amount,
    format_hours,
    format_hours_number,
    format_money,
)

PRIVATE_TEXT = "Private appointment"
HOUR = Decimal(3600)
DEFAULT_TRAVEL_RATE = Decimal("0.50")


class RoundingMode(TextChoices):
    """How a row's hours are rounded; the customer settings store one of these."""

    NONE = "none", "No rounding"
    UP = "up", "Up"
    NEAREST = "nearest", "To the nearest"
    DOWN = "down", "Down"


@dataclass(frozen=True)
class Rounding:
    interval_minutes: int = 0
    mode: str = RoundingMode.NONE

    def __post_init__(self) -> None:
        if self.mode not in RoundingMode.values:
            raise ValueError(f"Rounding mode must be one of {', '.join(RoundingMode.values)}.")
        if self.interval_minutes < 0:
            raise ValueError("The rounding interval cannot be negative.")


def round_hours(hours: Decimal, rounding: Rounding) -> Decimal:
    """Hours rounded to the policy's interval (in minutes), up, down or to the nearest."""
    if rounding.mode == RoundingMode.NONE or rounding.interval_minutes == 0:
        return hours
    step = Decimal(rounding.interval_minutes) / 60
    units = hours / step
    methods: dict[str, str] = {
        RoundingMode.UP: ROUND_CEILING,
        RoundingMode.DOWN: ROUND_FLOOR,
        RoundingMode.NEAREST: ROUND_HALF_UP,
    }
    method = methods[rounding.mode]
    return (units.quantize(Decimal(1), rounding=method) * step).normalize() + Decimal(0)


MAX_HOURLY_RATE = Decimal("100000")


def valid_currency(code: str) -> bool:
    """An ISO 4217 code that CLDR knows (upper case, as Xero and the documents print it)."""
    return len(code) == 3 and code.isupper() and is_currency(code)


@lru_cache(maxsize=64)
def minor_unit(currency: str) -> Decimal:
    """`0.01` for GBP, `1` for JPY, `0.001` for BHD: the currency's smallest printed amount."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def line_amount(hours: Decimal, rate: Decimal, currency: str) -> Decimal:
    """One line's money: rounded hours times the rate, rounded half up to the minor unit."""
    return (hours * rate).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Pricing:
    """The rates a timesheet bills at; `None` rates leave the rows unpriced."""

    currency: str = ""
    hourly_rate: Decimal | None = None
    travel_hourly_rate: Decimal | None = None
    daily_cap: Decimal | None = None  # the most one day's effort bills; travel comes on top

    @property
    def priced(self) -> bool:
        return bool(self.currency) and self.hourly_rate is not None

    @property
    def travel_rate(self) -> Decimal | None:
        return self.hourly_rate if self.travel_hourly_rate is None else self.travel_hourly_rate


NO_PRICING = Pricing()


class DailyCap:
    """Caps each local day's effort amount: once a day's rows reach the cap, later rows of that
    day bill only what is left (then 0.00). Rows must come in time order; the printed amounts
    stay the ones that add up to the totals."""

    def __init__(self, cap: Decimal | None) -> None:
        self.cap = cap
        self.billed: dict[date, Decimal] = {}

    def apply(self, row: EffortRow) -> None:
        if self.cap is None or row.amount is None:
            return
        so_far = self.billed.get(row.date, Decimal(0))
        row.amount = max(min(row.amount, self.cap - so_far), Decimal(0))
        self.billed[row.date] = so_far + row.amount


@dataclass(slots=True)
class BillableItem:
    """One appointment as billing sees it (already filtered: no free, cancelled, OOO...)."""

    key: int
    start: datetime
    end: datetime
    subject: str
    categories: tuple[str, ...] = ()
    location: str = ""
    billing_type: str = "billable"
    is_travel: bool = False
    is_private: bool = False
    billable_override: bool | None = None
    comments: str = ""

    @property
    def hours(self) -> Decimal:
        # Whole seconds: calendar times carry no fractions, and int -> Decimal is exact and fast.
        span = self.end - self.start
        return Decimal(span.days * 86400 + span.seconds) / HOUR


@dataclass(slots=True)
class EffortRow:
    key: int
    date: date
    time: time
    effort: Decimal
    billable: Decimal
    subject: str
    categories: str
    location: str
    comments: str
    rate: Decimal | None = None
    amount: Decimal | None = None


@dataclass(slots=True)
class TravelRow:
    key: int
    date: date
    time: time
    duration: Decimal
    billable: Decimal
    notes: str
    categories: str
    rate: Decimal | None = None
    amount: Decimal | None = None


@dataclass
class TimesheetData:
    """Everything a timesheet document shows, in the order it shows it."""

    customer: str
    customer_display_name: str
    consultant: str
    report_date: date
    start_date: date
    end_date: date
    effort_rows: list[EffortRow] = field(default_factory=list)
    travel_rows: list[TravelRow] = field(default_factory=list)
    legal_name: str = ""
    time_zone: str = "UTC"  # the zone the period's days are counted in
    pricing: Pricing = NO_PRICING

    @property
    def priced(self) -> bool:
        return self.pricing.priced

    @property
    def currency(self) -> str:
        return self.pricing.currency

    @property
    def effort_amount_total(self) -> Decimal:
        return sum((row.amount or Decimal(0) for row in self.effort_rows), Decimal(0))

    @property
    def travel_amount_total(self) -> Decimal:
        return sum((row.amount or Decimal(0) for row in self.travel_rows), Decimal(0))

    @property
    def amount_total(self) -> Decimal:
        return self.effort_amount_total + self.travel_amount_total

    @property
    def period(self) -> str:
        return period_label(self.start_date, self.end_date, self.time_zone)

    @property
    def effort_total(self) -> Decimal:
        return sum((row.effort for row in self.effort_rows), Decimal(0))

    @property
    def effort_billable_total(self) -> Decimal:
        return sum((row.billable for row in self.effort_rows), Decimal(0))

    @property
    def travel_total(self) -> Decimal:
        return sum((row.duration for row in self.travel_rows), Decimal(0))

    @property
    def travel_billable_total(self) -> Decimal:
        return sum((row.billable for row in self.travel_rows), Decimal(0))

    @property
    def billable_total(self) -> Decimal:
        return self.effort_billable_total + self.travel_billable_total

    @property
    def file_stem(self) -> str:
        """`<Consultant> timesheet for <Customer> <D Mon YY>` (the end of the period)."""
        end = f"{self.end_date.day} {self.end_date:%b %y}"
        return f"{self.consultant} timesheet for {self.customer_display_name} {end}"


def billable_hours(item: BillableItem, hours: Decimal, travel_rate: Decimal) -> Decimal:
    if item.billable_override is not None:
        billable = item.billable_override
    else:
        billable = item.billing_type == "billable"
    if not billable:
        return Decimal(0)
    return hours * travel_rate if item.is_travel else hours


def timesheet_row(
    item: BillableItem,
    *,
    zone: zoneinfo.ZoneInfo,
    travel_rate: Decimal = DEFAULT_TRAVEL_RATE,
    rounding: Rounding = Rounding(),
    pricing: Pricing = NO_PRICING,
) -> EffortRow | TravelRow:
    """One appointment's row: travel rows for travel, effort rows for everything else.

    Priced rows carry the rate (travel's own rate, else the hourly rate) and the amount of the
    row's billable hours, which were rounded by the customer's policy first.
    """
    local = item.start.astimezone(zone)
    hours = round_hours(item.hours, rounding)
    # Travel bills the rate times the rounded duration, not rounded again: a quarter-hour
    # policy must not turn half of 15 minutes into nothing.
    billable = billable_hours(item, hours, travel_rate)
    subject = PRIVATE_TEXT if item.is_private else item.subject
    categories = ", ".join(item.categories)
    start_time = local.time().replace(second=0, microsecond=0)
    rate = amount = None
    if pricing.priced:
        rate = pricing.travel_rate if item.is_travel else pricing.hourly_rate
        assert rate is not None  # priced: an hourly rate, so a travel rate too
        amount = line_amount(billable, rate, pricing.currency)
    if item.is_travel:
        return TravelRow(
            key=item.key,
            date=local.date(),
            time=start_time,
            duration=hours,
            billable=billable,
            notes=subject,
            categories=categories,
            rate=rate,
            amount=amount,
        )
    return EffortRow(
        key=item.key,
        date=local.date(),
        time=start_time,
        effort=hours,
        billable=billable,
        subject=subject,
        categories=categories,
        location=PRIVATE_TEXT if item.is_private and item.location else item.location,
        comments="" if item.is_private else item.comments,
        rate=rate,
        amount=amount,
    )


def timesheet_rows(
    items: Iterable[BillableItem],
    *,
    timezone: str,
    travel_rate: Decimal = DEFAULT_TRAVEL_RATE,
    rounding: Rounding = Rounding(),
    pricing: Pricing = NO_PRICING,
) -> tuple[list[EffortRow], list[TravelRow]]:
    """Effort rows (non-travel) and travel rows, sorted by local date and time."""
    zone = zoneinfo.ZoneInfo(timezone)
    effort: list[EffortRow] = []
    travel: list[TravelRow] = []
    cap = DailyCap(pricing.daily_cap)
    for item in sorted(items, key=lambda i: (i.start, i.end, i.key)):
        row = timesheet_row(
            item, zone=zone, travel_rate=travel_rate, rounding=rounding, pricing=pricing
        )
        if isinstance(row, TravelRow):
            travel.append(row)
        else:
            cap.apply(row)
            effort.append(row)
    return effort, travel


def format_long_date(day: date) -> str:
    """`Thursday, 24 April 2025`."""
    return f"{day:%A}, {day.day} {day:%B %Y}"


def format_short_date(day: date) -> str:
    """`08-May-25`."""
    return f"{day:%d-%b-%y}"


def period_label(start: date, end: date, zone: str) -> str:
    """'1-31 May 2025, Europe/London' (with an en dash): the days and the zone they are
    counted in."""
    if start == end:
        days = f"{start.day} {start:%B %Y}"
    elif (start.year, start.month) == (end.year, end.month):
        days = f"{start.day}{EN_DASH}{end.day} {end:%B %Y}"
    elif start.year == end.year:
        days = f"{start.day} {start:%B} {EN_DASH} {end.day} {end:%B %Y}"
    else:
        days = f"{start.day} {start:%B %Y} {EN_DASH} {end.day} {end:%B %Y}"
    return f"{days}, {zone}"
