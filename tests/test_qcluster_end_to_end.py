"""A real `manage.py qcluster` process fires a due archive job, end to end.

The cluster is another process with fresh, migrated databases of its own on the same backend as
the test run (tests/cluster_helpers.py): they are filled and inspected through `manage.py`-style
subprocesses, as an operator would on a machine. Microsoft is the fake running in this process.
"""

from __future__ import annotations

import json
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accounts.microsoft import microsoft_scopes
from tests.cluster_helpers import qcluster, run_python
from tests.fakes.microsoft import FakeMicrosoft

# Starts a qcluster process.
pytestmark = pytest.mark.cluster

EMAIL = "alice@example.com"
ZONE = "Europe/London"
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
