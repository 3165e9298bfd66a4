"""The admin home page: this month's hours, what is unbilled, what needs attention, and
whether archiving and Microsoft are healthy. Every figure comes from the services the rest of
the app uses; the page's query count does not grow with the number of appointments."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse

from accounts.connections import user_connections
from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.run_status import LastRun, archive_last_runs
from archiving.schedules import job_next_run
from auditing.attention import open_items_at_stake
from auditing.models import ActionLog
from foundations.days import today_in
from foundations.requests import AuthenticatedHttpRequest
from timesheets.billing import format_hours, format_money
from timesheets.selectors import (
    CustomerHours,
    amounts_by_currency,
    billing_terms_shared,
    period_and_unbilled_customer_hours,
)

ATTENTION_LABELS = {
    ActionLog.EventType.OVERLAP: "Overlaps to resolve",
    ActionLog.EventType.UNCATEGORISED: "Uncategorised meetings",
    ActionLog.EventType.POSSIBLY_BILLABLE: "Possibly billable meetings",
    ActionLog.EventType.SOURCE_DELETED: "Deleted in the source calendar",
    ActionLog.EventType.RECONNECT_MICROSOFT: "Reconnect Microsoft 365",
    ActionLog.EventType.UPLOAD_FAILED: "Failed uploads",
}
CHART_WIDTH = 600
CHART_LABEL_WIDTH = 160
CHART_BAR_HEIGHT = 22
CHART_GAP = 10


@dataclass
class ChartBar:
    label: str
    y: int
    text_y: int
    segments: list[dict[str, Any]]
    total: str
    total_x: int
    tooltip: str


def dashboard_owner(request: AuthenticatedHttpRequest) -> User:
    """Whose figures the page shows: one's own; a superuser may choose another user."""
    user = request.user
    chosen = request.GET.get("user", "")
    if user.is_superuser and chosen.isdigit():
        return User.objects.filter(pk=int(chosen)).first() or user
    return user


def dashboard_month(request: AuthenticatedHttpRequest, owner: User) -> date:
    """The first day of the chosen month (`?month=YYYY-MM`), this month in the owner's zone."""
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today_in(owner.timezone).replace(day=1)


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def dashboard_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    # The month, the unbilled and the amount at stake are priced by the same terms: read once.
    with billing_terms_shared():
        return _dashboard_context(request)


def _dashboard_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    owner = dashboard_owner(request)
    first = dashboard_month(request, owner)
    last = month_end(first)
    hours, unbilled = period_and_unbilled_customer_hours(user=owner, start=first, end=last)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    customers = [row for row in hours if not row.internal]
    waiting = [row for row in unbilled if not row.internal]
    return {
        "owner": owner,
        "owners": (
            User.objects.filter(is_active=True).order_by("email")
            if request.user.is_superuser
            else None
        ),
        "month": first,
        "month_value": f"{first:%Y-%m}",
        "previous_month": _query(request, month=f"{previous:%Y-%m}"),
        "next_month": _query(request, month=f"{following:%Y-%m}"),
        "hours": [_hours_row(row, owner) for row in customers],
        "internal_hours": [_hours_row(row, owner) for row in hours if row.internal],
        "hours_totals": _totals(hours),
        "amount_totals": _money_totals(customers),
        "chart": _chart(hours),
        "unbilled": [
            {**_hours_row(row, owner), "generate_url": _generate_url(request, owner, row)}
            for row in waiting
        ],
        "unbilled_totals": _money_totals(waiting),
        "unbilled_unpriced": sum(1 for row in waiting if row.amount is None),
        "unbilled_internal": [_hours_row(row, owner) for row in unbilled if row.internal],
        "attention": _attention(owner),
        "attention_at_stake": attention_at_stake(owner),
        "archive_health": _archive_health(owner),
        "connections": _connections(request, owner),
    }


