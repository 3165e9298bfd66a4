"""The Microsoft problems every app reports, and the Graph errors the client raises: a failed
request is an error a person can act on (a missing permission names itself), never an empty
result."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

RETRY_STATUSES = frozenset({429, 503, 504})


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


def graph_error(
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


def path_of(url: str) -> str:
    """The URL without its query (which may hold skip tokens or upload signatures)."""
    return url.split("?", 1)[0]
