"""allauth adapters: Microsoft sign-in for existing users, with tokens kept only in msal's cache."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseForbidden
from django.shortcuts import render

from accounts.microsoft import (
    UserTokenCache,
    microsoft_configured,
    microsoft_connect_complete,
    microsoft_http_session,
    microsoft_scopes,
    msal_app,
)
from foundations.client_ip import request_client_ip

MULTI_TENANT = frozenset({"common", "organizations", "consumers"})


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's per-IP rate limits count the address axes and the audit log see."""
        return request_client_ip(request) or super().get_client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: Any = None, client_id: Any = None
    ) -> list[SocialApp]:
        """The Microsoft app comes from the MS_* settings, so there is one place to set it."""
        apps = [
            app
            for app in super().list_apps(request, provider=provider, client_id=client_id)
            if app.provider != "microsoft"
        ]
        if (
            microsoft_configured()
            and provider in (None, "microsoft")
            and client_id in (None, settings.MS_CLIENT_ID)
        ):
            apps.append(microsoft_social_app())
        return apps

    def get_app(self, request: HttpRequest, provider: Any, client_id: Any = None) -> SocialApp:
        """With Microsoft not configured, its sign-in links answer a page that says so."""
        if provider == "microsoft" and not microsoft_configured():
            raise ImmediateHttpResponse(microsoft_not_configured_page(request))
        return super().get_app(request, provider, client_id=client_id)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A back office: people are invited by an administrator, never self-registered.
        return False

    def get_requests_session(self) -> Any:
        return microsoft_http_session()

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A Microsoft sign-in of a known user also connects Microsoft 365 for them."""
        user = sociallogin.user
        token = sociallogin.token
        if not (
            sociallogin.account.provider == "microsoft"
            and user is not None
            and user.pk is not None
            and token is not None
            and token.token_secret
        ):
            return
        cache = UserTokenCache()
        result = msal_app(cache).acquire_token_by_refresh_token(
            token.token_secret, scopes=microsoft_scopes()
        )
        claims = result.get("id_token_claims") or {}
        identity = (claims.get("tid"), claims.get("oid"))
        # The e-mail claim is not verified for every account (guests, accounts without a
        # mailbox): once a user has connected, only that immutable (tid, oid) signs them in.
        if user.ms_object_id and identity != (user.ms_tenant_id, user.ms_object_id):
            raise ImmediateHttpResponse(
                HttpResponseForbidden(
                    "This Microsoft account is not the one connected to this user. Sign in with "
                    "the account you connected, or ask an administrator to connect this one."
                )
            )
        if "access_token" in result:
            microsoft_connect_complete(user=user, cache=cache, result=result)


def microsoft_not_configured_page(request: HttpRequest | None) -> Any:
    """404: this site has no Microsoft sign-in (an operator sets MS_CLIENT_ID to offer one)."""
    context = admin.site.each_context(request) if request is not None else {}
    return render(request, "socialaccount/microsoft_not_configured.html", context, status=404)


def microsoft_social_app() -> SocialApp:
    graph_root = settings.MS_GRAPH_URL.rstrip("/").removesuffix("/v1.0")
    trusted: bool | list[str] = (
        settings.MS_TENANT_ID not in MULTI_TENANT or list(settings.MS_SIGNIN_DOMAINS) or False
    )
    return SocialApp(
        provider="microsoft",
        name="Microsoft 365",
        client_id=settings.MS_CLIENT_ID,
        secret=settings.MS_CLIENT_SECRET,
        settings={
            "tenant": settings.MS_TENANT_ID,
            "login_url": settings.MS_AUTHORITY_HOST.rstrip("/"),
            "graph_url": graph_root,
            "verified_email": trusted,
        },
    )
