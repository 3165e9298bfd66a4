"""Translation between Microsoft Graph events and our rows: what an appointment stores of an
event, and what an archive copy of it carries. Pure functions, no ORM queries."""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from calendars.categories import Billing, is_travel
from foundations.inputs import DATE_MAX, DATE_MIN

PRIVATE_SENSITIVITIES = frozenset({"private", "confidential", "personal"})

# The appointment columns a run writes from its source event.
STORED_FIELDS = (
    "subject",
    "start_time",
    "end_time",
    "is_all_day",
    "show_as",
    "sensitivity",
    "importance",
    "categories",
    "customer",
    "billing_type",
    "is_travel",
    "is_private",
    "is_out_of_office",
    "is_cancelled",
    "source_deleted_at",
    "location",
    "category",
    "calendar",
    "ms_event_data",
)


@dataclass
class SourceEvent:
    """One source event as the run sees it, after meeting modifications are applied."""

    graph: dict[str, Any]
    start: datetime
    end: datetime
    categories: list[str]

    @classmethod
    def from_graph(cls, graph: dict[str, Any], *, zone: str = "UTC") -> SourceEvent:
        """`zone` is where the archive counts days: an all-day event's dates are taken there."""
        categories = graph.get("categories")
        read = all_day_datetime if graph.get("isAllDay") else _instant
        return cls(
            graph=graph,
            start=read(graph.get("start"), zone),
            end=read(graph.get("end"), zone),
            categories=[c for c in categories if isinstance(c, str) and c.strip()]
            if isinstance(categories, list)
            else [],
        )

    @property
    def id(self) -> str:
        return self.graph["id"]

    @property
    def is_all_day(self) -> bool:
        return bool(self.graph.get("isAllDay"))

    @property
    def show_as(self) -> str:
        return self.graph.get("showAs") or "busy"

    @property
    def subject(self) -> str:
        return self.graph.get("subject") or ""


@dataclass(frozen=True)
class UnreadableEvent:
    """A source event the run cannot store: why, in words for its owner."""

    graph: dict[str, Any]
    reason: str

    @property
    def id(self) -> str:
        return str(self.graph.get("id") or "")

    @property
    def subject(self) -> str:
        return str(self.graph.get("subject") or "(no subject)")[:200]


def source_event_read(graph: dict[str, Any], *, zone: str) -> SourceEvent | UnreadableEvent:
    """The event as the run stores it, or why it cannot be: times missing or unreadable, or
    dated outside the product's range (DATE_MIN to DATE_MAX) — Outlook allows 9999-12-31 and
    year 1, our rows, timesheets and every date filter do not."""
    try:
        event = SourceEvent.from_graph(graph, zone=zone)
    except (ValueError, OverflowError, KeyError) as error:
        # KeyError: zoneinfo's ZoneInfoNotFoundError for a zone name it does not know.
        return UnreadableEvent(graph, f"its start or end cannot be read ({error})")
    for moment in (event.start, event.end):
        if not DATE_MIN <= moment.date() <= DATE_MAX:
            return UnreadableEvent(
                graph,
                f"it is dated {moment:%Y-%m-%d}, outside the dates the archive keeps "
                f"({DATE_MIN.isoformat()} to {DATE_MAX.isoformat()})",
            )
    return event


def categories_as_sent(graph: dict[str, Any]) -> str | None:
    """How Graph's `categories` differs from a list of names, or None when it is one.
    Graph documents a string collection; null, a missing key, an empty list, a non-list and
    non-string entries all read as "no categories" (personal), and the run records which."""
    if "categories" not in graph:
        return "missing"
    value = graph["categories"]
    if value is None:
        return "null"
    if not isinstance(value, list):
        return "not a list"
    if not value:
        return "empty"
    if any(not isinstance(name, str) or not name.strip() for name in value):
        return "entries that are not names"
    return None


def graph_datetime(value: dict[str, Any] | None) -> datetime:
    """A Graph {dateTime, timeZone} as an aware UTC datetime."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise ValueError("The event has no start or end time.")
    text = str(value["dateTime"]).rstrip("Z")
    if "." in text:
        head, fraction = text.split(".", 1)
        text = f"{head}.{fraction[:6]}"
    moment = datetime.fromisoformat(text)
    name = value.get("timeZone") or "UTC"
    zone = UTC if name.upper() in {"UTC", "COORDINATED UNIVERSAL TIME"} else zoneinfo.ZoneInfo(name)
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _instant(value: dict[str, Any] | None, zone: str) -> datetime:
    return graph_datetime(value)


def all_day_datetime(value: dict[str, Any] | None, zone: str) -> datetime:
    """An all-day event is a run of dates, not instants: Graph gives midnight to midnight in
    whatever zone was asked for, so its date is taken and its midnight reckoned in `zone`."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise ValueError("The event has no start or end time.")
    day = datetime.fromisoformat(str(value["dateTime"])[:10])
    return day.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)


def location_name(graph: dict[str, Any]) -> str | None:
    location = graph.get("location")
    name = location.get("displayName") if isinstance(location, dict) else None
    return (str(name or "").strip())[:255] or None


def appointment_values(event: SourceEvent, billing: Billing) -> dict[str, Any]:
    """The appointment's columns as the source event gives them (foreign keys excluded)."""
    graph = event.graph
    sensitivity = graph.get("sensitivity") or "normal"
    return {
        "subject": event.subject[:1024],
        "start_time": event.start,
        "end_time": event.end,
        "is_all_day": event.is_all_day,
        "show_as": event.show_as,
        "sensitivity": sensitivity,
        "importance": graph.get("importance") or "normal",
        "categories": list(event.categories),
        "customer": billing.customer,
        "billing_type": billing.billing_type,
        "is_travel": bool(billing.customer) and is_travel(graph.get("subject")),
        "is_private": sensitivity in PRIVATE_SENSITIVITIES,
        "is_out_of_office": graph.get("showAs") == "oof",
        "is_cancelled": False,
        "source_deleted_at": None,
        "ms_event_data": graph,
    }


def copy_body(event: SourceEvent, *, personal: bool) -> dict[str, Any]:
    """What an archive calendar gets: never attendees, never a reminder; personal = private."""
    graph = event.graph
    body = {
        "subject": event.subject,
        "start": {"dateTime": event.start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": event.end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "isAllDay": event.is_all_day,
        "showAs": event.show_as,
        "sensitivity": "private" if personal else (graph.get("sensitivity") or "normal"),
        "importance": graph.get("importance") or "normal",
        "categories": list(event.categories),
        "location": {"displayName": location_name(graph) or ""},
        "isReminderOn": False,
    }
    if body["isAllDay"]:
        # All-day events must start and end at midnight of the zone they are given in.
        zone = (graph.get("start") or {}).get("timeZone") or "UTC"
        body["start"] = {"dateTime": graph["start"]["dateTime"][:19], "timeZone": zone}
        body["end"] = {"dateTime": graph["end"]["dateTime"][:19], "timeZone": zone}
    return body


def copy_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
