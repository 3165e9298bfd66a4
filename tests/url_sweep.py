"""Walking the URL resolver: every pattern it knows, a path that reaches it built from sample
values, and the answers of each persona by GET and by an empty POST with a CSRF token. Used by
tests/test_no_500s.py and benchmarks/web_faults.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

from accounts.models import ApiToken, User
from archiving.models import ArchiveConfiguration, ArchiveCopy, ArchiveRun, JobConfiguration
from auditing.models import ActionLog
from auditing.services import audit_record
from calendars.models import Appointment, Calendar, Category, Location
from tests.factories import AppointmentFactory
from timesheets.models import BillingProfile, CustomerSettings, Timesheet, XeroConnection

# Django accepts the unmasked 32-character secret as the token (django/middleware/csrf.py).
CSRF_SECRET = "sweepsweepsweepsweepsweepsweep12"
TASK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@dataclass(frozen=True)
class Route:
    """One URL pattern: the regex it answers, the view, and the admin behind it (if any)."""

    label: str
    regex: str
    callback: Any


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for pattern in patterns:
        raw = pattern.pattern.regex.pattern.removeprefix("^")
        regex = prefix + raw.removesuffix("\\Z").removesuffix("$")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, regex)
        elif isinstance(pattern, URLPattern):
            yield Route(label=prefix + str(pattern.pattern), regex=regex, callback=pattern.callback)


def url_routes() -> list[Route]:
    return list(_routes(get_resolver().url_patterns))


def _sample_values(name: str, route: Route, seeded: dict[str, str]) -> list[str]:
    """Candidate values for one URL parameter, the likeliest first."""
    model_admin = getattr(route.callback, "model_admin", None)
    candidates: list[str] = []
    if name in {"object_id", "pk", "id", "user_id"} and model_admin is not None:
        row = model_admin.model._default_manager.order_by("pk").first()
        if row is not None:
            candidates.append(str(row.pk))
    if name == "pk" and "api/v1" in route.label:
        resource = route.label.split("^")[-1].split("/")[0]
        candidates.append(seeded.get(resource, "1"))
    candidates += {
        "format": ["json", ".json"],
        "fmt": ["pdf", "csv"],
        "choice": ["keep", "remove"],
        "task_id": [TASK_ID],
        "export_id": [TASK_ID],
        "app_label": ["accounts"],
        "content_type_id": [seeded["content_type"]],
        "object_id": [seeded["user"]],
        "url": ["nowhere/"],
        "key": ["abc"],
        "uidb36": ["1"],
    }.get(name, [])
    return [*candidates, seeded["user"], "1", "x", "abc-1"]


def route_path(route: Route, seeded: dict[str, str]) -> str:
    """A path the resolver sends to this route's view, built from its regex: each parameter
    takes its likeliest sample value, or the next one its group accepts."""
    template, params = normalize(route.regex)[0]
    values = {name: _sample_values(name, route, seeded)[0] for name in params}
    for name in params:
        for value in _sample_values(name, route, seeded):
            if reaches("/" + template % {**values, name: value}, route):
                values[name] = value
                break
    return "/" + template % values


def reaches(path: str, route: Route) -> bool:
    try:
        return resolve(path).func == route.callback
    except Resolver404:
        return False


def one_of_everything(alice: User) -> dict[str, str]:
    """One row of every kind, owned by alice (the staff persona), so detail URLs find one;
    the ids the API's detail routes use, by resource."""
    category = Category.objects.create(user=alice, name="Acme - billable", color="preset0")
    location = Location.objects.create(user=alice, name="Acme HQ")
    alice_appointment = AppointmentFactory(
        user=alice,
        subject="Acme design review",
        category=category,
        location=location,
        customer="Acme",
        billing_type=Appointment.BillingType.BILLABLE,
        categories=["Acme - billable"],
    )
    Calendar.objects.create(user=alice, name="Calendar")
    archive = Calendar.objects.create(user=alice, name="Billable Archive", is_archive=True)
    config = ArchiveConfiguration.objects.create(
        user=alice,
        name="Daily",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri='msgraph://calendars/"Billable Archive"',
        timezone="Europe/London",
        destination_calendar=archive,
    )
    ArchiveCopy.objects.create(
        appointment=alice_appointment, destination=archive, event_id="AAMkcopy=", digest="0" * 64
    )
    job = JobConfiguration.objects.create(
        user=alice, archive_configuration=config, schedule_type="daily"
    )
    ArchiveRun.objects.create(
        configuration=config,
        start="2025-05-08",
        end="2025-05-08",
        correlation_id="seed-run",
        task_id=TASK_ID,
    )
    timesheet = Timesheet.objects.create(
        user=alice, customer="Acme", start_date="2025-05-01", end_date="2025-05-31"
    )
    item = ActionLog.objects.create(user=alice, event_type="overlap", description="Two meetings")
    customer = CustomerSettings.objects.create(user=alice, customer="Acme", display_name="Acme")
    BillingProfile.objects.create(user=alice, currency="GBP", hourly_rate=100)
    XeroConnection.objects.create(user=alice)
    audit = audit_record(action_type="test", operation="seed", user=alice)
    token = ApiToken(user=alice, name="Billing script")
    token.set_new_key()
    token.save()
    return {
        "user": str(alice.pk),
        "content_type": str(ContentType.objects.get_for_model(User).pk),
        "appointments": str(alice_appointment.pk),
        "categories": str(alice_appointment.category_id),
        "locations": str(alice_appointment.location_id),
        "calendars": str(archive.pk),
        "timesheets": str(timesheet.pk),
        "customer-settings": str(customer.pk),
        "archive-configurations": str(config.pk),
        "job-configurations": str(job.pk),
        "audit-log": str(audit.pk),
        "action-log": str(item.pk),
    }


def persona_client(user: User | None) -> Client:
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def answers(route: Route, path: str, users: list[User | None]) -> list[tuple[str, int, str]]:
    """(who and how, status, what went wrong) for every persona and method."""
    results = []
    for user in users:
        who = user.email if user else "anonymous"
        for method in ("GET", "POST"):
            # A fresh client each time: a POST may log out or change the session.
            client = persona_client(user)
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, HTTP_X_CSRFTOKEN=CSRF_SECRET)
            error = ""
            if response.status_code == 500 and getattr(response, "exc_info", None):
                error = repr(response.exc_info[1])
            results.append((f"{method} as {who}", response.status_code, error))
    return results
