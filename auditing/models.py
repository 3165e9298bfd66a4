from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from auditing.recommendations import (
    is_preselected,
    recommendations_ordered,
    validate_recommendations,
)
from auditing.resolutions import recommendations_check
from foundations.audit import audit_change
from foundations.models import FastLoaded, OwnedQuerySet, Timestamped

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: auditing sits below accounts and does not
    # import it.
    from django.contrib.auth.models import _User as User


class AuditLog(FastLoaded):
    """One thing the system did, who asked for it, and how it went. Never edited."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial"
        FAILURE = "failure", "Failure"

    class ActionType(models.TextChoices):
        """The area of the product that acted; `operation` names what it did."""

        ACTION_LOG = "action_log", "Action log"
        ADMIN = "admin", "Admin"
        API = "api", "API"
        API_TOKEN = "api_token", "API token"
        ARCHIVE = "archive", "Archive"
        DEMO = "demo", "Demo data"
        MICROSOFT = "microsoft", "Microsoft 365"
        SECURITY = "security", "Security"
        TIMESHEET = "timesheet", "Timesheet"
        XERO = "xero", "Xero"

    # The audit trail outlives the user it names, for compliance.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_log",
    )
    action_type = models.CharField(max_length=64, choices=ActionType.choices)
    operation = models.CharField(max_length=128)
    resource_type = models.CharField(max_length=64, null=True, blank=True)
    resource_id = models.CharField(max_length=128, null=True, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    message = models.TextField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True)
    request_data = models.JSONField(null=True, blank=True)
    response_data = models.JSONField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    ip_address = models.CharField("IP address", max_length=45, null=True, blank=True)
    user_agent = models.CharField(max_length=512, null=True, blank=True)
    correlation_id = models.CharField(max_length=128, null=True, blank=True)
    parent_audit = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        db_column="parent_audit_id",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "audit_log"
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["user", "created_at"], name="idx_audit_log_user_time"),
            models.Index(fields=["correlation_id"], name="idx_audit_log_correlation"),
            models.Index(fields=["action_type", "operation"], name="idx_audit_log_operation"),
        ]

    def __str__(self) -> str:
        return f"{self.action_type}.{self.operation} ({self.status})"


class ActionLogQuerySet(OwnedQuerySet):
    def open(self) -> ActionLogQuerySet:
        return self.filter(state=ActionLog.State.OPEN)

    def open_item(
        self,
        *,
        user: User,
        event_type: ActionLog.EventType,
        key: object,
        description: str,
        details: dict[str, Any] | None = None,
        recommendations: list[dict[str, Any]] | None = None,
    ) -> tuple[ActionLog, bool]:
        """The open item for (user, event_type, key), opened now if there is none.

        Idempotent: the database refuses a second open item for the same subject (a partial
        unique constraint), so two runs racing each other still open one.
        """
        key = str(key)
        recommendations = _checked_recommendations(event_type, recommendations)
        existing = self.filter(user=user, event_type=event_type, key=key).open().first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic(using="default"):
                item = self.create(
                    user=user,
                    event_type=event_type,
                    key=key,
                    description=description[:1024],
                    details=details,
                    recommendations=recommendations,
                )
        except IntegrityError:
            return self.filter(user=user, event_type=event_type, key=key).open().get(), False
        return item, True

    def open_items(self, items: list[ActionLog]) -> int:
        """Open many items at once (each with its user, event_type and key); those already open
        are left as they are. Returns how many were asked for."""
        for item in items:
            item.key = str(item.key)
            item.description = (item.description or "")[:1024]
            item.recommendations = _checked_recommendations(item.event_type, item.recommendations)
        # ON CONFLICT DO NOTHING / INSERT OR IGNORE: the partial unique constraint decides.
        self.bulk_create(items, batch_size=500, ignore_conflicts=True)
        return len(items)


def _checked_recommendations(
    event_type: str, recommendations: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """Validated and best first; bulk inserts skip field validators, so every write path of
    the queryset comes through here."""
    if recommendations is None:
        return None
    ordered = recommendations_ordered(recommendations)
    recommendations_check(event_type=event_type, recommendations=ordered)
    return ordered


class ActionLogState(models.TextChoices):
    """Where an action item stands; at module level so the item's constraints can name it."""

    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class ActionLog(Timestamped):
    """Something a human must look at: an unresolved overlap, a failed upload, ..."""

    State = ActionLogState

    class EventType(models.TextChoices):
        OVERLAP = "overlap", "Overlapping appointments"
        UNCATEGORISED = "uncategorised", "Uncategorised meeting"
        POSSIBLY_BILLABLE = "possibly_billable", "Possibly billable meeting"
        SOURCE_DELETED = "source_deleted", "Deleted from the source calendar"
        RECONNECT_MICROSOFT = "reconnect_microsoft", "Reconnect Microsoft 365"
        UPLOAD_FAILED = "upload_failed", "Upload failed"
        XERO_PUSH_FAILED = "xero_push_failed", "Sending to Xero failed"
        RECONNECT_XERO = "reconnect_xero", "Reconnect Xero"
        ARCHIVE_STALE = "archive_stale", "Archive has not run"
        UNREADABLE_EVENT = "unreadable_event", "Event the archive cannot store"
        ARCHIVE_ABANDONED = "archive_abandoned", "Archive run kept stopping"
        SCHEDULE_BROKEN = "schedule_broken", "Schedule could not fire"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="action_log"
    )
    event_type = models.CharField(max_length=64, choices=EventType.choices)
    state = models.CharField(
        max_length=32, choices=State.choices, default=State.OPEN, db_default=State.OPEN
    )
    description = models.CharField(max_length=1024, null=True, blank=True)
    details = models.JSONField(null=True, blank=True, editable=False)
    recommendations = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        validators=[validate_recommendations],
        help_text="Structured choices, best first: {id, label, action, params, confidence, "
        "reason}; each action is a registered way to settle the item.",
    )

    # Beyond the seed: what the item is about, and when, by whom and how it was closed.
    key = models.CharField(
        max_length=255,
        default="",
        db_default="",
        blank=True,
        editable=False,
        help_text="The item's subject (e.g. the appointment ids of an overlap): one open item "
        "per user, event type and key.",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.CharField(
        max_length=255, null=True, blank=True, editable=False, help_text="How it was settled."
    )

    objects = ActionLogQuerySet.as_manager()

    class Meta:
        db_table = "action_log"
        ordering = ["-created_at", "-id"]
        verbose_name = "action log item"
        verbose_name_plural = "action log"
        indexes = [models.Index(fields=["user", "state"], name="idx_action_log_user_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event_type", "key"],
                condition=Q(state=ActionLogState.OPEN),
                name="action_log_one_open_item_per_subject",
                violation_error_message="This item is already open.",
            ),
            models.CheckConstraint(
                condition=(Q(state=ActionLogState.OPEN) & Q(closed_at__isnull=True))
                | (~Q(state=ActionLogState.OPEN) & Q(closed_at__isnull=False)),
                name="action_log_closed_has_closed_at",
                violation_error_message="A resolved or dismissed item needs a close date, "
                "and an open one has none.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()}: {self.description or ''}".strip()

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def top_recommendation(self) -> dict[str, Any] | None:
        return (self.recommendations or [None])[0]

    @property
    def top_is_preselected(self) -> bool:
        top = self.top_recommendation
        return top is not None and is_preselected(top)

    def detail_id(self, name: str) -> int:
        """An id the item's details name (its appointment, timesheet, configuration); 0 when
        it names none, which matches no row."""
        value = (self.details or {}).get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def recommendation(self, recommendation_id: str) -> dict[str, Any] | None:
        return next(
            (r for r in self.recommendations or [] if r.get("id") == recommendation_id), None
        )

    def close(
        self,
        *,
        by: User | None,
        resolution: ActionLogState = ActionLogState.RESOLVED,
        note: str | None = None,
    ) -> bool:
        """Resolve or dismiss the item, audited; False when it was already closed.

        `by` is the person who decided, or None when the system closed it (a reconnect, a
        retried upload, a source event that came back).
        """
        if resolution not in (self.State.RESOLVED, self.State.DISMISSED):
            raise ValueError(f"An action item is resolved or dismissed, not {resolution!r}.")
        now = timezone.now()
        by_user = by if getattr(by, "pk", None) is not None else None
        with transaction.atomic(using="default"):
            changed = ActionLog.objects.filter(pk=self.pk, state=self.State.OPEN).update(
                state=resolution,
                closed_at=now,
                closed_by=by_user,
                resolution=(note or "")[:255] or None,
                updated_at=now,
            )
            if not changed:
                return False
            self.state, self.closed_at, self.closed_by = resolution, now, by_user
            self.resolution, self.updated_at = (note or "")[:255] or None, now
            # Through the recorder the auditing app registers (auditing/apps.py): the audit
            # service imports these models, so they do not import it back.
            audit_change(
                action_type=AuditLog.ActionType.ACTION_LOG,
                operation=resolution,
                user=by_user or self.user,
                resource_type="ActionLog",
                resource_id=self.pk,
                message=f"{self.get_state_display()}: {self}"
                + (f" ({note})" if note else "")
                + ("" if by_user else " (closed by the system)"),
            )
        return True

    def clean(self) -> None:
        super().clean()
        if self.recommendations is not None:
            recommendations_check(event_type=self.event_type, recommendations=self.recommendations)
        if self.state == self.State.OPEN:
            # Reopening an item forgets when and by whom it was closed.
            self.closed_at = None
            self.closed_by = None
        elif self.closed_at is None:
            raise ValidationError(
                {
                    "state": "Resolve or dismiss an item with the Resolve or Dismiss action, "
                    "which records when it was closed."
                }
            )
