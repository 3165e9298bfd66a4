from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils import timezone

from accounts.fields import EncryptedTextField
from foundations.inputs import validate_date_in_range
from foundations.models import FastLoaded, OwnedQuerySet
from foundations.validators import HTTPS_URL_MESSAGE, validate_https_url, validate_timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        if fields.get("timezone") not in (None, "", "UTC"):
            # A zone given when the account is made was chosen: connecting keeps it.
            fields.setdefault("timezone_chosen", True)
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", User.Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(FastLoaded, AbstractBaseUser, PermissionsMixin):
    """A person who bills by time; the email address is the login (case-insensitive)."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        MEMBER = "member", "Member"

    email = models.EmailField(
        max_length=255,
        unique=True,
        error_messages={"unique": "A user with this email address already exists."},
    )
    name = models.CharField(max_length=255, null=True, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, null=True, blank=True)
    is_active = models.BooleanField(default=True, db_default=True)
    is_staff = models.BooleanField(
        default=False, db_default=False, help_text="Whether the user can log into the admin site."
    )
    is_superuser = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Whether the user has every permission and sees every user's rows.",
    )
    # A row inserted without a password (from SQL written against the seed) cannot log in.
    password = models.CharField(max_length=128, db_default="!")
    ms_access_token = EncryptedTextField(null=True, blank=True, editable=False)
    ms_refresh_token = EncryptedTextField(null=True, blank=True, editable=False)
    ms_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    profile_photo_url = models.CharField(
        max_length=1024,
        null=True,
        blank=True,
        validators=[validate_https_url],
        help_text="An https:// address of the user's picture.",
    )
    ms_token_cache = EncryptedTextField(null=True, blank=True, editable=False)
    # The immutable Microsoft identity (id token `tid`, `oid`) recorded when the user first
    # connects; "Sign in with Microsoft" links by this pair, never by an e-mail claim.
    ms_tenant_id = models.CharField(max_length=64, null=True, blank=True, editable=False)
    ms_object_id = models.CharField(max_length=64, null=True, blank=True, editable=False)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        db_default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone in which this user's days and timesheet periods are counted; "
        "taken from the Outlook mailbox when Microsoft 365 is connected, unless chosen here.",
    )
    # Beyond the seed: a zone the user chose is never overwritten by the mailbox's.
    timezone_chosen = models.BooleanField(
        "time zone chosen by the user", default=False, db_default=False, editable=False
    )
    date_joined = models.DateTimeField(auto_now_add=True, db_default=Now())

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_email_ci_unique",
                violation_error_message="A user with this email address already exists.",
            ),
            models.UniqueConstraint(
                fields=["ms_tenant_id", "ms_object_id"],
                name="users_microsoft_identity_unique",
                violation_error_message="This Microsoft account is connected to another user.",
            ),
            models.CheckConstraint(
                condition=Q(profile_photo_url__isnull=True)
                | Q(profile_photo_url="")
                | Q(profile_photo_url__istartswith="https://"),
                name="users_profile_photo_https",
                violation_error_message=HTTPS_URL_MESSAGE,
            ),
        ]
        indexes = [
            models.Index(fields=["email"], name="idx_users_email"),
            models.Index(fields=["is_active"], name="idx_users_active"),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).strip()

    @property
    def is_microsoft_connected(self) -> bool:
        return bool(self.ms_token_cache or self.ms_refresh_token)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class ApiTokenQuerySet(OwnedQuerySet):
    def usable(self, *, now: datetime | None = None) -> ApiTokenQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(FastLoaded):
    """A personal key for the REST API. Only a SHA-256 hash of the key is stored; the key itself
    is shown once, when the token is created."""

    KEY_PREFIX_LENGTH = 8
    LAST_USED_RESOLUTION = timedelta(minutes=1)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(
        max_length=255, help_text="What the token is for, e.g. “billing script”."
    )
    key_prefix = models.CharField(
        max_length=KEY_PREFIX_LENGTH,
        editable=False,
        help_text="The key's first characters, to tell tokens apart.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="The token stops working at this time; empty = never."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    # The key `set_new_key` made when the admin created the token, kept on the instance only
    # until the page after creation shows it once; never stored.
    _new_key: str

    class Meta:
        db_table = "api_tokens"
        ordering = ["user", "-created_at", "-id"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "revoked_at"], name="idx_api_tokens_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def clean(self) -> None:
        super().clean()
        if self._state.adding and self.expires_at is not None:
            if self.expires_at <= timezone.now():
                raise ValidationError({"expires_at": "A new token must expire in the future."})
            try:
                validate_date_in_range(self.expires_at)
            except ValidationError as error:
                raise ValidationError({"expires_at": error.messages}) from None

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Give the token a fresh random key and return it: the only time it is readable."""
        key = secrets.token_urlsafe(32)
        self.key_prefix = key[: self.KEY_PREFIX_LENGTH]
        self.key_hash = self.hash_key(key)
        return key

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, *, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def touch(self, *, now: datetime | None = None) -> None:
        """Record a use, writing at most once per LAST_USED_RESOLUTION to spare the database."""
        now = now or timezone.now()
        if self.last_used_at and now - self.last_used_at < self.LAST_USED_RESOLUTION:
            return
        ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now
