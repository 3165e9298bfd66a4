"""Shapes shared by the fake identity platform and the fake Graph: requests, replies, users."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from requests.structures import CaseInsensitiveDict

# A fixed tenant id keeps ids and issuers stable across runs, which makes failures easier to read.
FAKE_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

GRAPH_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"

_PREFERENCE = re.compile(r'(?:[^,"]|"[^"]*")+')


def parse_preferences(values: list[str]) -> CaseInsensitiveDict[str]:
    """`Prefer` may come as several headers or one comma-separated header; quotes are dropped."""
    preferences: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for value in values:
        for part in _PREFERENCE.findall(value):
            name, _, setting = part.strip().partition("=")
            if name.strip():
                preferences[name.strip()] = setting.strip().strip('"')
    return preferences


@dataclass
class FakeRequest:
    """One request as the fake received it (batch sub-requests are recorded one by one)."""

    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]
    body: bytes
    timestamp: float
    in_batch: bool = False
    raw_path: str = ""  # as sent, still percent-encoded
    kind: str = "graph"  # "identity", "graph" or "upload"
    prefer_headers: list[str] = field(default_factory=list)
    scopes: frozenset[str] = frozenset()  # delegated permissions of the bearer token, if any

    @property
    def prefer(self) -> CaseInsensitiveDict[str]:
        """Preferences sent, e.g. `request.prefer["IdType"] == "ImmutableId"`."""
        return parse_preferences(self.prefer_headers)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def __repr__(self) -> str:
        batch = " (in $batch)" if self.in_batch else ""
        return f"<FakeRequest {self.method} {self.path}{batch}>"


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: dict[str, str] | None = None, *, graph: bool = True
    ) -> Reply:
        content_type = GRAPH_JSON if graph else "application/json; charset=utf-8"
        return cls(
            status,
            json.dumps(payload).encode("utf-8"),
            {"Content-Type": content_type, **(headers or {})},
        )

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, b"", dict(headers or {}))

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None


class GraphError(Exception):
    """Raised inside the fake Graph; becomes Graph's `{"error": {"code", "message"}}` answer."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def reply(self) -> Reply:
        return graph_error(self.status, self.code, self.message, self.headers)


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    inner = {
        "code": code,
        "message": message,
        "innerError": {"request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())},
    }
    return Reply.json(status, {"error": inner}, headers)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class FakeUser:
    """A signed-in person: an Entra ID account with a mailbox and a OneDrive."""

    email: str
    name: str
    oid: str
    tenant_id: str = FAKE_TENANT_ID
    photo: bytes | None = None

    @property
    def user_principal_name(self) -> str:
        return self.email

    @property
    def mail(self) -> str:
        return self.email

    @property
    def given_name(self) -> str:
        return self.name.split(" ")[0]

    @property
    def surname(self) -> str | None:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) == 2 else None

    def graph_profile(self) -> dict[str, Any]:
        return {
            "id": self.oid,
            "displayName": self.name,
            "givenName": self.given_name,
            "surname": self.surname,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
            "businessPhones": [],
            "jobTitle": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-GB",
        }

    @classmethod
    def create(cls, email: str, name: str | None = None) -> FakeUser:
        local = email.split("@", 1)[0]
        display = name or " ".join(piece.capitalize() for piece in re.split(r"[._-]", local))
        oid = str(uuid.UUID(bytes=hashlib.sha256(email.lower().encode()).digest()[:16], version=4))
        return cls(email=email, name=display, oid=oid)
