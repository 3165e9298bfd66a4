"""API token authentication (`Authorization: Bearer <key>`) and its OpenAPI security scheme.

REST_FRAMEWORK names the authentication class, and DRF imports it while it defines `APIView`:
this module imports no DRF views, viewsets or generics (drf-spectacular's extensions module
imports none either). The scheme registers itself with drf-spectacular when this module is
imported, which DRF does before any schema is generated."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` (or `Token <key>`) with a personal API token.

    Requests without such a header are left to the next authentication class (the session).
    An unknown, revoked or expired key is refused with 401 and a message saying which.
    """

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API token as “Authorization: Bearer <key>”, with no spaces in the key."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Unknown API token.") from error
        try:
            # The key's hash is unique: no order to compile, as `first()` would add.
            token = ApiToken.objects.select_related("user").get(key_hash=ApiToken.hash_key(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown API token.") from None
        now = timezone.now()
        if token.is_revoked:
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.key_prefix}…) was revoked."
            )
        if token.is_expired(now=now):
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.key_prefix}…) expired at "
                f"{token.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This API token's user is inactive.")
        token.touch(now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created (and revoked) in the admin under "
            "API tokens. `Token <key>` is accepted too.",
        }
