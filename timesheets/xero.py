"""Xero: the per-user connection (OAuth 2.0 code flow with PKCE) and pushing a timesheet as a
draft sales invoice with its PDF attached.

The client is `requests` against Xero's documented REST API, not the `xero-python` SDK: the SDK
is a large generated package with its own urllib3 transport and token callbacks, so tests would
have to fake it inside the process; with `requests` the tests' fake Xero sits at the HTTP
boundary (like the fake Microsoft) and exercises our retries, rotation and idempotency. PKCE and
the token calls are a few lines of standard OAuth, so authlib would add a dependency for little.

Xero's documented rules relied on (developer.xero.com/documentation/...): guides/oauth2/auth-flow
(authorize, token, revocation), guides/oauth2/pkce-flow, guides/oauth2/scopes, guides/oauth2/
token-types (30-minute access tokens; a new refresh token on every refresh), guides/oauth2/tenants
(GET /connections, `xero-tenant-id`), guides/oauth2/limits (60 a minute, 5,000 a day per
organisation; 429 with Retry-After), guides/idempotent-requests/idempotency, api/accounting/
invoices, contacts and attachments, api/http-response-codes (ValidationException).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from timesheets.billing import EffortRow, TimesheetData, TravelRow, format_hours, line_amount
from timesheets.models import CustomerSettings, Timesheet, XeroConnection
from timesheets.recommendations import retry_recommendation, xero_reconnect_recommendation

logger = logging.getLogger(__name__)

SCOPES = (
    "offline_access accounting.invoices accounting.contacts accounting.attachments "
    "accounting.settings.read"
)
ACCOUNTING = "/api.xro/2.0"
INVOICE_LINK = "https://go.xero.com/AccountsReceivable/Edit.aspx?InvoiceID={}"
TIMEOUT = 30
REFRESH_MARGIN = 60  # seconds: refresh a token this close to expiry
MAX_ATTEMPTS = 6
MAX_RETRY_AFTER = 120  # a longer wait (the day limit) fails the push; the action item retries
QUANTITY = Decimal("0.0001")  # Xero takes quantities to 4 places
# Replaced in tests by the fake's clock: a Retry-After storm costs no real time.
sleep = time.sleep


class XeroError(Exception):
    """Xero refused or failed; the message says what to do."""


class XeroNotConfigured(XeroError):
    pass


class XeroNotConnected(XeroError):
    """The user never connected Xero (or disconnected it): nothing to reconnect."""


class XeroReconnectNeeded(XeroError):
    pass


def xero_configured() -> bool:
    return bool(settings.XERO_CLIENT_ID and settings.XERO_CLIENT_SECRET)


def _require_configured() -> None:
    if not xero_configured():
        raise XeroNotConfigured(
            "Xero is not configured: set XERO_CLIENT_ID, XERO_CLIENT_SECRET and "
            "XERO_REDIRECT_URI (see the README)."
        )


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = settings.XERO_CA_BUNDLE or True
    return session


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _basic_auth() -> tuple[str, str]:
    return (settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)


def _token_set(body: dict[str, Any]) -> str:
    return json.dumps(
        {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token", ""),
            "expires_at": time.time() + int(body.get("expires_in", 1800)),
        }
    )


def _reconnect_item(user: User, reason: str) -> None:
    ActionLog.objects.open_item(
        user=user,
        event_type=ActionLog.EventType.RECONNECT_XERO,
        key="xero",
        description="Reconnect Xero: its sign-in has expired or was revoked",
        details={"reason": reason[:300]},
        recommendations=xero_reconnect_recommendation(),
    )


def _close_items(user: User, event_type: str, key: str) -> None:
    for item in ActionLog.objects.filter(user=user, event_type=event_type, key=key).open():
        item.close(by=None)


# -- connecting --------------------------------------------------------------------------------


def xero_connect_start(*, user: User) -> str:
    """The authorization URL to open in a browser; remembers the state and PKCE verifier."""
    _require_configured()
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
    _require_configured()
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
        session = _session()
        reply = session.post(
            f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": settings.XERO_REDIRECT_URI,
                "code_verifier": connection.pending_verifier,
            },
            auth=_basic_auth(),
            timeout=TIMEOUT,
        )
        if reply.status_code != 200:
            raise XeroError(f"Xero did not issue tokens ({reply.status_code}): start again.")
        connection.token_set = _token_set(reply.json())
        connection.pending_state = ""
        connection.pending_verifier = ""
        connection.connected_at = timezone.now()
        connection.save()
        tenants = XeroClient(connection).connections()
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
    _close_items(user, ActionLog.EventType.RECONNECT_XERO, "xero")
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
            reply = _session().post(
                f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/revocation",
                data={"token": refresh},
                auth=_basic_auth(),
                timeout=TIMEOUT,
            )
            if reply.status_code != 200:
                raise XeroError(f"Xero did not revoke the connection ({reply.status_code}).")
        connection.token_set = ""
        connection.tenants = []
        connection.tenant_id = connection.tenant_name = ""
        connection.save(update_fields=["token_set", "tenants", "tenant_id", "tenant_name"])
    return True


# -- the client --------------------------------------------------------------------------------


@dataclass
class XeroReply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class XeroClient:
    """One user's calls to Xero: a fresh access token, the tenant header, limits honoured."""

    def __init__(self, connection: XeroConnection) -> None:
        _require_configured()
        if not connection.is_connected:
            raise XeroReconnectNeeded("Xero is not connected: connect it first.")
        self.connection = connection
        self.session = _session()
        self.requests_sent = 0

    def _access_token(self, *, force: bool = False) -> str:
        tokens = json.loads(self.connection.token_set)
        if not force and tokens["expires_at"] > time.time() + REFRESH_MARGIN:
            return tokens["access_token"]
        # Refresh tokens rotate: the row is locked so that two workers refreshing at once
        # use one refresh and both keep the new token (the second sees it and uses it).
        with transaction.atomic(using="default"):
            locked = XeroConnection.objects.select_for_update().get(pk=self.connection.pk)
            current = json.loads(locked.token_set or "{}")
            if not current:
                raise XeroReconnectNeeded("Xero was disconnected: connect it again.")
            rotated = current.get("refresh_token") != tokens.get("refresh_token")
            if rotated and current["expires_at"] > time.time() + REFRESH_MARGIN:
                self.connection = locked
                return current["access_token"]
            self.requests_sent += 1
            reply = self.session.post(
                f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/token",
                data={"grant_type": "refresh_token", "refresh_token": current["refresh_token"]},
                auth=_basic_auth(),
                timeout=TIMEOUT,
            )
            if reply.status_code != 200:
                error = reply.json().get("error", "") if reply.content else ""
                raise XeroReconnectNeeded(
                    f"Xero refused to refresh the sign-in ({error or reply.status_code}): "
                    "connect Xero again."
                )
            locked.token_set = _token_set(reply.json())
            locked.save(update_fields=["token_set"])
            self.connection = locked
            return json.loads(locked.token_set)["access_token"]

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        tenant: bool = True,
    ) -> XeroReply:
        url = f"{settings.XERO_API_URL.rstrip('/')}{path}"
        refreshed = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = {
                "Authorization": f"Bearer {self._access_token()}",
                "Accept": "application/json",
            }
            if tenant:
                headers["xero-tenant-id"] = self.connection.tenant_id
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            if content_type:
                headers["Content-Type"] = content_type
            self.requests_sent += 1
            reply = self.session.request(
                method,
                url,
                headers=headers,
                json=json_body,
                data=data,
                params=params,
                timeout=TIMEOUT,
            )
            if reply.status_code == 401 and not refreshed:
                refreshed = True
                self._access_token(force=True)
                continue
            if reply.status_code in (429, 503) and attempt < MAX_ATTEMPTS:
                wait = _retry_after(reply, attempt)
                if wait > MAX_RETRY_AFTER:
                    problem = reply.headers.get("X-Rate-Limit-Problem", "rate")
                    raise XeroError(
                        f"Xero's {problem} limit is reached: try again in {int(wait)} seconds."
                    )
                sleep(wait)
                continue
            body = reply.json() if reply.content else None
            if reply.status_code >= 400:
                raise XeroError(_error_text(reply.status_code, body))
            return XeroReply(reply.status_code, body, dict(reply.headers))
        raise XeroError("Xero kept answering 429 Too Many Requests: try again later.")

    def connections(self) -> list[dict[str, Any]]:
        return self.call("GET", "/connections", tenant=False).body or []


