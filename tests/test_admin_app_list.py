"""The admin's list of models (the home page's sections, the navigation sidebar) is rendered
once per distinct list (foundations/admin_apps.py): the same HTML as Django's own template, and
one person's list never shows in another's."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.template.loader import get_template
from django.test import Client, RequestFactory

from accounts.models import User
from foundations.admin_apps import app_list_html
from tests.web_helpers import logged_in

pytestmark = pytest.mark.django_db(databases=["default", "web"])

GROUP_LIST = 'href="/admin/auth/group/"'


def _djangos_own(user: User, path: str, *, show_changelinks: bool) -> tuple[list[dict], str]:
    """The request's app list and what Django's `{% include "admin/app_list.html" %}` makes
    of it, the whole dicts (permissions, model classes) in the context."""
    request = RequestFactory().get(path)
    request.user = user
    apps = admin.site.get_app_list(request)
    context = {"app_list": apps, "show_changelinks": show_changelinks, "request": request}
    return apps, get_template("admin/app_list.html").render(context)


@pytest.mark.parametrize("superuser", [True, False], ids=["superuser", "staff member"])
@pytest.mark.parametrize(
    ("path", "show_changelinks"),
    [("/admin/", True), ("/admin/calendars/appointment/", False)],
    ids=["home page", "change list sidebar"],
)
def test_the_kept_list_is_what_djangos_template_renders(
    admin_user: User, alice: User, superuser: bool, path: str, show_changelinks: bool
) -> None:
    user = admin_user if superuser else alice
    apps, expected = _djangos_own(user, path, show_changelinks=show_changelinks)

    assert app_list_html(apps, path, show_changelinks=show_changelinks) == expected
    # Twice: the second answer is the kept one.
    assert app_list_html(apps, path, show_changelinks=show_changelinks) == expected
    assert ("Change</a>" in expected) is show_changelinks


def test_a_staff_member_never_sees_the_superusers_sections(
    admin_client: Client, alice: User
) -> None:
    superuser_home = admin_client.get("/admin/").content.decode()
    superuser_list = admin_client.get("/admin/calendars/appointment/").content.decode()
    alice_client = logged_in(alice)

    alice_home = alice_client.get("/admin/").content.decode()
    alice_list = alice_client.get("/admin/calendars/appointment/").content.decode()

    assert GROUP_LIST in superuser_home and GROUP_LIST in superuser_list
    assert GROUP_LIST not in alice_home and GROUP_LIST not in alice_list
    assert 'class="app-calendar module' in alice_home


def test_the_sidebar_marks_the_page_it_is_on(alice: User) -> None:
    client = logged_in(alice)

    appointments = client.get("/admin/calendars/appointment/").content.decode()
    timesheets = client.get("/admin/timesheets/timesheet/").content.decode()

    current = re.compile(r'<a href="([^"]+)" aria-current="page">')
    assert current.findall(appointments) == ["/admin/calendars/appointment/"]
    assert current.findall(timesheets) == ["/admin/timesheets/timesheet/"]
    assert 'id="nav-sidebar"' in appointments


def test_a_staff_members_pages_never_load_their_permissions_for_system_models(
    alice: User, django_assert_num_queries: object
) -> None:
    from django.contrib.auth.models import Permission
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    # Even with a permission for a System model (the sign-in attempts), it is not listed.
    alice.user_permissions.add(Permission.objects.get(codename="view_accessattempt"))
    client = logged_in(alice)
    with CaptureQueriesContext(connections["default"]) as queries:
        home = client.get("/admin/")
    assert home.status_code == 200
    assert "/admin/axes/" not in home.content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]
    assert client.get("/admin/axes/").status_code == 404
    # The model's own permissions still decide its change list.
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    assert (
        logged_in(User.objects.create_user(email="c@example.com", password="x", is_staff=True))
        .get("/admin/axes/accessattempt/")
        .status_code
        == 403
    )


def _built_afresh(user: User) -> list[dict]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return admin.site._grouped_app_list(request)  # type: ignore[attr-defined]


def _names(apps: list[dict]) -> list[tuple[str, list[str]]]:
    return [(app["name"], [model["admin_url"] for model in app["models"]]) for app in apps]


def test_each_persons_kept_list_is_theirs_and_what_a_fresh_build_gives(
    admin_user: User, alice: User
) -> None:
    """The list is kept per person between pages: the second page reads the kept one, which
    is what building it afresh gives, and a superuser's (with System) never reaches a staff
    member's page, nor the other way round."""
    for user in (admin_user, alice, admin_user, alice):
        request = RequestFactory().get("/admin/")
        request.user = user
        assert _names(admin.site.get_app_list(request)) == _names(_built_afresh(user))
    staff, superuser = _built_afresh(alice), _built_afresh(admin_user)
    assert [app["name"] for app in superuser][-1] == "System"
    assert "System" not in [app["name"] for app in staff]


def test_a_page_that_changes_its_list_does_not_change_the_next_ones(alice: User) -> None:
    first = RequestFactory().get("/admin/")
    first.user = alice
    apps = admin.site.get_app_list(first)
    apps[0]["models"][0]["name"] = "Changed by a page"
    apps[0]["models"].clear()

    second = RequestFactory().get("/admin/")
    second.user = alice
    assert _names(admin.site.get_app_list(second)) == _names(_built_afresh(alice))


def test_a_list_that_read_the_database_to_be_built_is_not_kept(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model admin that asks the database (Django's permissions, say) makes the list depend
    on rows: it is built afresh on each page, so a changed row shows on the next."""
    from calendars.models import Location

    location_admin = admin.site._registry[Location]
    monkeypatch.setattr(
        location_admin,
        "has_module_permission",
        lambda request: not User.objects.filter(email="hide-locations@example.com").exists(),
    )

    def listed() -> bool:
        request = RequestFactory().get("/admin/")
        request.user = alice
        urls = [
            model["admin_url"]
            for app in admin.site.get_app_list(request)
            for model in app["models"]
        ]
        return "/admin/calendars/location/" in urls

    assert listed()
    User.objects.create_user(email="hide-locations@example.com", password="x")
    assert not listed()
