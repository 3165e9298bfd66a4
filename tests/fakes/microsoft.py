"""A stateful fake of Microsoft's identity platform and Microsoft Graph, served over HTTPS.

Real msal and the real Graph client talk to it on 127.0.0.1, so their retries, paging and token
handling run in tests. One `FakeMicrosoft` holds users, tokens, mailboxes, drives, injected
faults and a log of every request; `tests/fakes/fixtures.py` gives tests a fresh one.

    fake = FakeMicrosoft().start()
    fake.add_user("alice@example.com")
    fake.inject(status=429, retry_after=2, path_contains="/calendarView")
    ...
    fake.stop()
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .core import FAKE_TENANT_ID, FakeRequest, FakeUser, GraphError, Reply, graph_error
from .graph import FakeGraph, unauthenticated
from .identity import FakeIdentity
from .limits import MailboxRequestLimit
from .tls import bundle_with_system_roots, self_signed_certificate

BATCH_LIMIT = 20
# concepts/throttling-limits.md, Outlook service limits: 4 concurrent requests per app and
# mailbox; beyond that Outlook answers 429 (MailboxConcurrency). concepts/json-batching.md: Graph
# runs up to 4 requests of one batch at once, so a batch occupies up to 4 of those.
MAILBOX_CONCURRENCY = 4
_OUTLOOK_PATH = re.compile(
    r"/(?:me|users/[^/]+)/(?:calendars?|events|calendarView|outlook|mailboxSettings)"
)
_MAILBOX_OF = re.compile(r"/users/([^/]+)/")
_FAULT_CODES = {
    429: ("TooManyRequests", "Application is over its MailboxConcurrency limit."),
    500: ("InternalServerError", "An internal server error occurred."),
    502: ("BadGateway", "The upstream server returned an invalid response."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
    504: ("GatewayTimeout", "The gateway timed out."),
}


@dataclass
class Fault:
    """An injected failure; `hits` counts the requests it answered."""

    status: int | None
    retry_after: int | float | str | datetime | None
    on_request: int
    times: int | None
    fraction: float | None
    path_contains: str | None
    method: str | None
    delay: float | None
    drop: bool
    identity: bool
    lose_reply: bool = False  # handle the request, then drop the connection without answering
    seen: int = 0
    hits: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def matches(self, request: FakeRequest) -> bool:
        if request.kind == "identity" and not self.identity:
            return False
        if self.method and request.method.upper() != self.method.upper():
            return False
        return not self.path_contains or self.path_contains in request.path

    def fires(self) -> bool:
        """Count one matching request and say whether this fault answers it."""
        self.seen += 1
        if self.seen < self.on_request:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.fraction is not None and self.rng.random() >= self.fraction:
            return False
        self.hits += 1
        return True

    def retry_after_header(self) -> dict[str, str]:
        value = self.retry_after
        if value is None:
            return {}
        if isinstance(value, datetime):
            return {"Retry-After": email.utils.format_datetime(value, usegmt=True)}
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return {"Retry-After": str(value)}

    def reply(self, request: FakeRequest) -> Reply:
        status = self.status or 503
        headers = self.retry_after_header()
        if request.kind == "identity":
            payload = {
                "error": "temporarily_unavailable",
                "error_description": f"AADSTS90036: fake fault injected ({status}).",
                "error_codes": [90036],
            }
            return Reply.json(status, payload, headers, graph=False)
        code, message = _FAULT_CODES.get(status, ("generalException", "Injected failure."))
        return graph_error(status, code, f"{message} (fake fault injected)", headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeMicrosoft

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing keep-alive connections or aborting TLS are normal in tests.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMicrosoft/1.0"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        fake = cast(_Server, self.server).fake
        body = self._read_body()
        parts = urlsplit(self.path)
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        request = FakeRequest(
            method=self.command,
            path=unquote(parts.path),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            timestamp=time.time(),
            raw_path=parts.path,
            prefer_headers=self.headers.get_all("Prefer") or [],
        )
        try:
            reply = fake.dispatch(request)
        except Exception:  # the fake itself is broken: say so loudly, in the answer and the log
            details = traceback.format_exc()
            fake.server_errors.append(details)
            reply = graph_error(500, "FakeServerError", details)
        if reply is None:
            self._drop()
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        # Headers and body in one write: two small writes meet the client's delayed ACK and
        # cost 40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(reply.body)
        self.flush_headers()

    def _drop(self) -> None:
        """Close the TCP connection without an answer (no TLS close_notify either)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


