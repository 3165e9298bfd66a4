"""Microsoft 365 connection: msal apps, each user's encrypted token cache, and Graph clients.

Every user has one msal `SerializableTokenCache`, Fernet-encrypted in `users.ms_token_cache`.
Before any Graph work the token comes from `acquire_token_silent` on that cache, and the cache is
saved back whenever msal changed it. A refresh token Microsoft no longer accepts becomes an open
ActionLog item ("reconnect Microsoft 365") and a `MicrosoftReconnectRequired` error.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msal
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.recommendations import recommendation
from auditing.services import audit_record
from foundations.graph import (
    GraphClient,
    GraphPermissionError,
    MicrosoftProblem,
    MicrosoftSetupMissing,
    RetryPolicy,
    http_session,
)

logger = logging.getLogger(__name__)

RECONNECT_EVENT = ActionLog.EventType.RECONNECT_MICROSOFT
# Errors after which only the person can help: they must sign in again.
RECONNECT_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)


class MicrosoftNotConfigured(MicrosoftSetupMissing):
    """MS_CLIENT_ID / MS_CLIENT_SECRET are not set."""

    def __init__(self) -> None:
        super().__init__(
            "Microsoft 365 is not configured: set MS_CLIENT_ID and MS_CLIENT_SECRET "
            "(see the README)."
        )


class MicrosoftNotConnected(MicrosoftSetupMissing):
    """The user has never connected Microsoft 365, or disconnected it."""


class MicrosoftReconnectRequired(MicrosoftSetupMissing):
    """Microsoft refused the user's refresh token; the user must connect again."""


class MicrosoftTokenError(MicrosoftProblem):
    """Getting a token failed for a reason a later retry may fix."""


def microsoft_configured() -> bool:
    return bool(settings.MS_CLIENT_ID and settings.MS_CLIENT_SECRET)


def microsoft_scopes() -> list[str]:
    # msal adds openid, profile and offline_access itself and refuses them if passed.
    reserved = {"openid", "profile", "offline_access"}
    return [scope for scope in settings.MS_SCOPES if scope.lower() not in reserved]


def microsoft_timeout() -> tuple[float, float]:
    return (settings.MS_CONNECT_TIMEOUT, settings.MS_READ_TIMEOUT)


def microsoft_http_session() -> requests.Session:
    """The session for every call to Microsoft (Graph, msal, allauth), with the timeouts."""
    return http_session(ca_bundle=settings.MS_CA_BUNDLE or None, timeout=microsoft_timeout())


CONFIDENTIAL = "confidential"
PUBLIC = "public"


class UserTokenCache(msal.SerializableTokenCache):
    """A user's msal cache, remembering which kind of client obtained its tokens.

    Entra ID binds a refresh token to the flow that issued it: tokens from the device-code flow
    (a public client, no secret) must be refreshed without the secret, and tokens from the web
    sign-in only with it. The kind is stored next to msal's own JSON.
    """

    def __init__(self, client_kind: str = CONFIDENTIAL) -> None:
        super().__init__()
        self.client_kind = client_kind

    def dump(self) -> str:
        return json.dumps({"client": self.client_kind, "msal": self.serialize()})

    @classmethod
    def load(cls, stored: str | None) -> UserTokenCache:
        cache = cls()
        if not stored:
            return cache
        wrapper = json.loads(stored)
        if isinstance(wrapper, dict) and "msal" in wrapper:
            cache.client_kind = wrapper.get("client") or CONFIDENTIAL
            cache.deserialize(wrapper["msal"])
        else:
            cache.deserialize(stored)
        return cache


def msal_app(
    cache: msal.SerializableTokenCache | None = None,
    *,
    session: requests.Session | None = None,
    public: bool | None = None,
) -> msal.ClientApplication:
    """The msal app for a cache: public for device-code tokens, confidential otherwise."""
    if not microsoft_configured():
        raise MicrosoftNotConfigured()
    if public is None:
        public = getattr(cache, "client_kind", CONFIDENTIAL) == PUBLIC
    options: dict[str, Any] = {
        "authority": f"{settings.MS_AUTHORITY_HOST.rstrip('/')}/{settings.MS_TENANT_ID}",
        "token_cache": cache,
        "http_client": session or microsoft_http_session(),
        "timeout": microsoft_timeout(),
        # Tenant discovery goes to MS_AUTHORITY_HOST itself, never to a Microsoft host.
        "instance_discovery": False,
    }
    if public:
        return msal.PublicClientApplication(settings.MS_CLIENT_ID, **options)
    return msal.ConfidentialClientApplication(
        settings.MS_CLIENT_ID, client_credential=settings.MS_CLIENT_SECRET, **options
    )


