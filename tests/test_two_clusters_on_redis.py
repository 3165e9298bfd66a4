"""Two real `manage.py qcluster` processes on Redis share 20 due archive jobs: each
configuration is archived exactly once and no archive copy is duplicated.

The clusters get fresh databases on the test run's backend (PostgreSQL in CI, where
`DATABASE_URL` is set; SQLite files otherwise) and Redis database 7 with a cluster name of their
own, so nothing is shared with other runs. Without Redis the test skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from accounts.microsoft import microsoft_scopes
from tests.cluster_helpers import qcluster, run_python
from tests.fakes.microsoft import FakeMicrosoft

# One Redis database per pytest-xdist worker, so two of these tests never share a queue.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7 + _WORKER % 2
# Starts two qcluster processes on Redis.
pytestmark = pytest.mark.cluster

ZONE = "Europe/London"
JOBS = 20
DEADLINE = 150.0

SET_UP = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from django_q.models import Schedule
from tests.cluster_seed import connected_daily_job

given = json.load(sys.stdin)
for person in given["people"]:
    connected_daily_job(
        email=person["email"],
        refresh_token=person["refresh_token"],
        zone=given["zone"],
        hour=given["hour"],
    )
# Every schedule due a few seconds ago.
Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=5))
print(json.dumps({"schedules": Schedule.objects.count()}))
"""

INSPECT = """
import json
import django
django.setup()
from django.db.models import Count
from archiving.models import ArchiveConfiguration, ArchiveRun
from auditing.models import AuditLog

print(json.dumps({
    "configurations": ArchiveConfiguration.objects.count(),
    "audited_runs": list(
        AuditLog.objects.filter(action_type="archive", operation="run")
        .values("resource_id").annotate(n=Count("id")).values_list("resource_id", "n")
    ),
    "recorded_runs": list(
        ArchiveRun.objects.values("configuration_id", "status").annotate(n=Count("id"))
        .values_list("configuration_id", "status", "n")
    ),
}))
"""


def redis_or_fail() -> None:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError:
        message = f"this test needs Redis on {REDIS_HOST}:{REDIS_PORT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, which CI provides")
        pytest.skip(message)


def person(number: int) -> str:
    return f"user{number:02d}@example.com"


def copies(fake: FakeMicrosoft, email: str) -> list[dict]:
    return fake.events(email, "Archive")


def test_two_clusters_on_redis_archive_each_due_configuration_exactly_once(
    cluster_env: dict[str, str],
    fake_microsoft: FakeMicrosoft,
    tmp_path: Path,
) -> None:
    redis_or_fail()
    import redis

    name = f"wt15-two-clusters-{uuid.uuid4().hex[:8]}"
    env = {
        **cluster_env,
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": "2",
    }
    local_now = datetime.now(zoneinfo.ZoneInfo(ZONE))
    yesterday = local_now.date() - timedelta(days=1)
    people = []
    for number in range(JOBS):
        email = person(number)
        fake_microsoft.add_user(email, name=email)
        fake_microsoft.add_calendar(email, "Archive")
        fake_microsoft.add_event(
            email,
            subject=f"Acme review {number}",
            start={"dateTime": f"{yesterday}T10:00:00", "timeZone": ZONE},
            end={"dateTime": f"{yesterday}T11:00:00", "timeZone": ZONE},
            categories=["Acme - billable"],
        )
        signed_in = fake_microsoft.sign_in(email, tuple(microsoft_scopes()))
        people.append({"email": email, "refresh_token": signed_in["refresh_token"]})
    given = {"people": people, "zone": ZONE, "hour": (local_now.hour + 12) % 24}
    set_up = json.loads(run_python(SET_UP, env, stdin=json.dumps(given)))
    assert set_up["schedules"] == JOBS

    def done() -> bool:
        return all(copies(fake_microsoft, person(n)) for n in range(JOBS))

    try:
        with qcluster(env, tmp_path / "first.log"), qcluster(env, tmp_path / "second.log"):
            deadline = time.monotonic() + DEADLINE
            while not done() and time.monotonic() < deadline:
                time.sleep(0.5)
            # Room for a second firing, if there were one, to show itself.
            time.sleep(3)
            state = json.loads(run_python(INSPECT, env))
    finally:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        for key in client.scan_iter(f"*{name}*"):
            client.delete(key)
        client.close()

    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert done(), "not every configuration was archived:\n" + logs[-5000:]
    assert [len(copies(fake_microsoft, person(n))) for n in range(JOBS)] == [1] * JOBS
    assert state["configurations"] == JOBS
    assert sorted(n for _, n in state["audited_runs"]) == [1] * JOBS, logs[-5000:]
    assert sorted(state["recorded_runs"]) == sorted(
        [configuration, "success", 1] for configuration, _, _ in state["recorded_runs"]
    )
    assert len(state["recorded_runs"]) == JOBS
