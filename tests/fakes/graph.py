"""The fake Microsoft Graph: per-user calendars, events, categories and OneDrive files.

Everything here runs under FakeMicrosoft's lock; nothing in this module is thread-aware.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import mimetypes
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .core import FakeRequest, FakeUser, GraphError, Reply, b64url, graph_error
from .recurrence import (
    UnsupportedValue,
    format_graph_datetime,
    occurrences,
    parse_graph_datetime,
    parse_query_datetime,
    utc_stamp,
    validate_recurrence,
    zone,
)
from .zones import graph_accepts

if TYPE_CHECKING:
    from .microsoft import FakeMicrosoft

SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
UPLOAD_FRAGMENT_UNIT = 320 * 1024
UPLOAD_FRAGMENT_LIMIT = 60 * 1024 * 1024
SVEP = "singleValueExtendedProperties"

EVENT_PROPERTIES = frozenset(
    [
        "allowNewTimeProposals",
        "attendees",
        "body",
        "bodyPreview",
        "cancelledOccurrences",
        "categories",
        "changeKey",
        "createdDateTime",
        "end",
        "exceptionOccurrences",
        "hasAttachments",
        "hideAttendees",
        "iCalUId",
        "id",
        "importance",
        "isAllDay",
        "isCancelled",
        "isDraft",
        "isOnlineMeeting",
        "isOrganizer",
        "isReminderOn",
        "lastModifiedDateTime",
        "location",
        "locations",
        "onlineMeeting",
        "onlineMeetingProvider",
        "onlineMeetingUrl",
        "organizer",
        "originalEndTimeZone",
        "originalStart",
        "originalStartTimeZone",
        "recurrence",
        "reminderMinutesBeforeStart",
        "responseRequested",
        "responseStatus",
        "sensitivity",
        "seriesMasterId",
        "showAs",
        "start",
        "subject",
        "transactionId",
        "type",
        "webLink",
        "attachments",
        "calendar",
        "extensions",
        "instances",
        "multiValueExtendedProperties",
        "singleValueExtendedProperties",
    ]
)
EVENT_READ_ONLY = frozenset(
    [
        "id",
        "changeKey",
        "createdDateTime",
        "lastModifiedDateTime",
        "iCalUId",
        "type",
        "seriesMasterId",
        "webLink",
        "originalStart",
        "bodyPreview",
        "hasAttachments",
        "isOrganizer",
        "responseStatus",
        "organizer",
        "cancelledOccurrences",
        "exceptionOccurrences",
        "attachments",
        "calendar",
        "extensions",
        "instances",
        "multiValueExtendedProperties",
    ]
)
CATEGORY_COLORS = frozenset(["none", *(f"preset{n}" for n in range(25))])
_SVEP_FILTER = re.compile(
    r"\s*singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'((?:[^']|'')*)'"
    r"\s+and\s+\1/value\s+eq\s+'((?:[^']|'')*)'\s*\)\s*",
    re.IGNORECASE,
)
_SVEP_EXPAND = re.compile(
    r"\s*singleValueExtendedProperties\(\s*\$filter\s*=\s*id\s+eq\s+'((?:[^']|'')*)'\s*\)\s*",
    re.IGNORECASE,
)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_OCCURRENCE_ID = re.compile(r"(.+)_(\d{8})")


@dataclass
class StoredEvent:
    data: dict[str, Any]
    calendar_id: str
    # For series masters: occurrence date → changed fields, or None when that one was deleted.
    overrides: dict[date, dict[str, Any] | None] = field(default_factory=dict)


@dataclass
class DriveFile:
    id: str
    path: str
    content: bytes
    created: str
    modified: str


@dataclass
class UploadSession:
    email: str
    path: str
    conflict_behavior: str
    expires_at: datetime
    total: int | None = None
    received: bytearray = field(default_factory=bytearray)


@dataclass
class Mailbox:
    user: FakeUser
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, StoredEvent] = field(default_factory=dict)
    transactions: dict[str, str] = field(default_factory=dict)
    transaction_bodies: dict[str, str] = field(default_factory=dict)  # what each id created
    files: dict[str, DriveFile] = field(default_factory=dict)  # by lower-cased path
    # resources/mailboxsettings.md: timeZone is "the default time zone for the user's mailbox";
    # user-get-mailboxsettings.md: Windows format by default, IANA if the admin set it up so.
    time_zone: str = "UTC"
    # Who may open this mailbox's calendars: delegate email -> "read" or "write".
    delegates: dict[str, str] = field(default_factory=dict)

    @property
    def default_calendar(self) -> dict[str, Any]:
        return next(c for c in self.calendars.values() if c["isDefaultCalendar"])

    def calendar_named(self, name: str) -> dict[str, Any]:
        for calendar in self.calendars.values():
            if calendar["name"].casefold() == name.casefold():
                return calendar
        raise LookupError(f"{self.user.email} has no calendar named {name!r}")


@dataclass
class Call:
    """One Graph request on behalf of a signed-in user."""

    request: FakeRequest
    user: FakeUser
    mailbox: Mailbox
    zone_name: str

    def param(self, name: str) -> str | None:
        return self.request.query.get(name)


def _odata_string(text: str) -> str:
    return text.replace("''", "'")


def _body_key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, default=str)


# concepts/onedrive-addressing-driveitems.md, "OneDrive reserved characters": / \\ * < > ? : |
# and " are never allowed; OneDrive for Business also refuses # and %, a name may not end in "."
# and may not begin with "~". The fake plays OneDrive for Business, the stricter of the two.
_RESERVED_CHARACTERS = frozenset('"*:<>?\\|#%')
# "Restrictions and limitations in OneDrive and SharePoint": reserved names, also with any
# extension for the device names, and "_vti_" anywhere.
_RESERVED_NAMES = frozenset([".lock", "desktop.ini"])
_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{d}" for d in range(10)), *(f"LPT{d}" for d in range(10))]
)


def _invalid_name(segment: str) -> bool:
    return (
        any(char in _RESERVED_CHARACTERS or ord(char) < 32 for char in segment)
        or segment.endswith((".", " "))
        or segment.startswith(("~", " "))
        or "_vti_" in segment
        or segment.casefold() in _RESERVED_NAMES
        or segment.partition(".")[0].upper() in _DEVICE_NAMES
        or len(segment) > 255
    )


def _drive_path(raw: str) -> str:
    segments = [segment for segment in raw.split("/") if segment]
    if not segments or any(segment in (".", "..") for segment in segments):
        raise GraphError(400, "invalidRequest", f"Invalid drive item path {raw!r}.")
    for segment in segments:
        if _invalid_name(segment):
            raise GraphError(
                400, "invalidRequest", f"The provided name {segment!r} is not allowed."
            )
    return "/".join(segments)


# Delegated permissions each route accepts, from the "Permissions" table of its page (least to
# most privileged; any one of them is enough). `.Shared` variants also cover the user's own
# mailbox. The fake never grants more than the page lists.
_CALENDAR_READ = (
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Calendars.Read.Shared",
    "Calendars.ReadWrite.Shared",
)
_CALENDAR_WRITE = ("Calendars.ReadWrite", "Calendars.ReadWrite.Shared")
_FILES_READ = ("Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All")
_FILES_WRITE = ("Files.ReadWrite", "Files.ReadWrite.All")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    # api-reference/v1.0/api/user-get.md: User.Read (or a broader User.* permission)
    "get_me": ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All"),
    # api-reference/v1.0/api/profilephoto-get.md: User.Read (ProfilePhoto.Read.All)
    "get_photo": ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All"),
    "get_photo_value": ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All"),
    # api-reference/v1.0/api/user-list-calendars.md, calendar-get.md: Calendars.ReadBasic, ...
    "list_calendars": _CALENDAR_READ,
    "get_calendar": _CALENDAR_READ,
    "get_default_calendar": _CALENDAR_READ,
    # api-reference/v1.0/api/user-post-calendars.md, calendar-delete.md: Calendars.ReadWrite
    "create_calendar": _CALENDAR_WRITE,
    "delete_calendar": _CALENDAR_WRITE,
    # api-reference/v1.0/api/outlookuser-list-mastercategories.md: needs MailboxSettings.Read
    "list_categories": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    # api-reference/v1.0/api/outlookcategory-get.md: MailboxSettings.Read
    "get_category": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    # api-reference/v1.0/api/outlookuser-post-mastercategories.md: MailboxSettings.ReadWrite
    "create_category": ("MailboxSettings.ReadWrite",),
    # api-reference/v1.0/api/outlookcategory-delete.md: MailboxSettings.ReadWrite
    "delete_category": ("MailboxSettings.ReadWrite",),
    # api-reference/v1.0/api/user-get-mailboxsettings.md: MailboxSettings.Read
    "get_mailbox_settings": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    "get_mailbox_time_zone": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    # api-reference/v1.0/api/user-list-events.md, event-get.md, event-list-instances.md and
    # user-list-calendarview.md: Calendars.ReadBasic / Calendars.Read
    "list_events": _CALENDAR_READ,
    "get_event": _CALENDAR_READ,
    "list_instances": _CALENDAR_READ,
    "calendar_view": _CALENDAR_READ,
    # api-reference/v1.0/api/user-post-events.md, event-update.md, event-delete.md:
    # Calendars.ReadWrite
    "create_event": _CALENDAR_WRITE,
    "update_event": _CALENDAR_WRITE,
    "delete_event": _CALENDAR_WRITE,
    # api-reference/v1.0/api/drive-get.md, driveitem-get.md: Files.Read
    "get_drive": _FILES_READ,
    "get_drive_root": _FILES_READ,
    "get_drive_item_by_path": _FILES_READ,
    "get_drive_item": _FILES_READ,
    # api-reference/v1.0/api/driveitem-put-content.md, driveitem-createuploadsession.md:
    # Files.ReadWrite
    "upload_file": _FILES_WRITE,
    "create_upload_session": _FILES_WRITE,
}


def require_permission(request: FakeRequest, handler_name: str) -> None:
    """403 unless the token carries one of the permissions the route's page lists."""
    accepted = PERMISSIONS[handler_name]
    if request.scopes.isdisjoint(accepted):
        code = "accessDenied" if "/drive" in request.path else "ErrorAccessDenied"
        raise GraphError(
            403,
            code,
            "Access is denied. Check credentials and try again. "
            f"(the token lacks one of: {', '.join(accepted)})",
        )


