"""Periods and 'today' are counted in the user's own time zone, taken from Outlook on connect."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.models import User
from adminassistant.dashboard import dashboard_month
from archiving.models import ArchiveConfiguration
from calendars.models import Appointment
from foundations.days import day_bounds_utc, today_in
from foundations.validators import iana_time_zone
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory, UserFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.test_microsoft_connect import DeviceSignIn, finish_at_callback, start_connect
from tests.unchanged import unchanged
from tests.web_helpers import logged_in
from timesheets.services import timesheet_file, timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def carol(db: None) -> User:
    """A London consultant who never chose a time zone (the default is UTC)."""
    return UserFactory(email="carol@example.com", name="Carol Clark")


@pytest.fixture
def fake_carol(fake_microsoft: FakeMicrosoft, carol: User) -> FakeMicrosoft:
    fake_microsoft.add_user(carol.email, name=carol.name)
    fake_microsoft.set_mailbox_time_zone(carol.email, "GMT Standard Time")
    return fake_microsoft


def connect_in_the_admin(fake: FakeMicrosoft, user: User) -> User:
    client = logged_in(user)
    finish_at_callback(client, fake.authorize_url_response(start_connect(client, user)))
    user.refresh_from_db()
    return user


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("GMT Standard Time", "Europe/London"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Romance Standard Time", "Europe/Paris"),
        ("UTC", "UTC"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("Not A Zone", None),
        ("", None),
    ],
)
def test_outlook_zone_names_map_to_iana(reported: str, expected: str | None) -> None:
    assert iana_time_zone(reported) == expected


def test_connecting_in_the_admin_takes_the_mailboxs_time_zone(
    fake_carol: FakeMicrosoft, carol: User
) -> None:
    assert carol.timezone == "UTC"

    carol = connect_in_the_admin(fake_carol, carol)

    assert carol.timezone == "Europe/London"
    assert not carol.timezone_chosen


def test_a_london_consultant_gets_the_0030_flight_on_the_first_day_of_the_period(
    fake_carol: FakeMicrosoft, carol: User
) -> None:
    carol = connect_in_the_admin(fake_carol, carol)
    configuration = ArchiveConfigurationFactory(user=carol)
    add_event(fake_carol, carol, "Flight to Acme", "2025-05-19T00:30", 90)
    run_archive(configuration, start=date(2025, 5, 19))

    generation = timesheet_generate(
        user=carol, customer="Acme", start=date(2025, 5, 19), end=date(2025, 5, 24)
    )

    billed = Appointment.objects.filter(timesheet=generation.timesheet)
    assert [a.subject for a in billed] == ["Flight to Acme"]
    assert generation.data.period == "19\u201324 May 2025, Europe/London"
    pdf = PdfReader(io.BytesIO(timesheet_file(timesheet=generation.timesheet, fmt="pdf")[1]))
    assert "Europe/London" in pdf.pages[0].extract_text()


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_an_amsterdam_consultant_connected_by_device_code_counts_days_around_the_march_change(
    fake_microsoft: FakeMicrosoft,
) -> None:
    dana = UserFactory(email="dana@example.com", name="Dana Dekker")
    fake_microsoft.add_user(dana.email, name=dana.name)
    fake_microsoft.set_mailbox_time_zone(dana.email, "W. Europe Standard Time")
    fake_microsoft.device_code_interval = 0
    fake_microsoft.allow_public_client_flows = True
    sign_in = DeviceSignIn(dana.email)
    fake_microsoft.approve_device_code(sign_in.user_code, dana.email)
    sign_in.wait()
    dana.refresh_from_db()
    assert dana.timezone == "Europe/Berlin"  # CLDR's zone for W. Europe Standard Time

    configuration = ArchiveConfigurationFactory(user=dana, timezone="Europe/Amsterdam")
    # 00:30 on Sunday 30 March (CET, 23:30Z the day before) and on Monday 31 March (CEST,
    # 22:30Z the day before): both belong to the local days they start on.
    add_event(fake_microsoft, dana, "Acme night call", "2025-03-30T00:30", zone="Europe/Amsterdam")
    add_event(fake_microsoft, dana, "Acme early call", "2025-03-31T00:30", zone="Europe/Amsterdam")
    add_event(fake_microsoft, dana, "Acme late call", "2025-03-29T23:30", zone="Europe/Amsterdam")
    run_archive(configuration, start=date(2025, 3, 29), end=date(2025, 3, 31))

    generation = timesheet_generate(
        user=dana, customer="Acme", start=date(2025, 3, 30), end=date(2025, 3, 31)
    )

    billed = Appointment.objects.filter(timesheet=generation.timesheet).order_by("start_time")
    assert [a.subject for a in billed] == ["Acme night call", "Acme early call"]


def test_a_zone_the_user_chose_is_not_replaced_when_connecting(
    fake_carol: FakeMicrosoft, carol: User
) -> None:
    api = APIClient()
    api.force_authenticate(carol)
    assert api.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json").status_code == 200

    carol = connect_in_the_admin(fake_carol, carol)

    assert (carol.timezone, carol.timezone_chosen) == ("Asia/Tokyo", True)


def test_the_user_page_lets_the_user_choose_a_zone(fake_carol: FakeMicrosoft, carol: User) -> None:
    client = logged_in(carol)
    page = client.get(reverse("admin:accounts_user_change", args=[carol.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}
    data.update({"timezone": "America/New_York", "groups": []})

    answer = client.post(reverse("admin:accounts_user_change", args=[carol.pk]), data)

    assert answer.status_code == 302
    carol.refresh_from_db()
    assert (carol.timezone, carol.timezone_chosen) == ("America/New_York", True)


def test_an_unknown_zone_is_refused_and_nothing_changes(carol: User) -> None:
    api = APIClient()
    api.force_authenticate(carol)

    with unchanged():
        answer = api.patch("/api/v1/me/", {"timezone": "Mars/Olympus_Mons"}, format="json")

    assert answer.status_code == 400
    assert "not a valid IANA time zone" in str(answer.json())
    carol.refresh_from_db()
    assert (carol.timezone, carol.timezone_chosen) == ("UTC", False)


def test_a_new_configuration_defaults_to_its_users_zone(alice: User) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    client = logged_in(alice)

    answer = api.post(
        "/api/v1/archive-configurations/",
        {
            "name": "Per-client archive",
            "source_calendar_uri": "msgraph://calendars/Calendar",
            "destination_calendar_uri": "msgraph://calendars/Acme",
        },
        format="json",
    )
    form = client.get(reverse("admin:archiving_archiveconfiguration_add")).context["adminform"]

    assert answer.status_code == 201, answer.content
    assert ArchiveConfiguration.objects.get(name="Per-client archive").timezone == "Europe/London"
    assert form.form.initial["timezone"] == "Europe/London"


def test_the_timesheet_command_and_api_say_the_zone_of_the_period(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    run_archive(ArchiveConfigurationFactory(user=connected_alice))
    out = io.StringIO()

    call_command(
        "timesheet",
        connected_alice.email,
        "--customer=Acme",
        "--start=2025-05-01",
        "--end=2025-05-31",
        stdout=out,
    )
    api = APIClient()
    api.force_authenticate(connected_alice)
    listed = api.get("/api/v1/timesheets/").json()["results"][0]

    assert "1\u201331 May 2025, Europe/London" in out.getvalue()
    assert listed["period"] == "1\u201331 May 2025, Europe/London"


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Europe/Madrid", "Europe/Zurich"])
def test_graph_refuses_an_undocumented_iana_zone_and_the_client_never_sends_one(
    fake_alice: FakeMicrosoft, connected_alice: User, zone: str
) -> None:
    from accounts.microsoft import graph_client
    from foundations.graph import GraphClient, GraphError

    strict = GraphClient(
        base_url=fake_alice.graph_url,
        token=lambda refresh: fake_alice.sign_in(connected_alice.email)["access_token"],
        session=fake_alice.http_session(),
        timezone=zone,
    )
    with pytest.raises(GraphError, match="TimeZoneNotSupportedException"):
        strict.list_calendars()

    configuration = ArchiveConfigurationFactory(user=connected_alice, timezone=zone)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00", zone=zone)
    result = run_archive(configuration)

    assert result.counts.copied == 1
    assert graph_client(user=connected_alice).prefer().endswith('outlook.timezone="UTC"')


# -- today is the user's day ---------------------------------------------------------------------


JUST_AFTER_AUCKLAND_MIDNIGHT = datetime(2025, 5, 31, 12, 30, tzinfo=UTC)


@pytest.fixture
def kiri(db: None, monkeypatch: pytest.MonkeyPatch) -> User:
    monkeypatch.setattr(timezone, "now", lambda: JUST_AFTER_AUCKLAND_MIDNIGHT)
    return UserFactory(email="kiri@example.com", name="Kiri Tane", timezone="Pacific/Auckland")


def test_today_is_the_date_in_the_zone_asked_for() -> None:
    assert today_in("Pacific/Auckland", now=JUST_AFTER_AUCKLAND_MIDNIGHT) == date(2025, 6, 1)
    assert today_in("UTC", now=JUST_AFTER_AUCKLAND_MIDNIGHT) == date(2025, 5, 31)


def test_a_local_day_spans_its_own_hours_across_a_dst_change() -> None:
    start, end = day_bounds_utc(date(2025, 3, 30), date(2025, 3, 30), "Europe/London")

    assert (start, end) == (
        datetime(2025, 3, 30, 0, 0, tzinfo=UTC),
        datetime(2025, 3, 30, 23, 0, tzinfo=UTC),
    )


def test_the_dashboard_opens_on_the_users_own_month(kiri: User) -> None:
    request = RequestFactory().get("/admin/")
    request.user = kiri

    assert dashboard_month(request, kiri) == date(2025, 6, 1)


def test_the_timesheet_commands_today_is_the_consultants_day(kiri: User) -> None:
    with pytest.raises(CommandError, match="from 2025-06-01 to 2025-06-01"):
        call_command(
            "timesheet", kiri.email, "--customer", "Acme", "--start", "today", "--end", "today"
        )
