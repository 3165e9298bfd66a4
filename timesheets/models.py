from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Now

from adminassistant.inputs import validate_date_in_range
from adminassistant.models import OwnedQuerySet
from timesheets.billing import Rounding


class Timesheet(models.Model):
    """One customer's timesheet for a period, and the files made from it."""

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        VOID = "void", "Void"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timesheets"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    pdf_path = models.CharField("PDF file", max_length=1024, null=True, blank=True)
    csv_path = models.CharField("CSV file", max_length=1024, null=True, blank=True)
    excel_path = models.CharField("Excel file", max_length=1024, null=True, blank=True)
    uploaded_to_onedrive = models.BooleanField(default=False, db_default=False)
    uploaded_to_xero = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    # Beyond the seed: whose timesheet it is, and whether it still stands.
    customer = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ISSUED, db_default=Status.ISSUED
    )
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    onedrive_url = models.CharField(max_length=1024, null=True, blank=True, editable=False)
    notes = models.JSONField(
        null=True, blank=True, editable=False, help_text="What the generation reported."
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "timesheets"
        ordering = ["-start_date", "customer"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="timesheets_end_not_before_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]

    def __str__(self) -> str:
        customer = self.customer or "all customers"
        return f"{customer}: {self.start_date:%d %b %Y} to {self.end_date:%d %b %Y}"

    def clean(self) -> None:
        super().clean()
        for field in ("start_date", "end_date"):
            try:
                validate_date_in_range(getattr(self, field))
            except ValidationError as error:
                raise ValidationError({field: error.messages}) from None
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
        if self.status == self.Status.ISSUED and self.start_date and self.end_date:
            existing = self.issued_overlapping().first()
            if existing is not None:
                raise ValidationError(existing.already_issued_message())

    def issued_overlapping(self) -> models.QuerySet[Timesheet]:
        """Other issued timesheets of this user and customer whose period overlaps this one."""
        return (
            Timesheet.objects.filter(
                user_id=self.user_id,
                status=self.Status.ISSUED,
                start_date__lte=self.end_date,
                end_date__gte=self.start_date,
            )
            .filter(Q(customer__iexact=self.customer) if self.customer else Q(customer=None))
            .exclude(pk=self.pk)
            .order_by("start_date", "pk")
        )

    def already_issued_message(self) -> str:
        return (
            f"Timesheet {self.pk} ({self}) is already issued for an overlapping period; "
            "void it first to issue another."
        )


class CustomerSettings(models.Model):
    """How one customer's timesheets are billed and titled; created on first use."""

    class RoundingMode(models.TextChoices):
        NONE = "none", "No rounding"
        UP = "up", "Up"
        NEAREST = "nearest", "To the nearest"
        DOWN = "down", "Down"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_settings"
    )
    customer = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    legal_name = models.CharField(max_length=255, blank=True)
    travel_rate = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="Share of travel time billed (0.50 = 50%).",
    )
    rounding_interval = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(240)],
        help_text="Round each row's hours to this many minutes (0 = no rounding).",
    )
    rounding_mode = models.CharField(
        max_length=8, choices=RoundingMode.choices, default=RoundingMode.NONE
    )
    onedrive_folder = models.CharField(
        max_length=512,
        blank=True,
        help_text="OneDrive folder for this customer's timesheets; empty = the default folder.",
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "timesheet_customer_settings"
        ordering = ["user", "customer"]
        verbose_name = "customer settings"
        verbose_name_plural = "customer settings"
        constraints = [
            models.UniqueConstraint(
                "user",
                Lower("customer"),
                name="customer_settings_user_customer_unique",
                violation_error_message="This user already has settings for this customer.",
            ),
            models.CheckConstraint(
                condition=Q(travel_rate__gte=0, travel_rate__lte=1),
                name="customer_settings_travel_rate_range",
                violation_error_message="The travel rate must be between 0 and 1.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.customer

    def rounding(self) -> Rounding:
        return Rounding(interval_minutes=self.rounding_interval, mode=self.rounding_mode)
