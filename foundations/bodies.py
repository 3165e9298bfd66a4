"""Request bodies are bounded however they arrive (WSGI middleware around Django).

Django reads a body only as far as its Content-Length says. A chunked body (Transfer-Encoding:
chunked, no Content-Length) has none, so Django would see it as empty: a JSON POST would fail as
"name required" and a form as missing fields, with no word about the body it ignored. Here such a
body is read up to DATA_UPLOAD_MAX_MEMORY_SIZE bytes and handed on with its length, or refused
with 413 once it is longer. A declared Content-Length over the limit is refused the same way
before anything is read (file uploads, multipart/form-data, keep Django's own limits).

A chunked body can only be read to its end where the server says the input ends there
(`wsgi.input_terminated`, PEP 3333's extension; gunicorn sets it). Elsewhere (Django's
development server passes the raw chunk framing on) the answer is 411 Length Required, never a
silently empty body.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

READ_SIZE = 65_536


class BoundedRequestBodies:
    """Wraps a WSGI application: chunked bodies read within the limit, longer ones refused."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            multipart = str(environ.get("CONTENT_TYPE", "")).startswith("multipart/")
            if limit is not None and not multipart and declared.isdigit() and int(declared) > limit:
                return refuse(environ, start_response, 413, too_large(limit))
            return self.application(environ, start_response)
        if not environ.get("HTTP_TRANSFER_ENCODING"):
            return self.application(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return refuse(
                environ,
                start_response,
                411,
                "This server cannot read a chunked request body: send a Content-Length.",
            )
        body = read_within(environ["wsgi.input"], limit)
        if body is None:
            return refuse(environ, start_response, 413, too_large(limit))
        environ = {
            **environ,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.application(environ, start_response)


def read_within(stream: Any, limit: int | None) -> bytes | None:
    """The stream to its end, or None as soon as it proves longer than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        wanted = READ_SIZE if limit is None else min(READ_SIZE, limit + 1 - size)
        chunk = stream.read(wanted)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            return None


def too_large(limit: int | None) -> str:
    return f"The request body is larger than {limit} bytes."


def refuse(
    environ: dict[str, Any], start_response: StartResponse, status: int, message: str
) -> list[bytes]:
    """The answer before Django sees the request: JSON under /api/ (as DRF words its errors),
    plain text elsewhere."""
    reasons = {411: "411 Length Required", 413: "413 Content Too Large"}
    if str(environ.get("PATH_INFO", "")).startswith("/api/"):
        content_type, body = "application/json", json.dumps({"detail": message}).encode()
    else:
        content_type, body = "text/plain; charset=utf-8", message.encode()
    start_response(
        reasons[status], [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    )
    return [body]
