"""The Xero HTTP client: one user's calls with a fresh access token, the tenant header, the
shared limits budget, bounded timeouts, retries of what is transient, and every failure turned
into a `XeroError` that says what happened and what to do (never a raw `requests` exception).

The client is `requests` against Xero's documented REST API, not the `xero-python` SDK: the SDK
is a large generated package with its own urllib3 transport and token callbacks, so tests would
have to fake it inside the process; with `requests` the tests' fake Xero sits at the HTTP
boundary and exercises our retries, rotation and idempotency.

Xero's rules relied on (developer.xero.com/documentation/...): guides/oauth2/auth-flow (token,
errors in the RFC 6749 shape: only `invalid_grant` means the sign-in is gone),
guides/oauth2/token-types (30-minute access tokens, a new refresh token on every refresh, one
unused for 60 days expires), guides/oauth2/tenants (`xero-tenant-id`; a removed connection
answers 403), guides/oauth2/limits (429 + Retry-After + X-Rate-Limit-Problem),
api/http-response-codes (ValidationException; 503 "organisation offline" as plain text).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.db import transaction

from timesheets.models import XeroConnection
from timesheets.xero_limits import XeroBudget, XeroLimitReached, XeroLimits

logger = logging.getLogger(__name__)

REFRESH_MARGIN = 60  # seconds: refresh an access token this close to expiry
MAX_ATTEMPTS = 5
# Replaced in tests (and the benchmark) by the fake's clock: waits cost no real time there.
clock = time.time
sleep = time.sleep


class XeroError(Exception):
    """Xero refused or failed; the message says what happened and what to do.

    `failure` is the XeroPush.Failure it is recorded as; `http_status` what the API answers.
    """

    failure = "unavailable"
    http_status = 503

    def __init__(self, message: str, *, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem  # X-Rate-Limit-Problem, when a limit was hit


class XeroNotConfigured(XeroError):
    failure, http_status = "refused", 409


class XeroNotConnected(XeroError):
    """The user never connected Xero (or disconnected it): nothing to reconnect."""

    failure, http_status = "refused", 409


class XeroReconnectNeeded(XeroError):
    """The sign-in is gone (invalid_grant, revoked, connection removed): connect again."""

    failure, http_status = "reconnect", 409


class XeroRefused(XeroError):
    """Xero answered that the request is wrong (a validation error): a setting must change."""

    failure, http_status = "refused", 409


class XeroUnavailable(XeroError):
    """Xero could not be reached or did not answer in time: transient, retried later."""

    failure, http_status = "unavailable", 503


class XeroBadAnswer(XeroError):
    """Xero (or a proxy in front of it) answered 5xx or not in JSON: retried later."""

    failure, http_status = "bad_answer", 502


class XeroLimited(XeroError):
    failure, http_status = "limit", 503


def xero_configured() -> bool:
    return bool(settings.XERO_CLIENT_ID and settings.XERO_CLIENT_SECRET)


def require_configured() -> None:
    if not xero_configured():
        raise XeroNotConfigured(
            "Xero is not configured: set XERO_CLIENT_ID, XERO_CLIENT_SECRET and "
            "XERO_REDIRECT_URI (see the README)."
        )


def xero_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = settings.XERO_CA_BUNDLE or True
    return session


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds, both bounded."""
    return (float(settings.XERO_CONNECT_TIMEOUT), float(settings.XERO_READ_TIMEOUT))


def basic_auth() -> tuple[str, str]:
    return (settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)


def token_set(body: dict[str, Any]) -> str:
    now = clock()
    return json.dumps(
        {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token", ""),
            "expires_at": now + int(body.get("expires_in", 1800)),
            "refreshed_at": now,
        }
    )


def _backoff(attempt: int) -> float:
    return min(2.0**attempt, 30.0) * (0.5 + random.random() / 2)  # noqa: S311 (jitter)


