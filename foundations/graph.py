"""The one Microsoft Graph client every app uses.
Over 450 lines: one client class, its transport (retries, paging, $batch) and the Graph calls
the apps make; its errors are in graph_errors.py, its sessions and retry policy in http.py.

One `requests.Session` per user run (connection reuse), timeouts on every call, paging through
`@odata.nextLink`, `$batch` writes (20 per batch, 4 in flight), and retries: 429/503/504 and
connection errors wait for `Retry-After` or a capped, jittered exponential backoff; a 401 refreshes
the token once. A non-2xx answer is always an error, never an empty result.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from requests.structures import CaseInsensitiveDict

# The errors and sessions are imported from here by every app (one place to ask for Graph).
from foundations.graph_errors import (
    RETRY_STATUSES,
    GraphAuthenticationError,
    GraphConnectionError,
    GraphError,
    GraphNotFoundError,
    GraphPermissionError,
    GraphRetryBudgetExceeded,
    GraphThrottledError,
    MicrosoftProblem,
    MicrosoftSetupMissing,
    graph_error,
    microsoft_problem,
    path_of,
    permission_needed,
)
from foundations.http import (
    DEFAULT_TIMEOUT,
    RequestPace,
    RetryPolicy,
    TimeoutSession,
    http_session,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "EVENT_FIELDS",
    "RETRY_STATUSES",
    "BatchRequest",
    "BatchResponse",
    "GraphAuthenticationError",
    "GraphClient",
    "GraphConnectionError",
    "GraphError",
    "GraphNotFoundError",
    "GraphPermissionError",
    "GraphRetryBudgetExceeded",
    "GraphThrottledError",
    "MicrosoftProblem",
    "MicrosoftSetupMissing",
    "RetryPolicy",
    "TimeoutSession",
    "http_session",
    "microsoft_problem",
    "permission_needed",
    "transaction_id",
]

logger = logging.getLogger(__name__)

# api-reference/v1.0/api/driveitem-createuploadsession.md: resume or retry a fragment after
# 500, 502, 503 or 504 (and throttling).
UPLOAD_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BATCH_LIMIT = 20
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
UPLOAD_CHUNK = 10 * 320 * 1024  # Graph wants chunks in multiples of 320 KiB.
PAGE_SIZE = 500

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
            return graph_error(self.status, self.body, self.headers)
        return graph_error(
            self.status,
            self.body,
            self.headers,
            context=f"{self.request.method} {path_of(self.request.url)}",
            method=self.request.method,
            path=self.request.url,
        )


def transaction_id(*parts: object) -> str:
    """A deterministic transactionId: the same parts always give the same id."""
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, "\x1f".join(str(part) for part in parts)))


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
        pace: RequestPace | None = None,
    ) -> None:
        self.on_permission_denied = on_permission_denied
        self.pace = pace or RequestPace()
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
            pace=self.pace,
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
        cost: int = 1,
    ) -> requests.Response:
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request_headers = self.headers(headers) if authenticated else dict(headers or {})
            with self._lock:
                self.requests_sent += 1
            if authenticated:
                self.pace.reserve(self.mailbox, cost)
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
                self._connection_failed(method, url, attempt, failure)
                continue
            finally:
                if authenticated:
                    self.pace.done(self.mailbox, cost)
            if response.status_code == 401 and authenticated and not refreshed:
                refreshed = True
                self._current_token(refresh=True)
                attempt -= 1  # A refresh is not a failed attempt.
                continue
            if response.status_code in retry_statuses and attempt < self.retry.max_attempts:
                self._throttled(method, url, attempt, response)
                continue
            if response.ok:
                return response
            raise self._failed(method, url, attempt, response)

    def _connection_failed(
        self, method: str, url: str, attempt: int, failure: requests.RequestException
    ) -> None:
        """Wait before trying again, or raise once the attempts are used up."""
        if attempt >= self.retry.max_attempts:
            raise GraphConnectionError(
                f"{method} {path_of(url)} failed after {attempt} attempts: {type(failure).__name__}"
            ) from failure
        delay = self.retry.backoff(attempt)
        logger.warning(
            "Graph %s %s: %s; retrying in %.1fs",
            method,
            path_of(url),
            type(failure).__name__,
            delay,
        )
        self.retry.wait(delay, f"{method} {path_of(url)}")

    def _throttled(self, method: str, url: str, attempt: int, response: requests.Response) -> None:
        """Wait for Retry-After (or a backoff) before trying again."""
        asked = self.retry.retry_after(response.headers.get("Retry-After"))
        delay = self.retry.backoff(attempt) if asked is None else asked
        logger.warning(
            "Graph %s %s answered %s; retrying in %.1fs",
            method,
            path_of(url),
            response.status_code,
            delay,
        )
        self.retry.wait(delay, f"{method} {path_of(url)}")

    def _failed(
        self, method: str, url: str, attempt: int, response: requests.Response
    ) -> GraphError:
        """The error for an answer that is no success (a 403 is reported to the callback)."""
        error = graph_error(
            response.status_code,
            _json_or_text(response),
            dict(response.headers),
            context=f"{method} {path_of(url)}",
            attempts=attempt,
            method=method,
            path=url,
        )
        if isinstance(error, GraphPermissionError) and self.on_permission_denied:
            self.on_permission_denied(error)
        return error

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
        answer = self._send("POST", self.url("$batch"), json=payload, cost=len(indexes)).json()
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
        item = self._upload_fragments(session["uploadUrl"], target, content)
        if item is None:
            raise GraphError(f"OneDrive did not confirm the upload of {path}.")
        return item

    def _upload_fragments(self, upload_url: str, target: str, content: bytes) -> dict | None:
        """Send the content to an upload session fragment by fragment; the finished item."""
        total = len(content)
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
                return response.json()
            ranges = (response.json() or {}).get("nextExpectedRanges") or []
            offset = int(ranges[0].split("-")[0]) if ranges else offset + len(chunk)
        return None

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


def _loose(name: str) -> str:
    return " ".join(name.split()).casefold()


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
