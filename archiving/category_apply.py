"""Settling an uncategorised or possibly billable meeting in one click: "set category C"
(here, and on the source event in Outlook) or "not billable". Registered with auditing's
resolver registry by `archive_resolutions_register`.

Setting a category writes it onto the SOURCE event (Graph PATCH of `categories` with
`If-Match`, keeping the event's other categories), so the next archive run reads the same
category and agrees: no new item, the meeting billed. A calendar the user may only read (a
delegate without write access) gets it here only, and the item says so; archive runs keep
billing it to that category (`CategoryDecision.local_only`).
"""

from __future__ import annotations

import zoneinfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from archiving.attention import ATTENTION_TYPES, attention_refresh
from archiving.models import CategoryDecision
from auditing.models import ActionLog, AuditLog
from auditing.resolutions import ResolutionFailed
from auditing.services import audit_operation
from calendars.categories import CategoryError, billing_from_categories, parse_billing_category
from calendars.models import Appointment, Category
from calendars.suggestions import PERSONAL
from foundations.graph import GraphClient


class CategoryApplyError(ResolutionFailed):
    pass


def _appointment(item: ActionLog) -> Appointment:
    if item.event_type not in ATTENTION_TYPES or not item.is_open:
        raise CategoryApplyError("Only an open uncategorised or possibly billable item.")
    appointment = (
        Appointment.objects.filter(pk=item.detail_id("appointment"), user=item.user)
        .select_related("calendar", "user")
        .first()
    )
    if appointment is None:
        raise CategoryApplyError("The appointment of this item no longer exists.")
    return appointment


def _with_category(current: list[str], category: str) -> list[str] | None:
    """Outlook's categories with `category` added; None when Outlook already bills a
    customer (somebody categorised it meanwhile: theirs stands)."""
    if billing_from_categories(current).customer:
        return None
    if any(c.strip().casefold() == category.casefold() for c in current):
        return current
    return [*current, category]


def appointment_category_set(
    *, item: ActionLog, by: User, category: str, client: GraphClient | None = None
) -> str:
    """Bill the item's meeting to `category`: here and in Outlook. What was done, in words."""
    from accounts.microsoft import graph_client

    try:
        parse_billing_category(category)
    except CategoryError as error:
        raise CategoryApplyError(str(error)) from None
    appointment = _appointment(item)
    if appointment.is_locked:
        raise CategoryApplyError(
            "It is billed on an issued timesheet, which stays as issued: void that timesheet "
            "first, then set the category."
        )
    with audit_operation(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="category_set",
        user=by,
        resource_type="Appointment",
        resource_id=appointment.pk,
        message=f"“{appointment}”: category '{category}'",
    ) as audit:
        categories, writable, outlook_note = _outlook_write(
            appointment, category, client or graph_client(user=item.user)
        )
        billing = billing_from_categories(categories)
        _appointment_billing_store(appointment, categories, writable=writable)
        CategoryDecision.objects.create(
            user=item.user,
            appointment=appointment,
            label=billing.category or category,
            decision=CategoryDecision.Decision.APPLIED,
            local_only=not writable,
        )
        audit.details = {"categories": categories, "outlook": writable}
        message = f"Billed to {billing.customer} ({billing.category}){outlook_note}."
        late = _late_note(appointment, billing.customer or "")
        item.close(by=by, note=(message + late)[:255])
        audit.message = message + late
    attention_refresh(user=item.user)
    return message + late


