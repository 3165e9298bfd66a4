"""The one way a file is sent for download (timesheet files, exports): a `Content-Disposition:
attachment` whose RFC 5987 name keeps any character a customer's name may hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, overload
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse


@overload
def attachment_response(
    content: bytes, *, name: str, content_type: str, streaming: Literal[False] = False
) -> HttpResponse: ...


@overload
def attachment_response(
    content: Iterable[bytes] | Iterable[str],
    *,
    name: str,
    content_type: str,
    streaming: Literal[True],
) -> StreamingHttpResponse: ...


def attachment_response(
    content: bytes | Iterable[bytes] | Iterable[str],
    *,
    name: str,
    content_type: str,
    streaming: bool = False,
) -> HttpResponse | StreamingHttpResponse:
    """`content` as a download named `name`; `streaming` sends an iterable as it is produced."""
    kind = StreamingHttpResponse if streaming else HttpResponse
    response = kind(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
