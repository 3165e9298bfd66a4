"""OneDrive names: every folder and file name is made valid before the upload (naming rules of
concepts/onedrive-addressing-driveitems.md), and the fake refuses what OneDrive refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from accounts.microsoft import graph_client
from accounts.models import User
from foundations.graph import GraphError
from tests.factories import AppointmentFactory
from tests.fakes.microsoft import FakeMicrosoft
from timesheets.models import CustomerSettings
from timesheets.onedrive import onedrive_name, onedrive_path
from timesheets.services import timesheet_generate, timesheet_upload_onedrive


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("Acme Ltd.", "Acme Ltd"),
        ("A/S", "A-S"),
        ("Back\\slash", "Back-slash"),
        ('say "hi"', "say -hi-"),
        ("a*b:c<d>e?f|g", "a-b-c-d-e-f-g"),
        ("#1 at 100%", "-1 at 100-"),
        ("~draft", "draft"),
        ("  padded  ", "padded"),
        ("ends with dots...", "ends with dots"),
        ("CON", "CON_"),
        ("nul.pdf", "nul_.pdf"),
        ("COM1.csv", "COM1_.csv"),
        ("desktop.ini", "desktop_.ini"),
        (".lock", "_.lock"),
        ("my_vti_file", "my_vti-file"),
        ("Tab\there", "Tab-here"),
        ("...", "_"),
        ("", "_"),
        ("Console", "Console"),
        (
            "Alice Archer timesheet for Acme 31 May 25.pdf",
            "Alice Archer timesheet for Acme 31 May 25.pdf",
        ),
    ],
)
def test_onedrive_name_follows_the_naming_rules(name: str, cleaned: str) -> None:
    assert onedrive_name(name) == cleaned


def test_a_long_name_is_cut_to_255_characters() -> None:
    assert len(onedrive_name("x" * 400)) == 255


def test_onedrive_path_cleans_each_segment_and_keeps_the_separators() -> None:
    assert onedrive_path("Timesheets", "A/S", "Acme Ltd.") == "Timesheets/A-S/Acme Ltd"


pytestmark_db = pytest.mark.django_db(databases=["default", "web"])


@pytestmark_db
@pytest.mark.parametrize("name", ["Acme Ltd.", "~tmp", "a:b", "100%", "CON", "x_vti_y"])
def test_the_fake_refuses_a_name_onedrive_refuses(
    connected_alice: User, fake_alice: FakeMicrosoft, name: str
) -> None:
    client = graph_client(user=connected_alice)

    with pytest.raises(GraphError) as raised:
        client.upload_file(f"Timesheets/{name}/t.csv", b"x")

    assert raised.value.status == 400
    assert fake_alice.files(connected_alice.email) == {}


@pytestmark_db
def test_a_customer_named_with_reserved_characters_gets_one_valid_folder(
    connected_alice: User, fake_alice: FakeMicrosoft, settings: object, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    CustomerSettings.objects.create(
        user=connected_alice, customer="Acme", display_name="A/S Acme Ltd."
    )
    AppointmentFactory(
        user=connected_alice,
        customer="Acme",
        billing_type="billable",
        categories=["Acme - billable"],
        start_time=datetime(2025, 5, 8, 8, tzinfo=UTC),
    )
    timesheet = timesheet_generate(
        user=connected_alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet

    timesheet_upload_onedrive(timesheet=timesheet, user=connected_alice)

    folders = {path.rsplit("/", 1)[0] for path in fake_alice.files(connected_alice.email)}
    assert folders == {"Timesheets/A-S Acme Ltd"}
