from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from adminassistant.models import OwnedQuerySet, Timestamped


class AuditLog(models.Model):
    """One thing the system did, who asked for it, and how it went. Never edited."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial"
        FAILURE = "failure", "Failure"

    # The audit trail outlives the user it names, for compliance.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_log",
    )
    action_type = models.CharField(max_length=64)
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


class ActionLog(Timestamped):
    """Something a human must look at: an unresolved overlap, a failed upload, ..."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="action_log"
    )
    event_type = models.CharField(max_length=64)
    state = models.CharField(
        max_length=32, choices=State.choices, default=State.OPEN, db_default=State.OPEN
    )
    description = models.CharField(max_length=1024, null=True, blank=True)
    details = models.JSONField(null=True, blank=True)
    recommendations = models.JSONField(null=True, blank=True)

    # Beyond the seed: when and by whom the item was closed.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "action_log"
        ordering = ["-created_at", "-id"]
        verbose_name = "action log item"
        verbose_name_plural = "action log"
        indexes = [models.Index(fields=["user", "state"], name="idx_action_log_user_state")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(state="open") & Q(closed_at__isnull=True))
                | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="action_log_closed_has_closed_at",
                violation_error_message="A resolved or dismissed item needs a close date, "
                "and an open one has none.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}: {self.description or ''}".strip()

    def clean(self) -> None:
        super().clean()
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
