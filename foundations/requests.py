"""The request the admin and the API serve: a signed-in user's.

Every admin view sits behind the admin site's login and every API view behind `IsAuthenticated`,
so by the time a ModelAdmin method, an admin action or a viewset runs, `request.user` is a real
user, never `AnonymousUser`. These types say so to mypy (the pattern django-stubs documents); at
run time they are the plain `HttpRequest` and DRF `Request`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    # AUTH_USER_MODEL as django-stubs resolves it: the foundations import no app.
    from django.contrib.auth.models import _User as User


class AuthenticatedHttpRequest(HttpRequest):
    """An admin request: `user` is the signed-in user."""

    user: User


class AuthenticatedRequest(Request):
    """An API request: `user` is the authenticated user."""

    user: User


def authenticated(request: HttpRequest) -> AuthenticatedHttpRequest:
    """`request` as an admin ModelAdmin method sees it: behind the admin site's login, a
    signed-in user's. For the methods that override Django's (typed with a plain HttpRequest);
    an anonymous request (which the admin never lets through) is refused."""
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return cast(AuthenticatedHttpRequest, request)
