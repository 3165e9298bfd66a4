"""The one Microsoft Graph client every app uses.

One `requests.Session` per user run (connection reuse), timeouts on every call, paging through
`@odata.nextLink`, `$batch` writes (20 per batch, 4 in flight), and retries: 429/503/504 and
connection errors wait for `Retry-After` or a capped, jittered exponential backoff; a 401 refreshes
the token once. A non-2xx answer is always an error, never an empty result.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503, 504})
# api-reference/v1.0/api/driveitem-createuploadsession.md: resume or retry a fragment after
# 500, 502, 503 or 504 (and throttling).
UPLOAD_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BATCH_LIMIT = 20
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
UPLOAD_CHUNK = 10 * 320 * 1024  # Graph wants chunks in multiples of 320 KiB.
PAGE_SIZE = 500

# The single-value extended property that carries the source event id on archive copies.
SOURCE_ID_PROPERTY = "String {5b0b4b2e-3c4a-4d58-9a1e-6f3f0c2a9d71} Name AdminAssistantSourceId"
# Namespace for deterministic transactionIds (uuid5), so re-runs never duplicate events.
TRANSACTION_NAMESPACE = uuid.UUID("1f0b9a8e-6d1c-4c47-8a43-2f7c9e0b5a11")

EVENT_FIELDS = (
    "id",
    "iCalUId",
    "subject",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "sensitivity",
    "importance",
    "categories",
    "location",
    "isCancelled",
    "type",
    "seriesMasterId",
    "recurrence",
    "lastModifiedDateTime",
    "changeKey",
    # Who was in the meeting: the attention inbox suggests a billing category from them.
    "attendees",
    "organizer",
)

TokenProvider = Callable[[bool], str]
"""Returns an access token; called with True to force a refresh after a 401."""


class MicrosoftProblem(Exception):
    """A Microsoft 365 failure a person can act on; the message says what is wrong.

    Every app reports these the same way (an admin message, a command's one-line error, an API
    409 or 502) without knowing which app raised them: Graph errors here, the account's
    sign-in and token errors in `accounts.microsoft`."""


class MicrosoftSetupMissing(MicrosoftProblem):
    """What is missing is the account's set-up (not configured, not connected, reconnect
    needed), not an answer from Microsoft: the API says 409, not 502."""


def microsoft_problem(error: BaseException) -> str | None:
    """A message a person can act on for a Microsoft failure; None for a programming error."""
    if isinstance(error, MicrosoftProblem):
        return str(error)
    return None


class GraphError(MicrosoftProblem):
    """Microsoft Graph answered with an error (or not at all)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class GraphThrottledError(GraphError):
    """Throttling or unavailability outlasted every retry."""


class GraphRetryBudgetExceeded(GraphThrottledError):
    """Microsoft asked for more waiting than the run's retry budget has left; run it again later."""


class GraphConnectionError(GraphError):
    """The connection failed or timed out on every attempt."""


class GraphAuthenticationError(GraphError):
    """Graph refused the token even after a refresh."""


class GraphNotFoundError(GraphError):
    """The calendar, event or file does not exist."""