def initiate_auth_code_flow(app: msal.ClientApplication, **options: Any) -> dict[str, Any]:
    """msal's auth-code flow with the answer in the query string.

    msal recommends form_post, but a cross-site POST carries no SameSite=Lax session cookie, so
    the flow kept in the session would be lost; state and PKCE still protect the query mode.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*response_mode.*")
        return app.initiate_auth_code_flow(microsoft_scopes(), **options)


def user_token_cache(user: User) -> UserTokenCache:
    return UserTokenCache.load(user.ms_token_cache)


def token_cache_save(*, user: User, cache: UserTokenCache, result: dict | None = None) -> None:
    """Store the cache (encrypted) when msal changed it, and the token columns from `result`."""
    if not cache.has_state_changed and not result:
        return
    fields = ["ms_token_cache"]
    user.ms_token_cache = cache.dump()
    if result and result.get("access_token"):
        user.ms_access_token = result["access_token"]
        user.ms_token_expires_at = timezone.now() + timedelta(
            seconds=int(result.get("expires_in") or 0)
        )
        fields += ["ms_access_token", "ms_token_expires_at"]
        if result.get("refresh_token"):
            user.ms_refresh_token = result["refresh_token"]
            fields.append("ms_refresh_token")
    user.save(update_fields=fields)
    cache.has_state_changed = False


def microsoft_connect_complete(
    *, user: User, cache: msal.SerializableTokenCache, result: dict
) -> None:
    """Finish any connection flow: store the tokens, the profile, and close reconnect items."""
    if "access_token" not in result:
        raise MicrosoftTokenError(_describe(result))
    with transaction.atomic():
        token_cache_save(user=user, cache=cache, result=result)
        claims = result.get("id_token_claims") or {}
        oid = claims.get("oid")
        photo = f"{settings.MS_GRAPH_URL.rstrip('/')}/users/{oid}/photo/$value"
        if oid and photo.lower().startswith("https://"):
            # Only https: addresses are kept (the users_profile_photo_https constraint).
            user.profile_photo_url = photo
            user.save(update_fields=["profile_photo_url"])
        tid = claims.get("tid")
        if oid and tid and (user.ms_tenant_id, user.ms_object_id) != (tid, oid):
            taken = User.objects.filter(ms_tenant_id=tid, ms_object_id=oid).exclude(pk=user.pk)
            if taken.exists():
                raise MicrosoftTokenError(
                    "This Microsoft account is already connected to another user."
                )
            user.ms_tenant_id, user.ms_object_id = tid, oid
            user.save(update_fields=["ms_tenant_id", "ms_object_id"])
        for item in ActionLog.objects.filter(user=user, event_type=RECONNECT_EVENT).open():
            item.close(by=None, note="Microsoft 365 connected again")
        zone = user_time_zone_from_mailbox(user=user, access_token=result["access_token"])
        audit_record(
            action_type=AuditLog.ActionType.MICROSOFT,
            operation="connect",
            user=user,
            resource_type="User",
            resource_id=user.pk,
            message=f"Connected Microsoft 365 as {claims.get('preferred_username') or '?'}",
            details={
                "scopes": result.get("scope"),
                "microsoft_user": claims.get("oid"),
                "time_zone": zone,
            },
        )


def user_time_zone_from_mailbox(*, user: User, access_token: str) -> str | None:
    """Adopt the Outlook mailbox's time zone as the user's, unless the user chose one.

    Outlook usually reports a Windows name (`GMT Standard Time`), mapped to IANA with CLDR's
    data. A mailbox that cannot be read (no MailboxSettings permission, no mailbox) leaves the
    zone as it is: connecting still succeeds. Returns the zone Outlook reported, if any.
    """
    from foundations.graph import GraphError
    from foundations.validators import iana_time_zone

    client = GraphClient(
        base_url=settings.MS_GRAPH_URL,
        token=lambda refresh: access_token,
        session=microsoft_http_session(),
        timezone="UTC",
        retry=RetryPolicy(max_attempts=2),
    )
    try:
        reported = client.mailbox_time_zone()
    except GraphError as error:
        logger.warning("Could not read the mailbox time zone of %s: %s", user.email, error)
        return None
    zone = iana_time_zone(reported)
    if zone and not user.timezone_chosen and user.timezone != zone:
        user.timezone = zone
        user.save(update_fields=["timezone"])
    elif reported and zone is None:
        logger.warning("Outlook reported an unknown time zone %r for %s", reported, user.email)
    return reported


def microsoft_disconnect(*, user: User, by: User | None = None) -> None:
    user.ms_access_token = None
    user.ms_refresh_token = None
    user.ms_token_expires_at = None
    user.ms_token_cache = None
    user.save(
        update_fields=[
            "ms_access_token",
            "ms_refresh_token",
            "ms_token_expires_at",
            "ms_token_cache",
        ]
    )
    audit_record(
        action_type=AuditLog.ActionType.MICROSOFT,
        operation="disconnect",
        user=by or user,
        resource_type="User",
        resource_id=user.pk,
        message=f"Disconnected Microsoft 365 for {user.email}",
    )


def microsoft_access_token(
    *, user: User, force_refresh: bool = False, session: requests.Session | None = None
) -> str:
    """A valid access token for the user, refreshed silently when needed."""
    cache = user_token_cache(user)
    app = msal_app(cache, session=session)
    accounts = app.get_accounts()
    if not accounts:
        raise MicrosoftNotConnected(
            f"{user.email} has not connected Microsoft 365: use 'Connect Microsoft 365' on "
            f"their user page or `manage.py connect_microsoft {user.email}`."
        )
    result = app.acquire_token_silent_with_error(
        microsoft_scopes(), account=accounts[0], force_refresh=force_refresh
    )
    if not result or "access_token" not in result:
        error = (result or {}).get("error")
        if result is None or error in RECONNECT_ERRORS:
            _reconnect_required(user, result)
        raise MicrosoftTokenError(
            f"Could not get a Microsoft token for {user.email}: {_describe(result)}"
        )
    token_cache_save(user=user, cache=cache, result=result if cache.has_state_changed else None)
    return result["access_token"]


def reconnect_recommendations(user: User, permission: str | None = None) -> list[dict]:
    reason = (
        f"An administrator adds the delegated permission {permission} to the app registration "
        "and grants consent; then"
        if permission
        else "Microsoft no longer accepts the saved sign-in:"
    )
    return [
        recommendation(
            id="reconnect",
            label="I have reconnected: check the Microsoft 365 sign-in again",
            action="reconnect",
            confidence=0.5,
            reason=f"{reason} choose 'Connect Microsoft 365' on your user page (or run "
            f"`manage.py connect_microsoft {user.email}`), then check here.",
        )
    ]


def _reconnect_required(user: User, result: dict | None) -> None:
    description = _describe(result) if result else "no refresh token in the cache"
    with transaction.atomic():
        ActionLog.objects.open_item(
            user=user,
            event_type=RECONNECT_EVENT,
            key="",
            description="Reconnect Microsoft 365: Microsoft no longer accepts the saved sign-in.",
            details={"error": (result or {}).get("error"), "description": description},
            recommendations=reconnect_recommendations(user),
        )
        audit_record(
            action_type=AuditLog.ActionType.MICROSOFT,
            operation="token_refresh",
            user=user,
            status=AuditLog.Status.FAILURE,
            resource_type="User",
            resource_id=user.pk,
            message=f"Microsoft refused the refresh token: {description}",
        )
    raise MicrosoftReconnectRequired(
        f"Microsoft 365 must be reconnected for {user.email}: {description}"
    )


def _describe(result: dict | None) -> str:
    if not result:
        return "no answer"
    text = result.get("error_description") or result.get("error") or "unknown error"
    return text.splitlines()[0][:300]


def graph_client(
    *,
    user: User,
    retry: RetryPolicy | None = None,
    session: requests.Session | None = None,
) -> GraphClient:
    """A Graph client for one user's run: one session, tokens from the user's cache."""
    if not microsoft_configured():
        raise MicrosoftNotConfigured()
    session = session or microsoft_http_session()
    token: Callable[[bool], str] = lambda refresh: microsoft_access_token(  # noqa: E731
        user=user, force_refresh=refresh, session=session
    )
    return GraphClient(
        base_url=settings.MS_GRAPH_URL,
        token=token,
        session=session,
        # Graph understands Windows names and a short list of IANA ones
        # (resources/datetimetimezone.md); in UTC every answer is exact, and local days are
        # reckoned in Python for any IANA zone.
        timezone="UTC",
        timeout=microsoft_timeout(),
        retry=retry or RetryPolicy(budget=settings.MS_RETRY_BUDGET),
        on_permission_denied=lambda error: permission_missing(user=user, error=error),
    )


def permission_missing(*, user: User, error: GraphPermissionError) -> None:
    """Open (once) a reconnect item naming the delegated permission Microsoft refused."""
    with transaction.atomic():
        ActionLog.objects.open_item(
            user=user,
            event_type=RECONNECT_EVENT,
            key="",
            description=f"Reconnect Microsoft 365: the app needs the {error.permission} "
            "permission.",
            details={"error": error.code, "permission": error.permission},
            recommendations=reconnect_recommendations(user, error.permission),
        )
        audit_record(
            action_type=AuditLog.ActionType.MICROSOFT,
            operation="permission",
            user=user,
            status=AuditLog.Status.FAILURE,
            resource_type="User",
            resource_id=user.pk,
            message=str(error),
        )
