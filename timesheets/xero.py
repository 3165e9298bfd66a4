"""Xero: the per-user connection (OAuth 2.0 code flow with PKCE), keeping its refresh token
alive, and the invoice calls the timesheet services need (void, status). The HTTP client is
`xero_client.py`, the invoice push `xero_push.py`.

Xero's documented rules relied on (developer.xero.com/documentation/...): guides/oauth2/auth-flow
(authorize, token, revocation), guides/oauth2/pkce-flow, guides/oauth2/scopes, guides/oauth2/
token-types (a refresh token unused for 60 days expires), guides/oauth2/tenants (GET /connections).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from base64 import urlsafe_b64encode
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from timesheets import xero_client
from timesheets.models import Timesheet, XeroConnection
from timesheets.recommendations import xero_reconnect_recommendation
from timesheets.xero_client import (
    XeroClient,
    XeroError,
    XeroNotConnected,
    XeroReconnectNeeded,
    basic_auth,
    require_configured,
    timeouts,
    token_request,
    token_set,
    xero_configured,
    xero_session,
)

SCOPES = (
    "offline_access accounting.invoices accounting.contacts accounting.attachments "
    "accounting.settings.read"
)
ACCOUNTING = "/api.xro/2.0"
# Xero: a refresh token unused for 60 days expires; refreshing after 30 keeps a connection that
# invoices once a quarter alive with room for a missed run or two.
REFRESH_AFTER_DAYS = 30


def _b64url(raw: bytes) -> str:
    return urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def reconnect_item(user: User, reason: str) -> None:
    """One open "Reconnect Xero" item per user, however many pushes found the sign-in gone."""
    ActionLog.objects.open_item(
        user=user,
        event_type=ActionLog.EventType.RECONNECT_XERO,
        key="xero",
        description="Reconnect Xero: its sign-in has expired or was revoked",
        details={"reason": reason[:300]},
        recommendations=xero_reconnect_recommendation(),
    )


def close_items(user: User, event_type: str, key: str) -> None:
    for item in ActionLog.objects.filter(user=user, event_type=event_type, key=key).open():
        item.close(by=None)


def connection_for(user: User) -> XeroConnection:
    require_configured()
    connection = XeroConnection.objects.filter(user=user).first()
    if connection is None or not connection.is_connected:
        raise XeroNotConnected("Xero is not connected: connect it first.")
    if not connection.tenant_id:
        raise XeroNotConnected(
            "Choose the Xero organisation to invoice from (several are authorised)."
        )
    return connection


# -- connecting --------------------------------------------------------------------------------


def xero_connect_start(*, user: User) -> str:
    """The authorization URL to open in a browser; remembers the state and PKCE verifier."""
    require_configured()
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    connection, _ = XeroConnection.objects.get_or_create(user=user)
    connection.pending_state = state
    connection.pending_verifier = verifier
    connection.save(update_fields=["pending_state", "pending_verifier"])
    query = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": settings.XERO_REDIRECT_URI,
        "scope": SCOPES,
        "state": state,
        "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    return f"{settings.XERO_LOGIN_URL.rstrip('/')}/identity/connect/authorize?{urlencode(query)}"


def xero_connect_finish(*, user: User, redirect_url: str) -> XeroConnection:
    """Complete the sign-in from the URL Xero redirected the browser to."""
    require_configured()
    query = dict(parse_qsl(urlsplit(redirect_url.strip()).query))
    connection = XeroConnection.objects.filter(user=user).first()
    if connection is None or not connection.pending_state:
        raise XeroError("No Xero sign-in is in progress: start again.")
    if "error" in query:
        raise XeroError(f"Xero refused the sign-in: {query['error']}.")
    if not hmac.compare_digest(query.get("state", ""), connection.pending_state):
        raise XeroError("The redirect URL's state does not match this sign-in: start again.")
    if not query.get("code"):
        raise XeroError("The redirect URL carries no authorization code.")
    with audit_operation(
        action_type=AuditLog.ActionType.XERO,
        operation="connect",
        user=user,
        resource_type="XeroConnection",
    ) as audit:
        try:
            issued = token_request(
                xero_session(),
                {
                    "grant_type": "authorization_code",
                    "code": query["code"],
                    "redirect_uri": settings.XERO_REDIRECT_URI,
                    "code_verifier": connection.pending_verifier,
                },
            )
        except XeroReconnectNeeded:
            raise XeroError(
                "Xero did not accept the sign-in (its code expired or was used): start again."
            ) from None
        connection.token_set = token_set(issued)
        connection.pending_state = ""
        connection.pending_verifier = ""
        connection.connected_at = timezone.now()
        connection.save()
        tenants = XeroClient.in_request(connection).connections()
        connection.tenants = [
            {"tenantId": t["tenantId"], "tenantName": t.get("tenantName", ""), "id": t["id"]}
            for t in tenants
        ]
        if len(tenants) == 1:
            connection.tenant_id = tenants[0]["tenantId"]
            connection.tenant_name = tenants[0].get("tenantName", "")
        elif connection.tenant_id not in {t["tenantId"] for t in tenants}:
            connection.tenant_id = connection.tenant_name = ""
        connection.save(update_fields=["tenants", "tenant_id", "tenant_name"])
        audit.resource_id = str(connection.pk)
        audit.message = f"Connected Xero: {len(tenants)} organisation(s)"
        audit.details = {"tenants": [t["tenantId"] for t in tenants]}
    close_items(user, ActionLog.EventType.RECONNECT_XERO, "xero")
    xero_upkeep_schedule_ensure()
    return connection


def xero_tenant_choose(*, user: User, tenant_id: str) -> XeroConnection:
    connection = XeroConnection.objects.get(user=user)
    names = {t["tenantId"]: t["tenantName"] for t in connection.tenants}
    if tenant_id not in names:
        raise XeroError("Choose one of the organisations you authorised.")
    connection.tenant_id, connection.tenant_name = tenant_id, names[tenant_id]
    connection.save(update_fields=["tenant_id", "tenant_name"])
    return connection


def xero_disconnect(*, user: User) -> bool:
    """Revoke the refresh token at Xero (which removes its connections) and forget the tokens."""
    connection = XeroConnection.objects.filter(user=user).first()
    if connection is None or not connection.is_connected:
        return False
    with audit_operation(
        action_type=AuditLog.ActionType.XERO,
        operation="disconnect",
        user=user,
        resource_type="XeroConnection",
        resource_id=connection.pk,
    ):
        refresh = json.loads(connection.token_set).get("refresh_token", "")
        if refresh and xero_configured():
            reply = xero_session().post(
                f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/revocation",
                data={"token": refresh},
                auth=basic_auth(),
                timeout=timeouts(),
            )
            if reply.status_code != 200:
                raise XeroError(f"Xero did not revoke the connection ({reply.status_code}).")
        connection.token_set = ""
        connection.tenants = []
        connection.tenant_id = connection.tenant_name = ""
        connection.save(update_fields=["token_set", "tenants", "tenant_id", "tenant_name"])
    return True


def timesheet_xero_invoice_void(*, timesheet: Timesheet, user: User) -> str:
    """Delete (draft) or void (authorised) the timesheet's invoice in Xero; its new status."""
    client = XeroClient.in_request(connection_for(timesheet.user))
    path = f"{ACCOUNTING}/Invoices/{timesheet.xero_invoice_id}"
    with audit_operation(
        action_type=AuditLog.ActionType.TIMESHEET,
        operation="xero_void",
        user=user,
        resource_type="Timesheet",
        resource_id=timesheet.pk,
        request_data={"invoice_id": timesheet.xero_invoice_id},
    ) as audit:
        [invoice] = client.call("GET", path).body["Invoices"]
        status = invoice["Status"]
        if status not in ("DELETED", "VOIDED"):
            status = "VOIDED" if status == "AUTHORISED" else "DELETED"
            body = {"Invoices": [{"InvoiceID": timesheet.xero_invoice_id, "Status": status}]}
            client.call("POST", path, json_body=body)
        audit.message = f"Invoice {timesheet.xero_invoice_number} is {status} in Xero"
    return status


