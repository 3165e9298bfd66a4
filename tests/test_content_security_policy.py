"""Every page carries a Content-Security-Policy with no inline script or style sheet, and the
admin and the browsable API still work in Chromium under it (no CSP errors in the console)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser

from accounts.models import User
from tests.factories import PASSWORD
from tests.test_browser_export import browser  # noqa: F401

PAGES = [
    "/admin/",
    "/admin/calendars/appointment/",
    "/admin/calendars/appointment/add/",
    "/admin/archiving/jobconfiguration/add/",
    "/api/v1/",
]


@pytest.mark.django_db(databases=["default", "web"])
@pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/"])
def test_pages_carry_a_policy_without_inline_scripts_or_style_sheets(
    client: Client, path: str
) -> None:
    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"


@pytest.fixture
def console(browser: Browser) -> Iterator[tuple[object, list[str]]]:  # noqa: F811
    page = browser.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(str(error)))
    yield page, messages
    page.close()


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_the_admin_and_the_browsable_api_load_in_chromium_without_csp_errors(
    console: tuple[object, list[str]], live_server: object, admin_user: User
) -> None:
    page, messages = console
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", admin_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")

    assert [m for m in messages if "Content Security Policy" in m or "Refused" in m] == []


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_the_swagger_ui_served_by_the_app_renders_under_the_policy(
    console: tuple[object, list[str]], live_server: object, admin_user: User
) -> None:
    page, messages = console
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", admin_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)

    assert "Admin Assistant API" in page.inner_text(".swagger-ui .info .title")
    assert [m for m in messages if "Content Security Policy" in m or "Refused" in m] == []


@pytest.mark.django_db(databases=["default", "web"])
def test_the_docs_page_allows_inline_styles_only_and_never_inline_scripts(client: Client) -> None:
    policy = client.get("/api/docs/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
