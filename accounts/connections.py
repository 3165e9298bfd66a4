"""A user's connections to outside services, in one place: Microsoft 365 here, and whatever a
higher app registers (timesheets registers Xero in `TimesheetsConfig.ready`).

The dashboard and the user page read `user_connections`, so both say the same thing: for each
service its state (connected as whom or to which organisation, not connected, needs
reconnecting, not configured) and the one action that moves it on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.urls import reverse

from accounts.models import User
from auditing.models import ActionLog


@dataclass(frozen=True)
class Connection:
    service: str
    state: str  # one of the STATES
    detail: str = ""  # "as ada@contoso.com", "to Demo Company (UK)", or what to configure
    action_label: str = ""
    action_url: str = ""

    @property
    def is_connected(self) -> bool:
        return self.state == CONNECTED


CONNECTED = "connected"
NOT_CONNECTED = "not connected"
RECONNECT = "needs reconnecting"
NOT_CONFIGURED = "not configured"
STATES = (CONNECTED, NOT_CONNECTED, RECONNECT, NOT_CONFIGURED)

# A provider answers for several users at once (a fixed number of queries for all of them);
# `viewer` is who looks, because only some actions may be taken for someone else.
ConnectionProvider = Callable[[Sequence[User], User], dict[int, Connection]]
_providers: list[ConnectionProvider] = []


def connection_provider_register(provider: ConnectionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def user_connections(*, users: Sequence[User], viewer: User) -> dict[int, list[Connection]]:
    """Each user's connections, Microsoft 365 first, in the order the apps registered them."""
    answers = [microsoft_connections(users, viewer)] + [
        provider(users, viewer) for provider in _providers
    ]
    return {user.pk: [answer[user.pk] for answer in answers if user.pk in answer] for user in users}


def microsoft_account_name(user: User) -> str:
    """The Microsoft account the user's saved sign-in belongs to (msal keeps its username in
    the cache's Account section), or "" when the cache names none."""
    try:
        cache = json.loads(user.ms_token_cache or "{}")
        if isinstance(cache, dict) and "msal" in cache:  # UserTokenCache's wrapper
            cache = json.loads(cache["msal"])
    except (TypeError, ValueError):
        return ""
    accounts = cache.get("Account") or {} if isinstance(cache, dict) else {}
    return next((a.get("username", "") for a in accounts.values() if a.get("username")), "")


def open_reconnect_items(users: Sequence[User], event_type: str) -> set[int]:
    """The users with an open "reconnect" item of that type."""
    return set(
        ActionLog.objects.filter(
            user__in=list(users), event_type=event_type, state=ActionLog.State.OPEN
        ).values_list("user_id", flat=True)
    )


def microsoft_connections(users: Sequence[User], viewer: User) -> dict[int, Connection]:
    from accounts.microsoft import microsoft_configured

    configured = microsoft_configured()
    reconnect = open_reconnect_items(users, ActionLog.EventType.RECONNECT_MICROSOFT)
    result = {}
    for user in users:
        url = reverse("admin:accounts_user_microsoft_connect", args=[user.pk])
        may_act = viewer.is_superuser or viewer.pk == user.pk
        if not configured:
            result[user.pk] = Connection(
                "Microsoft 365", NOT_CONFIGURED, "set MS_CLIENT_ID and MS_CLIENT_SECRET"
            )
        elif user.pk in reconnect:
            result[user.pk] = Connection(
                "Microsoft 365",
                RECONNECT,
                "Microsoft refused the saved sign-in",
                "Reconnect" if may_act else "",
                url if may_act else "",
            )
        elif user.is_microsoft_connected:
            name = microsoft_account_name(user)
            result[user.pk] = Connection(
                "Microsoft 365", CONNECTED, f"as {name}" if name else "", "", ""
            )
        else:
            result[user.pk] = Connection(
                "Microsoft 365",
                NOT_CONNECTED,
                "",
                "Connect" if may_act else "",
                url if may_act else "",
            )
    return result
