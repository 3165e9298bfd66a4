"""Archiving's models: ArchiveConfiguration, ArchiveCopy, ArchiveRun (with its lease),
JobConfiguration, CategoryDecision.
Over 450 lines: one models.py per app, as the house style keeps them, each model with
its own rules."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from calendars.uris import validate_calendar_uri
from foundations.models import FastLoaded, OwnedQuerySet, Timestamped
from foundations.validators import validate_timezone


class ArchiveConfiguration(Timestamped):
    """Which calendar is archived into which, and in what time zone days are counted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="archive_configurations"
    )
    name = models.CharField(max_length=255)
    source_calendar_uri = models.CharField(
        max_length=1024,
        validators=[validate_calendar_uri],
        help_text="msgraph://[account/]calendars/<name or id>, e.g. msgraph://calendars/Calendar",
    )
    destination_calendar_uri = models.CharField(
        max_length=1024,
        validators=[validate_calendar_uri],
        help_text='e.g. msgraph://calendars/"Billable Archive"',
    )
    is_active = models.BooleanField(default=True, db_default=True)
    timezone = models.CharField(
        max_length=64,
        validators=[validate_timezone],
        help_text="IANA time zone in which archive days start and end, e.g. Europe/London.",
    )

    # Beyond the seed: copy every non-free appointment even when they overlap.
    allow_overlaps = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Copy every non-free appointment, even overlapping ones.",
    )
    # The calendars the last run resolved the URIs to (the URIs are what the user edits).
    source_calendar = models.ForeignKey(
        "calendars.Calendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    destination_calendar = models.ForeignKey(
        "calendars.Calendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # One run per configuration at a time: a lease taken with a conditional UPDATE.
    run_lock_owner = models.CharField(max_length=255, null=True, blank=True, editable=False)
    run_lock_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "archive_configurations"
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                name="archive_configurations_user_name_unique",
                violation_error_message="This user already has an archive configuration "
                "with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    RUN_LEASE = timedelta(minutes=15)

    def acquire_run_lock(self) -> str | None:
        """Take the run lock (a lease); the owner token, or None when another run holds it.

        A lease left by a run killed on this machine is taken over at once; one held by a live
        process elsewhere only once it has expired.
        """
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        now = timezone.now()
        free = Q(run_lock_owner__isnull=True) | Q(run_lock_expires_at__lt=now)
        rows = ArchiveConfiguration.objects.filter(pk=self.pk)
        taken = rows.filter(free).update(
            run_lock_owner=owner, run_lock_expires_at=now + self.RUN_LEASE
        )
        if not taken:
            holder = rows.values_list("run_lock_owner", flat=True).first()
            if _lock_owner_is_dead(holder):
                taken = rows.filter(run_lock_owner=holder).update(
                    run_lock_owner=owner, run_lock_expires_at=now + self.RUN_LEASE
                )
            if not taken:
                self.run_lock_owner = holder
                return None
        self.run_lock_owner, self.run_lock_expires_at = owner, now + self.RUN_LEASE
        return owner

    def renew_run_lock(self, owner: str) -> bool:
        """Extend the lease; False when the lock is no longer ours."""
        expires = timezone.now() + self.RUN_LEASE
        renewed = ArchiveConfiguration.objects.filter(pk=self.pk, run_lock_owner=owner).update(
            run_lock_expires_at=expires
        )
        return bool(renewed)

    def release_run_lock(self, owner: str) -> None:
        ArchiveConfiguration.objects.filter(pk=self.pk, run_lock_owner=owner).update(
            run_lock_owner=None, run_lock_expires_at=None
        )
        self.run_lock_owner = self.run_lock_expires_at = None

    def clean(self) -> None:
        super().clean()
        if (
            self.source_calendar_uri
            and self.destination_calendar_uri
            and self.source_calendar_uri.strip() == self.destination_calendar_uri.strip()
        ):
            raise ValidationError(
                {"destination_calendar_uri": "The archive calendar must differ from the source."}
            )


def _lock_owner_is_dead(owner: str | None) -> bool:
    """True when the lock belongs to a process on this machine that no longer exists."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ArchiveCopyQuerySet(OwnedQuerySet):
    owner_lookup = "appointment__user"


class ArchiveCopy(Timestamped):
    """The copy of one appointment in one archive calendar (an Outlook event there).

    Several archive configurations may read one source into different calendars: each
    destination holds its own copy, so "is it copied, is it current" is asked per destination.
    """

    appointment = models.ForeignKey(
        "calendars.Appointment", on_delete=models.CASCADE, related_name="archive_copies"
    )
    destination = models.ForeignKey(
        "calendars.Calendar", on_delete=models.CASCADE, related_name="archive_copies"
    )
    event_id = models.CharField("Outlook event id", max_length=512)
    digest = models.CharField(
        max_length=64, help_text="SHA-256 of what was copied; a change updates the copy."
    )

    objects = ArchiveCopyQuerySet.as_manager()

    class Meta:
        db_table = "archive_copies"
        ordering = ["appointment", "destination"]
        verbose_name_plural = "archive copies"
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "destination"],
                name="archive_copies_one_per_destination",
                violation_error_message="This appointment already has a copy in this calendar.",
            ),
        ]
        indexes = [models.Index(fields=["destination"], name="idx_archive_copies_destination")]

    def __str__(self) -> str:
        return f"{self.appointment} in {self.destination}"


class ScheduleType(models.TextChoices):
    """How a job runs; at module level so the job's check constraint can list its values."""

    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MANUAL = "manual", "Manual"


class JobConfiguration(Timestamped):
    """When an archive configuration runs on its own, and how many days back it looks."""

    ScheduleType = ScheduleType

    class DayOfWeek(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_configurations"
    )
    archive_configuration = models.ForeignKey(
        ArchiveConfiguration, on_delete=models.CASCADE, related_name="job_configurations"
    )
    archive_window_days = models.IntegerField(
        default=1,
        db_default=1,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="How many days back each run archives (1 = the day of the run, at most 366).",
    )
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices)
    schedule_hour = models.IntegerField(
        default=23, db_default=23, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    schedule_minute = models.IntegerField(
        default=59, db_default=59, validators=[MinValueValidator(0), MaxValueValidator(59)]
    )
    schedule_day_of_week = models.IntegerField(
        choices=DayOfWeek.choices,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="Required for weekly jobs.",
    )
    is_active = models.BooleanField(default=True, db_default=True)

    objects = OwnedQuerySet.as_manager()

    # What the admin's changelist looked up for its rows at once (one query per page, not per
    # row): the schedule's next run and the configuration's latest run (an
    # archiving.run_status.LastRun or None; that module imports this one).
    _next_run: datetime | None
    _last_run: Any

    class Meta:
        db_table = "job_configurations"
        ordering = ["user", "archive_configuration", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(schedule_type__in=ScheduleType.values),
                name="job_configurations_schedule_type_valid",
                violation_error_message="The schedule type must be daily, weekly or manual.",
            ),
            models.CheckConstraint(
                condition=Q(schedule_hour__gte=0, schedule_hour__lte=23),
                name="job_configurations_hour_range",
                violation_error_message="The hour must be between 0 and 23.",
            ),
            models.CheckConstraint(
                condition=Q(schedule_minute__gte=0, schedule_minute__lte=59),
                name="job_configurations_minute_range",
                violation_error_message="The minute must be between 0 and 59.",
            ),
            models.CheckConstraint(
                condition=Q(schedule_day_of_week__isnull=True)
                | Q(schedule_day_of_week__gte=0, schedule_day_of_week__lte=6),
                name="job_configurations_day_of_week_range",
                violation_error_message="The day of week must be between 0 (Monday) "
                "and 6 (Sunday).",
            ),
            models.CheckConstraint(
                condition=~Q(schedule_type=ScheduleType.WEEKLY)
                | Q(schedule_day_of_week__isnull=False),
                name="job_configurations_weekly_needs_day",
                violation_error_message="A weekly job needs a day of the week.",
            ),
            models.CheckConstraint(
                condition=Q(archive_window_days__gte=1),
                name="job_configurations_window_positive",
                violation_error_message="The archive window must be at least 1 day.",
            ),
            models.CheckConstraint(
                condition=Q(archive_window_days__lte=366),
                name="job_configurations_window_at_most_a_year",
                violation_error_message="The archive window can be at most 366 days.",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active"], name="idx_job_config_active"),
            models.Index(fields=["user"], name="idx_job_config_user"),
        ]

    def __str__(self) -> str:
        return f"{self.archive_configuration} ({self.get_schedule_type_display().lower()})"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.schedule_type == self.ScheduleType.WEEKLY and self.schedule_day_of_week is None:
            errors["schedule_day_of_week"] = "A weekly job needs a day of the week."
        if (
            self.archive_configuration_id
            and self.user_id
            and self.archive_configuration.user_id != self.user_id
        ):
            errors["archive_configuration"] = "This archive configuration belongs to another user."
        if errors:
            raise ValidationError(errors)


class ArchiveRunQuerySet(OwnedQuerySet):
    owner_lookup = "configuration__user"

    def last_success(self, configuration: ArchiveConfiguration) -> ArchiveRun | None:
        """The configuration's latest successful run (by when its window ended)."""
        return (
            self.filter(configuration=configuration, status=ArchiveRun.Status.SUCCESS)
            .order_by("-end", "-finished_at")
            .first()
        )


class ArchiveRun(FastLoaded):
    """One queued or scheduled archive run, recorded here so that its status never depends on
    django-q2's results, which it prunes (`Q_SAVE_LIMIT`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partly failed"
        FAILURE = "failure", "Failure"
        SKIPPED = "skipped", "Skipped"
        # Its worker stopped (killed, machine lost) mid-run: `error` says when and which worker,
        # and `retry` is the run that took its work over (archiving.leases).
        ABANDONED = "abandoned", "Abandoned (worker stopped)"

    FINISHED = (
        Status.SUCCESS,
        Status.PARTIAL,
        Status.FAILURE,
        Status.SKIPPED,
        Status.ABANDONED,
    )

    class Kind(models.TextChoices):
        MANUAL = "manual", "Manual"
        SCHEDULED = "scheduled", "Scheduled"

    task_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="django-q2's task id, once queued."
    )
    configuration = models.ForeignKey(
        ArchiveConfiguration, on_delete=models.CASCADE, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    correlation_id = models.CharField(max_length=64)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    # The lease of a running run: which worker process holds it and when it last said so.
    worker = models.CharField(max_length=255, null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    retry_of = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retry",
        help_text="The abandoned run whose work this one took over.",
    )
    # A scheduled run's firing ("archive-job-7@2026-12-06T06:00:00+00:00"): a firing delivered
    # twice finds its run instead of starting another.
    firing = models.CharField(max_length=128, null=True, blank=True, editable=False)

    objects = ArchiveRunQuerySet.as_manager()

    class Meta:
        db_table = "archive_runs"
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task_id"],
                condition=Q(task_id__isnull=False),
                name="archive_runs_one_per_task",
            ),
            models.UniqueConstraint(
                fields=["firing"],
                condition=Q(firing__isnull=False),
                name="archive_runs_one_per_firing",
            ),
        ]
        indexes = [
            models.Index(fields=["configuration", "status", "end"], name="idx_archive_runs_last"),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.start} to {self.end} ({self.status})"


class CategoryDecision(models.Model):
    """What a person decided about a suggested billing category for one appointment: applied
    (the category, or "personal" for "not billable"), or dismissed (never offered again for
    that appointment). The recommender learns from these next to the categorised history."""

    class Decision(models.TextChoices):
        APPLIED = "applied", "Applied"
        DISMISSED = "dismissed", "Dismissed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="category_decisions"
    )
    appointment = models.ForeignKey(
        "calendars.Appointment", on_delete=models.CASCADE, related_name="category_decisions"
    )
    label = models.CharField(
        max_length=255, help_text="The category name, or “personal” for not billable."
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    local_only = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Applied here but not in Outlook (a calendar you may only read): archive "
        "runs keep billing it to this category.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "category_decisions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "appointment"], name="idx_category_decisions_appt"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.label}"
