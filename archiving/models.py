from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from adminassistant.models import OwnedQuerySet, Timestamped
from adminassistant.validators import validate_timezone
from calendars.uris import validate_calendar_uri


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


class JobConfiguration(Timestamped):
    """When an archive configuration runs on its own, and how many days back it looks."""

    class ScheduleType(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MANUAL = "manual", "Manual"

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

    class Meta:
        db_table = "job_configurations"
        ordering = ["user", "archive_configuration", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(schedule_type__in=["daily", "weekly", "manual"]),
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
                condition=~Q(schedule_type="weekly") | Q(schedule_day_of_week__isnull=False),
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