def _retry_after(reply: requests.Response, attempt: int) -> float:
    try:
        return max(float(reply.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return _backoff(attempt)


def _json(reply: requests.Response) -> Any:
    """The body as JSON, or XeroBadAnswer when it is not (an HTML proxy page, plain text)."""
    if not reply.content:
        return None
    try:
        return reply.json()
    except ValueError:
        kind = reply.headers.get("Content-Type", "unknown").split(";")[0]
        text = reply.text.strip()[:80] if kind.startswith("text/plain") else ""
        raise XeroBadAnswer(
            f"Xero answered {reply.status_code} with a {kind} page instead of JSON"
            + (f" (“{text}”)" if text else "")
            + ": it is probably down or behind a failing proxy; it is retried later."
        ) from None


def error_text(status: int, body: Any) -> str:
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


def token_request(session: requests.Session, data: dict[str, str]) -> dict[str, Any]:
    """POST to Xero's token endpoint, retrying what is transient (5xx, 429, timeouts, not JSON);
    only `invalid_grant` means the sign-in is gone."""
    url = f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/token"
    problem: XeroError = XeroUnavailable("Xero's sign-in service did not answer.")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            reply = session.post(url, data=data, auth=basic_auth(), timeout=timeouts())
            body = _json(reply)
        except (requests.RequestException, XeroBadAnswer) as error:
            problem = _transport_error(error, "Xero's sign-in service")
            sleep(_backoff(attempt))
            continue
        if reply.status_code == 200 and isinstance(body, dict):
            return body
        code = body.get("error", "") if isinstance(body, dict) else ""
        if code == "invalid_grant":
            raise XeroReconnectNeeded(
                "Xero's sign-in has expired or was revoked (invalid_grant): connect Xero again."
            )
        if reply.status_code == 429 or reply.status_code >= 500:
            problem = XeroUnavailable(
                f"Xero's sign-in service answered {reply.status_code}: it is retried later."
            )
            sleep(min(_retry_after(reply, attempt), 30.0))
            continue
        raise XeroRefused(
            f"Xero's sign-in service refused the app ({code or reply.status_code}): check "
            "XERO_CLIENT_ID and XERO_CLIENT_SECRET."
        )
    raise problem


def _server_error(reply: requests.Response) -> XeroError:
    """A 5xx: 503 is Xero (or the organisation) being unavailable, whatever the body; any other
    is a bad answer, JSON or not (an HTML page from a proxy)."""
    kind = reply.headers.get("Content-Type", "unknown").split(";")[0].strip()
    said = ""
    if kind.startswith("text/plain"):
        said = f" (“{reply.text.strip()[:80]}”)"
    elif kind == "application/json":
        with contextlib.suppress(ValueError):
            said = f" ({error_text(reply.status_code, reply.json())})"
    if reply.status_code == 503:
        return XeroUnavailable(
            f"Xero answered 503 Service Unavailable{said}: the organisation is offline or Xero "
            "is down for maintenance; the push is retried automatically."
        )
    page = " with an HTML page" if kind == "text/html" else ""
    return XeroBadAnswer(
        f"Xero answered {reply.status_code}{page}{said}: Xero (or a proxy in front of it) is "
        "failing; the push is retried automatically."
    )


def _transport_error(error: Exception, what: str) -> XeroError:
    if isinstance(error, XeroBadAnswer):
        return error
    if isinstance(error, requests.exceptions.SSLError):
        return XeroUnavailable(
            f"The TLS connection to {what} failed (a proxy or a certificate): it is retried "
            "later; set XERO_CA_BUNDLE if a corporate proxy signs the traffic."
        )
    if isinstance(error, requests.Timeout):
        return XeroUnavailable(f"{what} did not answer in time: it is retried later.")
    return XeroUnavailable(f"{what} could not be reached (the connection failed): retried later.")


@dataclass
class XeroReply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class XeroClient:
    """One user's calls to Xero: a fresh access token, the tenant header, limits honoured."""

    def __init__(
        self, connection: XeroConnection, *, max_wait: float = 90.0, attempts: int = MAX_ATTEMPTS
    ) -> None:
        """`max_wait` and `attempts` bound how long a call may wait and retry: a worker's
        defaults; a web request's client (`in_request`) neither waits nor retries for long."""
        require_configured()
        if not connection.is_connected:
            raise XeroNotConnected("Xero is not connected: connect it first.")
        self.connection = connection
        self.attempts = attempts
        self.session = xero_session()
        self.requests_sent = 0
        self.budget = XeroBudget(
            limits=XeroLimits(), clock=lambda: clock(), sleep=lambda s: sleep(s), max_wait=max_wait
        )

    @classmethod
    def in_request(cls, connection: XeroConnection) -> XeroClient:
        """For the few calls made in a web request (connect, void): no Retry-After waits, one
        quick retry; anything longer fails with its message."""
        return cls(connection, max_wait=0.0, attempts=2)

    def access_token(self, *, force: bool = False) -> str:
        tokens = json.loads(self.connection.token_set)
        if not force and tokens["expires_at"] > clock() + REFRESH_MARGIN:
            return str(tokens["access_token"])
        # Refresh tokens rotate: the row is locked so that two workers refreshing at once
        # use one refresh and both keep the new token (the second sees it and uses it).
        with transaction.atomic(using="default"):
            locked = XeroConnection.objects.select_for_update().get(pk=self.connection.pk)
            current = json.loads(locked.token_set or "{}")
            if not current:
                raise XeroReconnectNeeded("Xero was disconnected: connect it again.")
            rotated = current.get("refresh_token") != tokens.get("refresh_token")
            if rotated and current["expires_at"] > clock() + REFRESH_MARGIN:
                self.connection = locked
                return str(current["access_token"])
            self.requests_sent += 1
            body = token_request(
                self.session,
                {"grant_type": "refresh_token", "refresh_token": current["refresh_token"]},
            )
            locked.token_set = token_set(body)
            locked.save(update_fields=["token_set"])
            self.connection = locked
            return str(body["access_token"])

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
        """One call, retried while that is safe: a read, or a write with an Idempotency-Key
        (Xero answers the first outcome for a repeated key)."""
        retry = method == "GET" or idempotency_key is not None
        refreshed = False
        problem: XeroError = XeroUnavailable("Xero did not answer.")
        for attempt in range(1, self.attempts + 1):
            try:
                reply = self._send(method, path, json_body, data, content_type, params,
                                   idempotency_key, tenant)  # fmt: skip
            except requests.RequestException as error:
                problem = _transport_error(error, "Xero")
                if not retry:
                    raise problem from None
                sleep(_backoff(attempt))
                continue
            if reply.status_code == 401 and not refreshed:
                refreshed = True
                self.access_token(force=True)
                continue
            if reply.status_code in (401, 403) and tenant:
                self._check_connection(reply)
            if reply.status_code == 429:
                name = reply.headers.get("X-Rate-Limit-Problem", "minute")
                wait = _retry_after(reply, attempt)
                problem = XeroLimited(
                    f"Xero's {name} limit is reached: try again in {int(wait) + 1} seconds.",
                    problem=name,
                )
                if wait > self.budget.max_wait:
                    raise problem
                self.budget.waits += 1
                sleep(wait)
                continue
            if reply.status_code >= 500:
                problem = _server_error(reply)
                if not retry:
                    raise problem
                sleep(min(_retry_after(reply, attempt), 30.0))
                continue
            body = _json(reply)
            if reply.status_code >= 400:
                raise XeroRefused(error_text(reply.status_code, body))
            return XeroReply(reply.status_code, body, dict(reply.headers))
        raise problem

    def _send(
        self,
        method: str,
        path: str,
        json_body: Any,
        data: bytes | None,
        content_type: str | None,
        params: dict[str, str] | None,
        idempotency_key: str | None,
        tenant: bool,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.access_token()}", "Accept": "application/json"}
        if tenant:
            headers["xero-tenant-id"] = self.connection.tenant_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{settings.XERO_API_URL.rstrip('/')}{path}"
        try:
            slot = self.budget.acquire(self.connection.tenant_id) if tenant else None
        except XeroLimitReached as reached:
            raise XeroLimited(str(reached), problem=reached.problem) from None
        try:
            self.requests_sent += 1
            return self.session.request(
                method, url, headers=headers, json=json_body, data=data, params=params,
                timeout=timeouts(),
            )  # fmt: skip
        finally:
            if slot is not None:
                self.budget.release(slot)

    def _check_connection(self, reply: requests.Response) -> None:
        """401/403 after a fresh token: is the organisation still connected to the app?"""
        tenants = {t.get("tenantId") for t in self.connections()}
        if self.connection.tenant_id not in tenants:
            raise XeroReconnectNeeded(
                "The Xero organisation is no longer connected to this app (removed in Xero or "
                "revoked): connect Xero again."
            )
        raise XeroRefused(
            f"Xero refused access ({reply.status_code}): the app lacks a permission; connect "
            "Xero again and allow every permission asked for."
        )

    def connections(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/connections", tenant=False).body or [])


__all__ = [
    "XeroBadAnswer",
    "XeroClient",
    "XeroError",
    "XeroLimitReached",
    "XeroLimited",
    "XeroNotConfigured",
    "XeroNotConnected",
    "XeroReconnectNeeded",
    "XeroRefused",
    "XeroUnavailable",
]
