"""The web half of the fault table: what a visitor or a stranger can do to the web servers.

    .venv/bin/python benchmarks/web_faults.py

Migrates scratch SQLite databases, seeds one row of every kind, then prints one row per fault:
the requests made, how many answered 500, and the answer a user gets against the one expected.
The sweep asks every URL pattern the resolver knows (tests/url_sweep.py) anonymously, as a staff
member and as a superuser, by GET and by an empty POST with a CSRF token. Goal: 0 in the 500s
column and every answer as expected.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="web-faults-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'core.sqlite3'}"
os.environ["WEB_DATABASE_URL"] = f"sqlite:///{SCRATCH / 'web.sqlite3'}"
os.environ["VAR_DIR"] = str(SCRATCH)
os.environ["MS_CLIENT_ID"] = ""
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "CRITICAL")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.models import ApiToken, User  # noqa: E402
from adminassistant.wsgi import application  # noqa: E402
from tests.url_sweep import answers, one_of_everything, route_path, url_routes  # noqa: E402

PASSWORD = "a-long-unusual-passphrase"  # noqa: S105 - a scratch database's user
Row = tuple[str, int, int, str, str]


def sweep(alice: User, admin: User) -> Row:
    seeded = one_of_everything(alice)
    routes = url_routes()
    results = [
        result
        for route in routes
        for result in answers(route, route_path(route, seeded), [None, alice, admin])
    ]
    errors = sum(1 for _who, status, _error in results if status == 500)
    return (f"URL sweep ({len(routes)} patterns)", len(results), errors, "no 500", f"{errors} 500s")


def microsoft_not_configured() -> Row:
    status = Client(raise_request_exception=False).get("/accounts/microsoft/login/").status_code
    return ("Microsoft sign-in, not configured", 1, int(status == 500), "404 page", str(status))


def wsgi_post(path: str, body: bytes, key: str, *, chunked: bool) -> int:
    environ = dict(RequestFactory().post(path, HTTP_AUTHORIZATION=f"Bearer {key}").environ)
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = "application/json"
    environ["wsgi.input"] = io.BytesIO(body)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list, *args: Any) -> None:
        answer["status"] = int(status.split()[0])

    b"".join(application(environ, start_response))
    return int(answer["status"])


def bodies(alice: User) -> list[Row]:
    token = ApiToken(user=alice, name="Bench")
    key = token.set_new_key()
    token.save()
    big = json.dumps({"name": "Big", "address": "x" * 3_000_000}).encode()
    small = json.dumps({"name": "Chunked HQ"}).encode()
    rows = []
    for label, body, chunked, expected in (
        ("3 MB chunked API body", big, True, "413"),
        ("3 MB API body with Content-Length", big, False, "413"),
        ("small chunked API body", small, True, "201"),
    ):
        status = wsgi_post("/api/v1/locations/", body, key, chunked=chunked)
        rows.append((label, 1, int(status == 500), expected, str(status)))
    return rows


def login(remote: str, forwarded: str | None, password: str) -> int:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    client = Client(REMOTE_ADDR=remote, raise_request_exception=False, **extra)
    data = {"username": "carol@example.com", "password": password}
    return client.post("/admin/login/", data).status_code


def proxies() -> list[Row]:
    User.objects.create_user(email="carol@example.com", password=PASSWORD, is_staff=True)
    limit = settings.AXES_FAILURE_LIMIT
    rows = []
    with override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXIES=[]):
        for _ in range(limit):
            login("198.51.100.66", "203.0.113.5", "wrong")
        status = login("203.0.113.5", None, PASSWORD)
        rows.append(
            ("spoofed X-Forwarded-For, no proxy", limit + 1, 0, "302 (real user)", str(status))
        )
    call_command("axes_reset", verbosity=0)
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for _ in range(limit):
            login("10.0.0.1", "203.0.113.5, 198.51.100.66", "wrong")
        stranger = login("10.0.0.1", "198.51.100.66", PASSWORD)
        carol = login("10.0.0.1", "203.0.113.5", PASSWORD)
        rows.append(
            (
                "lockout behind one trusted balancer",
                limit + 2,
                0,
                "429 stranger, 302 user",
                f"{stranger} stranger, {carol} user",
            )
        )
    return rows


def main() -> None:
    call_command("migrate", database="default", verbosity=0)
    call_command("migrate", database="web", verbosity=0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice = User.objects.create_user("alice@example.com", PASSWORD, is_staff=True, name="Alice")
    admin = User.objects.create_superuser("admin@example.com", PASSWORD, name="Admin")
    rows = [sweep(alice, admin), microsoft_not_configured(), *bodies(alice), *proxies()]
    print("| fault | requests | 500s | expected | got |")
    print("|---|---|---|---|---|")
    for label, requests, errors, expected, got in rows:
        print(f"| {label} | {requests} | {errors} | {expected} | {got} |")


if __name__ == "__main__":
    main()
