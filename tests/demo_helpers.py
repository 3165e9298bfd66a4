"""Running `manage.py demo` in tests: in the test itself, or once for a module whose tests only
read what it made (`shared_demo_run`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from pytest_django import DjangoDbBlocker

LONDON = ZoneInfo("Europe/London")
DEMO_PASSWORD = "demo-secret-42"
# The demo hashes two passwords per run; the production hasher would dominate the run time.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = ("default", "web")


def run_demo(*args: str) -> str:
    output = StringIO()
    call_command("demo", *args, stdout=output)
    return output.getvalue()


def yesterday_in_london() -> date:
    return timezone.now().astimezone(LONDON).date() - timedelta(days=1)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


@contextmanager
def shared_demo_run(blocker: DjangoDbBlocker, media_root: Path, *args: str) -> Iterator[str]:
    """One demo run (its output) inside a transaction on each database, rolled back at the end.
    Each test's own transaction nests in it as a savepoint, so what a test writes is undone
    after that test. PORT is unset, so the output names the default address."""
    with (
        override_settings(
            PASSWORD_HASHERS=FAST_HASHERS, DEMO_PASSWORD=DEMO_PASSWORD, MEDIA_ROOT=media_root
        ),
        pytest.MonkeyPatch.context() as env,
        blocker.unblock(),
        transaction.atomic(using="default"),
        transaction.atomic(using="web"),
    ):
        env.delenv("PORT", raising=False)
        try:
            output = run_demo(*args)
            with blocker.block():  # tests reach the databases through their django_db mark
                yield output
        finally:
            for alias in DATABASES:
                transaction.set_rollback(True, using=alias)
