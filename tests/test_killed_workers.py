"""A real qcluster is SIGKILLed (sentinel and workers, by PID) in the middle of two scheduled
archive runs, then started again: every configuration is archived once, every run row is
finished (the dead one abandoned with the reason, its work taken over once), no copy is made
twice and no day is missed. With the ORM broker (django-q2 re-delivers the killed tasks after
Q_RETRY: they do nothing) and with Redis (which forgets what the dead cluster had prefetched: the
queued run is seen to be lost and taken over).

The kill points: a run blocked on its first Graph write ($batch) — nothing written yet; on its
second batch — one written, one not; after its last batch was applied but before the answer
came back; and after all its work, just before its run row is closed (tests.faultpoints).

Each test writes its row of the fault table to $FAULTS_REPORT when set (benchmarks/faults.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accounts.microsoft import microsoft_scopes
from tests.cluster_helpers import qcluster, run_python
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.cluster

# One Redis database per pytest-xdist worker, so two of these tests never share a queue.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 11 + _WORKER % 2
ZONE = "Europe/London"
PEOPLE = ("alice@example.com", "bob@example.com")
EVENTS_PER_DAY = 13  # two days: 26 copies, two $batch requests of at most 20
FAULT_DEADLINE = 60.0
RECOVERY_DEADLINE = 120.0

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
        email=person["email"], refresh_token=person["refresh_token"], zone=given["zone"],
        hour=given["hour"],
    )
Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=5))
print(json.dumps({"schedules": Schedule.objects.count()}))
"""

INSPECT = """
import json
import django
django.setup()
from django.test import Client
from django_q.models import OrmQ
from accounts.models import User
from archiving.models import ArchiveRun
from auditing.models import AuditLog
from calendars.models import Appointment

answers = []
for run in ArchiveRun.objects.exclude(task_id=None).select_related("configuration__user"):
    client = Client(HTTP_HOST="localhost")
    client.force_login(run.configuration.user)
    answers.append(client.get(f"/api/v1/archive-runs/{run.task_id}/").status_code)
print(json.dumps({
    "runs": [
        [r.configuration.user.email, r.status, r.retry_of_id, r.error, r.started_at is not None]
        for r in ArchiveRun.objects.select_related("configuration__user").order_by("pk")
    ],
    "audit_running": AuditLog.objects.filter(operation="run", status="running").count(),
    "days": {
        user.email: sorted({
            a.start_time.date().isoformat()
            for a in Appointment.objects.filter(user=user, is_archived=True)
        })
        for user in User.objects.all()
    },
    "orm_queue": OrmQ.objects.count(),
    "status_answers": answers,
}))
"""


def redis_or_skip() -> None:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError:
        message = f"this test needs Redis on {REDIS_HOST}:{REDIS_PORT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, which CI provides")
        pytest.skip(message)


def process_group(leader: int) -> list[int]:
    """The PIDs of the cluster: its sentinel, workers, monitor and pusher, and itself."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == leader:  # the process group
                pids.append(int(entry.name))
    return pids


def kill_hard(process: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL every process of the cluster by PID, as `kill -9` would, workers first."""
    pids = sorted(process_group(process.pid), key=lambda pid: pid == process.pid)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while process_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


def seed(fake: FakeMicrosoft, env: dict[str, str]) -> list[str]:
    """Two people, each with EVENTS_PER_DAY billable events yesterday and the day before, and a
    daily archive job due now; the days they must end up with."""
    local_now = datetime.now(zoneinfo.ZoneInfo(ZONE))
    days = [local_now.date() - timedelta(days=back) for back in (2, 1)]
    people = []
    for email in PEOPLE:
        fake.add_user(email, name=email)
        fake.add_calendar(email, "Archive")
        for day in days:
            for number in range(EVENTS_PER_DAY):
                hour, minute = divmod(8 * 60 + number * 30, 60)
                fake.add_event(
                    email,
                    subject=f"Acme {day} {number}",
                    start={"dateTime": f"{day}T{hour:02d}:{minute:02d}:00", "timeZone": ZONE},
                    end={"dateTime": f"{day}T{hour:02d}:{minute + 20:02d}:00", "timeZone": ZONE},
                    categories=["Acme - billable"],
                )
        signed_in = fake.sign_in(email, tuple(microsoft_scopes()))
        people.append({"email": email, "refresh_token": signed_in["refresh_token"]})
    given = {"people": people, "zone": ZONE, "hour": (local_now.hour + 12) % 24}
    assert json.loads(run_python(SET_UP, env, stdin=json.dumps(given)))["schedules"] == 2
    return [day.isoformat() for day in days]


def arm(fake: FakeMicrosoft, point: str, tmp_path: Path, env: dict[str, str]) -> Any:
    """Set the trap for the kill point; a callable that says whether a run is caught in it."""
    batch = {"path_contains": "/$batch", "method": "POST"}
    if point == "before the Graph writes":
        fault = fake.inject(delay=FAULT_DEADLINE, drop=True, times=None, **batch)
    elif point == "between batches":
        fault = fake.inject(delay=FAULT_DEADLINE, drop=True, on_request=2, times=None, **batch)
    elif point == "after the last write":
        fault = fake.inject(delay=FAULT_DEADLINE, lose_reply=True, on_request=2, **batch)
    else:
        marker = tmp_path / "before-run-closed"
        env["FAULT_PAUSE_BEFORE_RUN_CLOSED"] = str(marker)
        return marker.exists
    return lambda: fault.hits > 0