class FakeGraph:
    def __init__(self, fake: FakeMicrosoft) -> None:
        self.fake = fake
        self.mailboxes: dict[str, Mailbox] = {}
        self.upload_sessions: dict[str, UploadSession] = {}
        self._serial = 0
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            (method, re.compile(pattern), handler)
            for method, pattern, handler in [
                ("GET", r"", self.get_me),
                ("GET", r"/photo", self.get_photo),
                # user-get-mailboxsettings.md: needs MailboxSettings.Read or .ReadWrite.
                ("GET", r"/mailboxSettings", self.get_mailbox_settings),
                ("GET", r"/mailboxSettings/timeZone", self.get_mailbox_time_zone),
                ("GET", r"/photo/\$value", self.get_photo_value),
                ("GET", r"/calendars", self.list_calendars),
                ("POST", r"/calendars", self.create_calendar),
                ("GET", r"/calendars/([^/]+)", self.get_calendar),
                ("DELETE", r"/calendars/([^/]+)", self.delete_calendar),
                ("GET", r"/calendar", self.get_default_calendar),
                ("GET", r"/outlook/masterCategories", self.list_categories),
                ("POST", r"/outlook/masterCategories", self.create_category),
                ("GET", r"/outlook/masterCategories/([^/]+)", self.get_category),
                ("DELETE", r"/outlook/masterCategories/([^/]+)", self.delete_category),
                ("GET", r"(?:/calendars/([^/]+)|/calendar)?/events", self.list_events),
                ("POST", r"(?:/calendars/([^/]+)|/calendar)?/events", self.create_event),
                ("GET", r"(?:/calendars/[^/]+|/calendar)?/events/([^/]+)", self.get_event),
                ("PATCH", r"(?:/calendars/[^/]+|/calendar)?/events/([^/]+)", self.update_event),
                ("DELETE", r"(?:/calendars/[^/]+|/calendar)?/events/([^/]+)", self.delete_event),
                ("GET", r"/events/([^/]+)/instances", self.list_instances),
                ("GET", r"(?:/calendars/([^/]+)|/calendar)?/calendarView", self.calendar_view),
                ("GET", r"/drive", self.get_drive),
                ("GET", r"/drive/root", self.get_drive_root),
                ("PUT", r"/drive/root:/(.+?):?/content", self.upload_file),
                ("POST", r"/drive/root:/(.+?):/createUploadSession", self.create_upload_session),
                ("GET", r"/drive/root:/(.+?):?", self.get_drive_item_by_path),
                ("GET", r"/drive/items/([^/]+)", self.get_drive_item),
            ]
        ]

    # -- plumbing -----------------------------------------------------------------------------

    def new_id(self, prefix: str = "AAMkAG") -> str:
        """Outlook-looking ids; they end in '=' as real ones often do, so clients must encode."""
        self._serial += 1
        digest = hashlib.sha256(f"fake-graph:{self._serial}".encode()).digest()[:31]
        return prefix + base64.urlsafe_b64encode(digest).decode("ascii")

    def new_guid(self) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"fake-guid:{self._serial}".encode()).digest()[:16]
        return str(uuid.UUID(bytes=digest, version=4))

    def new_drive_item_id(self) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"fake-drive:{self._serial}".encode()).digest()
        return "01" + base64.b32encode(digest).decode("ascii")[:32]

    def add_mailbox(self, user: FakeUser) -> Mailbox:
        mailbox = Mailbox(user=user)
        self.mailboxes[user.email.lower()] = mailbox
        self._add_calendar(mailbox, "Calendar", default=True)
        return mailbox

    def mailbox(self, email: str) -> Mailbox:
        try:
            return self.mailboxes[email.lower()]
        except KeyError:
            raise LookupError(f"no fake user {email!r}: call fake.add_user() first") from None

    def handle(self, request: FakeRequest, user: FakeUser) -> Reply:
        try:
            reply = self._route(request, user)
        except GraphError as error:
            reply = error.reply()
        reply.headers.setdefault("request-id", str(uuid.uuid4()))
        reply.headers.setdefault(
            "client-request-id", request.headers.get("client-request-id") or str(uuid.uuid4())
        )
        return reply

    def _route(self, request: FakeRequest, user: FakeUser) -> Reply:
        path = request.path.removeprefix("/v1.0")
        match = re.fullmatch(r"/(me|users/([^/]+))(/.*)?", path)
        if match is None:
            segment = path.strip("/").split("/")[0]
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
        if match.group(2):
            named = self.fake.find_user(match.group(2))
            if named is None:
                raise GraphError(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{match.group(2)}' does not exist or one of its queried "
                    "reference-property objects are not present.",
                )
        rest = match.group(3) or ""
        owner = user
        if match.group(2) and named is not None and named.email.lower() != user.email.lower():
            self._check_delegation(request, user, named, rest)
            owner = named
        preferred = request.prefer.get("outlook.timezone")
        zone_name = "UTC"
        if preferred:
            # resources/datetimetimezone.md: Windows names and the listed IANA names only.
            if not graph_accepts(preferred):
                raise GraphError(
                    400,
                    "TimeZoneNotSupportedException",
                    f"A valid TimeZone value must be specified. The following TimeZone value is "
                    f"not supported: '{preferred}'.",
                )
            zone_name = preferred
        mailbox = self.mailboxes.get(owner.email.lower())
        if mailbox is None:  # the fake was reset while this request was in flight
            return unauthenticated("The user of this token no longer exists.")
        call = Call(request, user, mailbox, zone_name)
        path_known = False
        for method, pattern, handler in self.routes:
            found = pattern.fullmatch(rest)
            if found is None:
                continue
            path_known = True
            if method == request.method:
                require_permission(request, handler.__name__)
                reply = handler(call, *found.groups())
                if preferred and zone_name == preferred:
                    reply.headers["Preference-Applied"] = f'outlook.timezone="{zone_name}"'
                return reply
        if path_known:
            raise GraphError(405, "Request_BadRequest", f"{request.method} is not allowed here.")
        raise GraphError(
            400,
            "BadRequest",
            f"Resource not found for the segment '{rest.strip('/').split('/')[0]}' "
            f"(the fake Graph has no route for {request.method} {request.path}).",
        )

    def _check_delegation(
        self, request: FakeRequest, user: FakeUser, owner: FakeUser, rest: str
    ) -> None:
        """Another person's mailbox: only their calendars, only as far as they shared them, and
        only with the `.Shared` permissions.

        concepts/outlook-get-shared-events-calendars.md: a sharee or delegate reads the owner's
        calendar and events with Calendars.Read.Shared (or Calendars.ReadWrite.Shared);
        concepts/outlook-create-event-in-shared-delegated-calendar.md: creating, updating or
        deleting events there needs Calendars.ReadWrite.Shared and write access from the owner.
        Nothing else of the owner's mailbox (profile, categories, drive, calendars created on
        their behalf) is reachable this way; the fake takes that stricter reading.
        """
        denied = GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        scopes = self.fake.identity.scopes_of(request.headers.get("Authorization"))
        calendar_path = re.fullmatch(r"/(calendars?|events|calendarView)(/.*)?", rest)
        if calendar_path is None or (rest == "/calendars" and request.method != "GET"):
            raise denied
        role = self.mailboxes[owner.email.lower()].delegates.get(user.email.lower())
        if request.method == "GET":
            if not scopes & {"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}:
                raise denied
            if role not in ("read", "write"):
                raise GraphError(
                    404,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                )
            return
        if "Calendars.ReadWrite.Shared" not in scopes or role != "write":
            raise denied

    def _json_body(self, call: Call) -> dict[str, Any]:
        if not call.request.body:
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        try:
            payload = call.request.json()
        except ValueError:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
        if not isinstance(payload, dict):
            raise GraphError(400, "BadRequest", "The request payload must be a JSON object.")
        return payload

    def _page(
        self,
        call: Call,
        rows: list[Any],
        render: Callable[[Any], dict[str, Any]],
        context: str,
    ) -> Reply:
        top = call.param("$top")
        size = self.fake.max_page_size
        if top is not None:
            if not top.isdigit() or int(top) < 1:
                raise GraphError(400, "BadRequest", f"Invalid value '{top}' for $top.")
            size = min(int(top), size)
        token = call.param("$skiptoken")
        if token is not None:
            offset = self._offset_from_token(token)
        else:
            skip = call.param("$skip") or "0"
            if not skip.isdigit():
                raise GraphError(400, "BadRequest", f"Invalid value '{skip}' for $skip.")
            offset = int(skip)
        chunk = rows[offset : offset + size]
        payload: dict[str, Any] = {
            "@odata.context": f"{self.fake.graph_url}/$metadata#{context}",
            "value": [render(row) for row in chunk],
        }
        if offset + size < len(rows):
            payload["@odata.nextLink"] = self._next_link(call.request, offset + size)
        return Reply.json(200, payload)

    def _next_link(self, request: FakeRequest, offset: int) -> str:
        token = b64url(f"fake-page:{offset}:{secrets.token_hex(4)}".encode())
        params = [(k, v) for k, v in request.query.items() if k not in ("$skiptoken", "$skip")]
        params.append(("$skiptoken", token))
        query = urlencode(params, quote_via=quote, safe="$,'():/")
        return f"{self.fake.base_url}{request.raw_path or quote(request.path)}?{query}"

    def _offset_from_token(self, token: str) -> int:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            prefix, offset, _ = text.split(":")
            if prefix != "fake-page":
                raise ValueError(prefix)
            return int(offset)
        except ValueError:
            raise GraphError(400, "BadRequest", f"Invalid $skiptoken '{token}'.") from None

    def _select(self, call: Call, item: dict[str, Any], known: frozenset[str] | None) -> Any:
        wanted = call.param("$select")
        if not wanted:
            return item
        fields = [name.strip() for name in wanted.split(",") if name.strip()]
        for name in fields:
            if known is not None and name not in known:
                raise GraphError(
                    400,
                    "RequestBroker--ParseUri",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.event'.",
                )
        keep = {"id", "@odata.etag", "@odata.context", SVEP, *fields}
        return {key: value for key, value in item.items() if key in keep}

    # -- me -----------------------------------------------------------------------------------

    def get_me(self, call: Call) -> Reply:
        profile = {
            "@odata.context": f"{self.fake.graph_url}/$metadata#users/$entity",
            **call.user.graph_profile(),
        }
        return Reply.json(200, self._select(call, profile, None))

    def get_mailbox_settings(self, call: Call) -> Reply:
        # user-get-mailboxsettings.md, example 1 (shortened to what the fake keeps).
        settings = {
            "@odata.context": f"{self.fake.graph_url}/$metadata#Me/mailboxSettings",
            "timeZone": call.mailbox.time_zone,
            "dateFormat": "dd/MM/yyyy",
            "timeFormat": "HH:mm",
            "language": {"locale": "en-GB", "displayName": "English (United Kingdom)"},
        }
        return Reply.json(200, settings)

    def get_mailbox_time_zone(self, call: Call) -> Reply:
        # user-get-mailboxsettings.md: "string (for timeZone)", as an OData primitive value.
        context = f"{self.fake.graph_url}/$metadata#Me/mailboxSettings/timeZone"
        return Reply.json(200, {"@odata.context": context, "value": call.mailbox.time_zone})

    def get_photo(self, call: Call) -> Reply:
        if call.user.photo is None:
            raise GraphError(404, "ImageNotFound", "Exception of type ImageNotFoundException.")
        return Reply.json(
            200,
            {"id": "default", "height": 96, "width": 96, "@odata.mediaContentType": "image/jpeg"},
        )

    def get_photo_value(self, call: Call) -> Reply:
        if call.user.photo is None:
            raise GraphError(404, "ImageNotFound", "Exception of type ImageNotFoundException.")
        return Reply(200, call.user.photo, {"Content-Type": "image/jpeg"})

    # -- calendars ----------------------------------------------------------------------------

    def _add_calendar(self, mailbox: Mailbox, name: str, default: bool = False) -> dict[str, Any]:
        calendar_id = self.new_id("AAMkAGcal")
        calendar = {
            "id": calendar_id,
            "name": name,
            "color": "auto",
            "hexColor": "",
            "isDefaultCalendar": default,
            "changeKey": b64url(secrets.token_bytes(12)),
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "isRemovable": not default,
            "isTallyingResponses": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "owner": {"name": mailbox.user.name, "address": mailbox.user.email},
        }
        mailbox.calendars[calendar_id] = calendar
        return calendar

    def create_calendar_named(self, mailbox: Mailbox, name: str) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise GraphError(400, "ErrorInvalidRequest", "The calendar name is required.")
        if any(c["name"].casefold() == name.casefold() for c in mailbox.calendars.values()):
            raise GraphError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        return self._add_calendar(mailbox, name)

    def _calendar(self, call: Call, calendar_id: str | None) -> dict[str, Any]:
        if calendar_id is None:
            return call.mailbox.default_calendar
        calendar = call.mailbox.calendars.get(calendar_id)
        if calendar is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return calendar

    def list_calendars(self, call: Call) -> Reply:
        rows = list(call.mailbox.calendars.values())
        if call.mailbox.user.email.lower() != call.user.email.lower():
            # resources/calendar.md, canEdit: "true if the user can write to the calendar"
            # — for a sharee, only with write access.
            role = call.mailbox.delegates.get(call.user.email.lower())
            rows = [{**row, "canEdit": role == "write"} for row in rows]
        return self._page(
            call, rows, lambda c: self._select(call, c, None), "users('me')/calendars"
        )

    def create_calendar(self, call: Call) -> Reply:
        body = self._json_body(call)
        calendar = self.create_calendar_named(call.mailbox, body.get("name"))  # type: ignore[arg-type]
        if isinstance(body.get("color"), str):
            calendar["color"] = body["color"]
        return Reply.json(201, calendar)

    def get_calendar(self, call: Call, calendar_id: str) -> Reply:
        return Reply.json(200, self._select(call, self._calendar(call, calendar_id), None))

    def get_default_calendar(self, call: Call) -> Reply:
        return Reply.json(200, self._select(call, call.mailbox.default_calendar, None))

    def delete_calendar(self, call: Call, calendar_id: str) -> Reply:
        calendar = self._calendar(call, calendar_id)
        if calendar["isDefaultCalendar"]:
            raise GraphError(
                400, "ErrorCannotDeleteObject", "The default calendar can't be deleted."
            )
        del call.mailbox.calendars[calendar_id]
        for event_id in [k for k, e in call.mailbox.events.items() if e.calendar_id == calendar_id]:
            del call.mailbox.events[event_id]
        return Reply.empty(204)

    # -- master categories --------------------------------------------------------------------

    def create_category_named(self, mailbox: Mailbox, name: Any, color: Any) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise GraphError(400, "ErrorInvalidRequest", "displayName is required.")
        if color not in CATEGORY_COLORS:
            raise GraphError(400, "ErrorInvalidRequest", f"Invalid category color {color!r}.")
        if any(c["displayName"].casefold() == name.casefold() for c in mailbox.categories.values()):
            raise GraphError(409, "Conflict", f"A category named '{name}' already exists.")
        category = {"id": self.new_guid(), "displayName": name, "color": color}
        mailbox.categories[category["id"]] = category
        return category

    def list_categories(self, call: Call) -> Reply:
        rows = list(call.mailbox.categories.values())
        return self._page(
            call,
            rows,
            lambda c: self._select(call, c, None),
            "users('me')/outlook/masterCategories",
        )

    def create_category(self, call: Call) -> Reply:
        body = self._json_body(call)
        category = self.create_category_named(
            call.mailbox, body.get("displayName"), body.get("color", "none")
        )
        return Reply.json(201, category)

    def _category(self, call: Call, category_id: str) -> dict[str, Any]:
        category = call.mailbox.categories.get(category_id)
        if category is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return category

    def get_category(self, call: Call, category_id: str) -> Reply:
        return Reply.json(200, self._category(call, category_id))

    def delete_category(self, call: Call, category_id: str) -> Reply:
        self._category(call, category_id)
        del call.mailbox.categories[category_id]
        return Reply.empty(204)

    # -- events: storage ----------------------------------------------------------------------

    def _event_fields(
        self, body: dict[str, Any], *, creating: bool, any_zone: bool = False
    ) -> dict[str, Any]:
        """Validated, normalised writable fields of an event payload (raises GraphError).

        `any_zone` is for events seeded as an Outlook client would store them; a Graph request
        may only name the zones resources/datetimetimezone.md lists."""
        fields: dict[str, Any] = {}
        for key, value in body.items():
            if key.startswith("@"):
                continue
            if key not in EVENT_PROPERTIES:
                raise GraphError(
                    400,
                    "RequestBodyRead",
                    f"The property '{key}' does not exist on type 'microsoft.graph.event'. Make "
                    "sure to only use property names that are defined by the type.",
                )
            if key not in EVENT_READ_ONLY:
                fields[key] = copy.deepcopy(value)
        if creating and ("start" not in fields or "end" not in fields):
            raise GraphError(400, "ErrorInvalidRequest", "An event needs both start and end.")
        for key in ("start", "end"):
            if key in fields:
                named = fields[key].get("timeZone") if isinstance(fields[key], dict) else None
                if not any_zone and isinstance(named, str) and not graph_accepts(named):
                    # resources/datetimetimezone.md: Windows names and the listed IANA names.
                    raise GraphError(
                        400,
                        "TimeZoneNotSupportedException",
                        f"A valid TimeZone value must be specified. The following TimeZone "
                        f"value is not supported: '{named}'.",
                    )
                try:
                    moment = parse_graph_datetime(fields[key])
                    fields[key] = format_graph_datetime(moment, fields[key]["timeZone"])
                except UnsupportedValue as error:
                    raise GraphError(400, "TimeZoneNotSupportedException", str(error)) from None
        if not any_zone and fields.get("isAllDay") and "start" in fields and "end" in fields:
            # resources/event.md, isAllDay: "start and end time must be set to midnight and be
            # in the same time zone".
            times = [str(fields[key]["dateTime"])[11:19] for key in ("start", "end")]
            zones = {fields[key]["timeZone"] for key in ("start", "end")}
            if any(t not in ("", "00:00:00") for t in times) or len(zones) != 1:
                raise GraphError(
                    400,
                    "ErrorInvalidRequest",
                    "An all-day event's start and end must be midnight in one time zone.",
                )
        if fields.get("recurrence") is not None:
            try:
                validate_recurrence(fields["recurrence"])
            except (UnsupportedValue, ValueError) as error:
                raise GraphError(400, "ErrorInvalidRequest", str(error)) from None
        properties = fields.get(SVEP)
        if properties is not None and (
            not isinstance(properties, list)
            or not all(
                isinstance(p, dict) and isinstance(p.get("id"), str) and "value" in p
                for p in properties
            )
        ):
            raise GraphError(
                400, "ErrorInvalidRequest", "singleValueExtendedProperties must be [{id, value}]."
            )
        if "categories" in fields and not (
            isinstance(fields["categories"], list)
            and all(isinstance(c, str) for c in fields["categories"])
        ):
            raise GraphError(400, "ErrorInvalidRequest", "categories must be a list of strings.")
        return fields

    def store_event(
        self,
        mailbox: Mailbox,
        calendar: dict[str, Any],
        body: dict[str, Any],
        *,
        any_zone: bool = False,
    ) -> StoredEvent:
        fields = self._event_fields(body, creating=True, any_zone=any_zone)
        now = utc_stamp()
        event_id = self.new_id()
        start = parse_graph_datetime(fields["start"])
        end = parse_graph_datetime(fields["end"])
        if end < start:
            raise GraphError(400, "ErrorInvalidRequest", "The event's end is before its start.")
        data: dict[str, Any] = {
            "id": event_id,
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "changeKey": b64url(secrets.token_bytes(12)),
            "categories": [],
            "transactionId": None,
            "originalStartTimeZone": fields["start"]["timeZone"],
            "originalEndTimeZone": fields["end"]["timeZone"],
            "iCalUId": "040000008200E00074C5B7101A82E008"
            + hashlib.sha256(event_id.encode()).hexdigest()[:48].upper(),
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": "",
            "bodyPreview": "",
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": False,
            "isOrganizer": True,
            "responseRequested": True,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id, safe='')}",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "allowNewTimeProposals": True,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
            "body": {"contentType": "html", "content": ""},
            "location": {
                "displayName": "",
                "locationType": "default",
                "uniqueIdType": "unknown",
                "address": {},
                "coordinates": {},
            },
            "locations": [],
            "recurrence": None,
            "attendees": [],
            "organizer": {
                "emailAddress": {"name": mailbox.user.name, "address": mailbox.user.email}
            },
        }
        data.update(fields)
        body_content = (data.get("body") or {}).get("content") or ""
        data["bodyPreview"] = re.sub(r"<[^>]+>", "", body_content)[:255]
        if data.get("recurrence"):
            data["type"] = "seriesMaster"
        stored = StoredEvent(data=data, calendar_id=calendar["id"])
        mailbox.events[event_id] = stored
        if data.get("transactionId"):
            mailbox.transactions[data["transactionId"]] = event_id
        return stored

    def _touch(self, data: dict[str, Any]) -> None:
        data["lastModifiedDateTime"] = utc_stamp()
        data["changeKey"] = b64url(secrets.token_bytes(12))

    def _merge(self, data: dict[str, Any], fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            if key == SVEP and data.get(SVEP):
                merged = {p["id"].lower(): p for p in data[SVEP]}
                merged.update({p["id"].lower(): p for p in value})
                data[SVEP] = list(merged.values())
            else:
                data[key] = value

    def _find_event(self, call: Call, event_id: str) -> tuple[StoredEvent, date | None]:
        stored = call.mailbox.events.get(event_id)
        if stored is not None:
            return stored, None
        found = _OCCURRENCE_ID.fullmatch(event_id)
        if found:
            master = call.mailbox.events.get(found.group(1))
            day = datetime.strptime(found.group(2), "%Y%m%d").date()
            if (
                master is not None
                and master.data["type"] == "seriesMaster"
                and self._occurrence(master, day) is not None
            ):
                return master, day
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    # -- events: reading ----------------------------------------------------------------------

    def _occurrence(self, master: StoredEvent, day: date) -> dict[str, Any] | None:
        """The occurrence of a series on `day` (series time zone), or None."""
        series_zone = zone(master.data["start"]["timeZone"])
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=series_zone)
        for candidate in self._expand(master, day_start, day_start + timedelta(days=1)):
            if candidate["id"].endswith(f"_{day:%Y%m%d}"):
                return candidate
        return None

    def _expand(
        self, master: StoredEvent, window_start: datetime, window_end: datetime
    ) -> list[dict[str, Any]]:
        data = master.data
        found = []
        for occurrence in occurrences(
            parse_graph_datetime(data["start"]),
            parse_graph_datetime(data["end"]),
            data["recurrence"],
            data["start"]["timeZone"],
            window_start,
            window_end,
        ):
            if occurrence.original_date in master.overrides and (
                master.overrides[occurrence.original_date] is None
            ):
                continue
            # Shallow: _merge only ever replaces top-level values.
            instance = {k: v for k, v in data.items() if k != "recurrence"}
            instance.update(
                id=f"{data['id']}_{occurrence.original_date:%Y%m%d}",
                type="occurrence",
                seriesMasterId=data["id"],
                recurrence=None,
                originalStart=occurrence.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                start=format_graph_datetime(occurrence.start, data["start"]["timeZone"]),
                end=format_graph_datetime(occurrence.end, data["end"]["timeZone"]),
                iCalUId=hashlib.sha256(f"{data['iCalUId']}:{occurrence.original_date}".encode())
                .hexdigest()[:64]
                .upper(),
            )
            changes = master.overrides.get(occurrence.original_date)
            if changes:
                self._merge(instance, copy.deepcopy(changes))
                if "start" in changes or "end" in changes:
                    instance["type"] = "exception"
            found.append(instance)
        return found

    @staticmethod
    def _span(data: dict[str, Any], zone_name: str) -> tuple[datetime, datetime]:
        """The instants an event covers; an all-day event's dates in the zone asked for."""
        if not data.get("isAllDay"):
            return parse_graph_datetime(data["start"]), parse_graph_datetime(data["end"])
        local = zone(zone_name)
        first = date.fromisoformat(str(data["start"]["dateTime"])[:10])
        after = date.fromisoformat(str(data["end"]["dateTime"])[:10])
        return (
            datetime.combine(first, datetime.min.time(), tzinfo=local),
            datetime.combine(after, datetime.min.time(), tzinfo=local),
        )

    def _instances(
        self,
        mailbox: Mailbox,
        calendar_id: str,
        window_start: datetime,
        window_end: datetime,
        zone_name: str = "UTC",
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for stored in mailbox.events.values():
            if stored.calendar_id != calendar_id:
                continue
            if stored.data["type"] == "seriesMaster":
                found.extend(self._expand(stored, window_start, window_end))
                continue
            start, end = self._span(stored.data, zone_name)
            if start < window_end and end > window_start:
                found.append(stored.data)
        found.sort(key=lambda item: parse_graph_datetime(item["start"]))
        return found

    def _render_event(self, call: Call, data: dict[str, Any]) -> dict[str, Any]:
        # Shares values with the stored event: replies are serialised at once, under the lock.
        rendered = {key: value for key, value in data.items() if key != SVEP}
        rendered["@odata.etag"] = f'W/"{data["changeKey"]}"'
        for key in ("start", "end"):
            if data.get("isAllDay"):
                # An all-day event is a run of dates, not instants: Graph answers midnight to
                # midnight in whatever zone was asked for (resources/event.md, isAllDay).
                day = str(data[key]["dateTime"])[:10]
                rendered[key] = {"dateTime": f"{day}T00:00:00.0000000", "timeZone": call.zone_name}
            else:
                rendered[key] = format_graph_datetime(
                    parse_graph_datetime(data[key]), call.zone_name
                )
        expand = call.param("$expand")
        if expand:
            wanted = _SVEP_EXPAND.fullmatch(expand)
            if wanted is None:
                raise GraphError(
                    400, "BadRequest", f"The fake Graph does not support $expand={expand!r}."
                )
            property_id = _odata_string(wanted.group(1)).lower()
            chosen = [p for p in data.get(SVEP) or [] if p["id"].lower() == property_id]
            if chosen:
                rendered[SVEP] = chosen
        return self._select(call, rendered, EVENT_PROPERTIES)

    def _filtered(self, call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        expression = call.param("$filter")
        if not expression:
            return rows
        wanted = _SVEP_FILTER.fullmatch(expression)
        if wanted is None:
            raise GraphError(
                400,
                "ErrorInvalidUrlQueryFilter",
                f"The fake Graph only supports $filter=singleValueExtendedProperties/Any(ep: "
                f"ep/id eq '...' and ep/value eq '...'), not {expression!r}.",
            )
        property_id = _odata_string(wanted.group(2)).lower()
        value = _odata_string(wanted.group(3))
        return [
            row
            for row in rows
            if any(
                p["id"].lower() == property_id and p["value"] == value for p in row.get(SVEP) or []
            )
        ]

    def _window(self, call: Call) -> tuple[datetime, datetime]:
        start, end = call.param("startDateTime"), call.param("endDateTime")
        try:
            if not start or not end:
                raise ValueError("missing")
            return parse_query_datetime(start), parse_query_datetime(end)
        except ValueError:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                f"StartDateTime and EndDateTime (got {start!r} and {end!r}).",
            ) from None

    # -- events: endpoints --------------------------------------------------------------------

    def list_events(self, call: Call, calendar_id: str | None) -> Reply:
        calendar = self._calendar(call, calendar_id)
        rows = [e.data for e in call.mailbox.events.values() if e.calendar_id == calendar["id"]]
        return self._page(
            call,
            self._filtered(call, rows),
            lambda row: self._render_event(call, row),
            "users('me')/events",
        )

    def create_event(self, call: Call, calendar_id: str | None) -> Reply:
        body = self._json_body(call)
        calendar = self._calendar(call, calendar_id)
        transaction = body.get("transactionId")
        if transaction and call.mailbox.transactions.get(transaction) in call.mailbox.events:
            existing = call.mailbox.events[call.mailbox.transactions[transaction]]
            # resources/event.md: transactionId lets the server "avoid redundant POST operations
            # in case of client retries to create the same event". A retry of the same body gets
            # the event back; what a *different* body gets is not documented, so the fake takes
            # the stricter reading (field reports: ErrorDuplicateTransactionId) and refuses it.
            if call.mailbox.transaction_bodies.get(transaction) != _body_key(body):
                raise GraphError(
                    400,
                    "ErrorDuplicateTransactionId",
                    "An item with the same transaction id already exists.",
                )
            return Reply.json(201, self._render_event(call, existing.data))
        stored = self.store_event(call.mailbox, calendar, body)
        if transaction:
            call.mailbox.transaction_bodies[transaction] = _body_key(body)
        location = f"{self.fake.graph_url}/users('{call.user.oid}')/events('{stored.data['id']}')"
        return Reply.json(201, self._render_event(call, stored.data), {"Location": location})

    def get_event(self, call: Call, event_id: str) -> Reply:
        stored, day = self._find_event(call, event_id)
        data = stored.data if day is None else self._occurrence(stored, day)
        assert data is not None
        return Reply.json(200, self._render_event(call, data))

    def update_event(self, call: Call, event_id: str) -> Reply:
        body = self._json_body(call)
        stored, day = self._find_event(call, event_id)
        self._check_if_match(call, stored, day)
        # event-update.md: "Existing properties that aren't included in the request body
        # maintain their previous values"; a collection given (categories) replaces the whole
        # collection, so a client that wants to keep the others must send them.
        fields = self._event_fields(body, creating=False)
        if day is not None:
            changes = stored.overrides.get(day) or {}
            self._merge(changes, fields)
            # resources/event.md, changeKey: "Every time the event is changed, ChangeKey
            # changes as well" — for an occurrence changed on its own, its own version.
            changes["changeKey"] = b64url(secrets.token_bytes(12))
            stored.overrides[day] = changes
            occurrence = self._occurrence(stored, day)
            assert occurrence is not None
            return Reply.json(200, self._render_event(call, occurrence))
        self._merge(stored.data, fields)
        if "recurrence" in fields:
            stored.data["type"] = "seriesMaster" if fields["recurrence"] else "singleInstance"
        self._touch(stored.data)
        return Reply.json(200, self._render_event(call, stored.data))

    def _check_if_match(self, call: Call, stored: StoredEvent, day: date | None) -> None:
        """A PATCH with `If-Match` applies only to the version it names.

        resources/event.md, changeKey: "Identifies the version of the event object. Every time
        the event is changed, ChangeKey changes as well. This allows Exchange to apply changes
        to the correct version of the object."; concepts/errors.md: 412 Precondition Failed, "A
        precondition provided in the request (such as an if-match header) does not match the
        resource's current state." The docs do not say which spelling of the tag is accepted:
        the fake takes the stricter reading, the exact `@odata.etag` an event is read with."""
        wanted = call.request.headers.get("If-Match")
        if wanted is None or wanted.strip() == "*":
            return
        data = stored.data if day is None else self._occurrence(stored, day)
        assert data is not None
        if wanted.strip() != f'W/"{data["changeKey"]}"':
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def delete_event(self, call: Call, event_id: str) -> Reply:
        stored, day = self._find_event(call, event_id)
        if day is not None:
            stored.overrides[day] = None
        else:
            del call.mailbox.events[stored.data["id"]]
        return Reply.empty(204)

    def list_instances(self, call: Call, event_id: str) -> Reply:
        stored, day = self._find_event(call, event_id)
        if day is not None or stored.data["type"] != "seriesMaster":
            raise GraphError(400, "ErrorInvalidRequest", "Instances exist only for series masters.")
        window_start, window_end = self._window(call)
        rows = self._filtered(call, self._expand(stored, window_start, window_end))
        return self._page(
            call, rows, lambda row: self._render_event(call, row), "users('me')/events"
        )

    def calendar_view(self, call: Call, calendar_id: str | None) -> Reply:
        calendar = self._calendar(call, calendar_id)
        window_start, window_end = self._window(call)
        rows = self._instances(
            call.mailbox, calendar["id"], window_start, window_end, call.zone_name
        )
        return self._page(
            call,
            self._filtered(call, rows),
            lambda row: self._render_event(call, row),
            "users('me')/calendarView",
        )

    def cancel_occurrence(self, master_id: str, day: date) -> None:
        for mailbox in self.mailboxes.values():
            master = mailbox.events.get(master_id)
            if master is None:
                continue
            if master.data["type"] != "seriesMaster":
                raise ValueError(f"event {master_id!r} is not a series master")
            if self._occurrence(master, day) is None:
                raise ValueError(f"series {master_id!r} has no occurrence on {day}")
            changes = master.overrides.get(day) or {}
            changes["isCancelled"] = True
            master.overrides[day] = changes
            return
        raise LookupError(f"no series master with id {master_id!r}")

    # -- OneDrive -----------------------------------------------------------------------------

    def _drive_id(self, mailbox: Mailbox) -> str:
        return "b!" + b64url(hashlib.sha256(mailbox.user.oid.encode()).digest())

    def _folder_id(self, mailbox: Mailbox, folder: str) -> str:
        digest = hashlib.sha256(f"{mailbox.user.oid}:{folder.lower()}".encode()).digest()
        return "01" + base64.b32encode(digest).decode("ascii")[:32]

    def _web_url(self, mailbox: Mailbox, path: str) -> str:
        slug = re.sub(r"[^a-z0-9]", "_", mailbox.user.email.lower())
        return f"{self.fake.base_url}/personal/{slug}/Documents/{quote(path)}"

    def _parent_reference(self, mailbox: Mailbox, path: str) -> dict[str, Any]:
        parent = path.rpartition("/")[0]
        return {
            "driveType": "business",
            "driveId": self._drive_id(mailbox),
            "id": self._folder_id(mailbox, parent),
            "path": "/drive/root:" + (f"/{parent}" if parent else ""),
        }

    def _file_item(self, mailbox: Mailbox, item: DriveFile) -> dict[str, Any]:
        mime = mimetypes.guess_type(item.path)[0] or "application/octet-stream"
        return {
            "id": item.id,
            "name": item.path.rpartition("/")[2],
            "size": len(item.content),
            "webUrl": self._web_url(mailbox, item.path),
            "createdDateTime": item.created,
            "lastModifiedDateTime": item.modified,
            "eTag": f'"{{{item.id}}},1"',
            "file": {
                "mimeType": mime,
                "hashes": {"sha256Hash": hashlib.sha256(item.content).hexdigest().upper()},
            },
            "parentReference": self._parent_reference(mailbox, item.path),
        }

    def _folder_item(self, mailbox: Mailbox, folder: str) -> dict[str, Any] | None:
        prefix = folder.lower() + "/" if folder else ""
        inside = [f for key, f in mailbox.files.items() if key.startswith(prefix)]
        if folder and not inside:
            return None
        children = {f.path[len(prefix) :].split("/")[0].lower() for f in inside}
        item: dict[str, Any] = {
            "id": self._folder_id(mailbox, folder),
            "name": folder.rpartition("/")[2] if folder else "root",
            "size": sum(len(f.content) for f in inside),
            "webUrl": self._web_url(mailbox, folder),
            "folder": {"childCount": len(children)},
        }
        if folder:
            item["parentReference"] = self._parent_reference(mailbox, folder)
        else:
            item["root"] = {}
        return item

    def save_file(
        self, mailbox: Mailbox, path: str, content: bytes, conflict_behavior: str = "replace"
    ) -> tuple[DriveFile, bool]:
        """Store a file; returns it and whether it was created (rather than replaced)."""
        existing = mailbox.files.get(path.lower())
        if existing is not None and conflict_behavior == "fail":
            raise GraphError(409, "nameAlreadyExists", f"The name '{path}' already exists.")
        if existing is not None and conflict_behavior == "rename":
            stem, dot, suffix = path.rpartition(".")
            if not dot:
                stem, suffix = path, ""
            number = 1
            while True:
                candidate = f"{stem} {number}{dot}{suffix}"
                if candidate.lower() not in mailbox.files:
                    break
                number += 1
            path, existing = candidate, None
        now = utc_stamp()
        if existing is not None:
            existing.content = bytes(content)
            existing.modified = now
            return existing, False
        item = DriveFile(
            id=self.new_drive_item_id(),
            path=path,
            content=bytes(content),
            created=now,
            modified=now,
        )
        mailbox.files[path.lower()] = item
        return item, True

    def get_drive(self, call: Call) -> Reply:
        return Reply.json(
            200,
            {
                "id": self._drive_id(call.mailbox),
                "driveType": "business",
                "name": "OneDrive",
                "owner": {"user": {"id": call.user.oid, "displayName": call.user.name}},
                "webUrl": self._web_url(call.mailbox, ""),
            },
        )

    def get_drive_root(self, call: Call) -> Reply:
        return Reply.json(200, self._folder_item(call.mailbox, ""))

    def get_drive_item_by_path(self, call: Call, raw_path: str) -> Reply:
        path = _drive_path(raw_path)
        item = call.mailbox.files.get(path.lower())
        if item is not None:
            return Reply.json(200, self._file_item(call.mailbox, item))
        folder = self._folder_item(call.mailbox, path)
        if folder is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return Reply.json(200, folder)

    def get_drive_item(self, call: Call, item_id: str) -> Reply:
        for item in call.mailbox.files.values():
            if item.id == item_id:
                return Reply.json(200, self._file_item(call.mailbox, item))
        raise GraphError(404, "itemNotFound", "The resource could not be found.")

    def upload_file(self, call: Call, raw_path: str) -> Reply:
        path = _drive_path(raw_path)
        if len(call.request.body) > SIMPLE_UPLOAD_LIMIT:
            raise GraphError(
                413,
                "requestTooLarge",
                "Simple upload is limited to 4 MiB in this fake; use an upload session.",
            )
        behavior = call.param("@microsoft.graph.conflictBehavior") or "replace"
        item, created = self.save_file(call.mailbox, path, call.request.body, behavior)
        return Reply.json(201 if created else 200, self._file_item(call.mailbox, item))

    def create_upload_session(self, call: Call, raw_path: str) -> Reply:
        path = _drive_path(raw_path)
        body = self._json_body(call) if call.request.body else {}
        item = body.get("item") or {}
        behavior = item.get("@microsoft.graph.conflictBehavior") or "replace"
        if behavior == "fail" and path.lower() in call.mailbox.files:
            raise GraphError(409, "nameAlreadyExists", f"The name '{path}' already exists.")
        token = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(hours=1)
        self.upload_sessions[token] = UploadSession(
            email=call.user.email, path=path, conflict_behavior=behavior, expires_at=expires
        )
        return Reply.json(
            200,
            {
                "uploadUrl": f"{self.fake.base_url}/_upload/{token}",
                "expirationDateTime": utc_stamp(expires),
                "nextExpectedRanges": ["0-"],
            },
        )

    def handle_upload(self, request: FakeRequest) -> Reply:
        """PUT/GET/DELETE on an upload session's uploadUrl (which takes no Authorization)."""
        try:
            return self._upload(request)
        except GraphError as error:
            return error.reply()

    def _upload(self, request: FakeRequest) -> Reply:
        token = request.path.removeprefix("/_upload/")
        session = self.upload_sessions.get(token)
        if session is None or session.expires_at < datetime.now(UTC):
            raise GraphError(404, "itemNotFound", "The upload session was not found or expired.")
        status = {
            "expirationDateTime": utc_stamp(session.expires_at),
            "nextExpectedRanges": [f"{len(session.received)}-"],
        }
        if request.method == "GET":
            return Reply.json(200, status)
        if request.method == "DELETE":
            del self.upload_sessions[token]
            return Reply.empty(204)
        if request.method != "PUT":
            raise GraphError(405, "invalidRequest", f"{request.method} is not allowed here.")
        if "Authorization" in request.headers:
            raise GraphError(
                401,
                "unauthenticated",
                "Do not send an Authorization header to an uploadUrl: it is pre-authenticated.",
            )
        found = _CONTENT_RANGE.fullmatch(request.headers.get("Content-Range", "").strip())
        if found is None:
            raise GraphError(
                400, "invalidRequest", "Content-Range must look like 'bytes first-last/total'."
            )
        first, last, total = (int(number) for number in found.groups())
        size = len(request.body)
        if last < first or size != last - first + 1:
            raise GraphError(
                400,
                "invalidRequest",
                f"Content-Range covers {last - first + 1} bytes but the body has {size}.",
            )
        if session.total is not None and total != session.total:
            raise GraphError(400, "invalidRequest", "The total size changed between fragments.")
        if first != len(session.received):
            raise GraphError(
                416,
                "invalidRange",
                f"Expected the fragment starting at byte {len(session.received)}, got {first}.",
            )
        if size > UPLOAD_FRAGMENT_LIMIT:
            raise GraphError(413, "requestTooLarge", "Fragments are limited to 60 MiB.")
        is_last = last + 1 == total
        if not is_last and size % UPLOAD_FRAGMENT_UNIT:
            raise GraphError(
                400,
                "invalidRequest",
                f"Fragment of {size} bytes: all but the last must be multiples of 320 KiB.",
            )
        if last >= total:
            raise GraphError(416, "invalidRange", "The fragment ends beyond the total size.")
        session.total = total
        session.received.extend(request.body)
        if not is_last:
            status["nextExpectedRanges"] = [f"{len(session.received)}-"]
            return Reply.json(202, status)
        del self.upload_sessions[token]
        mailbox = self.mailbox(session.email)
        item, created = self.save_file(
            mailbox, session.path, bytes(session.received), session.conflict_behavior
        )
        return Reply.json(201 if created else 200, self._file_item(mailbox, item))


def unauthenticated(message: str) -> Reply:
    return graph_error(
        401,
        "InvalidAuthenticationToken",
        message,
        {
            "WWW-Authenticate": (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            )
        },
    )