def _retry_after(reply: requests.Response, attempt: int) -> float:
    try:
        return max(float(reply.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return min(2.0**attempt, 30.0)


def _error_text(status: int, body: Any) -> str:
    """Xero's ValidationException lists messages per element; other errors have a Detail."""
    if isinstance(body, dict) and body.get("Type") == "ValidationException":
        messages = [
            error.get("Message", "")
            for element in body.get("Elements", [])
            for error in element.get("ValidationErrors", [])
        ]
        return "Xero refused the invoice: " + "; ".join(m for m in messages if m)
    if isinstance(body, dict):
        return f"Xero answered {status}: {body.get('Detail') or body.get('Message') or body}"
    return f"Xero answered {status}."


# -- pushing a timesheet -----------------------------------------------------------------------


@dataclass
class XeroPush:
    invoice_id: str
    invoice_number: str
    invoice_url: str
    contact: str  # "mapped", "found", "created" or "already invoiced"
    requests_sent: int
    created: bool


def xero_invoice_lines(data: TimesheetData, *, terms: CustomerSettings) -> list[dict[str, Any]]:
    """The invoice's lines: one per section (effort, travel) or per row, quantity = billable
    hours, unit amount = the frozen rate; a last line makes up any difference between Xero's
    rounding of quantity x rate and the sum of the timesheet's printed lines (to the cent)."""
    currency = data.currency
    groups: list[tuple[str, Decimal, Decimal, Decimal]] = []  # description, hours, rate, amount
    period = data.period
    if terms.xero_line_per_row:
        for effort in data.effort_rows:
            if effort.billable:
                groups.append(
                    (
                        f"{effort.date:%d %b %Y} {effort.subject}",
                        effort.billable,
                        _priced(effort.rate),
                        _priced(effort.amount),
                    )
                )
        for travel in data.travel_rows:
            if travel.billable:
                groups.append(
                    (
                        f"{travel.date:%d %b %Y} Travel: {travel.notes}",
                        travel.billable,
                        _priced(travel.rate),
                        _priced(travel.amount),
                    )
                )
    else:
        sections: tuple[tuple[str, Sequence[EffortRow | TravelRow]], ...] = (
            ("Consulting", data.effort_rows),
            ("Travel", data.travel_rows),
        )
        for label, rows in sections:
            hours = sum((row.billable for row in rows), Decimal(0))
            if hours:
                amount = sum((_priced(row.amount) for row in rows), Decimal(0))
                description = f"{label}: {format_hours(hours)}, {period}"
                groups.append((description, hours, _priced(rows[0].rate), amount))
    lines = []
    priced = Decimal(0)
    for description, hours, rate, _amount in groups:
        quantity = hours.quantize(QUANTITY, rounding=ROUND_HALF_UP)
        lines.append(_line(terms, description, quantity, rate))
        priced += line_amount(quantity, rate, currency)
    difference = data.amount_total - priced
    if difference:
        label = "Daily cap and rounding" if data.pricing.daily_cap else "Rounding"
        lines.append(_line(terms, f"{label}: as the timesheet's lines", Decimal(1), difference))
    return lines


def _priced(value: Decimal | None) -> Decimal:
    """A row's rate or amount; only a priced timesheet is pushed (the push refuses one without)."""
    if value is None:
        raise TypeError("An unpriced timesheet row cannot be invoiced.")
    return value


def _line(
    terms: CustomerSettings, description: str, quantity: Decimal, unit: Decimal
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "Description": description[:4000],
        "Quantity": float(quantity),
        "UnitAmount": float(unit),
    }
    if terms.xero_account_code:
        line["AccountCode"] = terms.xero_account_code
    if terms.xero_tax_type:
        line["TaxType"] = terms.xero_tax_type
    if terms.xero_item_code:
        line["ItemCode"] = terms.xero_item_code
    return line


def _contact(client: XeroClient, terms: CustomerSettings, key: str) -> tuple[str, str]:
    if terms.xero_contact_id:
        return terms.xero_contact_id, "mapped"
    name = terms.legal_name or terms.display_name or terms.customer
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    found = client.call("GET", f"{ACCOUNTING}/Contacts", params={"where": f'Name=="{escaped}"'})
    contacts = found.body.get("Contacts", [])
    if contacts:
        return contacts[0]["ContactID"], "found"
    created = client.call(
        "PUT",
        f"{ACCOUNTING}/Contacts",
        json_body={"Contacts": [{"Name": name}]},
        idempotency_key=f"{key}-contact",
    )
    return created.body["Contacts"][0]["ContactID"], "created"


def _connection_for(user: User) -> XeroConnection:
    _require_configured()
    connection = XeroConnection.objects.filter(user=user).first()
    if connection is None or not connection.is_connected:
        raise XeroNotConnected("Xero is not connected: connect it first.")
    if not connection.tenant_id:
        raise XeroError("Choose the Xero organisation to invoice from (several are authorised).")
    return connection


def timesheet_xero_push(*, timesheet: Timesheet, user: User) -> XeroPush:
    """Create the timesheet's draft ACCREC invoice in Xero (once) and attach its PDF.

    `uploaded_to_xero` is set only when both exist. A failure opens an action item whose retry
    (this again) closes it.
    """
    from timesheets.services import (
        TimesheetError,
        customer_settings_for,
        timesheet_billed,
        timesheet_file,
    )

    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet cannot be sent to Xero.")
    if not (timesheet.currency and timesheet.hourly_rate is not None):
        raise TimesheetError(
            "This timesheet has no rate: set the customer's (or your default) rate and currency "
            "before issuing, then issue it again."
        )
    owner = timesheet.user
    key = timesheet.xero_idempotency_key
    try:
        with audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="xero_push",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
            request_data={"timesheet": timesheet.pk, "idempotency_key": key},
        ) as audit:
            connection = _connection_for(owner)
            client = XeroClient(connection)
            terms = customer_settings_for(user=owner, customer=timesheet.customer or "")
            created = False
            contact = "already invoiced"
            if not timesheet.xero_invoice_id:
                contact = _invoice_create(
                    client, timesheet, data=timesheet_billed(timesheet), terms=terms, key=key
                )
                created = True
            if not timesheet.xero_attachment_id:
                name, pdf = timesheet_file(timesheet=timesheet, fmt="pdf")
                timesheet.xero_attachment_id = _attachment_add(
                    client, timesheet, name=name, pdf=pdf, key=key
                )
            timesheet.uploaded_to_xero = True
            timesheet.save(update_fields=["xero_attachment_id", "uploaded_to_xero"])
            audit.message = (
                f"Draft invoice {timesheet.xero_invoice_number} in Xero for timesheet "
                f"{timesheet.pk} (contact {contact})"
            )
            audit.details = {
                "invoice_id": timesheet.xero_invoice_id,
                "invoice_number": timesheet.xero_invoice_number,
                "attachment_id": timesheet.xero_attachment_id,
                "contact": contact,
                "requests": client.requests_sent,
            }
    except (XeroNotConfigured, XeroNotConnected):
        raise  # set-up, not a failure: the caller shows the message
    except XeroReconnectNeeded as error:
        _reconnect_item(owner, str(error))
        _push_failed(timesheet, error)
        raise
    except XeroError as error:
        _push_failed(timesheet, error)
        raise
    _close_items(owner, ActionLog.EventType.XERO_PUSH_FAILED, str(timesheet.pk))
    return XeroPush(
        invoice_id=timesheet.xero_invoice_id,
        invoice_number=timesheet.xero_invoice_number,
        invoice_url=timesheet.xero_invoice_url,
        contact=contact,
        requests_sent=client.requests_sent,
        created=created,
    )


def _invoice_create(
    client: XeroClient,
    timesheet: Timesheet,
    *,
    data: TimesheetData,
    terms: CustomerSettings,
    key: str,
) -> str:
    """Create the timesheet's draft invoice (and its contact, once) and store its id, number and
    link on the timesheet; returns the contact's name as the audit row tells it."""
    contact_id, contact = _contact(client, terms, key)
    invoice = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": f"{timesheet.created_at:%Y-%m-%d}",
        "Reference": data.period[:255],
        "Status": "DRAFT",
        "CurrencyCode": timesheet.currency,
        "LineAmountTypes": "Exclusive",
        "LineItems": xero_invoice_lines(data, terms=terms),
    }
    reply = client.call(
        "PUT",
        f"{ACCOUNTING}/Invoices",
        json_body={"Invoices": [invoice]},
        params={"unitdp": "4"},
        idempotency_key=_content_key(key, invoice),
    )
    [stored] = reply.body["Invoices"]
    timesheet.xero_invoice_id = stored["InvoiceID"]
    timesheet.xero_invoice_number = stored.get("InvoiceNumber", "")
    timesheet.xero_invoice_url = INVOICE_LINK.format(stored["InvoiceID"])
    timesheet.save(update_fields=["xero_invoice_id", "xero_invoice_number", "xero_invoice_url"])
    return contact


