"""The attention inbox: applying and dismissing an item's recommendations, and the money each
open item holds back. One home for the admin, the API and `manage.py attention`.

Applying runs the recommendation's action through the resolver registry (the owning app
registered it), inside one audit row under the request's correlation id. A failure (Outlook
refused the write, the item cannot be settled that way) leaves the item open with the reason in
its details (`last_error`), audited as a failure.

The amount at stake is the owning app's knowledge too (timesheets knows rates): a provider
registered in `AppConfig.ready` prices a list of items at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from django.db import transaction
from django.utils import timezone

from auditing.models import ActionLog, AuditLog
from auditing.recommendations import confidence_threshold
from auditing.resolutions import (
    ResolutionFailed,
    dismissal_notify,
    free_choices,
    item_resolve,
)
from auditing.services import audit_operation, audit_record
from foundations.figures import format_hours, format_money
from foundations.graph import microsoft_problem

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User


class RecommendationUnknown(ValueError):
    """The item offers no recommendation with that id (HTTP 400)."""


class ItemChanged(Exception):
    """The item is closed, or changed since the person looked at it (HTTP 409)."""


class ApplyFailed(Exception):
    """The action could not be carried out; the item stays open with this reason.
    `upstream`: Microsoft 365 or Xero refused (not a choice that does not fit)."""

    def __init__(self, message: str, *, upstream: bool = False) -> None:
        super().__init__(message)
        self.upstream = upstream


@dataclass(frozen=True)
class Stake:
    """What an item holds back: hours, and their amount when the customer has a rate."""

    hours: Decimal
    amount: Decimal | None = None
    currency: str = ""
    customer: str | None = None

    def __str__(self) -> str:
        hours = format_hours(self.hours)
        if self.amount is not None and not self.hours:
            money = format_money(self.amount, self.currency)
            return money + (f" ({self.customer})" if self.customer else "")
        if self.amount is None:
            return hours + (f" ({self.customer})" if self.customer else "")
        return f"{format_money(self.amount, self.currency)} ({hours}" + (
            f", {self.customer})" if self.customer else ")"
        )


class StakeItem(Protocol):
    """What a stake provider reads of an item: an ActionLog, or a `StakeRow` of one."""

    @property
    def pk(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def details(self) -> Any: ...
    @property
    def top_recommendation(self) -> dict[str, Any] | None: ...


class StakeRow(NamedTuple):
    """An open item read as a plain row for its stake alone (the dashboard's total over every
    open item): a model instance per item, with its whole list of recommendations decoded, was
    most of the total's cost."""

    pk: int
    user_id: int
    event_type: str
    details: Any
    top_recommendation: dict[str, Any] | None


StakeProvider = Callable[[Sequence[StakeItem]], dict[int, Stake]]
_STAKE_PROVIDERS: list[StakeProvider] = []


def stake_provider_register(provider: StakeProvider) -> None:
    if provider not in _STAKE_PROVIDERS:
        _STAKE_PROVIDERS.append(provider)


def action_items_at_stake(*, items: Iterable[StakeItem]) -> dict[int, Stake]:
    """The stake of each item some provider can price (items with nothing billable at stake,
    such as a reconnect, are left out)."""
    listed = list(items)
    found: dict[int, Stake] = {}
    for provider in _STAKE_PROVIDERS:
        found.update(provider([item for item in listed if item.pk not in found]))
    return found


def open_items_at_stake(*, user: User) -> dict[str, Decimal]:
    """The unbilled money waiting on the user's decisions, per currency ('' = hours with no
    rate yet: the figure is hours). The dashboard's attention panel shows this."""
    totals: dict[str, Decimal] = {}
    # What the stake providers read of an item: not its description, notes, timestamps or
    # any recommendation but the first (the database picks it out of the list).
    items = map(
        StakeRow._make,
        ActionLog.objects.filter(user=user)
        .open()
        .order_by()
        .values_list("pk", "user_id", "event_type", "details", "recommendations__0"),
    )
    for stake in action_items_at_stake(items=items).values():
        key = stake.currency if stake.amount is not None else ""
        value = stake.amount if stake.amount is not None else stake.hours
        totals[key] = totals.get(key, Decimal(0)) + value
    return totals


EvidenceProvider = Callable[[ActionLog], list[dict[str, Any]]]
_EVIDENCE_PROVIDERS: list[EvidenceProvider] = []


def evidence_provider_register(provider: EvidenceProvider) -> None:
    """The owning app tells what an item is about: its appointments, as rows of subject,
    start and end (aware datetimes), customer, categories, location and people."""
    if provider not in _EVIDENCE_PROVIDERS:
        _EVIDENCE_PROVIDERS.append(provider)


def action_item_evidence(*, item: ActionLog) -> list[dict[str, Any]]:
    for provider in _EVIDENCE_PROVIDERS:
        rows = provider(item)
        if rows:
            return rows
    return []


def recommendation_apply(
    *,
    item: ActionLog,
    recommendation_id: str,
    by: User,
    seen_updated_at: datetime | None = None,
) -> str:
    """Carry out one of the item's recommendations; what was done, in words.

    ItemChanged when the item is closed or was changed after `seen_updated_at`;
    RecommendationUnknown for an id it does not offer; ApplyFailed (item left open, reason
    recorded) when the action failed."""
    item.refresh_from_db()
    if not item.is_open:
        raise ItemChanged(f"This item is already {item.get_state_display().lower()}.")
    if (
        seen_updated_at is not None
        and abs((item.updated_at - seen_updated_at).total_seconds()) > 1e-3
    ):
        raise ItemChanged("This item changed since you looked at it; look again.")
    chosen = item.recommendation(recommendation_id)
    if chosen is None:
        offered = ", ".join(r["id"] for r in item.recommendations or []) or "none"
        raise RecommendationUnknown(
            f"This item offers no recommendation {recommendation_id!r} (it offers: {offered})."
        )
    return _chosen_apply(item=item, chosen=chosen, by=by)


