"""A real `manage.py qcluster` process fires a due archive job, end to end.

The cluster is another process, so it cannot see the test's databases (in-memory on SQLite, an
uncommitted transaction on PostgreSQL). It gets fresh databases of its own, on the same backend as
the test run: they are migrated, filled and inspected through `manage.py`-style subprocesses,
exactly as an operator would set up a machine. Microsoft is the fake running in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from accounts.microsoft import microsoft_scopes
from tests.fakes.microsoft import FakeMicrosoft

# Starts a qcluster process.
pytestmark = pytest.mark.cluster

PROJECT = Path(settings.BASE_DIR)
EMAIL = "alice@example.com"
ZONE = "Europe/London"
# django-q2 1.11's guard calls the scheduler once its cycles add up to 30 s (60 cycles of 0.5 s by
# default). A 30 s cycle calls it on the first cycle, right after start, once the settings pass
# Q_GUARD_CYCLE on as "guard_cycle"; until then the first look comes about 30 s after start.
GUARD_CYCLE = "30"
FIRE_DEADLINE = 75.0
RESULT_DEADLINE = 30.0

SET_UP = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from django_q.models import Schedule
from archiving.schedules import schedule_name
from tests.cluster_seed import connected_daily_job

given = json.load(sys.stdin)
job = connected_daily_job(
    email=given["email"],
    refresh_token=given["refresh_token"],
    zone=given["zone"],
    hour=given["hour"],
    name="Alice Archer",
    is_staff=True,
)
# Due a few seconds ago, off the job's local time: the run must put it back.
Schedule.objects.filter(name=schedule_name(job.pk)).update(
    next_run=timezone.now() - timedelta(seconds=5)
)
print(json.dumps({"job": job.pk}))
"""

INSPECT = """
import json, sys
import django
django.setup()
from django_q.models import Schedule, Task
from archiving.models import JobConfiguration
from archiving.schedules import job_next_run, schedule_name
from auditing.models import AuditLog
from calendars.models import Appointment

job = JobConfiguration.objects.select_related("archive_configuration").get(pk=int(sys.argv[1]))
schedule = Schedule.objects.get(name=schedule_name(job.pk))
print(json.dumps({
    "appointments": [
        [a.subject, a.customer, a.is_archived, a.archive_copies.exists()]
        for a in Appointment.objects.order_by("start_time")
    ],
    "runs": [
        [row.status, row.details.get("copied") if row.details else None]
        for row in AuditLog.objects.filter(action_type="archive", operation="run")
    ],
    "tasks": [[t.func, t.group, t.success] for t in Task.objects.all()],
    "next_run": schedule.next_run.isoformat(),
    "expected_next_run": job_next_run(job=job).isoformat(),
}))
"""


def run_python(code: str, env: dict[str, str], *args: str, stdin: str = "") -> str:
    answer = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args],
        cwd=PROJECT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.strip().splitlines()[-1]


def manage(env: dict[str, str], *args: str) -> None:
    answer = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr


