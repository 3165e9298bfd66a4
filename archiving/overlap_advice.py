"""How to settle an overlap the rules could not decide (a tie at the highest importance):
"keep A", "keep B", "keep them all", ranked by the rule's own hint (the longest booking is
usually the real one) and by the user's past decisions on similar pairs — when they kept the
customer meeting over the internal one, or the reverse. Strictly the user's own history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.models import User
from auditing.models import ActionLog
from auditing.recommendations import recommendation
from calendars.models import Appointment

PAST_OVERLAPS = 200  # the most recent decided overlaps the advice learns from


def _customer_over_internal(user: User) -> tuple[int, int]:
    """Of the user's decided overlaps that had one customer meeting and internal ones: how
    often they kept only the customer meeting, and how many there were."""
    items = (
        ActionLog.objects.filter(
            user=user, event_type=ActionLog.EventType.OVERLAP, state=ActionLog.State.RESOLVED
        )
        .order_by("-closed_at")
        .values_list("details", flat=True)[:PAST_OVERLAPS]
    )
    groups = [
        [m["id"] for m in (details or {}).get("appointments", []) if isinstance(m.get("id"), int)]
        for details in items
    ]
    states = dict(
        Appointment.objects.filter(user=user, pk__in=[pk for g in groups for pk in g]).values_list(
            "pk", "overlap_state"
        )
    )
    customers = dict(
        Appointment.objects.filter(user=user, pk__in=list(states)).values_list("pk", "customer")
    )
    kept = seen = 0
    for group in groups:
        billed = [pk for pk in group if customers.get(pk)]
        internal = [pk for pk in group if pk in customers and not customers.get(pk)]
        if len(billed) != 1 or not internal:
            continue
        seen += 1
        kept_ids = {pk for pk in group if states.get(pk) == Appointment.OverlapState.KEPT}
        kept += kept_ids == {billed[0]}
    return kept, seen


def overlap_recommendations(*, user: User, members: Sequence[Appointment]) -> list[dict[str, Any]]:
    ordered = sorted(members, key=lambda a: (a.start_time, a.pk))
    longest = max(ordered, key=lambda a: (a.end_time - a.start_time, -a.start_time.timestamp()))
    billed = [a for a in ordered if a.customer]
    kept, seen = _customer_over_internal(user) if len(billed) == 1 else (0, 0)
    choices = []
    for appointment in ordered:
        confidence, reasons = 0.3, []
        if appointment is longest:
            confidence += 0.2
            reasons.append("it is the longest booking, usually the real one")
        if seen and len(billed) == 1:
            # Laplace's rule: 5 of 5 past decisions make it likely, 1 of 1 only a hint.
            share = (kept + 1) / (seen + 2)
            if appointment is billed[0]:
                confidence = max(confidence, share)
                reasons.append(
                    f"you kept the customer meeting over the internal one {kept} of the last "
                    f"{seen} times"
                )
            else:
                confidence = min(confidence, 1 - share)
        choices.append(
            recommendation(
                id=f"keep-{appointment.pk}",
                label=f"Keep “{appointment.subject or appointment.pk}”, drop the others",
                action="keep",
                params={"keep_ids": [appointment.pk]},
                confidence=min(confidence, 0.95),
                reason="; ".join(reasons).capitalize() + ("." if reasons else ""),
            )
        )
    choices.append(
        recommendation(
            id="keep-all",
            label="Keep them all: you attended each (bill every one)",
            action="keep",
            params={"keep_ids": [a.pk for a in ordered]},
            confidence=0.2,
            reason="Only if you really were in all of them at once.",
        )
    )
    return choices