def _attachment_add(
    client: XeroClient, timesheet: Timesheet, *, name: str, pdf: bytes, key: str
) -> str:
    """Attach the timesheet's PDF to its invoice; returns the attachment's id."""
    reply = client.call(
        "PUT",
        f"{ACCOUNTING}/Invoices/{timesheet.xero_invoice_id}/Attachments/{quote(name)}",
        data=pdf,
        content_type="application/pdf",
        idempotency_key=f"{key}-pdf",
    )
    return str(reply.body["Attachments"][0]["AttachmentID"])


def _content_key(key: str, invoice: dict[str, Any]) -> str:
    """The timesheet's key plus a digest of the invoice: identical pushes (a retry, a double
    click, two workers) share it and make one invoice, while a push corrected after Xero
    refused it (a fixed account code) is a new request rather than a replay of the refusal."""
    digest = hashlib.sha256(json.dumps(invoice, sort_keys=True).encode()).hexdigest()[:16]
    return f"{key}-{digest}"


def _push_failed(timesheet: Timesheet, error: BaseException) -> None:
    ActionLog.objects.open_item(
        user=timesheet.user,
        event_type=ActionLog.EventType.XERO_PUSH_FAILED,
        key=timesheet.pk,
        description=f"Sending timesheet {timesheet} to Xero failed",
        details={"timesheet": timesheet.pk, "error": str(error)[:500]},
        recommendations=retry_recommendation("push"),
    )


def timesheet_xero_invoice_void(*, timesheet: Timesheet, user: User) -> str:
    """Delete (draft) or void (authorised) the timesheet's invoice in Xero; its new status."""
    client = XeroClient(_connection_for(timesheet.user))
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
    client = XeroClient(_connection_for(timesheet.user))
    path = f"{ACCOUNTING}/Invoices/{timesheet.xero_invoice_id}"
    return client.call("GET", path).body["Invoices"][0]["Status"]
