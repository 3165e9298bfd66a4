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
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503, 504})
BATCH_LIMIT = 20
BATCHES_IN_FLIGHT = 4
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
)

TokenProvider = Callable[[bool], str]
"""Returns an access token; called with True to force a refresh after a 401."""


class GraphError(Exception):
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


class GraphConnectionError(GraphError):
    """The connection failed or timed out on every attempt."""


class GraphAuthenticationError(GraphError):
    """Graph refused the token even after a refresh."""


class GraphNotFoundError(GraphError):
    """The calendar, event or file does not exist."""


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    random: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter for attempt 1, 2, ..."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self.random()

    def retry_after(self, value: str | None) -> float | None:
        """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
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
        return min(max(seconds, 0.0), self.max_delay)


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
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> GraphError:
        return _error_from(self.status, self.body, self.headers)


def transaction_id(*parts: object) -> str:
    """A deterministic transactionId: the same parts always give the same id."""
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, "\x1f".join(str(part) for part in parts)))


def http_session(*, ca_bundle: str | None = None, pool_size: int = 10) -> requests.Session:
    """A session that trusts the system store, or `ca_bundle`, and ignores proxy env vars."""
    session = requests.Session()
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
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        mailbox: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # "me", or another mailbox the user may open (msgraph://alice@example.com/calendars/X).
        self.mailbox = "me" if mailbox in (None, "", "me") else f"users/{quote(mailbox, safe='@')}"
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
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt >= self.retry.max_attempts:
                    raise GraphConnectionError(
                        f"{method} {_path_of(url)} failed after {attempt} attempts: "
                        f"{type(error).__name__}"
                    ) from error
                delay = self.retry.backoff(attempt)
                logger.warning(
                    "Graph %s %s: %s; retrying in %.1fs",
                    method,
                    _path_of(url),
                    type(error).__name__,
                    delay,
                )
                self.retry.sleep(delay)
                continue

            if response.status_code == 401 and authenticated and not refreshed:
                refreshed = True
                self._current_token(refresh=True)
                attempt -= 1  # A refresh is not a failed attempt.
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retry.max_attempts:
                delay = self.retry.retry_after(response.headers.get("Retry-After"))
                if delay is None:
                    delay = self.retry.backoff(attempt)
                logger.warning(
                    "Graph %s %s answered %s; retrying in %.1fs",
                    method,
                    _path_of(url),
                    response.status_code,
                    delay,
                )
                self.retry.sleep(delay)
                continue
            if response.ok:
                return response
            body = _json_or_text(response)
            raise _error_from(
                response.status_code,
                body,
                dict(response.headers),
                context=f"{method} {_path_of(url)}",
                attempts=attempt,
            )

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
        """Send requests through $batch: 20 per batch, 4 batches in flight.

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
            with ThreadPoolExecutor(max_workers=min(BATCHES_IN_FLIGHT, len(chunks))) as pool:
                answers = list(pool.map(lambda chunk: self._send_batch(chunk, requests_), chunks))
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
                self.retry.sleep(delay)
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
                headers={k: str(v) for k, v in (item.get("headers") or {}).items()},
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
        for offset in range(0, total, UPLOAD_CHUNK):
            chunk = content[offset : offset + UPLOAD_CHUNK]
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
            )
            if response.status_code in (200, 201):
                item = response.json()
        if item is None:
            raise GraphError(f"OneDrive did not confirm the upload of {path}.")
        return item


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
    return kind(message, status=status, code=code, request_id=request_id)