def postgres_url(settings_dict: dict[str, Any], name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{name}"


@contextlib.contextmanager
def fresh_postgres_databases(names: list[str]) -> Iterator[list[str]]:
    """Empty databases on the server the test run uses, dropped afterwards."""
    import psycopg

    server = connections["default"].settings_dict
    maintenance = psycopg.connect(
        dbname="postgres",
        host=server.get("HOST") or None,
        port=server.get("PORT") or None,
        user=server.get("USER") or None,
        password=server.get("PASSWORD") or None,
        autocommit=True,
    )
    try:
        for name in names:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            maintenance.execute(f'CREATE DATABASE "{name}"')
        yield [postgres_url(server, name) for name in names]
    finally:
        for name in names:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.close()


@pytest.fixture
def cluster_databases(tmp_path: Path) -> Iterator[dict[str, str]]:
    """DATABASE_URL and WEB_DATABASE_URL of fresh databases on the backend under test."""
    if connections["default"].vendor == "postgresql":
        base = (
            connections["default"].settings_dict["TEST"].get("NAME")
            or f"test_{connections['default'].settings_dict['NAME']}"
        )
        # PostgreSQL cuts names at 63 bytes; a cut name would not match the URL.
        run = uuid.uuid4().hex[:8]
        names = [f"{base[:40]}_qc_core_{run}", f"{base[:40]}_qc_web_{run}"]
        with fresh_postgres_databases(names) as (core, web):
            yield {"DATABASE_URL": core, "WEB_DATABASE_URL": web}
    else:
        yield {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'core.sqlite3'}",
            "WEB_DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        }


@pytest.fixture
def cluster_env(
    cluster_databases: dict[str, str], fake_microsoft: FakeMicrosoft, tmp_path: Path
) -> dict[str, str]:
    """The environment of every subprocess: its databases, the fake Microsoft, our keys.

    Nothing of the test run's own database, Microsoft or queue settings leaks in, so the broker
    is the default one: the ORM on the `web` database.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "WEB_DATABASE_", "TEST_", "MS_", "Q_", "REDIS_"))
    }
    env.update(cluster_databases)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
            "DJANGO_ENV": "development",
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "VAR_DIR": str(tmp_path / "var"),
            "MS_CLIENT_ID": fake_microsoft.client_id,
            "MS_CLIENT_SECRET": fake_microsoft.client_secret,
            "MS_TENANT_ID": fake_microsoft.tenant,
            "MS_AUTHORITY_HOST": fake_microsoft.authority_host,
            "MS_GRAPH_URL": fake_microsoft.graph_url,
            "MS_CA_BUNDLE": fake_microsoft.ca_bundle,
            "Q_WORKERS": "1",
            "Q_GUARD_CYCLE": GUARD_CYCLE,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    manage(env, "migrate", "--database", "default", "--verbosity", "0")
    manage(env, "migrate", "--database", "web", "--verbosity", "0")
    manage(env, "createcachetable", "--database", "web")
    return env


@contextlib.contextmanager
def qcluster(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py qcluster` in its own process group: SIGTERM, then SIGKILL if it lingers."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=20)
            # Workers are the cluster's children, in the group it leads.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def archive_copies(fake: FakeMicrosoft) -> list[dict[str, Any]]:
    return fake.events(EMAIL, "Archive")


def test_a_running_qcluster_fires_a_due_job_and_archives_yesterday(
    cluster_env: dict[str, str], fake_microsoft: FakeMicrosoft, tmp_path: Path
) -> None:
    fake_microsoft.add_user(EMAIL, name="Alice Archer")
    fake_microsoft.add_calendar(EMAIL, "Archive")
    local_now = datetime.now(zoneinfo.ZoneInfo(ZONE))
    yesterday = local_now.date() - timedelta(days=1)
    fake_microsoft.add_event(
        EMAIL,
        subject="Acme design review",
        start={"dateTime": f"{yesterday}T10:00:00", "timeZone": ZONE},
        end={"dateTime": f"{yesterday}T11:30:00", "timeZone": ZONE},
        categories=["Acme - billable"],
    )
    signed_in = fake_microsoft.sign_in(EMAIL, tuple(microsoft_scopes()))
    # Twelve hours away from now, so the time django-q2 would pick differs from the job's.
    job_hour = (local_now.hour + 12) % 24
    given = {
        "email": EMAIL,
        "refresh_token": signed_in["refresh_token"],
        "zone": ZONE,
        "hour": job_hour,
    }
    job_id = json.loads(run_python(SET_UP, cluster_env, stdin=json.dumps(given)))["job"]
    log = tmp_path / "qcluster.log"

    with qcluster(cluster_env, log) as process:
        deadline = time.monotonic() + FIRE_DEADLINE
        while not archive_copies(fake_microsoft) and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.25)
        assert archive_copies(fake_microsoft), "no archive copy appeared:\n" + log.read_text()
        deadline = time.monotonic() + RESULT_DEADLINE
        state = json.loads(run_python(INSPECT, cluster_env, str(job_id)))
        while not state["tasks"] and time.monotonic() < deadline:
            time.sleep(0.5)
            state = json.loads(run_python(INSPECT, cluster_env, str(job_id)))

    (copy,) = archive_copies(fake_microsoft)
    assert copy["subject"] == "Acme design review"
    assert state["appointments"] == [["Acme design review", "Acme", True, True]]
    assert state["runs"] == [["success", 1]]
    assert state["tasks"] == [
        ["archiving.tasks.scheduled_archive", f"archive-job-{job_id}", True]
    ], log.read_text()
    next_run = datetime.fromisoformat(state["next_run"])
    assert next_run == datetime.fromisoformat(state["expected_next_run"])
    assert next_run.astimezone(zoneinfo.ZoneInfo(ZONE)).hour == job_hour
