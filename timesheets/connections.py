"""Xero's entry in a user's connections (accounts/connections.py), registered when the app is
ready: not configured, not connected, connected to an organisation (or still to choose one),
or needing a new sign-in."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse

from accounts.connections import (
    CONNECTED,
    NOT_CONFIGURED,
    NOT_CONNECTED,
    RECONNECT,
    Connection,
    open_reconnect_items,
)
from accounts.models import User
from auditing.models import ActionLog
from timesheets.models import XeroConnection

SERVICE = "Xero"


def xero_connections(users: Sequence[User], viewer: User) -> dict[int, Connection]:
    """Two queries for any number of users. Only the user may connect their own Xero: the
    sign-in at Xero is theirs."""
    from timesheets.xero import xero_configured

    if not xero_configured():
        detail = "set XERO_CLIENT_ID, XERO_CLIENT_SECRET and XERO_REDIRECT_URI"
        return {user.pk: Connection(SERVICE, NOT_CONFIGURED, detail) for user in users}
    found = {
        connection.user_id: connection
        for connection in XeroConnection.objects.filter(user__in=list(users))
    }
    reconnect = open_reconnect_items(users, ActionLog.EventType.RECONNECT_XERO)
    connect_url = reverse("admin:timesheets_xeroconnection_connect")
    result = {}
    for user in users:
        own = viewer.pk == user.pk
        connection = found.get(user.pk)
        if user.pk in reconnect:
            result[user.pk] = Connection(
                SERVICE,
                RECONNECT,
                "Xero refused the saved sign-in",
                "Reconnect" if own else "",
                connect_url if own else "",
            )
        elif connection is not None and connection.is_connected:
            page = reverse("admin:timesheets_xeroconnection_change", args=[connection.pk])
            if connection.tenant_name:
                result[user.pk] = Connection(
                    SERVICE, CONNECTED, f"to {connection.tenant_name}", "Details", page
                )
            else:
                result[user.pk] = Connection(
                    SERVICE, CONNECTED, "no organisation chosen yet", "Choose", page
                )
        else:
            result[user.pk] = Connection(
                SERVICE, NOT_CONNECTED, "", "Connect" if own else "", connect_url if own else ""
            )
    return result
