"""Request bodies are bounded however they arrive: a chunked body (no Content-Length) within
DATA_UPLOAD_MAX_MEMORY_SIZE is read like any other, a longer one is refused with 413, and a
server that cannot say where a chunked body ends gets 411 — never a silently empty body.

In-process through the WSGI application gunicorn serves (adminassistant.wsgi), and through a
real gunicorn with a raw chunked request."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from accounts.models import ApiToken, User
from adminassistant.wsgi import application
from calendars.models import Location

pytestmark = pytest.mark.django_db(databases=["default", "web"])

ROOT = Path(__file__).resolve().parent.parent
CSRF_SECRET = "chunkedchunkedchunkedchunked1234"
LIMIT = 10_000


@pytest.fixture
def small_limit(settings: Settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


@pytest.fixture
def alice_key(alice: User) -> str:
    token = ApiToken(user=alice, name="Chunked script")
    key = token.set_new_key()
    token.save()
    return key


def chunked_environ(
    path: str, body: bytes, content_type: str, *, terminated: bool = True, **headers: str
) -> dict[str, Any]:
    """What a server hands the application for a chunked request: the body already de-chunked
    on wsgi.input, Transfer-Encoding in the headers, no CONTENT_LENGTH."""
    environ = dict(RequestFactory().post(path, **headers).environ)
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = content_type
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = terminated
    return environ


def call(environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """The WSGI application's answer, with the connection kept for the test's transaction (as
    Django's test client does)."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        body = b"".join(result)
        getattr(result, "close", lambda: None)()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def location_body(name: str, padding: int = 0) -> bytes:
    return json.dumps({"name": name, "address": "x" * padding}).encode()


def test_a_chunked_json_body_within_the_limit_is_read(
    alice_key: str, small_limit: None, alice: User
) -> None:
    environ = chunked_environ(
        "/api/v1/locations/",
        location_body("Acme HQ"),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )

    status, _, body = call(environ)

    assert status == 201, body
    assert Location.objects.get(user=alice).name == "Acme HQ"


def test_a_chunked_json_body_over_the_limit_is_413_and_writes_nothing(
    alice_key: str, small_limit: None
) -> None:
    environ = chunked_environ(
        "/api/v1/locations/",
        location_body("Acme HQ", padding=LIMIT),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )

    status, headers, body = call(environ)

    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"detail": f"The request body is larger than {LIMIT} bytes."}
    assert not Location.objects.exists()


def test_a_chunked_form_body_is_read_so_the_admin_login_works(alice: User) -> None:
    form = urlencode(
        {
            "csrfmiddlewaretoken": CSRF_SECRET,
            "username": alice.email,
            "password": "correct-horse-battery-staple",
        }
    ).encode()
    environ = chunked_environ(
        "/admin/login/",
        form,
        "application/x-www-form-urlencoded",
        HTTP_COOKIE=f"csrftoken={CSRF_SECRET}",
    )

    status, headers, _ = call(environ)

    assert status == 302
    assert headers["Location"] == "/admin/"


def test_a_chunked_body_the_server_cannot_delimit_is_411_not_empty(
    alice_key: str, small_limit: None
) -> None:
    environ = chunked_environ(
        "/api/v1/locations/",
        location_body("Acme HQ"),
        "application/json",
        terminated=False,
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )

    status, _, body = call(environ)

    assert status == 411
    assert b"Content-Length" in body
    assert not Location.objects.exists()


def test_a_declared_form_body_over_the_limit_is_413(small_limit: None) -> None:
    form = urlencode({"username": "x" * LIMIT, "password": "y"}).encode()
    environ = dict(
        RequestFactory()
        .post("/admin/login/", form, content_type="application/x-www-form-urlencoded")
        .environ
    )

    status, headers, body = call(environ)

    assert status == 413
    assert headers["Content-Type"].startswith("text/plain")
    assert body == f"The request body is larger than {LIMIT} bytes.".encode()


# A real gunicorn: fresh SQLite databases of its own, migrated and seeded by a subprocess.

SEED = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", database="default", verbosity=0)
call_command("migrate", database="web", verbosity=0)
from accounts.models import ApiToken, User
user = User.objects.create_user("alice@example.com", None, name="Alice", is_staff=True)
token = ApiToken(user=user, name="Chunked")
key = token.set_new_key()
token.save()
print(key)
"""

COUNT_LOCATIONS = """
import django
django.setup()
from calendars.models import Location
print(list(Location.objects.values_list("name", flat=True)))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_python(environment: dict[str, str], script: str) -> str:
    result = subprocess.run(  # noqa: S603 - our interpreter with our own script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, dict]]:
    var = tmp_path_factory.mktemp("gunicorn")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "WEB_DATA"))},
        "VAR_DIR": str(var),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": "2621440",
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("REDIS_URL", None)
    environment["DJANGO_SETTINGS_MODULE"] = "adminassistant.settings"
    key = run_python(environment, SEED)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - gunicorn from our venv, fixed arguments
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "adminassistant.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health/live/")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        yield port, key, environment
    finally:
        server.terminate()
        server.wait(timeout=30)


def post_chunked(port: int, key: str, body: bytes) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked (http.client frames an iterable body so).

    A server may answer a body it refuses before reading all of it and close the
    connection (RFC 9110 section 15.5.14, 413 Content Too Large). The client then
    meets a broken pipe while still sending; like urllib3, it reads the answer
    that is already on the socket.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pieces = (body[i : i + 65_536] for i in range(0, len(body), 65_536))
    # The answer, if the server sent one before closing, is read below.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.request(
            "POST",
            "/api/v1/locations/",
            body=pieces,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
            },
            encode_chunked=True,
        )
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.django_db(databases=[])
@pytest.mark.slow
def test_gunicorn_reads_a_chunked_body_within_the_limit(gunicorn: tuple[int, str, dict]) -> None:
    port, key, environment = gunicorn

    status, body = post_chunked(port, key, location_body("Chunked HQ"))

    assert status == 201, body
    assert json.loads(body)["name"] == "Chunked HQ"
    assert "Chunked HQ" in run_python(environment, COUNT_LOCATIONS)


@pytest.mark.django_db(databases=[])
@pytest.mark.slow
def test_gunicorn_refuses_a_3_mb_chunked_body_with_413(gunicorn: tuple[int, str, dict]) -> None:
    port, key, environment = gunicorn

    status, body = post_chunked(port, key, location_body("Too big", padding=3_000_000))

    assert status == 413
    assert json.loads(body) == {"detail": "The request body is larger than 2621440 bytes."}
    assert "Too big" not in run_python(environment, COUNT_LOCATIONS)
