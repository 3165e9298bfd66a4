"""A page's rows are freed when its response is, not left to the garbage collector.

An API list and an admin change list are served through Django's WSGI handler, as gunicorn
serves them; then the collector is asked what only it could free (gc.DEBUG_SAVEALL). The page's
model instances must not be among them (foundations/api/release.py, foundations/templates.py).
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.db.models import Model
from django.template.loader import select_template
from django.test import Client

from accounts.models import User
from foundations.templates import template_choice
from tests.api_helpers import token_key
from tests.factories import acme_at_nine_utc

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def handler() -> Iterator[WSGIHandler]:
    # As Django's test client does: the test's transaction keeps its connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def serve(handler: WSGIHandler, path: str, **headers: str) -> bytes:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    status: list[str] = []
    body = handler(environ, lambda line, _headers, _exc=None: status.append(line))
    try:
        content = b"".join(body)
    finally:
        body.close()
    assert status[0].startswith("200"), (status, content[:300])
    return content


def left_to_the_collector(call: Callable[[], Any]) -> list[object]:
    """What only the garbage collector could free of what `call` made."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        call()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def rows(found: list[object]) -> list[str]:
    # type(), not isinstance(): a lazy object (the CSP nonce) would evaluate itself.
    return sorted({type(o).__name__ for o in found if issubclass(type(o), Model)})


@pytest.fixture
def month(alice: User) -> None:
    for day in range(1, 21):
        acme_at_nine_utc(alice, day)


def test_an_api_page_frees_its_rows_when_its_response_is_sent(
    handler: WSGIHandler, alice: User, month: None
) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_key(alice)}"}
    assert b'"subject":"Acme 1"' in serve(handler, "/api/v1/appointments/", **auth)

    found = left_to_the_collector(lambda: serve(handler, "/api/v1/appointments/", **auth))
    # The request itself stays a cycle, as any Django request with messages is (its message
    # storage points back to it), and holds the signed-in user and token: not the page's rows.
    assert rows(found) == ["ApiToken", "User"]
    for path in ("/api/v1/timesheets/", "/api/v1/action-log/", "/api/v1/audit-log/"):
        assert rows(left_to_the_collector(lambda path=path: serve(handler, path, **auth))) == [
            "ApiToken",
            "User",
        ]


def test_an_admin_change_list_frees_its_rows_when_its_response_is_sent(
    handler: WSGIHandler, alice: User, month: None
) -> None:
    client = Client()
    client.force_login(alice)
    cookie = {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={client.cookies['sessionid'].value}"}
    path = "/admin/calendars/appointment/"
    assert b"Acme 20" in serve(handler, path, **cookie)

    found = left_to_the_collector(lambda: serve(handler, path, **cookie))
    assert rows(found) == ["User"]
    assert not [o for o in found if type(o).__name__ == "traceback"]


def test_the_template_chosen_is_the_one_django_chooses() -> None:
    app_own = (
        "admin/timesheets/timesheet/change_list.html",
        "admin/timesheets/change_list.html",
        "admin/change_list.html",
    )
    general = (
        "admin/calendars/appointment/change_list.html",
        "admin/calendars/change_list.html",
        "admin/change_list.html",
    )
    for names in (app_own, general):
        assert template_choice(names, None) == select_template(list(names)).origin.template_name
    assert template_choice(app_own, None) == app_own[0]
    assert template_choice(general, None) == "admin/change_list.html"
    assert template_choice(("no/such.html", "nor/this.html"), None) is None


def test_the_test_client_still_sees_each_pages_context_and_templates(
    alice_client: Client, month: None
) -> None:
    response = alice_client.get("/admin/calendars/appointment/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 20
    assert "admin/change_list.html" in [t.name for t in response.templates]
