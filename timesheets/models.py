"""Timesheets' models: Timesheet, CustomerSettings, BillingProfile, the Xero connection, push and
call budget.
Over 450 lines: one models.py per app, as the house style keeps them, each model with
its own rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Now

from accounts.fields import EncryptedTextField
from foundations.inputs import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE
from foundations.models import FastLoaded, OwnedQuerySet
from timesheets.billing import MAX_HOURLY_RATE, Pricing, Rounding, RoundingMode, valid_currency

MAX_PERIOD_DAYS = 366


def validate_currency(value: str) -> None:
    if value and not valid_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code (for example GBP, EUR, USD).",
            code="currency",
        )


def rate_field(verbose_name: str, help_text: str) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal(0)),
            MaxValueValidator(MAX_HOURLY_RATE, message="A rate above 100,000 an hour is a typo."),
        ],
        help_text=help_text,
    )


def rate_range(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": 0, f"{field}__lte": MAX_HOURLY_RATE}),
        name=name,
        violation_error_message="A rate is between 0 and 100,000 an hour.",
    )


class BillingProfile(models.Model):
    """A user's own billing defaults: the rate and currency of customers that set none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_profile"
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_currency],
        help_text="ISO 4217 code of the default currency, e.g. GBP.",
    )
    hourly_rate = rate_field("default hourly rate", "Applies where a customer has no rate.")

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "timesheet_billing_profiles"
        constraints = [rate_range("hourly_rate", "billing_profile_rate_range")]

    def __str__(self) -> str:
        return f"Billing defaults of {self.user}"


class Timesheet(FastLoaded):
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
    # The terms the timesheet was issued on, frozen: a later change of the customer's settings
    # never alters an issued timesheet. Empty on timesheets issued before rates existed.
    currency = models.CharField(max_length=3, blank=True, editable=False)
    hourly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    travel_hourly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    travel_share = models.DecimalField(
        max_digits=4, decimal_places=2, null=True, blank=True, editable=False
    )
    daily_cap = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    rounding_interval = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rounding_mode = models.CharField(max_length=8, blank=True, editable=False)
    amount_total = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True, editable=False
    )
    xero_invoice_id = models.CharField("Xero invoice ID", max_length=64, blank=True, editable=False)
    xero_invoice_number = models.CharField(max_length=255, blank=True, editable=False)
    xero_invoice_url = models.CharField(max_length=1024, blank=True, editable=False)
    xero_attachment_id = models.CharField(max_length=64, blank=True, editable=False)

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
        problems = self.period_errors(self.start_date, self.end_date)
        if problems:
            raise ValidationError({f"{end}_date": message for end, message in problems.items()})
        if self.status == self.Status.ISSUED and self.start_date and self.end_date:
            existing = self.issued_overlapping().first()
            if existing is not None:
                raise ValidationError(existing.already_issued_message())

    @staticmethod
    def period_errors(start: date | None, end: date | None) -> dict[str, str]:
        """The rule for a timesheet's period, keyed "start" or "end" by the day at fault (empty
        when the period is valid): each day within the dates the app handles, the end not
        before the start, at most MAX_PERIOD_DAYS days. A missing day is left to the field."""
        problems = {
            name: DATE_RANGE_MESSAGE
            for name, day in (("start", start), ("end", end))
            if day is not None and not DATE_MIN <= day <= DATE_MAX
        }
        if problems or start is None or end is None:
            return problems
        if end < start:
            return {"end": "The end date cannot be before the start date."}
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            return {"end": f"A timesheet covers at most {MAX_PERIOD_DAYS} days."}
        return {}

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

    @property
    def has_frozen_terms(self) -> bool:
        return self.travel_share is not None

    def pricing(self) -> Pricing:
        return Pricing(
            currency=self.currency,
            hourly_rate=self.hourly_rate,
            travel_hourly_rate=self.travel_hourly_rate,
            daily_cap=self.daily_cap,
        )

    def rounding(self) -> Rounding:
        return Rounding(interval_minutes=self.rounding_interval or 0, mode=self.rounding_mode)

    @property
    def xero_idempotency_key(self) -> str:
        """The same for every push of this timesheet (a retry, a double click, two workers) and
        different for any other timesheet, even in another database: Xero keeps one invoice."""
        return f"adminassistant-timesheet-{self.pk}-{self.created_at:%Y%m%d%H%M%S%f}"

    def freeze_terms(self, terms: CustomerSettings, *, default: BillingProfile | None) -> None:
        """Copy the customer's billing terms (and the user's default rate) onto the timesheet."""
        pricing = terms.pricing(default=default)
        self.currency = pricing.currency
        self.hourly_rate = pricing.hourly_rate
        self.travel_hourly_rate = pricing.travel_hourly_rate
        self.daily_cap = pricing.daily_cap
        self.travel_share = terms.travel_rate
        self.rounding_interval = terms.rounding_interval
        self.rounding_mode = terms.rounding_mode


