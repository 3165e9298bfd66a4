"""The lines of a timesheet's Xero invoice (pure: no ORM, no HTTP)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from timesheets.billing import EffortRow, TimesheetData, TravelRow, format_hours, line_amount
from timesheets.models import CustomerSettings

QUANTITY = Decimal("0.0001")  # Xero takes quantities to 4 places


def xero_invoice_lines(data: TimesheetData, *, terms: CustomerSettings) -> list[dict[str, Any]]:
    """The invoice's lines: one per section (effort, travel) or per row, quantity = billable
    hours, unit amount = the frozen rate; a last line makes up any difference between Xero's
    rounding of quantity x rate and the sum of the timesheet's printed lines (to the cent)."""
    currency = data.currency
    groups: list[tuple[str, Decimal, Decimal, Decimal]] = []  # description, hours, rate, amount
    period = data.period
    if terms.xero_line_per_row:
        for effort in data.effort_rows:
            if effort.billable:
                groups.append(
                    (
                        f"{effort.date:%d %b %Y} {effort.subject}",
                        effort.billable,
                        _priced(effort.rate),
                        _priced(effort.amount),
                    )
                )
        for travel in data.travel_rows:
            if travel.billable:
                groups.append(
                    (
                        f"{travel.date:%d %b %Y} Travel: {travel.notes}",
                        travel.billable,
                        _priced(travel.rate),
                        _priced(travel.amount),
                    )
                )
    else:
        sections: tuple[tuple[str, Sequence[EffortRow | TravelRow]], ...] = (
            ("Consulting", data.effort_rows),
            ("Travel", data.travel_rows),
        )
        for label, rows in sections:
            hours = sum((row.billable for row in rows), Decimal(0))
            if hours:
                amount = sum((_priced(row.amount) for row in rows), Decimal(0))
                description = f"{label}: {format_hours(hours)}, {period}"
                groups.append((description, hours, _priced(rows[0].rate), amount))
    lines = []
    priced = Decimal(0)
    for description, hours, rate, _amount in groups:
        quantity = hours.quantize(QUANTITY, rounding=ROUND_HALF_UP)
        lines.append(_line(terms, description, quantity, rate))
        priced += line_amount(quantity, rate, currency)
    difference = data.amount_total - priced
    if difference:
        label = "Daily cap and rounding" if data.pricing.daily_cap else "Rounding"
        lines.append(_line(terms, f"{label}: as the timesheet's lines", Decimal(1), difference))
    return lines


def _priced(value: Decimal | None) -> Decimal:
    """A row's rate or amount; only a priced timesheet is pushed (the push refuses one without)."""
    if value is None:
        raise TypeError("An unpriced timesheet row cannot be invoiced.")
    return value


def _line(
    terms: CustomerSettings, description: str, quantity: Decimal, unit: Decimal
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "Description": description[:4000],
        "Quantity": float(quantity),
        "UnitAmount": float(unit),
    }
    if terms.xero_account_code:
        line["AccountCode"] = terms.xero_account_code
    if terms.xero_tax_type:
        line["TaxType"] = terms.xero_tax_type
    if terms.xero_item_code:
        line["ItemCode"] = terms.xero_item_code
    return line
