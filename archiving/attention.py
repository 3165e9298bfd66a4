"""The archive run's half of the attention inbox: which archived meetings need a billing
decision, and what to suggest for each, learned from the user's own categorised history
(calendars/suggestions.py holds the model).

- "Uncategorised": categories that name no customer (a typo, only a marker).
- "Possibly billable": no categories at all, but people from outside the user's own domain
  (or a series the history bills): time worked that would silently drop off the invoice.
- Meetings with no outside people and no evidence stay personal, quietly: no item.

Strictly per user: every query below is filtered by the item's user, so one user's history
never informs another's suggestions. A decision the user took (an item closed, a category
applied or dismissed) is never asked again for that appointment.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from accounts.models import User
from archiving.models import CategoryDecision
from auditing.models import ActionLog
from auditing.recommendations import confidence_threshold, recommendation
from calendars.categories import Billing, billing_from_categories
from calendars.evidence import (
    appointments_evidence,
    categorised_feature_counts,
    feature_counts_for,
)
from calendars.models import Appointment
from calendars.suggestions import PERSONAL, CategoryModel, Evidence, Suggestion

ATTENTION_TYPES = (ActionLog.EventType.UNCATEGORISED, ActionLog.EventType.POSSIBLY_BILLABLE)


def own_domains(*, user: User, mailboxes: Iterable[str] = ()) -> set[str]:
    """The consultant's own e-mail domains: theirs, and a principal's whose calendar they keep."""
    addresses = [user.email or "", *mailboxes]
    return {a.rpartition("@")[2].casefold() for a in addresses if "@" in a}


def model_for(*, user: User, evidences: Iterable[Evidence]) -> CategoryModel:
    """The user's model, counted for the features these meetings carry: their categorised
    meetings, and those they said are not billable."""
    features = {f for evidence in evidences for f in evidence.features()}
    counts = categorised_feature_counts(user=user, features=features)
    personal = Appointment.objects.filter(
        user=user,
        category_decisions__decision=CategoryDecision.Decision.APPLIED,
        category_decisions__label=PERSONAL,
    )
    for feature, labels in feature_counts_for(
        user=user, features=features, appointments=personal, label=PERSONAL
    ).items():
        counts.setdefault(feature, Counter()).update(labels)
    return CategoryModel(counts=counts)


def category_choice_id(label: str) -> str:
    return "set-category-" + hashlib.sha256(label.casefold().encode()).hexdigest()[:8]


def category_recommendations(
    suggestions: list[Suggestion], evidence: Evidence
) -> list[dict[str, Any]]:
    """The item's choices: each suggested category, and "not billable"."""
    choices = [
        recommendation(
            id=category_choice_id(s.label),
            label=f"Bill it: set the category '{s.label}'",
            action="set_category",
            params={"category": s.label},
            confidence=s.confidence,
            reason=(s.reason[:1].upper() + s.reason[1:] + ".") if s.reason else "",
        )
        for s in suggestions
        if s.label != PERSONAL
    ]
    personal = next((s for s in suggestions if s.label == PERSONAL), None)
    if personal is not None:
        reason = personal.reason[:1].upper() + personal.reason[1:] + "."
    elif evidence.domains:
        reason = (
            f"Nothing in your history links people at {', '.join(evidence.domains)} to a customer."
            if not choices
            else ""
        )
    else:
        reason = ""
    choices.append(
        recommendation(
            id="mark-personal",
            label="Not billable: leave it off the invoice",
            action="mark_personal",
            confidence=personal.confidence if personal else (0.3 if not choices else 0.1),
            reason=reason,
        )
    )
    return choices


