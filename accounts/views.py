"""The browser side of "Connect Microsoft 365": msal's auth-code flow with state and PKCE."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.microsoft import (
    MicrosoftNotConfigured,
    MicrosoftTokenError,
    UserTokenCache,
    initiate_auth_code_flow,
    microsoft_connect_complete,
    microsoft_scopes,
    msal_app,
)
from accounts.models import User

logger = logging.getLogger(__name__)
FLOW_KEY = "microsoft_auth_flow"


def user_page(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def connectable_user(request: HttpRequest, user_id: int) -> User:
    """The user whose Microsoft 365 is being connected: yourself, or anyone for a superuser."""
    user = get_object_or_404(User, pk=user_id)
    if not (request.user.is_superuser or user.pk == request.user.pk):
        raise Http404("No User matches the given query.")
    return user


def redirect_uri(request: HttpRequest) -> str:
    return settings.MS_REDIRECT_URI or request.build_absolute_uri(reverse("microsoft-callback"))


def microsoft_connect(request: HttpRequest, user_id: int) -> HttpResponse:
    user = connectable_user(request, user_id)
    try:
        app = msal_app()
    except MicrosoftNotConfigured as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(user_page(user))
    flow = initiate_auth_code_flow(
        app,
        redirect_uri=redirect_uri(request),
        login_hint=user.email,
        prompt="select_account",
    )
    request.session[FLOW_KEY] = {"flow": flow, "user_id": user.pk}
    return HttpResponseRedirect(flow["auth_uri"])


@staff_member_required
@require_GET
def microsoft_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(FLOW_KEY, None)
    if not pending:
        messages.error(
            request,
            "No Microsoft 365 connection was in progress (or it was already completed). "
            "Start again with 'Connect Microsoft 365'.",
        )
        return HttpResponseRedirect(reverse("admin:index"))
    user = connectable_user(request, pending["user_id"])
    cache = UserTokenCache()
    try:
        result = msal_app(cache).acquire_token_by_auth_code_flow(
            pending["flow"], request.GET.dict(), scopes=microsoft_scopes()
        )
    except ValueError:
        # msal refuses a state that does not match the flow it started.
        messages.error(request, "The answer from Microsoft did not match this sign-in; try again.")
        return HttpResponseRedirect(user_page(user))
    except MicrosoftNotConfigured as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(user_page(user))
    try:
        microsoft_connect_complete(user=user, cache=cache, result=result)
    except MicrosoftTokenError as error:
        messages.error(request, f"Microsoft 365 was not connected: {error}")
        return HttpResponseRedirect(user_page(user))
    account = (result.get("id_token_claims") or {}).get("preferred_username") or "your account"
    messages.success(request, f"Microsoft 365 connected for {user.email} as {account}.")
    return HttpResponseRedirect(user_page(user))