def attention_at_stake(owner: User) -> list[str]:
    """The unbilled money waiting on the owner's decisions, per currency (hours without a
    rate last)."""
    totals = open_items_at_stake(user=owner)
    money = [
        format_money(amount, code) for code, amount in sorted(totals.items()) if code and amount
    ]
    hours = totals.get("")
    return money + ([f"{format_hours(hours)} not yet priced"] if hours else [])


def _query(request: HttpRequest, **changes: str) -> str:
    params = {key: value for key, value in request.GET.items() if key in {"user", "month"}}
    params.update(changes)
    return "?" + urlencode(params)


def _hours_row(row: CustomerHours, owner: User) -> dict[str, Any]:
    return {
        "customer": row.display_name,
        "billable": format_hours(row.billable),
        "non_billable": format_hours(row.non_billable),
        "travel": format_hours(row.travel),
        "total": format_hours(row.total),
        "billable_total": format_hours(row.billable_total),
        "amount": _money(row),
        "currency": row.currency,
        "rate_url": None if row.internal or row.amount is not None else _rate_url(row, owner),
        "internal": row.internal,
        "first_day": row.first_day,
        "last_day": row.last_day,
        "customer_key": row.customer,
    }


def _money(row: CustomerHours) -> str:
    """The row's amount as Babel prints its currency; "" for internal time or without a rate
    (the template then says "no rate" and links to `_rate_url`)."""
    return "" if row.amount is None else format_money(row.amount, row.currency)


def _rate_url(row: CustomerHours, owner: User) -> str:
    """Where to set the customer's rate: its settings, or new settings named for it."""
    if row.settings_id is not None:
        return reverse("admin:timesheets_customersettings_change", args=[row.settings_id])
    params = {"customer": row.customer, "display_name": row.customer, "user": owner.pk}
    return reverse("admin:timesheets_customersettings_add") + "?" + urlencode(params)


def _totals(rows: list[CustomerHours]) -> dict[str, str]:
    def total(name: str) -> str:
        return format_hours(sum((getattr(row, name) for row in rows), Decimal(0)))

    return {
        name: total(name)
        for name in ("billable", "non_billable", "travel", "total", "billable_total")
    }


def _money_totals(rows: list[CustomerHours]) -> list[dict[str, str]]:
    """One total per currency, each printed in its own currency: never EUR added to GBP."""
    return [
        {"currency": currency, "amount": format_money(amount, currency)}
        for currency, amount in amounts_by_currency(rows).items()
    ]


def _chart(rows: list[CustomerHours]) -> dict[str, Any]:
    """Horizontal stacked bars in SVG coordinates; colours come from the stylesheet's classes."""
    widest = max((row.total for row in rows), default=Decimal(0)) or Decimal(1)
    scale = Decimal(CHART_WIDTH - CHART_LABEL_WIDTH - 70) / widest
    bars = []
    for index, row in enumerate(rows):
        y = index * (CHART_BAR_HEIGHT + CHART_GAP)
        x = Decimal(CHART_LABEL_WIDTH)
        segments = []
        for kind, value in (
            ("billable", row.billable),
            ("non-billable", row.non_billable),
            ("travel", row.travel),
        ):
            width = value * scale
            if width > 0:
                segments.append(
                    {"kind": kind, "x": round(x, 1), "width": round(width, 1), "hours": value}
                )
            x += width
        bars.append(
            ChartBar(
                label=row.display_name[:24],
                y=y,
                text_y=y + CHART_BAR_HEIGHT // 2 + 5,
                segments=segments,
                total=format_hours(row.total),
                total_x=int(x) + 6,
                tooltip=_bar_tooltip(row),
            )
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(len(bars) * (CHART_BAR_HEIGHT + CHART_GAP), 1),
        "bar_height": CHART_BAR_HEIGHT,
        "label_x": CHART_LABEL_WIDTH - 8,
    }