class GraphPermissionError(GraphError):
    """Graph answered 403: the token lacks a delegated permission (named in `permission`)."""

    def __init__(self, message: str, *, permission: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.permission = permission


def permission_needed(method: str, path: str) -> str:
    """The delegated permission Microsoft documents for this call (the one to grant on a 403).

    From the "Permissions" table of each api-reference page; reads name the read permission,
    writes the read-write one, and another user's mailbox the `.Shared` variant.
    """
    path = urlsplit(path).path
    path = re.sub(r"^(?:https?://[^/]+)?(?:/v1\.0|/beta)?/?", "", path)
    shared = path.startswith("users/")
    rest = re.sub(r"^(?:me|users/[^/]+)", "", path)
    writing = method.upper() not in ("GET", "HEAD")
    if "/outlook/masterCategories" in rest or rest.startswith("/mailboxSettings"):
        return "MailboxSettings.ReadWrite" if writing else "MailboxSettings.Read"
    if rest.startswith("/drive"):
        return "Files.ReadWrite" if writing else "Files.Read"
    if rest.startswith(("/calendar", "/events")):
        permission = "Calendars.ReadWrite" if writing else "Calendars.Read"
        return f"{permission}.Shared" if shared else permission
    return "User.Read"


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    random: Callable[[], float] = random.random
    # Seconds of waiting one run may spend on retries in all (None: no limit). Retry-After is
    # honoured as sent (concepts/throttling-limits.md), so a long one ends the run instead.
    budget: float | None = None
    waited: float = 0.0

    def wait(self, seconds: float, context: str) -> None:
        """Sleep before a retry, or stop the run when the budget would be exceeded."""
        if self.budget is not None and self.waited + seconds > self.budget:
            raise GraphRetryBudgetExceeded(
                f"{context}: Microsoft asked to wait {seconds:.0f} s more, beyond this run's "
                f"retry budget of {self.budget:.0f} s (MS_RETRY_BUDGET). Nothing is lost: run it "
                "again later and it carries on where it stopped.",
                status=429,
            )
        self.waited += seconds
        self.sleep(seconds)

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter for attempt 1, 2, ..."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self.random()

    def retry_after(self, value: str | None) -> float | None:
        """Seconds to wait from a Retry-After header (seconds or an HTTP date), as sent."""
        if not value:
            return None
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = when.timestamp() - self.now()
        return max(seconds, 0.0)


@dataclass
class BatchRequest:
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchResponse:
    status: int
    body: Any
    headers: Mapping[str, str]
    request: BatchRequest | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> GraphError:
        if self.request is None:
            return _error_from(self.status, self.body, self.headers)
        return _error_from(
            self.status,
            self.body,
            self.headers,
            context=f"{self.request.method} {_path_of(self.request.url)}",
            method=self.request.method,
            path=self.request.url,
        )


def transaction_id(*parts: object) -> str:
    """A deterministic transactionId: the same parts always give the same id."""
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, "\x1f".join(str(part) for part in parts)))


DEFAULT_TIMEOUT = (10.0, 60.0)


class TimeoutSession(requests.Session):
    """A session whose every request has a (connect, read) timeout unless the caller sets one.

    msal and allauth call `session.get`/`post` without a timeout; requests would then wait
    for ever on a stalled endpoint.
    """

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def http_session(
    *,
    ca_bundle: str | None = None,
    pool_size: int = 10,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> requests.Session:
    """A session that trusts the system store, or `ca_bundle`, ignores proxy env vars and
    times out every request (connect, read) that sets no timeout of its own."""
    session = TimeoutSession(timeout)
    session.trust_env = False
    session.verify = ca_bundle or _system_ca_bundle()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _system_ca_bundle() -> str | bool:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).exists():
            return candidate
    return True


class GraphClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: TokenProvider,
        session: requests.Session | None = None,
        timezone: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        mailbox: str | None = None,
        on_permission_denied: Callable[[GraphPermissionError], None] | None = None,
    ) -> None:
        self.on_permission_denied = on_permission_denied
        self.base_url = base_url.rstrip("/")
        # "me", or another mailbox the user may open (msgraph://alice@example.com/calendars/X).
        self.mailbox = (
            "me" if not mailbox or mailbox == "me" else f"users/{quote(mailbox, safe='@')}"
        )
        self._token = token
        self._access_token: str | None = None
        self.session = session or http_session()
        self.timezone = timezone
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.requests_sent = 0
        self._lock = threading.Lock()

    def for_mailbox(self, mailbox: str | None) -> GraphClient:
        """The same connection and sign-in, speaking to another mailbox (`users/{mailbox}`)."""
        client = GraphClient(
            base_url=self.base_url,
            token=self._token,
            session=self.session,
            timezone=self.timezone,
            timeout=self.timeout,
            retry=self.retry,
            mailbox=mailbox,
        )
        client._access_token = self._access_token
        return client

    # -- transport -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base_url}/{path.lstrip('/')}"

    def prefer(self) -> str:
        prefer = ['IdType="ImmutableId"']
        if self.timezone:
            prefer.append(f'outlook.timezone="{self.timezone}"')
        return ", ".join(prefer)

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._current_token()}",
            "Prefer": self.prefer(),
            "Accept": "application/json",
        }
        headers.update(extra or {})
        return headers

    def _current_token(self, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._access_token is None:
                self._access_token = self._token(refresh)
            return self._access_token

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """Send one request with retries; the decoded JSON body (None for 204)."""
        response = self._send(
            method,
            self.url(path),
            params=params,
            json=json,
            data=data,
            headers=headers,
            authenticated=authenticated,
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
    ) -> requests.Response:
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request_headers = self.headers(headers) if authenticated else dict(headers or {})
            with self._lock:
                self.requests_sent += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=request_headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as failure:
                if attempt >= self.retry.max_attempts:
                    raise GraphConnectionError(
                        f"{method} {_path_of(url)} failed after {attempt} attempts: "
                        f"{type(failure).__name__}"
                    ) from failure
                delay = self.retry.backoff(attempt)
                logger.warning(
                    "Graph %s %s: %s; retrying in %.1fs",
                    method,
                    _path_of(url),
                    type(failure).__name__,
                    delay,
                )
                self.retry.wait(delay, f"{method} {_path_of(url)}")
                continue

            if response.status_code == 401 and authenticated and not refreshed:
                refreshed = True
                self._current_token(refresh=True)
                attempt -= 1  # A refresh is not a failed attempt.
                continue
            if response.status_code in retry_statuses and attempt < self.retry.max_attempts:
                asked = self.retry.retry_after(response.headers.get("Retry-After"))
                delay = self.retry.backoff(attempt) if asked is None else asked
                logger.warning(
                    "Graph %s %s answered %s; retrying in %.1fs",
                    method,
                    _path_of(url),
                    response.status_code,
                    delay,
                )
                self.retry.wait(delay, f"{method} {_path_of(url)}")
                continue
            if response.ok:
                return response
            body = _json_or_text(response)
            error = _error_from(
                response.status_code,
                body,
                dict(response.headers),
                context=f"{method} {_path_of(url)}",
                attempts=attempt,
                method=method,
                path=url,
            )
            if isinstance(error, GraphPermissionError) and self.on_permission_denied:
                self.on_permission_denied(error)
            raise error

    def paged(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a collection, following @odata.nextLink until it is absent."""
        url: str | None = self.url(path)
        query: Mapping[str, Any] | None = params
        while url:
            page = self._send("GET", url, params=query).json()
            yield from page.get("value", [])
            url = page.get("@odata.nextLink")
            query = None  # The next link carries the whole query.

    def batch(self, requests_: Sequence[BatchRequest]) -> list[BatchResponse]:
        """Send requests through $batch: 20 per batch, one batch at a time for this mailbox.

        Results come back in the order asked. Items answered 429/503/504 inside a batch are sent
        again (after their Retry-After) until they succeed or the attempts run out; their last
        answer is then returned as it is.
        """
        results: list[BatchResponse | None] = [None] * len(requests_)
        pending = list(range(len(requests_)))
        attempt = 0
        while pending:
            attempt += 1
            chunks = [pending[i : i + BATCH_LIMIT] for i in range(0, len(pending), BATCH_LIMIT)]
            # One batch in flight per mailbox: Graph already runs 4 items of a batch at once and
            # Outlook allows 4 concurrent requests per app and mailbox (throttling-limits.md);
            # a second batch would only come back 429 MailboxConcurrency.
            answers = [self._send_batch(chunk, requests_) for chunk in chunks]
            retry_waits: list[float] = []
            pending = []
            for answer in answers:
                for index, response in answer.items():
                    results[index] = response
                    if response.status in RETRY_STATUSES and attempt < self.retry.max_attempts:
                        pending.append(index)
                        wait = self.retry.retry_after(response.headers.get("Retry-After"))
                        retry_waits.append(
                            wait if wait is not None else self.retry.backoff(attempt)
                        )
            if pending:
                pending.sort()
                delay = max(retry_waits)
                logger.warning(
                    "Graph $batch: %d item(s) throttled; retrying in %.1fs", len(pending), delay
                )
                self.retry.wait(delay, "$batch")
        # On the calling thread: the callback may write to the database.
        denied = [result for result in results if result is not None and result.status == 403]
        if denied and self.on_permission_denied:
            error = denied[0].error()
            if isinstance(error, GraphPermissionError):
                self.on_permission_denied(error)
        return [result for result in results if result is not None]

    def _send_batch(
        self, indexes: Sequence[int], requests_: Sequence[BatchRequest]
    ) -> dict[int, BatchResponse]:
        payload = {"requests": [self._batch_item(index, requests_[index]) for index in indexes]}
        answer = self._send("POST", self.url("$batch"), json=payload).json()
        responses = {
            int(item["id"]): BatchResponse(
                status=int(item.get("status", 500)),
                body=item.get("body"),
                # Header names are case-insensitive (RFC 9110): "retry-after" counts too.
                headers=CaseInsensitiveDict(
                    {k: str(v) for k, v in (item.get("headers") or {}).items()}
                ),
                request=requests_[int(item["id"])],
            )
            for item in answer.get("responses", [])
        }
        missing = set(indexes) - set(responses)
        if missing:
            raise GraphError(f"$batch answered no result for {len(missing)} request(s).")
        return responses

    def _batch_item(self, index: int, request: BatchRequest) -> dict[str, Any]:
        # Sub-requests do not inherit the outer request's headers: each carries its own.
        headers = {"Prefer": self.prefer(), **request.headers}
        item: dict[str, Any] = {
            "id": str(index),
            "method": request.method,
            "url": "/" + request.url.lstrip("/"),
            "headers": headers,
        }
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
            item["body"] = request.body
        return item

    # -- operations ------------------------------------------------------------------------

    def me(self) -> dict:
        return self.request(
            "GET", self.mailbox, params={"$select": "id,displayName,mail,userPrincipalName"}
        )

    def mailbox_time_zone(self) -> str | None:
        """The mailbox's time zone as Outlook reports it (a Windows or an IANA name)."""
        answer = self.request("GET", f"{self.mailbox}/mailboxSettings/timeZone")
        if not isinstance(answer, dict):
            return None
        value = answer.get("value", answer.get("timeZone"))
        return value if isinstance(value, str) and value.strip() else None

    def list_calendars(self) -> list[dict]:
        return list(
            self.paged(
                f"{self.mailbox}/calendars",
                {"$select": "id,name,isDefaultCalendar,canEdit,owner", "$top": 100},
            )
        )

    def resolve_calendar(self, name_or_id: str) -> dict | None:
        """The calendar with this id, else this exact name, else this name ignoring case/spaces."""
        calendars = self.list_calendars()
        for calendar in calendars:
            if calendar["id"] == name_or_id:
                return calendar
        for calendar in calendars:
            if calendar.get("name") == name_or_id:
                return calendar
        wanted = _loose(name_or_id)
        matches = [calendar for calendar in calendars if _loose(calendar.get("name", "")) == wanted]
        return matches[0] if len(matches) == 1 else None

    def create_calendar(self, name: str) -> dict:
        return self.request("POST", f"{self.mailbox}/calendars", json={"name": name})

    def list_master_categories(self) -> list[dict]:
        return list(self.paged(f"{self.mailbox}/outlook/masterCategories"))

    def create_master_category(self, name: str, color: str = "preset0") -> dict:
        return self.request(
            "POST",
            f"{self.mailbox}/outlook/masterCategories",
            json={"displayName": name, "color": color},
        )

    def calendar_view(
        self,
        calendar_id: str | None,
        start: datetime,
        end: datetime,
        *,
        fields: Iterable[str] = EVENT_FIELDS,
    ) -> Iterator[dict]:
        """Events and occurrences of recurring series overlapping [start, end)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("calendarView needs timezone-aware start and end datetimes.")
        path = (
            f"{self.mailbox}/calendars/{quote(calendar_id, safe='')}/calendarView"
            if calendar_id
            else (f"{self.mailbox}/calendarView")
        )
        return self.paged(
            path,
            {
                "startDateTime": _iso_utc(start),
                "endDateTime": _iso_utc(end),
                "$select": ",".join(fields),
                "$top": PAGE_SIZE,
            },
        )

    def create_events(
        self, calendar_id: str, events: Sequence[Mapping[str, Any]]
    ) -> list[BatchResponse]:
        """Create events in batches; give each a `transactionId` so retries never duplicate."""
        url = f"/{self.mailbox}/calendars/{quote(calendar_id, safe='')}/events"
        return self.batch([BatchRequest("POST", url, body=dict(event)) for event in events])

    def update_events(
        self, changes: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[BatchResponse]:
        return self.batch(
            [
                BatchRequest(
                    "PATCH", f"/{self.mailbox}/events/{quote(event_id, safe='')}", body=dict(patch)
                )
                for event_id, patch in changes
            ]
        )

    def get_events(self, event_ids: Sequence[str]) -> list[BatchResponse]:
        """Read events by id (404 for one that no longer exists), in batches."""
        select = ",".join(EVENT_FIELDS)
        return self.batch(
            [
                BatchRequest(
                    "GET", f"/{self.mailbox}/events/{quote(event_id, safe='')}?$select={select}"
                )
                for event_id in event_ids
            ]
        )

    def event_categories_update(
        self,
        event_id: str,
        decide: Callable[[list[str]], list[str] | None],
        *,
        attempts: int = 3,
    ) -> tuple[bool, dict[str, Any]]:
        """Set an event's categories from what Outlook holds now, without losing a change
        made meanwhile: read the event, ask `decide(current categories)` for the new list
        (None: write nothing), PATCH it with `If-Match` on the event's etag; a 412 (somebody
        changed it since) reads it again and decides again. Returns (written, the event as
        Outlook answered it). Raises the GraphError of a refused read or write.

        PATCH replaces the whole `categories` collection (event-update.md), which is why
        `decide` gets the current list to keep the others."""
        url = f"/{self.mailbox}/events/{quote(event_id, safe='')}"
        select = "?$select=id,categories,changeKey,subject"
        for _attempt in range(attempts):
            [read] = self.batch([BatchRequest("GET", url + select)])
            if not read.ok:
                raise read.error()
            event = read.body if isinstance(read.body, dict) else {}
            current = [c for c in event.get("categories") or [] if isinstance(c, str)]
            wanted = decide(current)
            if wanted is None or wanted == current:
                return False, event
            etag = event.get("@odata.etag") or event.get("changeKey") or "*"
            [answer] = self.batch(
                [
                    BatchRequest(
                        "PATCH", url, body={"categories": wanted}, headers={"If-Match": etag}
                    )
                ]
            )
            if answer.ok:
                return True, answer.body if isinstance(answer.body, dict) else event
            if answer.status != 412:
                raise answer.error()
            logger.info("Graph: event changed since it was read (412); reading it again")
        raise GraphError(
            f"The event kept changing in Outlook while its categories were set ({attempts} "
            "tries); try again.",
            status=412,
        )

    def calendar_can_edit(self, calendar_id: str) -> bool:
        """Whether the signed-in user may write to the calendar (`canEdit`, resources/
        calendar.md): false for a calendar shared or delegated to them read-only."""
        for calendar in self.list_calendars():
            if calendar.get("id") == calendar_id:
                return bool(calendar.get("canEdit", True))
        return False

    def delete_events(self, event_ids: Sequence[str]) -> list[BatchResponse]:
        return self.batch(
            [
                BatchRequest("DELETE", f"/{self.mailbox}/events/{quote(event_id, safe='')}")
                for event_id in event_ids
            ]
        )

    def find_events_by_source_id(self, calendar_id: str, source_id: str) -> list[dict]:
        """Events in the calendar whose source-id extended property equals `source_id`."""
        escaped = source_id.replace("'", "''")
        return list(
            self.paged(
                f"{self.mailbox}/calendars/{quote(calendar_id, safe='')}/events",
                {
                    "$filter": (
                        f"singleValueExtendedProperties/Any(ep: ep/id eq '{SOURCE_ID_PROPERTY}' "
                        f"and ep/value eq '{escaped}')"
                    ),
                    "$expand": (
                        f"singleValueExtendedProperties($filter=id eq '{SOURCE_ID_PROPERTY}')"
                    ),
                    "$select": ",".join(EVENT_FIELDS),
                },
            )
        )

    def upload_file(self, path: str, content: bytes) -> dict:
        """Put a file in the user's OneDrive at `path` (folders are created), replacing it."""
        target = f"{self.mailbox}/drive/root:/" + quote(path.strip("/"), safe="/") + ":"
        if len(content) < SIMPLE_UPLOAD_LIMIT:
            return self.request(
                "PUT",
                f"{target}/content",
                data=content,
                headers={"Content-Type": "application/octet-stream"},
            )
        session = self.request(
            "POST",
            f"{target}/createUploadSession",
            json={"item": {"@microsoft.graph.conflictBehavior": "replace"}},
        )
        upload_url = session["uploadUrl"]
        total = len(content)
        item: dict | None = None
        offset = resumes = 0
        while offset < total:
            chunk = content[offset : offset + UPLOAD_CHUNK]
            try:
                # The upload URL is pre-authorised: sending the token there is refused.
                response = self._send(
                    "PUT",
                    upload_url,
                    data=chunk,
                    headers={
                        "Content-Length": str(len(chunk)),
                        "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{total}",
                    },
                    authenticated=False,
                    retry_statuses=UPLOAD_RETRY_STATUSES,
                )
            except (GraphConnectionError, GraphError) as error:
                # A fragment whose answer was lost may have arrived (a resend then gets 416):
                # ask the session what it still expects, as driveitem-createuploadsession.md
                # says, and carry on from there.
                resumes += 1
                last = offset + len(chunk) == total
                resumable = isinstance(error, GraphConnectionError) or error.status == 416
                if resumes > self.retry.max_attempts or not (
                    resumable or (last and error.status == 404)
                ):
                    raise
                resumed = None if error.status == 404 else self._upload_resume_offset(upload_url)
                if resumed is None:  # the session is gone: the last fragment completed it
                    finished = self.request("GET", target)
                    if finished.get("size") != total:
                        raise
                    return finished
                offset = resumed
                continue
            if response.status_code in (200, 201):
                item = response.json()
                break
            ranges = (response.json() or {}).get("nextExpectedRanges") or []
            offset = int(ranges[0].split("-")[0]) if ranges else offset + len(chunk)
        if item is None:
            raise GraphError(f"OneDrive did not confirm the upload of {path}.")
        return item

    def _upload_resume_offset(self, upload_url: str) -> int | None:
        """The first byte the upload session still expects, or None when it is finished."""
        try:
            status = self._send(
                "GET", upload_url, authenticated=False, retry_statuses=UPLOAD_RETRY_STATUSES
            ).json()
        except GraphNotFoundError:
            return None
        ranges = status.get("nextExpectedRanges") or []
        return int(ranges[0].split("-")[0]) if ranges else None


# concepts/onedrive-addressing-driveitems.md ("OneDrive reserved characters"): never in a file or
# folder name, and # % not on OneDrive for Business (SharePoint), which we may be talking to.
ONEDRIVE_RESERVED_CHARACTERS = frozenset('"*:<>?/\\|#%')
# "Restrictions and limitations in OneDrive and SharePoint" (support.microsoft.com): names that
# are not allowed (device names also not with an extension), and "_vti_" anywhere in a name.
ONEDRIVE_RESERVED_NAMES = frozenset([".lock", "desktop.ini"])
ONEDRIVE_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{d}" for d in range(10)), *(f"LPT{d}" for d in range(10))]
)
ONEDRIVE_MAX_SEGMENT = 255


