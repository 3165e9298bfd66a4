"""A stateful fake of Xero for tests: identity (authorize, token, revocation), /connections and
the Accounting API's Contacts, Invoices and Attachments, on one HTTPS server on 127.0.0.1.
(Longer than ~450 lines: one service whose rules read together, each next to its citation.)

The real client code (`timesheets.xero`) talks to it over HTTP. Each rule cites the Xero page it
comes from; where the documentation is silent the fake takes the stricter reading and says so.

Pages cited (developer.xero.com/documentation/...):
- [flow]   guides/oauth2/auth-flow/           authorization code flow, token and revocation
- [pkce]   guides/oauth2/pkce-flow/           code_challenge (S256) and code_verifier
- [scopes] guides/oauth2/scopes/              granular scopes for apps created since March 2026
- [tokens] guides/oauth2/token-types/         30-minute access tokens, rotating refresh tokens
- [tenants] guides/oauth2/tenants/            GET /connections, the xero-tenant-id header
- [limits] guides/oauth2/limits/              60/min, 5000/day, 5 concurrent, 429 + Retry-After
- [idem]   guides/idempotent-requests/idempotency/   the Idempotency-Key header
- [codes]  api/http-response-codes            ValidationException (ErrorNumber 10) shape
- [invoices] api/accounting/invoices          PUT/POST Invoices, DRAFT, ACCREC, deleting drafts
- [contacts] api/accounting/contacts          Contacts, `where` filter, unique names
- [attachments] api/accounting/attachments    raw-body upload by file name, 10 MB, 10 a document
- [openapi] github.com/XeroAPI/Xero-OpenAPI xero_accounting.yaml: getContacts (searchTerm,
            includeArchived), getInvoices (where, Statuses, searchTerm), IncludeOnline on
            createInvoiceAttachmentByFileName, Idempotency-Key "128 character max"
- [where]  api/accounting/requests-and-responses#retrieving-a-filtered-set (the `where`
           filter: Name=="x", Name.Contains("x"), StartsWith, EndsWith, joined by && or AND)
- [offline] api/http-response-codes: 503 "Organisation offline" / "API unavailable", plain text
- [refresh] community.xero.com/developer/discussion/105714701 (Xero staff): an unused refresh
           token expires (the token-types page: after 60 days); a 30-minute grace period for
           the old one after a refresh
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from .core import FakeRequest, Reply
from .microsoft import _Handler, _Server
from .tls import self_signed_certificate

ACCOUNTING = "/api.xro/2.0"
# [scopes]: the granular scopes a new app asks for (the broad accounting.transactions is gone).
KNOWN_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.invoices",
    "accounting.invoices.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.settings.read",
}
ACCESS_TOKEN_LIFETIME = 1800  # [tokens]: access tokens last 30 minutes
MAX_IDEMPOTENCY_KEY = 128  # [idem]: at most 128 characters
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # [attachments]: 10 MB a file
MAX_ATTACHMENTS = 10  # [attachments]: 10 a document
MINUTE_LIMIT = 60  # [limits]
DAY_LIMIT = 5000  # [limits]
CONCURRENT_LIMIT = 5  # [limits]
TAX_RATES = {"OUTPUT2": Decimal("0.20"), "NONE": Decimal(0), "ZERORATEDOUTPUT": Decimal(0)}
APP_MINUTE_LIMIT = 10_000  # [limits]: per app across all organisations
# [idem]: Xero keeps a key for minutes only (the guide does not promise longer); the stricter
# reading: 5 minutes, and `age_idempotency_keys` moves a test past it.
IDEMPOTENCY_TTL = 300
REFRESH_TOKEN_LIFETIME = 60 * 86400  # [tokens] [refresh]: 60 days unused
REFRESH_GRACE = 30 * 60  # [refresh]: the old refresh token works 30 minutes after a refresh
FAULTS = {
    "drop_before",  # the connection drops before Xero acts (nothing written)
    "drop_after",  # Xero acts, then the connection drops (the answer is lost)
    "read_timeout",  # Xero acts, the answer comes later than the client waits
    "offline",  # [offline]: plain-text 503, organisation offline
    "proxy_502",  # an HTML 502 from a proxy in front of Xero (not JSON)
    "server_500",  # a JSON 500 (Xero's unhandled error)
    "minute",  # [limits]: 429 with X-Rate-Limit-Problem for each limit
    "day",
    "concurrent",
    "appminute",
}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def validation_error(element: dict[str, Any], *messages: str) -> Reply:
    """[codes]: a 400 whose body names ValidationException and lists each element's errors."""
    element = {**element, "ValidationErrors": [{"Message": m} for m in messages]}
    return Reply.json(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [element],
        },
        graph=False,
    )