def _outlook_write(
    appointment: Appointment, category: str, client: GraphClient
) -> tuple[list[str], bool, str]:
    """Write the category onto the source event unless the user may only read its calendar:
    (the categories that now bill it, whether Outlook has them, a note for the person)."""
    calendar = appointment.calendar
    source = client.for_mailbox(calendar.mailbox or None) if calendar else client
    writable = bool(
        calendar is not None
        and calendar.ms_calendar_id
        and appointment.ms_event_id
        and source.calendar_can_edit(calendar.ms_calendar_id)
    )
    if not writable or appointment.ms_event_id is None:
        note = (
            " here only: you may only read that calendar in Outlook, so Outlook still shows no "
            "billing category (archive runs keep this one)"
        )
        return [*appointment.categories, category], False, note
    written, event = source.event_categories_update(
        appointment.ms_event_id, lambda current: _with_category(current, category)
    )
    categories = [c for c in event.get("categories") or [] if isinstance(c, str)]
    if not written and billing_from_categories(categories).customer:
        return categories, True, " (Outlook already had a billing category: it stands)"
    return categories, True, " and in Outlook"


def _appointment_billing_store(
    appointment: Appointment, categories: list[str], *, writable: bool
) -> None:
    """The appointment bills what the categories say from now on: the unbilled hours of its
    period (what the next timesheet prices) count it at once."""
    billing = billing_from_categories(categories)
    row = None
    if billing.category:
        row = Category.objects.filter(user=appointment.user, name__iexact=billing.category).first()
        if row is None:
            row = Category.objects.create(user=appointment.user, name=billing.category)
    with transaction.atomic():
        if writable:
            appointment.categories = categories
        appointment.customer = billing.customer
        appointment.billing_type = billing.billing_type
        appointment.category = row
        appointment.updated_at = timezone.now()
        appointment.save(
            update_fields=["categories", "customer", "billing_type", "category", "updated_at"]
        )


def _late_note(appointment: Appointment, customer: str) -> str:
    """An issued timesheet for that customer already covers the day: it stays locked, and
    this meeting rolls into the customer's next timesheet (the late-items path)."""
    from django.apps import apps

    Timesheet = apps.get_model("timesheets", "Timesheet")
    day = appointment.start_time.astimezone(zoneinfo.ZoneInfo(appointment.user.timezone)).date()
    issued = Timesheet.objects.filter(
        user=appointment.user,
        customer__iexact=customer,
        status="issued",
        start_date__lte=day,
        end_date__gte=day,
    ).first()
    if issued is None:
        return ""
    return (
        f" Timesheet {issued} is issued and stays as it is: this meeting is billed as a late "
        f"item on {customer}'s next timesheet (or void and re-issue that one)."
    )


def attention_category_options(item: ActionLog) -> list[tuple[str, str]]:
    """The categories the item page offers to pick from: its owner's own billing categories,
    never another user's (what `free_choice_apply` accepts for "set_category")."""
    names = Category.objects.filter(user_id=item.user_id).order_by("name")
    return [
        (name, name)
        for name in names.values_list("name", flat=True)
        if billing_from_categories([name]).customer
    ]


def appointment_mark_personal(*, item: ActionLog, by: User) -> str:
    """Not billable: it stays off the invoice, the item closes, and the model learns it."""
    appointment = _appointment(item)
    CategoryDecision.objects.create(
        user=item.user,
        appointment=appointment,
        label=PERSONAL,
        decision=CategoryDecision.Decision.APPLIED,
    )
    item.close(by=by, note="not billable")
    attention_refresh(user=item.user)
    return f"“{appointment}” stays unbilled."


def attention_dismissed(*, item: ActionLog, by: User, recommendation: dict | None) -> None:
    """A suggestion turned down is never offered again for that appointment; a whole item
    dismissed turns down every category it suggested."""
    appointment_id = (item.details or {}).get("appointment")
    if not appointment_id:
        return
    chosen = [recommendation] if recommendation else list(item.recommendations or [])
    labels = [
        r["params"]["category"]
        for r in chosen
        if r.get("action") == "set_category" and "category" in r.get("params", {})
    ]
    CategoryDecision.objects.bulk_create(
        [
            CategoryDecision(
                user=item.user,
                appointment_id=appointment_id,
                label=label,
                decision=CategoryDecision.Decision.DISMISSED,
            )
            for label in labels
        ]
    )
    if recommendation is not None:
        attention_refresh(user=item.user)