def onedrive_name(segment: str, *, replacement: str = "-") -> str:
    """One file or folder name made acceptable to OneDrive and SharePoint, readable as before.

    Reserved characters and control characters become `replacement` (so "A/S" stays one
    folder), a leading "~" and trailing dots and spaces go, and a reserved name gets a "_".
    """
    cleaned = "".join(
        replacement if char in ONEDRIVE_RESERVED_CHARACTERS or ord(char) < 32 else char
        for char in segment
    )
    cleaned = cleaned.replace("_vti_", "_vti-").strip().lstrip("~").strip()
    cleaned = cleaned[:ONEDRIVE_MAX_SEGMENT].rstrip(". ")
    stem, dot, extension = cleaned.partition(".")
    if cleaned.casefold() in ONEDRIVE_RESERVED_NAMES or stem.upper() in ONEDRIVE_DEVICE_NAMES:
        cleaned = f"{stem}_{dot}{extension}"
    return cleaned or "_"


def onedrive_path(*segments: str) -> str:
    """A drive path from names, each cleaned by `onedrive_name` (empty names are skipped)."""
    return "/".join(onedrive_name(segment) for segment in segments if segment.strip())


def _loose(name: str) -> str:
    return " ".join(name.split()).casefold()


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_of(url: str) -> str:
    """The URL without its query (which may hold skip tokens or upload signatures)."""
    return url.split("?", 1)[0]


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _error_from(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    context: str = "Graph request",
    attempts: int = 1,
    method: str | None = None,
    path: str | None = None,
) -> GraphError:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    detail = error.get("message") if isinstance(error, dict) else (body or "")
    request_id = headers.get("request-id") or headers.get("client-request-id")
    message = f"{context} answered {status}" + (f" {code}" if code else "")
    if detail:
        message += f": {detail}"
    kind: type[GraphError] = GraphError
    if status in RETRY_STATUSES:
        kind = GraphThrottledError
        message += f" (after {attempts} attempts)"
    elif status == 401:
        kind = GraphAuthenticationError
    elif status == 404:
        kind = GraphNotFoundError
    elif status == 403 and method and path is not None:
        permission = permission_needed(method, path)
        message = (
            f"{context}: Microsoft 365 refused access ({code or 403}). The app needs the "
            f"delegated permission {permission}: add it to the app registration (API "
            "permissions, Microsoft Graph, delegated), grant consent, then reconnect Microsoft "
            "365."
        )
        if permission.endswith(".Shared"):
            message += " For another person's mailbox, they must also share the calendar."
        return GraphPermissionError(
            message, permission=permission, status=status, code=code, request_id=request_id
        )
    return kind(message, status=status, code=code, request_id=request_id)