def oauth_error(error: str, status: int = 400) -> Reply:
    # [flow]: token errors are the RFC 6749 shape, e.g. {"error": "invalid_grant"}.
    return Reply.json(status, {"error": error}, graph=False)


def api_error(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json(
        status, {"Title": title, "Status": status, "Detail": detail}, headers, graph=False
    )


_WHERE_TERM = re.compile(
    r'\s*(?P<field>[A-Za-z]+)\s*(?:==\s*"(?P<eq>[^"\\]*)"'
    r'|\.(?P<op>Contains|StartsWith|EndsWith)\("(?P<arg>[^"\\]*)"\))\s*'
)


def where_matcher(where: str) -> Any:
    """[where]: `Field=="x"` or `Field.Contains("x")` (StartsWith, EndsWith) joined by `&&` or
    ` AND `; None for anything else, a backslash or an unbalanced quote included."""
    tests = []
    for term in re.split(r"&&| AND ", where):
        found = _WHERE_TERM.fullmatch(term)
        if found is None:
            return None
        field_name, op = found["field"], found["op"]
        value = found["eq"] if op is None else found["arg"]
        tests.append((field_name, op, value))

    def matches(item: dict[str, Any]) -> bool:
        for field_name, op, value in tests:
            actual = str(item.get(field_name) or "")
            # [where]: string comparisons are case-insensitive in Xero.
            actual, wanted = actual.casefold(), value.casefold()
            ok = {
                None: actual == wanted,
                "Contains": wanted in actual,
                "StartsWith": actual.startswith(wanted),
                "EndsWith": actual.endswith(wanted),
            }[op]
            if not ok:
                return False
        return True

    return matches


@dataclass
class Organisation:
    tenant_id: str
    name: str
    base_currency: str = "GBP"
    account_codes: set[str] = field(default_factory=lambda: {"200", "260"})
    tax_types: set[str] = field(default_factory=lambda: {"OUTPUT2", "NONE", "ZERORATEDOUTPUT"})
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    minute_calls: deque[float] = field(default_factory=deque)
    day_calls: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    next_number: int = 1


@dataclass
class Grant:
    """One consent: a user authorised some organisations for the app."""

    scopes: set[str]
    tenants: list[str]
    connection_ids: dict[str, str] = field(default_factory=dict)
    refresh_token: str = ""
    refresh_issued_at: float = 0.0
    previous_refresh_token: str = ""
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    revoked: bool = False


@dataclass
class Fault:
    """One injected fault: the next `times` requests whose method and path match get it."""

    kind: str
    method: str | None = None
    path: str = ""
    times: int = 1
    retry_after: int = 2
    delay: float = 1.0  # read_timeout: seconds the answer is held back

    def matches(self, request: FakeRequest) -> bool:
        return (self.method is None or request.method == self.method) and request.path.startswith(
            self.path
        )


class FakeXero:
    client_id = "FAKEXEROCLIENTID0000000000000000"
    client_secret = "fake-xero-secret-not-for-production"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self.ca_bundle = ""
        self.server_errors: list[str] = []
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeXero:
        import tempfile

        directory = tempfile.mkdtemp(prefix="fake-xero-")
        from pathlib import Path

        certificate = self_signed_certificate(Path(directory))
        self.ca_bundle = str(certificate.cert_path)
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self  # type: ignore[assignment]
        server.socket = certificate.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-xero", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.clock_offset = 0.0
            self.redirect_uris: set[str] = set()
            self.organisations: dict[str, Organisation] = {}
            self.consenting_tenants: list[str] = []
            self.codes: dict[str, dict[str, Any]] = {}
            self.grants: list[Grant] = []
            # (tenant, key) -> (fingerprint, answer, when stored)
            self.idempotent: dict[tuple[str, str], tuple[str, Reply, float]] = {}
            self.forced_429: int = 0
            self.forced_retry_after = 2
            self.faults: list[Fault] = []
            self.log: list[FakeRequest] = []
            self.app_minute_calls: deque[float] = deque()
            self.limit_breaches: list[str] = []  # X-Rate-Limit-Problem of every real 429
            self.minute_limit = MINUTE_LIMIT
            self.day_limit = DAY_LIMIT
            self.concurrent_limit = CONCURRENT_LIMIT
            self.app_minute_limit = APP_MINUTE_LIMIT
            self.clock_scale = 1.0
            self.clock_origin = time.time()
            self.server_errors.clear()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def now(self) -> float:
        """The fake's clock: real time (times `clock_scale`, for benchmarks) plus `advance`."""
        elapsed = (time.time() - self.clock_origin) * self.clock_scale
        return self.clock_origin + elapsed + self.clock_offset

    def scale_clock(self, scale: float) -> None:
        """Let a second of real time count as `scale` seconds (a benchmark's scaled clock)."""
        with self._lock:
            self.clock_offset = self.now() - time.time()
            self.clock_origin, self.clock_scale = time.time(), scale

    def fail_next(
        self, kind: str, *, method: str | None = None, path: str = "", **how: Any
    ) -> None:
        """Inject a fault into the next matching request(s); see FAULTS."""
        assert kind in FAULTS, kind
        with self._lock:
            self.faults.append(Fault(kind, method, path, **how))

    def age_idempotency_keys(self, seconds: float = IDEMPOTENCY_TTL + 1) -> None:
        """Make every stored Idempotency-Key `seconds` older (past the TTL by default)."""
        with self._lock:
            self.idempotent = {
                key: (fingerprint, reply, stored - seconds)
                for key, (fingerprint, reply, stored) in self.idempotent.items()
            }

    def age_refresh_tokens(self, days: float) -> None:
        with self._lock:
            for grant in self.grants:
                grant.refresh_issued_at -= days * 86400

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (tests' recorded sleeps call this instead of sleeping)."""
        with self._lock:
            self.clock_offset += seconds

    # -- test helpers ---------------------------------------------------------------------

    def add_organisation(self, name: str, **fields: Any) -> Organisation:
        org = Organisation(tenant_id=str(uuid.uuid4()), name=name, **fields)
        with self._lock:
            self.organisations[org.tenant_id] = org
            self.consenting_tenants.append(org.tenant_id)
        return org

    def add_contact(self, org: Organisation, name: str, status: str = "ACTIVE") -> dict[str, Any]:
        contact = {"ContactID": str(uuid.uuid4()), "Name": name, "ContactStatus": status}
        org.contacts[contact["ContactID"]] = contact
        return contact

    def consent(self, authorize_url: str) -> str:
        """The user signs in and allows access: the URL the browser is sent back to."""
        parts = urlsplit(authorize_url)
        assert parts.path == "/identity/connect/authorize", parts.path
        query = dict(parse_qsl(parts.query))
        reply = self._authorize(query)
        assert reply.status == 302, reply.body
        return reply.headers["Location"]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for grant in self.grants:
                grant.access_tokens = dict.fromkeys(grant.access_tokens, 0.0)

    def revoke_connections(self) -> None:
        """The user removes the app's connection in Xero (Settings > Connected apps)."""
        with self._lock:
            for grant in self.grants:
                grant.revoked = True
                grant.tenants = []

    def expire_refresh_tokens(self) -> None:
        """[tokens]: a refresh token unused for 60 days expires; the user must connect again."""
        with self._lock:
            for grant in self.grants:
                grant.refresh_token = grant.previous_refresh_token = ""

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[FakeRequest]:
        return [
            r
            for r in self.log
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    # -- dispatch -------------------------------------------------------------------------

    def _take_fault(self, request: FakeRequest) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def dispatch(self, request: FakeRequest) -> Reply | None:
        with self._lock:
            self.log.append(request)
        fault = self._take_fault(request)
        if fault is None:
            return self._dispatch(request)
        if fault.kind == "drop_before":
            return None
        if fault.kind == "offline":
            # [offline]: not JSON: a plain-text body.
            return Reply(503, b"The organisation is offline", {"Content-Type": "text/plain"})
        if fault.kind == "proxy_502":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return Reply(502, page, {"Content-Type": "text/html"})
        if fault.kind == "server_500":
            return api_error(500, "InternalServerError", "An unexpected error occurred")
        if fault.kind in ("minute", "day", "concurrent", "appminute"):
            return self._too_many(fault.kind, fault.retry_after)
        reply = self._dispatch(request)  # drop_after, read_timeout: Xero has acted
        if fault.kind == "drop_after":
            return None
        time.sleep(fault.delay)
        return reply

    @staticmethod
    def _too_many(problem: str, retry_after: int) -> Reply:
        # [limits]: 429 with Retry-After (seconds) and X-Rate-Limit-Problem naming the limit.
        return api_error(
            429,
            "TooManyRequests",
            f"Rate limit exceeded: {problem}",
            {"Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem},
        )

    def _dispatch(self, request: FakeRequest) -> Reply | None:
        path, method = request.path, request.method
        if path == "/identity/connect/authorize" and method == "GET":
            return self._authorize(request.query)
        if path == "/connect/token" and method == "POST":
            return self._token(request)
        if path == "/connect/revocation" and method == "POST":
            return self._revoke(request)
        grant = self._bearer(request)
        if grant is None:
            # [flow]: calls without a valid access token answer 401.
            return api_error(401, "Unauthorized", "AuthenticationUnsuccessful")
        if path == "/connections" and method == "GET":
            return self._connections(grant)
        if path.startswith("/connections/") and method == "DELETE":
            return self._disconnect(grant, path.rsplit("/", 1)[-1])
        if path.startswith(ACCOUNTING + "/"):
            return self._accounting(request, grant)
        return api_error(404, "NotFound", f"No route {method} {path}")

    # -- identity -------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> Reply:
        # [flow]: response_type=code, client_id, redirect_uri (registered), scope, state.
        if query.get("response_type") != "code" or query.get("client_id") != self.client_id:
            return Reply(400, b"unauthorized_client")
        if self.redirect_uris and query.get("redirect_uri") not in self.redirect_uris:
            return Reply(400, b"Invalid redirect_uri")
        scopes = set(query.get("scope", "").split())
        if not scopes or scopes - KNOWN_SCOPES:
            return Reply(400, b"invalid_scope")
        # [flow] recommends state; the stricter reading requires it.
        if not query.get("state"):
            return Reply(400, b"state is required")
        # [pkce]: S256 only (the stricter reading: 'plain' is refused).
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Reply(400, b"code_challenge with code_challenge_method=S256 is required")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = {
                "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"],
                "scopes": scopes,
                "tenants": list(self.consenting_tenants),
                # [flow]: the code is valid for 5 minutes.
                "expires": self.now() + 300,
            }
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return Reply(302, b"", {"Location": location})

    def _client_ok(self, request: FakeRequest) -> bool:
        # [flow]: the client authenticates with HTTP Basic client_id:client_secret.
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}"

    def _token(self, request: FakeRequest) -> Reply:
        if not request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return oauth_error("invalid_request")
        if not self._client_ok(request):
            return oauth_error("invalid_client", 401)
        form = request.form()
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                issued = self.codes.pop(form.get("code", ""), None)
                if issued is None or issued["expires"] < self.now():
                    return oauth_error("invalid_grant")
                if form.get("redirect_uri") != issued["redirect_uri"]:
                    return oauth_error("invalid_grant")
                verifier = form.get("code_verifier", "")
                # [pkce]: BASE64URL(SHA256(code_verifier)) must equal the challenge.
                if b64url(hashlib.sha256(verifier.encode()).digest()) != issued["challenge"]:
                    return oauth_error("invalid_grant")
                grant = Grant(scopes=issued["scopes"], tenants=issued["tenants"])
                grant.connection_ids = {t: str(uuid.uuid4()) for t in grant.tenants}
                self.grants.append(grant)
                return self._issue(grant)
            if form.get("grant_type") == "refresh_token":
                token = form.get("refresh_token", "")
                grant = next((g for g in self.grants if token and g.refresh_token == token), None)
                # [tokens]: each refresh returns a new refresh token and the old one stops
                # working, [refresh]: but for a 30-minute grace period, "in case the response
                # containing the new tokens is lost". After it, the spent token is refused.
                if grant is None:
                    grant = next(
                        (
                            g
                            for g in self.grants
                            if token
                            and g.previous_refresh_token == token
                            and self.now() - g.refresh_issued_at <= REFRESH_GRACE
                        ),
                        None,
                    )
                if grant is None or grant.revoked:
                    return oauth_error("invalid_grant")
                # [tokens] [refresh]: a refresh token unused for 60 days has expired.
                if self.now() - grant.refresh_issued_at > REFRESH_TOKEN_LIFETIME:
                    return oauth_error("invalid_grant")
                return self._issue(grant)
        return oauth_error("unsupported_grant_type")

    def _issue(self, grant: Grant) -> Reply:
        access = secrets.token_urlsafe(32)
        grant.access_tokens[access] = self.now() + ACCESS_TOKEN_LIFETIME
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "token_type": "Bearer",
            "scope": " ".join(sorted(grant.scopes)),
        }
        # [tokens]: a refresh token only with offline_access.
        if "offline_access" in grant.scopes:
            grant.previous_refresh_token = grant.refresh_token
            grant.refresh_token = secrets.token_urlsafe(32)
            grant.refresh_issued_at = self.now()
            body["refresh_token"] = grant.refresh_token
        return Reply.json(200, body, graph=False)

    def _revoke(self, request: FakeRequest) -> Reply:
        # [flow] "Revoking tokens": POST token=<refresh token>, Basic client auth; every
        # connection of the grant goes with it.
        if not self._client_ok(request):
            return oauth_error("invalid_client", 401)
        token = request.form().get("token", "")
        with self._lock:
            for grant in self.grants:
                if token and grant.refresh_token == token:
                    grant.revoked = True
                    grant.access_tokens.clear()
                    grant.tenants = []
        return Reply.empty(200)

    def _bearer(self, request: FakeRequest) -> Grant | None:
        value = request.headers.get("Authorization", "")
        if not value.startswith("Bearer "):
            return None
        token = value.removeprefix("Bearer ")
        with self._lock:
            for grant in self.grants:
                expiry = grant.access_tokens.get(token)
                if expiry is not None and expiry > self.now() and not grant.revoked:
                    return grant
        return None

    # -- connections ----------------------------------------------------------------------

    def _connections(self, grant: Grant) -> Reply:
        # [tenants]: one entry per authorised organisation.
        return Reply.json(
            200,
            [
                {
                    "id": grant.connection_ids[t],
                    "tenantId": t,
                    "tenantType": "ORGANISATION",
                    "tenantName": self.organisations[t].name,
                }
                for t in grant.tenants
            ],
            graph=False,
        )

    def _disconnect(self, grant: Grant, connection_id: str) -> Reply:
        for tenant, cid in list(grant.connection_ids.items()):
            if cid == connection_id and tenant in grant.tenants:
                grant.tenants.remove(tenant)
                return Reply.empty(204)
        return api_error(404, "NotFound", "No such connection")

    # -- accounting -----------------------------------------------------------------------

    def _accounting(self, request: FakeRequest, grant: Grant) -> Reply:
        tenant = request.headers.get("xero-tenant-id", "")
        # [tenants]: every Accounting API call names its organisation.
        if tenant not in grant.tenants:
            return api_error(403, "Forbidden", "AuthorizationUnsuccessful")
        org = self.organisations[tenant]
        # Without Accept: application/json the API answers XML; the stricter reading refuses.
        if "application/json" not in request.headers.get("Accept", ""):
            return api_error(406, "NotAcceptable", "Send Accept: application/json")
        limited = self._rate_limit(org)
        if limited is not None:
            return limited
        # [limits]: at most 5 calls in progress at once per organisation.
        with self._lock:
            if org.in_flight >= self.concurrent_limit:
                self.limit_breaches.append("concurrent")
                return self._too_many("concurrent", 1)
            org.in_flight += 1
        try:
            return self._accounting_call(request, org, grant, tenant)
        finally:
            with self._lock:
                org.in_flight -= 1

    def _accounting_call(
        self, request: FakeRequest, org: Organisation, grant: Grant, tenant: str
    ) -> Reply:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method not in ("PUT", "POST"):
            return self._accounting_route(request, org, grant)
        if len(key) > MAX_IDEMPOTENCY_KEY:
            return api_error(400, "BadRequest", "Idempotency-Key longer than 128 characters")
        fingerprint = hashlib.sha256(
            request.method.encode() + request.raw_path.encode() + request.body
        ).hexdigest()
        with self._lock:
            seen = self.idempotent.get((tenant, key))
            if seen is not None and seen[2] < self.now() - IDEMPOTENCY_TTL:
                # [idem]: an expired key is forgotten: the request runs again as new.
                del self.idempotent[(tenant, key)]
                seen = None
        if seen is not None:
            # [idem]: a repeated key answers the first response, an error answer too. The
            # stricter reading: the same key on a different request is an error, not a replay.
            if seen[0] != fingerprint:
                return api_error(
                    400, "BadRequest", "Idempotency-Key reused with a different request"
                )
            return seen[1]
        reply = self._accounting_route(request, org, grant)
        if reply.status < 500:
            with self._lock:
                self.idempotent[(tenant, key)] = (fingerprint, reply, self.now())
        return reply

    def _rate_limit(self, org: Organisation) -> Reply | None:
        # [limits]: 60 calls a minute and 5000 a day per organisation, 10,000 a minute per app
        # across organisations (rolling windows, the stricter reading); a 429 says which with
        # X-Rate-Limit-Problem and when to come back with Retry-After (seconds).
        now = self.now()
        with self._lock:
            if self.forced_429 > 0:
                self.forced_429 -= 1
                return self._too_many("minute", self.forced_retry_after)
            for calls, window in (
                (org.minute_calls, 60),
                (org.day_calls, 86400),
                (self.app_minute_calls, 60),
            ):
                while calls and calls[0] <= now - window:
                    calls.popleft()
            for problem, calls, limit, window in (
                ("day", org.day_calls, self.day_limit, 86400),
                ("appminute", self.app_minute_calls, self.app_minute_limit, 60),
                ("minute", org.minute_calls, self.minute_limit, 60),
            ):
                if len(calls) >= limit:
                    self.limit_breaches.append(problem)
                    return self._too_many(problem, int(calls[0] + window - now) + 1)
            org.minute_calls.append(now)
            org.day_calls.append(now)
            self.app_minute_calls.append(now)
        return None

    def _accounting_route(self, request: FakeRequest, org: Organisation, grant: Grant) -> Reply:
        parts = request.path.removeprefix(ACCOUNTING + "/").split("/")
        method = request.method
        if parts == ["Contacts"] and method == "GET":
            return self._contacts_get(request, org, grant)
        if parts == ["Contacts"] and method in ("PUT", "POST"):
            return self._contacts_put(request, org, grant)
        if parts == ["Invoices"] and method in ("PUT", "POST"):
            return self._invoices_put(request, org, grant)
        if parts == ["Invoices"] and method == "GET":
            return self._invoices_get(request, org, grant)
        if len(parts) == 2 and parts[0] == "Invoices" and method == "GET":
            return self._invoice_get(org, grant, parts[1])
        if len(parts) == 2 and parts[0] == "Invoices" and method == "POST":
            return self._invoice_update(request, org, grant, parts[1])
        attachment = len(parts) == 4 and parts[0] == "Invoices" and parts[2] == "Attachments"
        if attachment and method in ("PUT", "POST"):
            return self._attach(request, org, grant, parts[1], parts[3])
        listing = len(parts) == 3 and parts[0] == "Invoices" and parts[2] == "Attachments"
        if listing and method == "GET":
            listed = [
                {k: v for k, v in a.items() if k != "Content"}
                for a in org.attachments.get(parts[1], [])
            ]
            return Reply.json(200, {"Attachments": listed}, graph=False)
        return api_error(404, "NotFound", f"No route {method} {request.path}")

    @staticmethod
    def _needs(grant: Grant, *scopes: str) -> Reply | None:
        # [scopes]: a call needs one of its scopes (read-only scopes serve GETs only).
        if grant.scopes.isdisjoint(scopes):
            return api_error(401, "Unauthorized", f"Missing scope: one of {', '.join(scopes)}")
        return None

    def _contacts_get(self, request: FakeRequest, org: Organisation, grant: Grant) -> Reply:
        refused = self._needs(grant, "accounting.contacts", "accounting.contacts.read")
        if refused:
            return refused
        contacts = list(org.contacts.values())
        # [openapi] getContacts: ARCHIVED contacts only with includeArchived=true.
        if request.query.get("includeArchived", "").lower() != "true":
            contacts = [c for c in contacts if c["ContactStatus"] != "ARCHIVED"]
        # [openapi] getContacts: searchTerm is a case-insensitive text search over Name,
        # FirstName, LastName, ContactNumber and EmailAddress (the fake: over Name).
        term = request.query.get("searchTerm", "").casefold()
        if term:
            contacts = [c for c in contacts if term in c["Name"].casefold()]
        return self._where(request, contacts, "Contacts")

    def _where(self, request: FakeRequest, items: list[dict[str, Any]], plural: str) -> Reply:
        where = request.query.get("where", "")
        if not where:
            return Reply.json(200, {plural: items}, graph=False)
        matcher = where_matcher(where)
        if matcher is None:
            # [where]: the filter is an expression in Xero's own syntax; a quote cannot be
            # escaped with a backslash (Xero answers a 400 on such a filter, the stricter
            # reading of the silent docs), nor can the fake parse anything beyond the
            # documented string comparisons.
            return api_error(400, "BadRequest", f"Unable to parse the where clause {where!r}")
        return Reply.json(200, {plural: [i for i in items if matcher(i)]}, graph=False)

    def _contacts_put(self, request: FakeRequest, org: Organisation, grant: Grant) -> Reply:
        refused = self._needs(grant, "accounting.contacts")
        if refused:
            return refused
        created = []
        for contact in request.json().get("Contacts", []):
            name = (contact.get("Name") or "").strip()
            if not name:
                return validation_error(contact, "The contact name must be specified.")
            # [contacts]: contact names are unique in an organisation, archived ones included.
            if any(c["Name"].casefold() == name.casefold() for c in org.contacts.values()):
                return validation_error(
                    contact, f"The contact name {name} is already assigned to another contact."
                )
            created.append(self.add_contact(org, name))
        return Reply.json(200, {"Status": "OK", "Contacts": created}, graph=False)

    def _invoices_put(self, request: FakeRequest, org: Organisation, grant: Grant) -> Reply:
        refused = self._needs(grant, "accounting.invoices")
        if refused:
            return refused
        unit_places = 4 if request.query.get("unitdp") == "4" else 2
        created = []
        for invoice in request.json().get("Invoices", []):
            errors = self._invoice_errors(invoice, org, unit_places)
            if errors:
                return validation_error(invoice, *errors)
            lines = []
            for line in invoice["LineItems"]:
                amount = (
                    Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"]))
                ).quantize(Decimal("0.01"))
                lines.append({**line, "LineAmount": float(amount), "LineItemID": str(uuid.uuid4())})
            total = sum((Decimal(str(line["LineAmount"])) for line in lines), Decimal(0))
            # [invoices]: with LineAmountTypes Exclusive, tax is added on top: Total = SubTotal
            # + TotalTax, each line taxed at its TaxType's rate.
            tax = sum(
                (
                    (
                        Decimal(str(line["LineAmount"])) * TAX_RATES.get(line.get("TaxType", ""), 0)
                    ).quantize(Decimal("0.01"))
                    for line in lines
                ),
                Decimal(0),
            )
            if invoice.get("LineAmountTypes") == "NoTax":
                tax = Decimal(0)
            number = f"INV-{org.next_number:04d}"
            org.next_number += 1
            stored = {
                **invoice,
                "InvoiceID": str(uuid.uuid4()),
                "InvoiceNumber": number,
                "Status": invoice.get("Status", "DRAFT"),
                "LineItems": lines,
                "SubTotal": float(total),
                "TotalTax": float(tax),
                "Total": float(total + tax),
                "CurrencyCode": invoice.get("CurrencyCode", org.base_currency),
                "HasAttachments": False,
            }
            org.invoices[stored["InvoiceID"]] = stored
            created.append(stored)
        return Reply.json(200, {"Status": "OK", "Invoices": created}, graph=False)

    def _invoices_get(self, request: FakeRequest, org: Organisation, grant: Grant) -> Reply:
        refused = self._needs(grant, "accounting.invoices", "accounting.invoices.read")
        if refused:
            return refused
        invoices = list(org.invoices.values())
        # [openapi] getInvoices: Statuses, a comma-separated list.
        statuses = {s for s in request.query.get("Statuses", "").split(",") if s}
        if statuses:
            invoices = [i for i in invoices if i["Status"] in statuses]
        return self._where(request, invoices, "Invoices")

    def _invoice_errors(self, invoice: dict[str, Any], org: Organisation, places: int) -> list[str]:
        # [invoices]: the rules below are the documented required elements and value lists.
        errors = []
        if invoice.get("Type") not in ("ACCREC", "ACCPAY"):
            errors.append("Invoice Type must be ACCREC or ACCPAY.")
        contact_id = (invoice.get("Contact") or {}).get("ContactID")
        if contact_id not in org.contacts:
            errors.append("A valid contact must be specified.")
        if invoice.get("Status", "DRAFT") not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            errors.append("Invoice status must be DRAFT, SUBMITTED or AUTHORISED.")
        currency = invoice.get("CurrencyCode", org.base_currency)
        # Multi-currency is off in a new organisation: only its base currency is accepted.
        if currency != org.base_currency:
            errors.append(f"The currency {currency} is not enabled for this organisation.")
        lines = invoice.get("LineItems") or []
        if not lines:
            errors.append("At least one line item must be specified.")
        for line in lines:
            if not line.get("Description"):
                errors.append("Description must be specified.")
            code = line.get("AccountCode")
            if code and code not in org.account_codes:
                errors.append(f"Account code '{code}' is not a valid code for this document.")
            tax = line.get("TaxType")
            if tax and tax not in org.tax_types:
                errors.append(f"The TaxType code '{tax}' does not exist or cannot be used.")
            for name, limit in (("Quantity", 4), ("UnitAmount", places)):
                try:
                    value = Decimal(str(line.get(name)))
                except InvalidOperation:
                    errors.append(f"{name} must be a number.")
                    continue
                if -value.as_tuple().exponent > limit:
                    errors.append(f"{name} has more than {limit} decimal places.")
        return errors

    def _invoice_get(self, org: Organisation, grant: Grant, invoice_id: str) -> Reply:
        refused = self._needs(grant, "accounting.invoices", "accounting.invoices.read")
        if refused:
            return refused
        invoice = org.invoices.get(invoice_id)
        if invoice is None:
            return api_error(404, "NotFound", "The resource you're looking for cannot be found")
        return Reply.json(200, {"Invoices": [invoice]}, graph=False)

    def _invoice_update(
        self, request: FakeRequest, org: Organisation, grant: Grant, invoice_id: str
    ) -> Reply:
        refused = self._needs(grant, "accounting.invoices")
        if refused:
            return refused
        invoice = org.invoices.get(invoice_id)
        if invoice is None:
            return api_error(404, "NotFound", "The resource you're looking for cannot be found")
        [change] = request.json().get("Invoices", [{}])
        status = change.get("Status")
        # [invoices]: a DRAFT or SUBMITTED invoice is deleted (DELETED); an AUTHORISED one with
        # no payments is voided (VOIDED).
        allowed = {"DRAFT": {"DELETED"}, "SUBMITTED": {"DELETED"}, "AUTHORISED": {"VOIDED"}}
        if status not in allowed.get(invoice["Status"], set()):
            return validation_error(
                invoice, f"Invoice of status {invoice['Status']} cannot be changed to {status}."
            )
        invoice["Status"] = status
        return Reply.json(200, {"Status": "OK", "Invoices": [invoice]}, graph=False)

    def _attach(
        self, request: FakeRequest, org: Organisation, grant: Grant, invoice_id: str, name: str
    ) -> Reply:
        refused = self._needs(grant, "accounting.attachments")
        if refused:
            return refused
        invoice = org.invoices.get(invoice_id)
        if invoice is None:
            return api_error(404, "NotFound", "The resource you're looking for cannot be found")
        if not request.headers.get("Content-Type"):
            return api_error(400, "BadRequest", "Content-Type is required")
        if len(request.body) > MAX_ATTACHMENT_BYTES:
            return api_error(413, "RequestEntityTooLarge", "Attachments are at most 10 MB")
        existing = org.attachments.setdefault(invoice_id, [])
        if len(existing) >= MAX_ATTACHMENTS:
            return validation_error(invoice, "A document has at most 10 attachments.")
        attachment = {
            "AttachmentID": str(uuid.uuid4()),
            "FileName": name,
            "MimeType": request.headers["Content-Type"],
            "ContentLength": len(request.body),
            # [openapi] IncludeOnline: the customer sees the file on the online invoice.
            "IncludeOnline": request.query.get("IncludeOnline", "").lower() == "true",
            "Content": request.body,
        }
        existing.append(attachment)
        invoice["HasAttachments"] = True
        shown = {k: v for k, v in attachment.items() if k != "Content"}
        return Reply.json(200, {"Attachments": [shown]}, graph=False)

    def http_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE wins over `verify`
        session.verify = self.ca_bundle
        return session