class FakeMicrosoft:
    """Entra ID (v2.0 endpoints) and Microsoft Graph v1.0 for tests. See the module docstring."""

    client_id = "5a1f3e7c-0d7b-4c1e-9a2f-6b8d0c4e2f10"
    client_secret = "fake-client-secret~not-for-production"
    tenant = "common"
    tenant_id = FAKE_TENANT_ID

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._directory: Path | None = None
        self.ca_bundle = ""
        self.ca_bundle_with_system_roots = ""
        self.server_errors: list[str] = []
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeMicrosoft:
        if self._server is not None:
            return self
        self._directory = Path(tempfile.mkdtemp(prefix="fake-microsoft-"))
        certificate = self_signed_certificate(self._directory)
        self.ca_bundle = str(certificate.cert_path)
        self.ca_bundle_with_system_roots = str(
            bundle_with_system_roots(certificate, self._directory)
        )
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        # The handshake happens in each connection's thread, so a stuck client blocks no one.
        server.socket = certificate.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-microsoft", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._server = self._thread = self._directory = None

    def __enter__(self) -> FakeMicrosoft:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget users, mailboxes, tokens, faults and the request log; restore the knobs."""
        with self._lock:
            self.access_token_lifetime = 3600
            self.max_page_size = 50
            self.device_code_interval = 1
            # Seconds each Graph request (and each wave of 4 batch items) takes, spent outside
            # the lock so that concurrent requests overlap as they do on the real service.
            self.latency = 0.0
            self.mailbox_retry_after = 1  # seconds, sent with a MailboxConcurrency 429
            self.mailbox_throttled = 0  # MailboxConcurrency 429s answered
            self._in_flight: Counter[str] = Counter()
            # 10,000 requests per 10 minutes per mailbox, batch items counted singly (limits.py)
            self.request_limit = MailboxRequestLimit()
            # Entra ID's "Allow public client flows" (app registration, Authentication): off by
            # default for a web app, and the device-code flow needs it (v2-oauth2-device-code).
            self.allow_public_client_flows = False
            self.device_code_lifetime = 900
            self.next_sign_in: str | None = None
            self.next_sign_in_error: str | None = None
            self.auto_approve_device_codes: str | None = None
            self.redirect_uris: set[str] | None = None  # None accepts any http(s) redirect URI
            self.users: dict[str, FakeUser] = {}
            self.faults: list[Fault] = []
            self._log: list[FakeRequest] = []
            self.server_errors.clear()
            self.identity = FakeIdentity(self)
            self.graph = FakeGraph(self)

    # -- addresses ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeMicrosoft is not started: call start() first")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority_host(self) -> str:
        return self.base_url

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant}"

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    def http_session(self) -> requests.Session:
        """A session that trusts the fake's certificate and ignores REQUESTS_CA_BUNDLE & proxies."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_bundle
        return session

    # -- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._log)

    def graph_requests(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[FakeRequest]:
        """Graph calls (batch sub-requests and upload fragments included), oldest first."""
        return [
            request
            for request in self.requests
            if request.kind != "identity"
            and (path_contains is None or path_contains in request.path)
            and (method is None or request.method.upper() == method.upper())
        ]

    @property
    def token_requests(self) -> Counter[str]:
        """Token endpoint calls by grant_type, e.g. `fake.token_requests["refresh_token"]`."""
        with self._lock:
            return Counter(self.identity.state.token_requests)

    # -- dispatch -----------------------------------------------------------------------------

    def dispatch(self, request: FakeRequest) -> Reply | None:
        """Answer one request; None means drop the connection."""
        path = request.path
        if path.startswith("/_upload/"):
            request.kind = "upload"
        elif path == "/v1.0" or path.startswith(("/v1.0/", "/beta/")):
            request.kind = "graph"
        else:
            request.kind = "identity"
        with self._lock:
            self._log.append(request)
            fault = self._fault_for(request)
        if fault is not None and fault.lose_reply:
            if request.kind == "upload":
                with self._lock:
                    self.graph.handle_upload(request)
            elif request.kind == "graph":
                # Done, then the answer is lost (after `delay`): the writes stand.
                self._answer(request)
            if fault.delay:
                time.sleep(fault.delay)
            return None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                return fault.reply(request)
        return self._answer(request)

    def _answer(self, request: FakeRequest) -> Reply | None:
        with self._lock:
            if request.kind == "identity":
                return self.identity.handle(request)
            if request.kind == "upload":
                return self.graph.handle_upload(request)
            user, why = self.identity.user_for_access_token(request.headers.get("Authorization"))
            request.scopes = self.identity.scopes_for_access_token(
                request.headers.get("Authorization")
            )
        if user is None:
            return unauthenticated(why)
        batch = request.path == "/v1.0/$batch" and request.method == "POST"
        mailbox, slots = self._mailbox_slots(request, user, batch)
        if slots and not batch:
            wait = self.request_limit.admit(mailbox)
            if wait is not None:
                return self._over_request_limit(wait)
        if slots:
            with self._lock:
                if self._in_flight[mailbox] + slots > MAILBOX_CONCURRENCY:
                    self.mailbox_throttled += 1
                    return graph_error(
                        429,
                        "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.",
                        {"Retry-After": str(self.mailbox_retry_after)},
                    )
                self._in_flight[mailbox] += slots
        try:
            if batch:
                return self._batch(request, user)
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                return self.graph.handle(request, user)
        finally:
            if slots:
                with self._lock:
                    self._in_flight[mailbox] -= slots

    def _over_request_limit(self, wait: int) -> Reply:
        return graph_error(
            429,
            "ApplicationThrottled",
            "Application is over its request limit for this mailbox "
            f"({self.request_limit.limit:,} requests per "
            f"{self.request_limit.window / 60:g} minutes).",
            {"Retry-After": str(wait)},
        )

    def _mailbox_of(self, path: str, user: FakeUser) -> str | None:
        """The mailbox an Outlook request addresses; None for any other service."""
        if not _OUTLOOK_PATH.search(path.removeprefix("/v1.0")):
            return None
        named = _MAILBOX_OF.search(path)
        return unquote(named.group(1)).lower() if named else user.email.lower()

    def _mailbox_slots(self, request: FakeRequest, user: FakeUser, batch: bool) -> tuple[str, int]:
        """The mailbox a request addresses and how many of its concurrent slots it takes."""
        paths = [request.path]
        if batch:
            try:
                paths = [
                    "/" + str(item.get("url", "")).lstrip("/")
                    for item in self._batch_items(request)
                ]
            except (GraphError, AttributeError):
                return "", 0
        outlook = [path for path in paths if _OUTLOOK_PATH.search(path.removeprefix("/v1.0"))]
        if not outlook:
            return "", 0
        named = _MAILBOX_OF.search(outlook[0])
        mailbox = unquote(named.group(1)).lower() if named else user.email.lower()
        return mailbox, min(MAILBOX_CONCURRENCY, len(outlook))

    def _fault_for(self, request: FakeRequest) -> Fault | None:
        chosen = None
        for fault in self.faults:
            if fault.matches(request) and fault.fires() and chosen is None:
                chosen = fault
        return chosen

    def _batch(self, outer: FakeRequest, user: FakeUser) -> Reply | None:
        try:
            items = self._batch_items(outer)
        except GraphError as error:
            return error.reply()
        statuses: dict[str, int] = {}
        responses = []
        for position, item in enumerate(items):
            if self.latency and position % MAILBOX_CONCURRENCY == 0:
                time.sleep(self.latency)  # the next wave of up to 4 items runs side by side
            item_id = str(item["id"])
            failed = [d for d in item.get("dependsOn") or [] if not 200 <= statuses[d] < 300]
            if failed:
                reply = graph_error(
                    424, "FailedDependency", f"Request depends on failed request(s) {failed}."
                )
            else:
                sub = self._sub_request(outer, item)
                with self._lock:
                    self._log.append(sub)
                    fault = self._fault_for(sub)
                mailbox = self._mailbox_of(sub.path, user)
                wait = None if mailbox is None else self.request_limit.admit(mailbox)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.drop:
                    return None
                if wait is not None:
                    reply = self._over_request_limit(wait)
                elif fault is not None and fault.status is not None:
                    reply = fault.reply(sub)
                else:
                    with self._lock:
                        reply = self.graph.handle(sub, user)
            statuses[item_id] = reply.status
            response: dict[str, Any] = {
                "id": item_id,
                "status": reply.status,
                # Header names are case-insensitive (RFC 9110) and batch answers have been seen
                # with "retry-after": the fake sends them lowercase so clients cope with that.
                "headers": {
                    k.lower(): v for k, v in reply.headers.items() if k != "Content-Length"
                },
            }
            if reply.body:
                is_json = "json" in reply.headers.get("Content-Type", "")
                response["body"] = reply.json_body() if is_json else reply.body.decode("latin-1")
            responses.append(response)
        # Graph answers in any order; reversing makes clients match responses by id.
        responses.reverse()
        return Reply.json(200, {"responses": responses})

    def _batch_items(self, outer: FakeRequest) -> list[dict[str, Any]]:
        try:
            payload = outer.json()
        except ValueError:
            raise GraphError(400, "BadRequest", "Invalid batch payload format.") from None
        items = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise GraphError(400, "BadRequest", "Invalid batch payload format.")
        if len(items) > BATCH_LIMIT:
            raise GraphError(
                400,
                "BadRequest",
                f"Number of batch request steps exceeds the maximum of {BATCH_LIMIT}.",
            )
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or not all(k in item for k in ("id", "method", "url")):
                raise GraphError(400, "BadRequest", "Each batch request needs id, method and url.")
            item_id = str(item["id"])
            if item_id in seen:
                raise GraphError(400, "BadRequest", f"Batch request id '{item_id}' is duplicated.")
            headers = CaseInsensitiveDict(item.get("headers") or {})
            if item.get("body") is not None and "Content-Type" not in headers:
                raise GraphError(
                    400,
                    "BadRequest",
                    f"Write request id : {item_id} does not contain Content-Type header or body.",
                )
            for dependency in item.get("dependsOn") or []:
                if dependency not in seen:
                    raise GraphError(
                        400,
                        "BadRequest",
                        f"Request '{item_id}' depends on '{dependency}', "
                        "which is not an earlier request in the batch.",
                    )
            seen.add(item_id)
        return items

    def _sub_request(self, outer: FakeRequest, item: dict[str, Any]) -> FakeRequest:
        parts = urlsplit(str(item["url"]))
        raw_path = "/v1.0" + ("" if parts.path.startswith("/") else "/") + parts.path
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
        )
        headers["Authorization"] = outer.headers.get("Authorization", "")
        body = item.get("body")
        if body is None:
            raw_body = b""
        elif isinstance(body, str):
            raw_body = body.encode("utf-8")
        else:
            raw_body = json.dumps(body).encode("utf-8")
        absolute = bool(parts.scheme or parts.netloc)
        return FakeRequest(
            method=str(item["method"]).upper(),
            path=unquote(raw_path) if not absolute else "/v1.0/<absolute url refused>",
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            body=raw_body,
            timestamp=time.time(),
            in_batch=True,
            raw_path=raw_path,
            kind="graph",
            prefer_headers=[headers["Prefer"]] if "Prefer" in headers else [],
            # concepts/json-batching.md: each request in a batch is authorized with the batch's
            # own Authorization header, so a sub-request has exactly the outer token's scopes.
            scopes=outer.scopes,
        )

    # -- faults -------------------------------------------------------------------------------

    def inject(
        self,
        status: int | None = None,
        retry_after: int | float | str | datetime | None = None,
        on_request: int = 1,
        times: int | None = 1,
        fraction: float | None = None,
        path_contains: str | None = None,
        method: str | None = None,
        delay: float | None = None,
        drop: bool = False,
        identity: bool = False,
        lose_reply: bool = False,
    ) -> Fault:
        """Make matching requests fail, from the `on_request`-th one (counted from now).

        status defaults to 429, unless only `delay` (a slow but normal answer) or `drop` is asked
        for. `times=None` fails forever; with `fraction`, each candidate fails with that
        probability (seeded) until `times` failures. Graph calls, batch sub-requests and upload
        fragments match; identity endpoints only with `identity=True`. The outer `$batch` POST
        is a request too: narrow with `path_contains`/`method` to aim inside or at the batch.
        `lose_reply` handles the request (its writes stand), waits `delay`, then drops the
        connection: the answer is lost, as when a client dies or times out mid-request.
        """
        if status is None and delay is None and not drop and not lose_reply:
            status = 429
        fault = Fault(
            status=status,
            retry_after=retry_after,
            on_request=on_request,
            times=times,
            fraction=fraction,
            path_contains=path_contains,
            method=method,
            delay=delay,
            drop=drop,
            identity=identity,
            lose_reply=lose_reply,  # upload fragments: stored, but the answer never arrives
        )
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    # -- people and sign-in -------------------------------------------------------------------

    def add_user(self, email: str, name: str | None = None) -> FakeUser:
        """A user with a default calendar named "Calendar" and an empty OneDrive."""
        with self._lock:
            if email.lower() in self.users:
                raise ValueError(f"fake user {email!r} already exists")
            user = FakeUser.create(email, name)
            self.users[email.lower()] = user
            self.graph.add_mailbox(user)
            return user

    def find_user(self, email_or_id: str) -> FakeUser | None:
        with self._lock:
            key = email_or_id.lower()
            if key in self.users:
                return self.users[key]
            return next((u for u in self.users.values() if u.oid == key), None)

    def user(self, email: str) -> FakeUser:
        found = self.find_user(email)
        if found is None:
            raise LookupError(f"no fake user {email!r}: call fake.add_user() first")
        return found

    def authorize_url_response(self, url: str) -> str:
        """Visit an authorization URL as the browser would; return where it redirects to.

        The user signed in is `login_hint` or else `fake.next_sign_in`. With
        response_mode=form_post, the posted fields come back as a query string on the action.
        """
        with self.http_session() as session:
            answer = session.get(url, allow_redirects=False, timeout=10)
        if answer.status_code in (302, 303):
            return answer.headers["Location"]
        if answer.status_code == 200 and "<form" in answer.text:
            form = _HiddenInputs()
            form.feed(answer.text)
            return f"{form.action}?{urlencode(form.fields)}"
        raise AssertionError(f"authorize answered {answer.status_code}: {answer.text}")

    def sign_in(
        self,
        email: str,
        scopes: tuple[str, ...] = (
            "User.Read",
            "Calendars.ReadWrite",
            "MailboxSettings.ReadWrite",
            "Files.ReadWrite",
        ),
        *,
        public: bool = False,
    ) -> dict[str, Any]:
        """The token endpoint's answer for `email`, without going through a flow.

        access_token, refresh_token, id_token, client_info...; `public=True` binds the refresh
        token to a public client (as the device-code flow does). Seed an msal cache from it with
        `app.acquire_token_by_refresh_token(result["refresh_token"], scopes)`.
        """
        with self._lock:
            return self.identity.sign_in(email, list(scopes), public)

    def approve_device_code(self, user_code: str, email: str) -> None:
        with self._lock:
            self.identity.approve_device_code(user_code, email)

    def deny_device_code(self, user_code: str) -> None:
        with self._lock:
            self.identity.deny_device_code(user_code)

    def expire_access_tokens(self, email: str | None = None) -> int:
        """Graph answers 401 to access tokens issued so far (msal's cache still trusts them)."""
        with self._lock:
            return self.identity.expire_access_tokens(email)

    def revoke_refresh_tokens(self, email: str) -> int:
        """Refresh grants of this user answer 400 invalid_grant from now on."""
        with self._lock:
            return self.identity.revoke_refresh_tokens(email)

    def issued_tokens(self, email: str | None = None) -> list[str]:
        """Every access, refresh and id token issued (to look for leaks in logs and pages)."""
        with self._lock:
            return self.identity.issued_tokens(email)

    # -- mailbox and drive contents -----------------------------------------------------------

    def share_calendar(self, owner: str, delegate: str, role: str = "write") -> None:
        """The owner shares their calendars with a delegate ("read" or "write"), in Outlook."""
        if role not in ("read", "write"):
            raise ValueError("role is read or write")
        with self._lock:
            self.graph.mailbox(owner).delegates[delegate.lower()] = role

    def set_mailbox_time_zone(self, email: str, name: str) -> None:
        """What Outlook reports as the mailbox's time zone (usually a Windows name)."""
        with self._lock:
            self.graph.mailbox(email).time_zone = name

    def add_calendar(self, email: str, name: str) -> dict[str, Any]:
        with self._lock:
            try:
                return dict(self.graph.create_calendar_named(self.graph.mailbox(email), name))
            except GraphError as error:
                raise ValueError(error.message) from None

    def calendars(self, email: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.graph.mailbox(email).calendars.values()]

    def add_category(self, email: str, name: str, color: str = "preset0") -> dict[str, Any]:
        with self._lock:
            mailbox = self.graph.mailbox(email)
            try:
                return dict(self.graph.create_category_named(mailbox, name, color))
            except GraphError as error:
                raise ValueError(error.message) from None

    def categories(self, email: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.graph.mailbox(email).categories.values()]

    def add_event(
        self, email: str, calendar_name: str = "Calendar", **fields: Any
    ) -> dict[str, Any]:
        """Seed an event with Graph's field names (subject, start, end, recurrence, ...).

        start/end are `{"dateTime": "2025-05-08T10:00:00", "timeZone": "Europe/London"}`. With a
        `recurrence` the event is a series master, expanded by calendarView.
        """
        kind = fields.pop("type", None)
        # A meeting someone else organised (an invitation from a customer): read-only through
        # the API (resources/event.md, organizer), so only seeding can set it.
        organizer = fields.pop("organizer", None)
        if kind == "seriesMaster" and not fields.get("recurrence"):
            raise ValueError("a seriesMaster needs a recurrence")
        if fields.get("recurrence") and kind not in (None, "seriesMaster"):
            raise ValueError(f"an event with a recurrence is a seriesMaster, not {kind!r}")
        with self._lock:
            mailbox = self.graph.mailbox(email)
            try:
                stored = self.graph.store_event(
                    mailbox, mailbox.calendar_named(calendar_name), fields, any_zone=True
                )
            except GraphError as error:
                raise ValueError(error.message) from None
            if organizer is not None:
                stored.data["organizer"] = {"emailAddress": dict(organizer)}
                stored.data["isOrganizer"] = False
            return json.loads(json.dumps(stored.data))

    def edit_event(self, email: str, event_id: str, **fields: Any) -> None:
        """Change a stored event as someone in Outlook would (a new changeKey, so a client
        holding the old etag gets 412)."""
        with self._lock:
            stored = self.graph.mailbox(email).events[event_id]
            self.graph._merge(stored.data, fields)
            self.graph._touch(stored.data)

    def events(self, email: str, calendar_name: str = "Calendar") -> list[dict[str, Any]]:
        """Stored events (series masters, not occurrences), with their extended properties."""
        with self._lock:
            mailbox = self.graph.mailbox(email)
            calendar_id = mailbox.calendar_named(calendar_name)["id"]
            return [
                json.loads(json.dumps(stored.data))
                for stored in mailbox.events.values()
                if stored.calendar_id == calendar_id
            ]

    def cancel_occurrence(self, master_id: str, day: date | str) -> None:
        """Mark one occurrence of a series (its date in the series' zone) as cancelled."""
        with self._lock:
            self.graph.cancel_occurrence(
                master_id, date.fromisoformat(day) if isinstance(day, str) else day
            )

    def files(self, email: str) -> dict[str, bytes]:
        """OneDrive contents by path, e.g. {"Timesheets/2025/May.pdf": b"%PDF..."}."""
        with self._lock:
            return {f.path: f.content for f in self.graph.mailbox(email).files.values()}

    def put_file(self, email: str, path: str, content: bytes) -> None:
        with self._lock:
            self.graph.save_file(self.graph.mailbox(email), re.sub("^/+", "", path), content)