def _bar_tooltip(row: CustomerHours) -> str:
    """What hovering a customer's bar says: its hours and what they bill."""
    hours = f"{row.display_name}: {format_hours(row.total)}"
    if row.internal:
        return f"{hours}, internal time"
    billed = f"{format_hours(row.billable_total)} billed"
    money = _money(row) or "no rate"
    return f"{hours}, {billed}, {money}"


def _generate_url(request: HttpRequest, owner: User, row: CustomerHours) -> str:
    params = {
        "customer": row.customer,
        "start": row.first_day.isoformat(),
        "end": row.last_day.isoformat(),
    }
    if request.user.is_superuser:
        params["user"] = str(owner.pk)
    return reverse("admin:timesheets_timesheet_generate") + "?" + urlencode(params)


def _attention(owner: User) -> list[dict[str, Any]]:
    counts = (
        ActionLog.objects.filter(user=owner, state=ActionLog.State.OPEN)
        .values("event_type")
        .annotate(count=Count("id"))
        .order_by("event_type")
    )
    changelist = reverse("admin:auditing_actionlog_changelist")
    return [
        {
            "label": ATTENTION_LABELS.get(row["event_type"], row["event_type"].replace("_", " ")),
            "count": row["count"],
            "url": changelist
            + "?"
            + urlencode(
                {"event_type": row["event_type"], "state": ActionLog.State.OPEN, "user": owner.pk}
            ),
        }
        for row in counts
    ]


def _archive_health(owner: User) -> list[dict[str, Any]]:
    configurations = list(ArchiveConfiguration.objects.filter(user=owner).order_by("name"))
    last_runs = archive_last_runs(configuration_ids=[c.pk for c in configurations])
    by_pk = {configuration.pk: configuration for configuration in configurations}
    jobs: dict[int, list[JobConfiguration]] = {}
    for job in JobConfiguration.objects.filter(
        archive_configuration__in=configurations, is_active=True
    ).order_by():  # grouped below: no joins for the model's order
        # Its configuration is read already: job_next_run takes its zone from it.
        job.archive_configuration = by_pk[job.archive_configuration_id]
        jobs.setdefault(job.archive_configuration_id, []).append(job)
    audit_list = reverse("admin:auditing_auditlog_changelist")
    health = []
    for configuration in configurations:
        zone = zoneinfo.ZoneInfo(configuration.timezone)
        runs = [job_next_run(job=job) for job in jobs.get(configuration.pk, [])]
        upcoming = min((run for run in runs if run is not None), default=None)
        last = last_runs.get(configuration.pk)
        health.append(
            {
                "configuration": configuration,
                "url": reverse(
                    "admin:archiving_archiveconfiguration_change", args=[configuration.pk]
                ),
                "last_run": last,
                "last_run_url": _last_run_url(last, audit_list),
                # Formatted here: the template would show it in the viewer's zone.
                "next_run": f"{upcoming.astimezone(zone):%a %d %b %H:%M}" if upcoming else None,
                "timezone": configuration.timezone,
            }
        )
    return health


def _last_run_url(last: LastRun | None, audit_list: str) -> str | None:
    """The recorded run's page (window, counts, status), else the run's audit rows."""
    if last is None:
        return None
    if last.record is not None:
        return reverse("admin:archiving_archiverun_change", args=[last.record.pk])
    if last.correlation_id:
        return f"{audit_list}?{urlencode({'correlation_id': last.correlation_id})}"
    return None


def _connections(request: AuthenticatedHttpRequest, owner: User) -> list[dict[str, Any]]:
    """Microsoft 365 and Xero side by side for the owner (a superuser: for every staff user)."""
    users = (
        list(User.objects.filter(is_active=True, is_staff=True).order_by("email"))
        if request.user.is_superuser
        else [owner]
    )
    found = user_connections(users=users, viewer=request.user)
    return [{"user": user, "connections": found[user.pk]} for user in users]
