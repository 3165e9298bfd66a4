"""scripts/backup and scripts/restore, as the README tells an operator to run them: both
PostgreSQL databases and the documents of one installation are backed up, the installation is
lost, and a restore into fresh databases and an empty document store finds every timesheet, its
files (byte for byte) and its invoice link.

Needs PostgreSQL (the server of DATABASE_URL, or 127.0.0.1:5432): skipped only when it cannot be
reached, which CI never allows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.cluster_helpers import PROJECT, manage, run_in_project, run_python

pytestmark = pytest.mark.slow

SEED = """
import json
from datetime import UTC, date, datetime, timedelta
import django
django.setup()
from accounts.models import User
from calendars.models import Appointment
from timesheets.models import Timesheet
from timesheets.services import timesheet_generate, timesheet_void

alice = User.objects.create_user("alice@example.com", "x-long-password-1", name="Alice Archer")
for month, customer in ((5, "Acme"), (6, "Acme"), (5, "Globex")):
    start = datetime(2025, month, 8, 8, tzinfo=UTC)
    Appointment.objects.create(
        user=alice, subject=f"{customer} review", customer=customer, billing_type="billable",
        categories=[f"{customer} - billable"], start_time=start,
        end_time=start + timedelta(minutes=90),
    )
may = timesheet_generate(
    user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
).timesheet
Timesheet.objects.filter(pk=may.pk).update(
    xero_invoice_id="4f0a6c1e-0000-4000-8000-000000000001", xero_invoice_number="INV-0042",
    xero_invoice_url="https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=4f0a6c1e",
)
timesheet_generate(user=alice, customer="Acme", start=date(2025, 6, 1), end=date(2025, 6, 30))
globex = timesheet_generate(
    user=alice, customer="Globex", start=date(2025, 5, 1), end=date(2025, 5, 31)
).timesheet
timesheet_void(timesheet=globex, user=alice)
print(json.dumps({"timesheets": Timesheet.objects.count()}))
"""

INSPECT = """
import hashlib, json
import django
django.setup()
from django.core.files.storage import default_storage
from django.test import Client
from accounts.models import User
from timesheets.models import Timesheet

def digest(name):
    if not name or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()

client = Client(HTTP_HOST="localhost")
client.force_login(User.objects.get(email="alice@example.com"))
print(json.dumps([
    {
        "id": t.pk, "customer": t.customer, "status": t.status,
        "period": [str(t.start_date), str(t.end_date)],
        "invoice": [t.xero_invoice_id, t.xero_invoice_number, t.xero_invoice_url],
        "appointments": sorted(t.appointments.values_list("subject", flat=True)),
        "files": {n: digest(getattr(t, f)) for n, f in
                  (("pdf", "pdf_path"), ("csv", "csv_path"), ("xlsx", "excel_path"))},
        "download": client.get(f"/api/v1/timesheets/{t.pk}/pdf/").status_code,
    }
    for t in Timesheet.objects.order_by("pk")
]))
"""


def postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return f"postgres://{parts.netloc}"
    return "postgres://postgres@127.0.0.1:5432"


@contextlib.contextmanager
def fresh_databases(server: str, names: list[str]) -> Iterator[list[str]]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {server} is unreachable, and CI provides it: {error}")
        pytest.skip(f"PostgreSQL at {server} is unreachable: {error}")
    try:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        yield [f"{server}/{name}" for name in names]
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def script(name: str, env: dict[str, str], *args: str) -> None:
    run_in_project([str(PROJECT / "scripts" / name), *args], env, timeout=300)


def test_a_restore_into_fresh_databases_finds_every_timesheet_its_files_and_invoice_link(
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:8]
    names = [f"aa_restore_{role}_{run}" for role in ("core", "web", "core2", "web2")]
    with fresh_databases(postgres_server(), names) as (core, web, new_core, new_web):
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "WEB_DATABASE_", "TEST_", "MS_", "Q_", "REDIS_"))
        }
        base |= {
            "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
            "DJANGO_ENV": "development",
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "VAR_DIR": str(tmp_path / "var"),
            "PYTHON": sys.executable,
        }
        before = {
            **base,
            "DATABASE_URL": core,
            "WEB_DATABASE_URL": web,
            "MEDIA_ROOT": str(tmp_path / "old-disk"),
        }
        manage(before, "migrate", "--database", "default", "--verbosity", "0")
        manage(before, "migrate", "--database", "web", "--verbosity", "0")
        assert json.loads(run_python(SEED, before)) == {"timesheets": 3}
        original = json.loads(run_python(INSPECT, before))

        script("backup", before, str(tmp_path / "backup"))
        shutil.rmtree(tmp_path / "old-disk")  # the machine is lost
        after = {
            **base,
            "DATABASE_URL": new_core,
            "WEB_DATABASE_URL": new_web,
            "MEDIA_ROOT": str(tmp_path / "new-disk"),
        }
        script("restore", after, str(tmp_path / "backup"))
        restored = json.loads(run_python(INSPECT, after))

    assert restored == original
    assert [t["status"] for t in restored] == ["issued", "issued", "void"]
    assert restored[0]["invoice"][1] == "INV-0042"
    assert all(digest for t in restored for digest in t["files"].values())
    assert [t["download"] for t in restored] == [200, 200, 200]
