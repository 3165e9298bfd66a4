from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now

from adminassistant.models import OwnedQuerySet


class Timesheet(models.Model):
    """One customer's timesheet for a period, and the files made from it."""

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

    # Beyond the seed: whose timesheet it is.
    customer = models.CharField(max_length=255, null=True, blank=True)

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
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