def fault_row(fake: FakeMicrosoft, state: dict[str, Any], days: list[str]) -> dict[str, int]:
    runs = state["runs"]
    successes = dict.fromkeys(PEOPLE, 0)
    for email, status, *_ in runs:
        if status in {"success", "partial"}:
            successes[email] += 1
    copies = {email: [e["subject"] for e in fake.events(email, "Archive")] for email in PEOPLE}
    missed_days = sum(1 for email in PEOPLE for day in days if day not in state["days"][email])
    return {
        "runs started": sum(1 for *_, started in runs if started),
        "runs finished": sum(1 for _, status, *_ in runs if status not in {"queued", "running"}),
        "runs unfinished": sum(1 for _, status, *_ in runs if status in {"queued", "running"}),
        "runs abandoned": sum(1 for _, status, *_ in runs if status == "abandoned"),
        "doubled": sum(max(0, n - 1) for n in successes.values()),
        "lost": sum(1 for n in successes.values() if n == 0) + missed_days,
        "copies duplicated": sum(len(c) - len(set(c)) for c in copies.values()),
        "copies missing": sum(2 * EVENTS_PER_DAY - len(set(c)) for c in copies.values()),
        "500s": sum(1 for status in state["status_answers"] if status >= 500),
    }


def report(broker: str, point: str, row: dict[str, int]) -> None:
    target = os.environ.get("FAULTS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"broker": broker, "fault": point, **row}) + "\n")


@pytest.mark.parametrize("broker", ["orm", "redis"])
@pytest.mark.parametrize(
    "point",
    [
        "before the Graph writes",
        "between batches",
        "after the last write",
        "before the run row is closed",
    ],
)
def test_a_cluster_killed_mid_run_and_restarted_archives_every_configuration_once(
    cluster_env: dict[str, str],
    fake_microsoft: FakeMicrosoft,
    tmp_path: Path,
    broker: str,
    point: str,
) -> None:
    env = {
        **cluster_env,
        "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
        "Q_WORKERS": "1",
        # A run here takes a fraction of a second; the ORM broker re-delivers the killed tasks
        # Q_RETRY after they were pulled, and the test waits for that.
        "Q_TIMEOUT": "10",
        "Q_RETRY": "12",
        "ARCHIVE_HEARTBEAT_SECONDS": "0.5",
        "ARCHIVE_RUN_STALE_SECONDS": "3",
        "ARCHIVE_QUEUE_STALE_SECONDS": "15",
    }
    name = f"i24b-kill-{uuid.uuid4().hex[:8]}"
    if broker == "redis":
        redis_or_skip()
        env |= {
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
            "Q_CLUSTER_NAME": name,
            # The restarted cluster looks for lost runs as it starts, seconds after the kill,
            # and then only once django-q2's scheduler cycle (30 s) comes round again.
            "ARCHIVE_QUEUE_STALE_SECONDS": "2",
        }
    days = seed(fake_microsoft, env)
    first_env = dict(env)
    caught = arm(fake_microsoft, point, tmp_path, first_env)
    log = tmp_path / "qcluster.log"
    try:
        with qcluster(first_env, log, append=True) as first:
            deadline = time.monotonic() + FAULT_DEADLINE
            while not caught() and time.monotonic() < deadline:
                assert first.poll() is None, log.read_text()[-5000:]
                time.sleep(0.1)
            assert caught(), f"no run reached {point}:\n" + log.read_text()[-5000:]
            killed = kill_hard(first)
        assert len(killed) >= 3, killed  # the cluster, its sentinel and at least its worker
        fake_microsoft.clear_faults()

        with qcluster(env, log, append=True):
            deadline = time.monotonic() + RECOVERY_DEADLINE
            state = json.loads(run_python(INSPECT, env))
            while time.monotonic() < deadline and not settled(state, broker):
                time.sleep(1)
                state = json.loads(run_python(INSPECT, env))
    finally:
        if broker == "redis":
            flush_redis(name)

    row = fault_row(fake_microsoft, state, days)
    report(broker, point, row)
    logs = log.read_text()[-8000:]
    assert row == {**row, "runs unfinished": 0, "doubled": 0, "lost": 0}, (state, logs)
    assert row["copies duplicated"] == row["copies missing"] == row["500s"] == 0, (state, logs)
    assert state["audit_running"] == 0, state
    abandoned = [r for r in state["runs"] if r[1] == "abandoned"]
    assert abandoned, state  # the killed run tells what became of it
    for _, _, _, error, _ in abandoned:
        assert error.startswith(("Its worker ", "Its task never started")), error
        assert "took its work over" in error, error


def settled(state: dict[str, Any], broker: str) -> bool:
    """Every run row finished, both archived, and (ORM) the killed tasks re-delivered and gone."""
    runs = state["runs"]
    done = {email for email, status, *_ in runs if status in {"success", "partial"}}
    return (
        all(status not in {"queued", "running"} for _, status, *_ in runs)
        and done == set(PEOPLE)
        and (broker != "orm" or state["orm_queue"] == 0)
    )


def flush_redis(name: str) -> None:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)
    client.close()
