"""Timesheets' half of the attention inbox: retrying a failed upload or Xero push, checking
the Xero connection again, and what each open item holds back in money (the customer's rate
times the hours at stake). Registered in `TimesheetsConfig.ready`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import DurationField, ExpressionWrapper, F

from accounts.models import User
from auditing.attention import Stake, StakeItem, stake_provider_register
from auditing.models import ActionLog
from auditing.resolutions import ResolutionFailed, resolutions_register
from calendars.categories import CategoryError, parse_billing_category
from calendars.models import Appointment
from foundations.lookups import AmongIds
from timesheets.billing import Pricing, line_amount
from timesheets.models import BillingProfile, CustomerSettings, Timesheet
from timesheets.selectors import shared_billing_terms

HOUR = Decimal(3600)


def _timesheet(item: ActionLog) -> Timesheet:
    timesheet = Timesheet.objects.filter(pk=item.detail_id("timesheet"), user=item.user).first()
    if timesheet is None or not item.is_open:
        raise ResolutionFailed("The timesheet of this item no longer exists.")
    return timesheet


def upload_retry(*, item: ActionLog, by: User) -> str:
    from timesheets.services import TimesheetError, timesheet_upload_onedrive

    try:
        files = timesheet_upload_onedrive(timesheet=_timesheet(item), user=by)
    except TimesheetError as error:
        raise ResolutionFailed(str(error)) from None
    return f"Uploaded {len(files)} file(s) to OneDrive."


def push_retry(*, item: ActionLog, by: User) -> str:
    """Queues the push again (a background task, like every push): the push looks up what an
    earlier attempt may have left in Xero first, so a retry never makes a second invoice."""
    from timesheets.xero_client import XeroError
    from timesheets.xero_queue import xero_push_queue

    try:
        xero_push_queue(timesheet=_timesheet(item), user=by)
    except XeroError as error:
        raise ResolutionFailed(str(error)) from None
    return "Sending to Xero again in the background; the timesheet page shows when it is sent."


def xero_reconnect_check(*, item: ActionLog, by: User) -> str:
    from timesheets.xero import connection_for
    from timesheets.xero_client import XeroClient, XeroError

    try:
        XeroClient(connection_for(item.user)).connections()
    except XeroError as error:
        raise ResolutionFailed(f"Xero still refuses the connection: {error}") from None
    item.close(by=by, note="Xero accepts the connection again")
    return "Xero accepts the connection again."


def _item_appointments(item: StakeItem) -> list[int]:
    details = item.details or {}
    ids = [details["appointment"]] if isinstance(details.get("appointment"), int) else []
    ids += [m["id"] for m in details.get("appointments", []) if isinstance(m.get("id"), int)]
    return ids


class _StakeRow(NamedTuple):
    """What pricing reads of an appointment an item holds back."""

    pk: int
    user_id: int
    duration: timedelta  # end minus start, subtracted by the database
    customer: str


def _item_customer(item: StakeItem, appointment: _StakeRow) -> str | None:
    """Whose money it is: the appointment's customer, else the top suggested category's."""
    if appointment.customer:
        return appointment.customer
    top = item.top_recommendation or {}
    category = (top.get("params") or {}).get("category")
    if top.get("action") != "set_category" or not isinstance(category, str):
        return None
    try:
        return parse_billing_category(category).customer
    except CategoryError:
        return None


def items_at_stake(items: Sequence[StakeItem]) -> dict[int, Stake]:
    """Hours times the customer's rate of the appointments each item holds back; a failed upload
    or push holds back its timesheet's amount. Four queries however many items (two inside
    `billing_terms_shared`, once the items' users' terms are read)."""
    if not items:
        return {}
    named = {item.pk: _item_appointments(item) for item in items}
    wanted = {pk for ids in named.values() for pk in ids}
    # Only what pricing reads, as plain rows, each appointment's length subtracted by the
    # database: a model instance and two parsed times per appointment were most of the
    # dashboard's attention panel.
    appointments = {
        row.pk: row
        for row in map(
            _StakeRow._make,
            Appointment.objects.filter(AmongIds(F("pk"), wanted))
            .annotate(duration=ExpressionWrapper(F("end_time") - F("start_time"), DurationField()))
            .values_list(*_StakeRow._fields),
        )
    }
    users = {item.user_id for item in items}
    shared = shared_billing_terms(users)  # the page's pricing has read them already
    if shared is not None:
        rows = [row for each in shared.values() for row in each.settings_rows]
        defaults = {pk: each.default for pk, each in shared.items() if each.default is not None}
    else:
        rows = list(CustomerSettings.objects.filter(user_id__in=users))
        defaults = {p.user_id: p for p in BillingProfile.objects.filter(user_id__in=users)}
    terms = {(row.user_id, row.customer.casefold()): row for row in rows}
    timesheets = {
        t.pk: t
        for t in Timesheet.objects.filter(
            pk__in=[(i.details or {}).get("timesheet") for i in items if i.details]
        )
    }
    found: dict[int, Stake] = {}
    unset: dict[tuple[int, str], Pricing] = {}  # a customer without settings: the defaults
    for item in items:
        timesheet = timesheets.get((item.details or {}).get("timesheet"))
        if timesheet is not None and timesheet.user_id == item.user_id:
            found[item.pk] = Stake(
                hours=Decimal(0),
                amount=timesheet.amount_total,
                currency=timesheet.currency if timesheet.amount_total is not None else "",
                customer=timesheet.customer,
            )
            continue
        members = [
            appointments[pk]
            for pk in named[item.pk]
            if pk in appointments and appointments[pk].user_id == item.user_id
        ]
        if not members:
            continue
        stake = _appointments_stake(item, members, terms, defaults, unset)
        if stake is not None:
            found[item.pk] = stake
    return found


def _appointments_stake(
    item: StakeItem,
    members: list[_StakeRow],
    terms: dict[tuple[int, str], CustomerSettings],
    defaults: dict[int, BillingProfile],
    unset: dict[tuple[int, str], Pricing],
) -> Stake | None:
    if item.event_type == ActionLog.EventType.OVERLAP:
        # A conflict bills none of its members until decided: the most a decision gives back.
        members = [max(members, key=lambda a: a.duration)]
    customer = _item_customer(item, members[0])
    seconds = sum(a.duration.total_seconds() for a in members)
    hours = (Decimal(seconds) / HOUR).quantize(Decimal("0.01"))
    if customer is None:
        return Stake(hours=hours)
    key = (item.user_id, customer.casefold())
    settings_row = terms.get(key)
    if settings_row is not None:
        pricing = settings_row.pricing(default=defaults.get(item.user_id))
    else:
        if key not in unset:
            unset[key] = CustomerSettings(customer=customer).pricing(
                default=defaults.get(item.user_id)
            )
        pricing = unset[key]
    if not pricing.priced or pricing.hourly_rate is None:
        return Stake(hours=hours, customer=customer)
    amount = line_amount(hours, pricing.hourly_rate, pricing.currency)
    return Stake(hours=hours, amount=amount, currency=pricing.currency, customer=customer)


def timesheets_attention_register() -> None:
    resolutions_register(
        event_type=ActionLog.EventType.UPLOAD_FAILED, choices={"retry_upload": upload_retry}
    )
    resolutions_register(
        event_type=ActionLog.EventType.XERO_PUSH_FAILED, choices={"retry_push": push_retry}
    )
    resolutions_register(
        event_type=ActionLog.EventType.RECONNECT_XERO, choices={"reconnect": xero_reconnect_check}
    )
    stake_provider_register(items_at_stake)