def _dismissed(user: User, appointment_ids: Iterable[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for appointment_id, label in CategoryDecision.objects.filter(
        user=user,
        appointment_id__in=list(appointment_ids),
        decision=CategoryDecision.Decision.DISMISSED,
    ).values_list("appointment_id", "label"):
        found.setdefault(appointment_id, set()).add(label)
    return found


def _suggest(model: CategoryModel, evidence: Evidence, dismissed: set[str]) -> list[dict[str, Any]]:
    return category_recommendations(model.suggest(evidence, exclude=dismissed), evidence)


def _is_meeting(appointment: Appointment) -> bool:
    return not (
        appointment.is_all_day
        or appointment.is_cancelled
        or appointment.show_as == Appointment.ShowAs.FREE
        or appointment.is_out_of_office
    )


def attention_items_sync(
    *,
    user: User,
    zone: zoneinfo.ZoneInfo,
    mailboxes: Iterable[str],
    works: Sequence[tuple[Appointment, Billing, str]],
) -> None:
    """After a run stored its appointments (appointment, billing, source event id): close the
    items of those the source now bills, open one for each meeting that needs a decision, and
    bring the suggestions of those already open up to date."""
    billed = [str(a.pk) for a, billing, _ in works if billing.customer]
    for item in ActionLog.objects.filter(
        user=user, event_type__in=ATTENTION_TYPES, key__in=billed
    ).open():
        item.close(by=None, note="Outlook now gives it a billing category")
    candidates = [(a, b, source) for a, b, source in works if not b.customer and _is_meeting(a)]
    if not candidates:
        return
    keys = [str(a.pk) for a, _, _ in candidates]
    decided = set(
        ActionLog.objects.filter(user=user, event_type__in=ATTENTION_TYPES, key__in=keys)
        .exclude(state=ActionLog.State.OPEN)
        .values_list("key", flat=True)
    )
    decided |= {
        str(pk)
        for pk in CategoryDecision.objects.filter(
            user=user,
            appointment_id__in=[a.pk for a, _, _ in candidates],
            decision=CategoryDecision.Decision.APPLIED,
        ).values_list("appointment_id", flat=True)
    }
    candidates = [c for c in candidates if str(c[0].pk) not in decided]
    if not candidates:
        return
    own = own_domains(user=user, mailboxes=mailboxes)
    evidences = appointments_evidence([a for a, _, _ in candidates], own, zone=user.timezone)
    model = model_for(user=user, evidences=evidences.values())
    dismissed = _dismissed(user, [a.pk for a, _, _ in candidates])
    items = []
    for appointment, billing, source_id in candidates:
        evidence = evidences[appointment.pk]
        choices = _suggest(model, evidence, dismissed.get(appointment.pk, set()))
        kind = _item_kind(billing, evidence, choices)
        if kind is None:
            continue
        items.append(_item(user, kind, appointment, billing, source_id, evidence, choices, zone))
    _open_or_refresh(user, items)


def _item_kind(
    billing: Billing, evidence: Evidence, choices: list[dict[str, Any]]
) -> ActionLog.EventType | None:
    if not billing.is_personal:
        return ActionLog.EventType.UNCATEGORISED
    top = choices[0]
    if evidence.people:
        return ActionLog.EventType.POSSIBLY_BILLABLE
    # No outside people: only a confident suggestion (a series the user bills) makes it one.
    if top["action"] == "set_category" and top["confidence"] >= confidence_threshold():
        return ActionLog.EventType.POSSIBLY_BILLABLE
    return None


def _item(
    user: User,
    kind: ActionLog.EventType,
    appointment: Appointment,
    billing: Billing,
    source_id: str,
    evidence: Evidence,
    choices: list[dict[str, Any]],
    zone: zoneinfo.ZoneInfo,
) -> ActionLog:
    when = f"{appointment.start_time.astimezone(zone):%a %d %b %Y %H:%M}"
    if kind == ActionLog.EventType.UNCATEGORISED:
        description = f"“{appointment.subject}” on {when} has no billing category"
    elif evidence.domains:
        description = (
            f"“{appointment.subject}” on {when} has no category but people from "
            f"{', '.join(evidence.domains[:3])}: possibly billable"
        )
    else:
        description = f"“{appointment.subject}” on {when} has no category: possibly billable"
    return ActionLog(
        user=user,
        event_type=kind,
        key=appointment.pk,
        description=description,
        details={
            "appointment": appointment.pk,
            "source_event_id": source_id,
            "categories": appointment.categories,
            "problems": list(billing.problems),
            "people": list(evidence.people[:20]),
        },
        recommendations=choices,
    )


def _open_or_refresh(user: User, items: list[ActionLog]) -> None:
    if not items:
        return
    open_items = {
        (item.event_type, item.key): item
        for item in ActionLog.objects.filter(
            user=user, event_type__in=ATTENTION_TYPES, key__in=[str(i.key) for i in items]
        ).open()
    }
    fresh, changed = [], []
    now = timezone.now()
    for item in items:
        existing = open_items.get((item.event_type, str(item.key)))
        if existing is None:
            fresh.append(item)
        elif existing.recommendations != item.recommendations:
            existing.recommendations, existing.updated_at = item.recommendations, now
            changed.append(existing)
    ActionLog.objects.open_items(fresh)
    if changed:
        ActionLog.objects.bulk_update(changed, ["recommendations", "updated_at"], batch_size=500)


def attention_refresh(*, user: User) -> int:
    """Recompute the suggestions of the user's open attention items (after a decision taught
    the model something); how many items changed."""
    items = list(ActionLog.objects.filter(user=user, event_type__in=ATTENTION_TYPES).open())
    by_id = {int(item.key): item for item in items if item.key.isdigit()}
    appointments = Appointment.objects.filter(user=user, pk__in=list(by_id)).select_related(
        "location", "calendar", "user"
    )
    if not by_id:
        return 0
    own = own_domains(
        user=user, mailboxes=[a.calendar.mailbox for a in appointments if a.calendar_id]
    )
    evidences = appointments_evidence(list(appointments), own, zone=user.timezone)
    model = model_for(user=user, evidences=evidences.values())
    dismissed = _dismissed(user, list(by_id))
    changed = []
    for appointment in appointments:
        item = by_id[appointment.pk]
        evidence = evidences[appointment.pk]
        choices = _suggest(model, evidence, dismissed.get(appointment.pk, set()))
        if choices != item.recommendations:
            item.recommendations, item.updated_at = choices, timezone.now()
            changed.append(item)
    if changed:
        ActionLog.objects.bulk_update(changed, ["recommendations", "updated_at"], batch_size=500)
    return len(changed)


def local_category_overrides(
    *, user: User, categories: dict[str, list[str]], billings: dict[str, Billing]
) -> dict[str, Billing]:
    """Billings of source events (by id) with what the user applied locally: a category set
    on a calendar they may only read stays billed to it, whatever Outlook shows."""
    unbilled = [event_id for event_id, billing in billings.items() if not billing.customer]
    if not unbilled:
        return billings
    decided = dict(
        CategoryDecision.objects.filter(
            user=user,
            local_only=True,
            decision=CategoryDecision.Decision.APPLIED,
            appointment__ms_event_id__in=unbilled,
        )
        .order_by("created_at")
        .values_list("appointment__ms_event_id", "label")
    )
    overridden = dict(billings)
    for event_id, label in decided.items():
        overridden[event_id] = billing_from_categories([*categories.get(event_id, []), label])
    return overridden


def source_deleted_recommendations(*, billed: bool) -> list[dict[str, Any]]:
    """A meeting deleted in Outlook after it was archived: most were held (people tidy their
    calendars), so keeping it billed comes first."""
    return [
        recommendation(
            id="happened",
            label="It happened — keep billing it",
            action="happened",
            confidence=0.6,
            reason="Most meetings deleted after they took place were held: people tidy their "
            "calendars.",
        ),
        recommendation(
            id="did-not-happen",
            label="It did not happen — stop billing it, delete its archive copies",
            action="did_not_happen",
            confidence=0.4,
            reason="It is on an issued timesheet and stays billed there until that timesheet "
            "is voided."
            if billed
            else "",
        ),
    ]


def item_evidence(item: ActionLog) -> list[dict[str, Any]]:
    """The appointments an item is about, as they are now (the item's user's only)."""
    details = item.details or {}
    ids = [details["appointment"]] if isinstance(details.get("appointment"), int) else []
    ids += [m["id"] for m in details.get("appointments", []) if isinstance(m.get("id"), int)]
    if not ids:
        return []
    rows = list(
        Appointment.objects.filter(user_id=item.user_id, pk__in=ids).select_related("location")
    )
    own = own_domains(user=item.user)
    evidences = appointments_evidence(rows, own, zone=item.user.timezone)
    return [
        {
            "id": a.pk,
            "subject": a.subject or "(no subject)",
            "start": a.start_time,
            "end": a.end_time,
            "customer": a.customer,
            "categories": list(a.categories or []),
            "location": a.location.name if a.location else "",
            "people": list(evidences[a.pk].people[:10]),
            "show_as": a.get_show_as_display(),
            "importance": a.get_importance_display(),
            "billed_on": a.timesheet_id,
        }
        for a in sorted(rows, key=lambda a: (a.start_time, a.pk))
    ]