class CustomerSettings(models.Model):
    """How one customer's timesheets are billed and titled; created on first use."""

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
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_currency],
        help_text="ISO 4217 code, e.g. GBP; empty = your default currency.",
    )
    hourly_rate = rate_field("hourly rate", "Empty = your default hourly rate.")
    travel_hourly_rate = rate_field(
        "travel hourly rate",
        "Travel's own rate per billed hour; empty = the hourly rate (the travel share still "
        "applies: set it to 1.00 to bill all travel time at this rate).",
    )
    daily_cap = models.DecimalField(
        "daily cap",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="The most one day's effort bills (travel comes on top); empty = no cap.",
    )
    xero_contact_id = models.CharField(
        "Xero contact ID",
        max_length=64,
        blank=True,
        help_text="The Xero contact to invoice; empty = the contact named like the customer.",
    )
    xero_account_code = models.CharField(
        "Xero account code", max_length=10, blank=True, help_text="e.g. 200 (Sales)."
    )
    xero_tax_type = models.CharField(
        "Xero tax type", max_length=50, blank=True, help_text="e.g. OUTPUT2; empty = the account's."
    )
    xero_item_code = models.CharField("Xero item code", max_length=30, blank=True)
    xero_line_per_row = models.BooleanField(
        "one invoice line per row",
        default=False,
        help_text="Off: one Xero invoice line per section (effort, travel).",
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
            rate_range("hourly_rate", "customer_settings_hourly_rate_range"),
            rate_range("travel_hourly_rate", "customer_settings_travel_hourly_rate_range"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.customer

    def clean(self) -> None:
        super().clean()
        if self.travel_hourly_rate is not None and self.hourly_rate is None:
            raise ValidationError(
                {"hourly_rate": "Set the hourly rate too: travel's rate does not price effort."}
            )

    def rounding(self) -> Rounding:
        return Rounding(interval_minutes=self.rounding_interval, mode=self.rounding_mode)

    def pricing(self, *, default: BillingProfile | None) -> Pricing:
        """The customer's rates, else the user's default rate; unpriced without a currency."""
        currency = self.currency or (default.currency if default else "")
        hourly_rate = self.hourly_rate
        if hourly_rate is None and default is not None:
            hourly_rate = default.hourly_rate
        if not currency or hourly_rate is None:
            return Pricing()
        return Pricing(
            currency=currency,
            hourly_rate=hourly_rate,
            travel_hourly_rate=self.travel_hourly_rate,
            daily_cap=self.daily_cap,
        )


class XeroConnection(models.Model):
    """A user's Xero connection: the token set (encrypted) and the chosen organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xero_connection"
    )
    # JSON {access_token, refresh_token, expires_at}; refresh tokens rotate on every refresh.
    token_set = EncryptedTextField(blank=True, editable=False)
    # The PKCE verifier and state of a sign-in in progress.
    pending_state = models.CharField(max_length=128, blank=True, editable=False)
    pending_verifier = EncryptedTextField(blank=True, editable=False)
    tenant_id = models.CharField("organisation ID", max_length=64, blank=True)
    tenant_name = models.CharField("organisation", max_length=255, blank=True, editable=False)
    tenants = models.JSONField(
        default=list, blank=True, editable=False, help_text="The organisations authorised."
    )
    connected_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        db_table = "timesheet_xero_connections"

    def __str__(self) -> str:
        return f"Xero: {self.tenant_name or 'not connected'} ({self.user})"

    @property
    def is_connected(self) -> bool:
        return bool(self.token_set)

    def clean(self) -> None:
        super().clean()
        known = {tenant["tenantId"] for tenant in self.tenants or []}
        if self.tenant_id and self.tenant_id not in known:
            raise ValidationError({"tenant_id": "Choose one of the organisations you authorised."})


class XeroPushQuerySet(OwnedQuerySet):
    owner_lookup = "timesheet__user"


class XeroPush(models.Model):
    """The sending of one timesheet to Xero: one row per timesheet (so two pushes at once share
    it and make one invoice), the invoice body frozen at the first attempt, and each write
    recorded before it goes out so that a later attempt looks for it in Xero first."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending…"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Failure(models.TextChoices):
        REFUSED = "refused", "Xero refused it"  # the user must act (a setting)
        RECONNECT = "reconnect", "Reconnect Xero"  # the user must act (sign in)
        UNAVAILABLE = "unavailable", "Xero unavailable"  # transient: retried
        LIMIT = "limit", "Xero's limit reached"  # transient: retried later
        BAD_ANSWER = "bad_answer", "Xero answered badly"  # 5xx or not JSON: retried

    timesheet = models.OneToOneField(Timesheet, on_delete=models.CASCADE, related_name="xero_push")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    failure = models.CharField(max_length=16, choices=Failure.choices, blank=True)
    error = models.TextField(blank=True)
    limit_problem = models.CharField(
        max_length=32, blank=True, help_text="Xero's X-Rate-Limit-Problem, when a limit stopped it."
    )
    task_id = models.CharField(max_length=64, blank=True)
    batch = models.CharField(max_length=64, blank=True, help_text="A month-end batch's id.")
    correlation_id = models.CharField(max_length=64, blank=True)
    # The frozen request: {"contact_name", "contact_id", "invoice": {...}}; set at the first
    # attempt, kept while an attempt may have reached Xero, cleared only after Xero refused it.
    body = models.JSONField(null=True, blank=True, editable=False)
    marker = models.CharField(max_length=64, editable=False)
    contact_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    invoice_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    attachment_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    requests_sent = models.PositiveIntegerField(default=0)
    limit_waits = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = XeroPushQuerySet.as_manager()

    class Meta:
        db_table = "timesheet_xero_pushes"
        verbose_name_plural = "Xero pushes"
        indexes = [models.Index(fields=["batch", "status"], name="idx_xero_push_batch")]

    def __str__(self) -> str:
        return f"{self.timesheet}: {self.get_status_display()}"

    @property
    def user(self) -> Any:
        return self.timesheet.user

    @property
    def user_must_act(self) -> bool:
        return self.failure in (self.Failure.REFUSED, self.Failure.RECONNECT)


class XeroCallSlot(models.Model):
    """One call to Xero's Accounting API, counted against its limits by every worker: the rows
    of the last minute and day are the shared budget (see timesheets/xero_limits.py)."""

    tenant_id = models.CharField(max_length=64)
    started = models.FloatField(help_text="Seconds since the epoch (the client's clock).")
    finished = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "timesheet_xero_call_slots"
        indexes = [
            models.Index(fields=["tenant_id", "started"], name="idx_xero_slot_tenant"),
            models.Index(fields=["tenant_id", "finished"], name="idx_xero_slot_finished"),
            models.Index(fields=["started"], name="idx_xero_slot_started"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} at {self.started}"


class XeroBudgetLock(models.Model):
    """One row that every worker locks while it counts and takes a call slot."""

    name = models.CharField(max_length=16, primary_key=True)

    class Meta:
        db_table = "timesheet_xero_budget_lock"

    def __str__(self) -> str:
        return self.name
