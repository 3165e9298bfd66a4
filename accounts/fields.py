"""Model fields whose values are encrypted at rest with Fernet (MultiFernet, so keys rotate)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression


class DecryptionError(ImproperlyConfigured):
    """A stored value was encrypted with a key that FIELD_ENCRYPTION_KEYS no longer holds."""


@lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from error


def field_cipher() -> MultiFernet:
    """The cipher for the keys configured now: the first key encrypts, every key decrypts."""
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(value: str) -> str:
    return field_cipher().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return field_cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError(
            "An encrypted value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS; "
            "add the key it was encrypted with back to the list."
        ) from error


def rotate_text(token: str) -> str:
    """Re-encrypt a stored token under the first key, keeping its original timestamp."""
    try:
        return field_cipher().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError(
            "An encrypted value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS."
        ) from error


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code only ever sees the plaintext."""

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)