def free_choice_apply(*, item: ActionLog, choice: str, value: str, by: User) -> str:
    """Carry out a choice with a value the person picked (`FreeChoice`), exactly as a
    recommendation with that value would be; RecommendationUnknown when the item offers no
    such choice or the value is not one of its options (another user's category, say)."""
    item.refresh_from_db()
    if not item.is_open:
        raise ItemChanged(f"This item is already {item.get_state_display().lower()}.")
    offered = next(
        (f for f in free_choices(event_type=item.event_type) if f.choice == choice), None
    )
    if offered is None:
        raise RecommendationUnknown(f"This item offers no choice {choice!r}.")
    labels = dict(offered.options(item))
    if value not in labels:
        raise RecommendationUnknown(f"“{value}” is not one of the choices this item offers.")
    chosen = {
        "id": f"chosen-{choice}",
        "label": f"{offered.label}: {labels[value]}",
        "action": choice,
        "params": {offered.param: value},
    }
    return _chosen_apply(item=item, chosen=chosen, by=by)


def _chosen_apply(*, item: ActionLog, chosen: dict[str, Any], by: User) -> str:
    with audit_operation(
        action_type=AuditLog.ActionType.ACTION_LOG,
        operation="apply",
        user=by,
        resource_type="ActionLog",
        resource_id=item.pk,
        request_data={"recommendation": chosen},
        message=f"{item}: {chosen['label']}",
    ) as audit:
        try:
            outcome = item_resolve(
                event_type=item.event_type,
                choice=chosen["action"],
                item=item,
                by=by,
                **chosen["params"],
            )
        except Exception as error:
            problem = error if isinstance(error, ResolutionFailed) else microsoft_problem(error)
            if problem is None:
                raise
            reason = str(problem)
            _remember_failure(item, reason)
            audit.status = AuditLog.Status.FAILURE
            audit.message = f"{item}: {chosen['label']} failed: {reason}"
            raise ApplyFailed(reason, upstream=not isinstance(error, ResolutionFailed)) from error
        text = outcome if isinstance(outcome, str) and outcome else chosen["label"]
        audit.message = f"{item}: {text}"
        return text


def _remember_failure(item: ActionLog, reason: str) -> None:
    details = dict(item.details or {})
    details["last_error"] = reason[:500]
    now = timezone.now()
    ActionLog.objects.filter(pk=item.pk).update(details=details, updated_at=now)
    item.details, item.updated_at = details, now


def recommendation_dismiss(*, item: ActionLog, recommendation_id: str, by: User) -> None:
    """Turn one recommendation down: it is taken off the item (which stays open) and the app
    that offered it learns not to offer it again for this subject."""
    item.refresh_from_db()
    if not item.is_open:
        raise ItemChanged(f"This item is already {item.get_state_display().lower()}.")
    chosen = item.recommendation(recommendation_id)
    if chosen is None:
        raise RecommendationUnknown(f"This item offers no recommendation {recommendation_id!r}.")
    with transaction.atomic(using="default"):
        remaining = [r for r in item.recommendations or [] if r["id"] != recommendation_id]
        now = timezone.now()
        ActionLog.objects.filter(pk=item.pk).update(recommendations=remaining, updated_at=now)
        item.recommendations, item.updated_at = remaining, now
        audit_record(
            action_type=AuditLog.ActionType.ACTION_LOG,
            operation="dismiss_recommendation",
            user=by,
            resource_type="ActionLog",
            resource_id=item.pk,
            message=f"{item}: not “{chosen['label']}”",
            details={"recommendation": chosen},
        )
        dismissal_notify(item=item, by=by, recommendation=chosen)


def item_dismiss(*, item: ActionLog, by: User) -> None:
    """Dismiss the whole item (nothing needs doing); the offering app hears of it."""
    if not item.close(by=by, resolution=ActionLog.State.DISMISSED):
        raise ItemChanged("This item was closed meanwhile.")
    dismissal_notify(item=item, by=by, recommendation=None)


@dataclass
class ConfidentOutcome:
    item: ActionLog
    recommendation: dict[str, Any]
    applied: bool
    message: str


def confident_items(
    *, items: Iterable[ActionLog], min_confidence: float | None = None
) -> list[tuple[ActionLog, dict[str, Any]]]:
    """Open items whose top recommendation is at least `min_confidence` sure (the threshold
    by default), with that recommendation."""
    floor = confidence_threshold() if min_confidence is None else min_confidence
    return [
        (item, top)
        for item in items
        if item.is_open
        and (top := item.top_recommendation) is not None
        and float(top["confidence"]) >= floor
    ]


def confident_apply(
    *, items: Iterable[ActionLog], by: User, min_confidence: float | None = None
) -> list[ConfidentOutcome]:
    """Apply each item's top recommendation when it is confident enough; each apply is its
    own audit row, a failure leaves that item open and the others go on."""
    outcomes = []
    for item, top in confident_items(items=items, min_confidence=min_confidence):
        try:
            message = recommendation_apply(item=item, recommendation_id=top["id"], by=by)
        except (ApplyFailed, ItemChanged, RecommendationUnknown) as error:
            outcomes.append(ConfidentOutcome(item, top, False, str(error)))
        else:
            outcomes.append(ConfidentOutcome(item, top, True, message))
    return outcomes
