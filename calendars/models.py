from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Lower

from foundations.days import day_bounds_utc
from foundations.inputs import (
    json_schema_validator,
    validate_date_in_range,
    validate_json_value,
)
from foundations.models import FastLoaded, OwnedQuerySet, Timestamped


class Calendar(Timestamped):
    """An Outlook calendar of the user's: a source of appointments or an archive."""

    name = models.CharField(max_length=255)
    description = models.CharField(max_length=1024, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendars"
    )
    ms_calendar_id = models.CharField(
        "Microsoft calendar id", max_length=512, null=True, blank=True
    )
    is_archive = models.BooleanField(default=False, db_default=False)
    # Beyond the seed: the mailbox the calendar lives in, when it is not the user's own (an
    # assistant archiving a principal's calendar).
    mailbox = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="Another person's mailbox (boss@example.com); empty for the user's own.",
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "calendars"
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "ms_calendar_id"],
                condition=Q(ms_calendar_id__isnull=False),
                name="calendars_user_ms_calendar_unique",
                violation_error_message="This user already has this Microsoft calendar.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (archive)" if self.is_archive else self.name


class Location(FastLoaded):
    name = models.CharField(max_length=255)
    address = models.CharField(max_length=1024, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="locations"
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "locations"
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                name="locations_user_name_unique",
                violation_error_message="This user already has a location with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Category(FastLoaded):
    """An Outlook category; `Acme - billable` style names carry the billing customer."""

    name = models.CharField(max_length=255)
    description = models.CharField(max_length=1024, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="categories"
    )
    ms_category_id = models.CharField(
        "Microsoft category id", max_length=255, null=True, blank=True
    )
    color = models.CharField(max_length=32, null=True, blank=True)
    is_internal = models.BooleanField(
        "internal time",
        default=False,
        db_default=False,
        help_text="Its customer is your own time (admin, training): shown as internal, never "
        "offered as an invoice.",
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "categories"
        ordering = ["user", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                "user",
                Lower("name"),
                name="categories_user_name_ci_unique",
                violation_error_message="This user already has a category with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


CATEGORIES_MAX = 50
CATEGORIES_SCHEMA = {
    "description": "Categories must be a list of category names",
    "type": "array",
    "maxItems": CATEGORIES_MAX,
    "items": {"type": "string", "minLength": 1, "maxLength": 255},
}
_check_categories = json_schema_validator(CATEGORIES_SCHEMA)


def validate_categories(value: object) -> None:
    _check_categories(value)


def category_names(value: object) -> tuple[str, ...]:
    """The category names in a stored `categories` value, whatever shape an older row or Graph
    left it in: names only, blank and non-text entries skipped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item.strip())


class AppointmentLocked(Exception):
    """A change that a registered save check refuses; the message says why."""


AppointmentSaveCheck = Callable[["Appointment", "Iterable[str] | None"], None]
_SAVE_CHECKS: list[AppointmentSaveCheck] = []


def appointment_save_check_register(check: AppointmentSaveCheck) -> None:
    """Run `check(appointment, update_fields)` before every save of an appointment; it raises
    AppointmentLocked to refuse the change. A higher app that owns a rule about appointments
    registers it when it is ready (the billed rule: `TimesheetsConfig.ready`); registering the
    same check twice, as Django's autoreloader may, keeps one."""
    if check not in _SAVE_CHECKS:
        _SAVE_CHECKS.append(check)


def starts_in_period(start: date, end: date, zone: str | ZoneInfo) -> Q:
    """Appointments that start on one of the days `start`..`end` (both included) in `zone`: the
    period an appointment belongs to, the rule timesheets bill by."""
    low, high = day_bounds_utc(start, end, zone)
    return Q(start_time__gte=low, start_time__lt=high)


class AppointmentQuerySet(OwnedQuerySet):
    def in_period(self, start: date, end: date, zone: str | ZoneInfo) -> AppointmentQuerySet:
        """Appointments that start on one of the days `start`..`end` in the IANA zone `zone`."""
        return self.filter(starts_in_period(start, end, zone))

    def overlapping(self, start: datetime, end: datetime) -> AppointmentQuerySet:
        """Appointments that overlap the instants [start, end), as an archive window sees them."""
        return self.filter(start_time__lt=end, end_time__gt=start)

    def billable(self) -> AppointmentQuerySet:
        """What a timesheet may bill: no free, cancelled, out-of-office, personal (no
        customer), overlap losers or unresolved conflicts."""
        return (
            self.exclude(show_as=Appointment.ShowAs.FREE)
            .exclude(is_cancelled=True)
            .exclude(is_out_of_office=True)
            .exclude(customer__isnull=True)
            .exclude(customer="")
            .exclude(overlap_state__in=Appointment.UNBILLED_OVERLAP_STATES)
        )

    def locked(self) -> AppointmentQuerySet:
        """Billed on an issued timesheet (voiding the timesheet unlinks them)."""
        return self.filter(timesheet__isnull=False)

    def unlocked(self) -> AppointmentQuerySet:
        return self.filter(timesheet__isnull=True)


class Appointment(Timestamped):
    """One Outlook event of the user's, as archived."""

    class ShowAs(models.TextChoices):
        FREE = "free", "Free"
        TENTATIVE = "tentative", "Tentative"
        BUSY = "busy", "Busy"
        OOF = "oof", "Out of office"
        WORKING_ELSEWHERE = "workingElsewhere", "Working elsewhere"
        UNKNOWN = "unknown", "Unknown"

    class Sensitivity(models.TextChoices):
        NORMAL = "normal", "Normal"
        PERSONAL = "personal", "Personal"
        PRIVATE = "private", "Private"
        CONFIDENTIAL = "confidential", "Confidential"

    class Importance(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"

    class BillingType(models.TextChoices):
        BILLABLE = "billable", "Billable"
        NON_BILLABLE = "non-billable", "Non-billable"

    class OverlapState(models.TextChoices):
        NONE = "", "No overlap"
        WINNER = "winner", "Kept (won the overlap)"
        LOSER = "loser", "Dropped (lost the overlap)"
        CONFLICT = "conflict", "Conflict (needs a decision)"
        KEPT = "kept", "Kept by the user"
        DISCARDED = "discarded", "Dropped by the user"

    # Overlap losers, unresolved conflicts and the ones the user dropped are never billed.
    UNBILLED_OVERLAP_STATES = (OverlapState.LOSER, OverlapState.CONFLICT, OverlapState.DISCARDED)

    ms_event_id = models.CharField("Microsoft event id", max_length=512, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appointments"
    )
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    subject = models.CharField(max_length=1024, null=True, blank=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    timesheet = models.ForeignKey(
        "timesheets.Timesheet",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    recurrence = models.CharField(
        max_length=1024, null=True, blank=True, help_text="RFC 5545 RRULE of the series."
    )
    ms_event_data = models.JSONField(
        "Microsoft event data", null=True, blank=True, validators=[validate_json_value]
    )
    is_private = models.BooleanField(default=False, db_default=False)
    is_archived = models.BooleanField(default=False, db_default=False)
    is_out_of_office = models.BooleanField(default=False, db_default=False)

    # Beyond the seed: what the archive run and the billing rules read.
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    is_all_day = models.BooleanField(default=False, db_default=False)
    show_as = models.CharField(
        max_length=32, choices=ShowAs.choices, default=ShowAs.BUSY, db_default=ShowAs.BUSY
    )
    sensitivity = models.CharField(
        max_length=32,
        choices=Sensitivity.choices,
        default=Sensitivity.NORMAL,
        db_default=Sensitivity.NORMAL,
    )
    importance = models.CharField(
        max_length=16,
        choices=Importance.choices,
        default=Importance.NORMAL,
        db_default=Importance.NORMAL,
    )
    categories = models.JSONField(
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        validators=[validate_categories],
        help_text="Outlook category names, in Outlook's order.",
    )
    customer = models.CharField(
        "billing customer", max_length=255, null=True, blank=True, db_index=True
    )
    billing_type = models.CharField(
        max_length=16, choices=BillingType.choices, null=True, blank=True
    )
    is_travel = models.BooleanField(default=False, db_default=False)
    billable_override = models.BooleanField(
        null=True,
        blank=True,
        help_text="Bill this appointment (yes) or not (no) whatever its category says.",
    )
    is_cancelled = models.BooleanField(default=False, db_default=False)
    overlap_state = models.CharField(
        max_length=16,
        choices=OverlapState.choices,
        default=OverlapState.NONE,
        db_default=OverlapState.NONE,
        blank=True,
        help_text="How overlap resolution treated this appointment.",
    )
    overlap_reason = models.CharField(max_length=255, null=True, blank=True)
    # Archived, then gone from the source calendar: still billed until a person decides.
    source_deleted_at = models.DateTimeField(
        "deleted at the source",
        null=True,
        blank=True,
        editable=False,
        help_text="When an archive run found the event gone from Outlook.",
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        db_table = "appointments"
        ordering = ["start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="appointments_end_after_start",
                violation_error_message="The end time must be after the start time.",
            ),
            models.UniqueConstraint(
                fields=["user", "ms_event_id"],
                condition=Q(ms_event_id__isnull=False),
                name="appointments_user_ms_event_unique",
                violation_error_message="This user already has an appointment for this event.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "start_time", "end_time"], name="idx_appointments_user_time"
            ),
            models.Index(fields=["is_archived"], name="idx_appointments_archived"),
            models.Index(fields=["ms_event_id"], name="idx_appointments_ms_event"),
        ]

    def __str__(self) -> str:
        return self.subject or "(no subject)"

    def save(self, *args: Any, **kwargs: Any) -> None:
        for check in _SAVE_CHECKS:
            check(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.categories in (None, ""):
            # An emptied admin field means "no categories"; the column is NOT NULL.
            self.categories = []
        for field in ("start_time", "end_time"):
            try:
                validate_date_in_range(getattr(self, field))
            except ValidationError as error:
                raise ValidationError({field: error.messages}) from None
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end time must be after the start time."})
        for field in ("location", "category", "calendar", "timesheet"):
            related = getattr(self, field, None)
            if related is not None and self.user_id and related.user_id != self.user_id:
                raise ValidationError({field: f"This {field} belongs to another user."})

    @property
    def duration_hours(self) -> float:
        return (self.end_time - self.start_time).total_seconds() / 3600

    @property
    def is_locked(self) -> bool:
        """Billed on an issued timesheet: read-only until that timesheet is voided (the rule
        is timesheets': timesheets/locks.py)."""
        return self.timesheet_id is not None


class AppointmentFeature(models.Model):
    """One piece of evidence an appointment carries about who it was for — an outside
    person's address (`addr:`), their domain (`dom:`), the series (`series:`), a subject word
    (`word:`), the location (`loc:`), the time of day (`tod:`) — written when it is archived.
    Suggestions count these per billing category in the database, so suggesting for a meeting
    reads only the rows of its own features, however long the history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="features")
    feature = models.CharField(max_length=300)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "appointment_features"
        verbose_name = "suggestion evidence"
        verbose_name_plural = "suggestion evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "feature"], name="appointment_features_unique"
            ),
        ]
        indexes = [models.Index(fields=["user", "feature"], name="idx_features_user_feature")]

    def __str__(self) -> str:
        return self.feature
