"""The archive calendar's side of Microsoft Graph: one call per chunk of copies.

An archive copy is created with a deterministic `transactionId` and carries its source event's
id in a single-value extended property, so a retry or a re-run never duplicates it. A create
whose earlier answer was lost (a killed run, a dropped connection) meets its `transactionId`
again: Graph then either refuses it (ErrorDuplicateTransactionId) or hands back the copy made
the first time, which may show an older version of the event. Either way the existing copy is
adopted — found through the source-id property when refused — and reported as stale, to be
brought up to date. This whole exchange is `ArchiveGateway.copies_create`; the Graph client
underneath keeps only HTTP, paging, batching, retries and limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from archiving.graph_events import graph_datetime
from foundations.graph import EVENT_FIELDS, BatchResponse, GraphClient, GraphError, transaction_id

# The single-value extended property that carries the source event id on archive copies.
SOURCE_ID_PROPERTY = "String {5b0b4b2e-3c4a-4d58-9a1e-6f3f0c2a9d71} Name AdminAssistantSourceId"


class CopyState(StrEnum):
    CREATED = "created"  # the copy shows what was sent
    ADOPTED = "adopted"  # an earlier copy of the same source event, possibly out of date
    UPDATED = "updated"
    FAILED = "failed"


@dataclass(frozen=True)
class CopyOutcome:
    """What Graph made of one copy: its event id in the archive calendar, or the error."""

    state: CopyState
    event_id: str | None = None
    error: GraphError | None = None

    @property
    def stale(self) -> bool:
        """An adopted copy may show an older version of the event: it needs an update."""
        return self.state == CopyState.ADOPTED


@dataclass(frozen=True)
class CopyRequest:
    source_id: str  # the source event's id (what the copy is found again by)
    body: dict[str, Any]
    event_id: str | None = None  # the copy's id, for an update


class ArchiveGateway:
    """Archive copies in one destination calendar, through `client` (its mailbox)."""

    def __init__(self, client: GraphClient, calendar_id: str) -> None:
        self.client = client
        self.calendar_id = calendar_id

    def copies_create(self, requests: Sequence[CopyRequest]) -> list[CopyOutcome]:
        """Create the copies (in $batch), adopting any made before for the same source event."""
        bodies = [
            {
                **request.body,
                "transactionId": transaction_id("archive", self.calendar_id, request.source_id),
                "singleValueExtendedProperties": [
                    {"id": SOURCE_ID_PROPERTY, "value": request.source_id}
                ],
            }
            for request in requests
        ]
        responses = self.client.create_events(self.calendar_id, bodies)
        return [
            self._created(request, response)
            for request, response in zip(requests, responses, strict=True)
        ]

    def copies_update(self, requests: Sequence[CopyRequest]) -> list[CopyOutcome]:
        """Bring existing copies up to date (in $batch)."""
        changes = [(request.event_id, request.body) for request in requests if request.event_id]
        if len(changes) != len(requests):
            raise ValueError("An update names the copy it changes.")
        responses = self.client.update_events(changes)
        return [
            CopyOutcome(CopyState.UPDATED, request.event_id)
            if response.ok
            else CopyOutcome(CopyState.FAILED, error=response.error())
            for request, response in zip(requests, responses, strict=True)
        ]

    def copies_find(self, source_id: str) -> list[dict[str, Any]]:
        """The events of the calendar whose source-id property equals `source_id`."""
        escaped = source_id.replace("'", "''")
        return list(
            self.client.paged(
                f"{self.client.mailbox}/calendars/{quote(self.calendar_id, safe='')}/events",
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

    def _created(self, request: CopyRequest, response: BatchResponse) -> CopyOutcome:
        if not response.ok and _duplicate_transaction(response):
            found = self.copies_find(request.source_id)
            if found:
                return CopyOutcome(CopyState.ADOPTED, found[0]["id"])
        if not response.ok:
            return CopyOutcome(CopyState.FAILED, error=response.error())
        if _copy_shows(response.body, request.body):
            return CopyOutcome(CopyState.CREATED, response.body["id"])
        if isinstance(response.body, dict) and response.body.get("id"):
            # An older copy handed back for the same transactionId.
            return CopyOutcome(CopyState.ADOPTED, response.body["id"])
        return CopyOutcome(
            CopyState.FAILED, error=GraphError("Graph answered a create without the event's id.")
        )


def _duplicate_transaction(response: BatchResponse) -> bool:
    body = response.body if isinstance(response.body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        error = {}
    return response.status in (400, 409) and error.get("code") == "ErrorDuplicateTransactionId"


def _copy_shows(returned: Any, sent: dict[str, Any]) -> bool:
    """Whether the event Graph answered with is the one we sent (not an older copy)."""
    if not isinstance(returned, dict) or not returned.get("id"):
        return False
    if (returned.get("subject") or "") != sent["subject"]:
        return False
    if sorted(returned.get("categories") or []) != sorted(sent["categories"]):
        return False
    if sent["isAllDay"]:
        return bool(returned.get("isAllDay"))
    try:
        return all(
            graph_datetime(returned.get(key)) == graph_datetime(sent[key])
            for key in ("start", "end")
        )
    except (ValueError, KeyError):
        return False