def xero_invoice_status(*, timesheet: Timesheet) -> str:
    client = XeroClient.in_request(connection_for(timesheet.user))
    path = f"{ACCOUNTING}/Invoices/{timesheet.xero_invoice_id}"
    return client.call("GET", path).body["Invoices"][0]["Status"]


def xero_tokens_refresh(*, older_than_days: float = REFRESH_AFTER_DAYS) -> dict[str, int]:
    """Refresh every connection whose refresh token is older than `older_than_days` (the
    scheduled task `timesheets.tasks.xero_tokens_task`, daily): an idle connection never
    reaches Xero's 60 days. A transient failure is retried on the next run; only
    `invalid_grant` opens a "Reconnect Xero" item."""
    counts = {"refreshed": 0, "failed": 0, "reconnect": 0}
    for connection in XeroConnection.objects.select_related("user").exclude(token_set=""):
        tokens = json.loads(connection.token_set)
        age = xero_client.clock() - float(tokens.get("refreshed_at", 0))
        if age < older_than_days * 86400:
            continue
        try:
            XeroClient(connection).access_token(force=True)
        except XeroReconnectNeeded as error:
            reconnect_item(connection.user, str(error))
            counts["reconnect"] += 1
            continue
        except XeroError:
            counts["failed"] += 1
            continue
        counts["refreshed"] += 1
    return counts


UPKEEP_SCHEDULE = "xero-upkeep"


def xero_upkeep_schedule_ensure() -> None:
    """One django-q2 schedule, every 15 minutes, for `timesheets.tasks.xero_upkeep_task`
    (made when a user first connects Xero, or by `manage.py xero_upkeep --schedule`)."""
    Schedule.objects.get_or_create(
        name=UPKEEP_SCHEDULE,
        defaults={
            "func": "timesheets.tasks.xero_upkeep_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 15,
            "repeats": -1,
        },
    )
