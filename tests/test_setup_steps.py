"""`migrate` on both databases is enough for a working app; `check` says what is missing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# Each test runs manage.py in subprocesses against fresh databases.
pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'core.sqlite3'}",
        "WEB_DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "CACHE_URL": "dbcache://django_cache",
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    for database in ("default", "web"):
        done = manage(tmp_path, "migrate", "--database", database, "--no-input", "-v", "0")
        assert done.returncode == 0, done.stderr
    return tmp_path


def test_migrating_both_databases_creates_the_cache_table(migrated: Path) -> None:
    with sqlite3.connect(migrated / "web.sqlite3") as web:
        tables = {row[0] for row in web.execute("SELECT name FROM sqlite_master")}

    assert "django_cache" in tables
    assert manage(migrated, "check").returncode == 0


def test_check_fails_with_the_command_to_run_when_the_cache_table_is_missing(
    migrated: Path,
) -> None:
    with sqlite3.connect(migrated / "web.sqlite3") as web:
        web.execute("DROP TABLE django_cache")

    failed = manage(migrated, "check")
    mended = manage(migrated, "migrate", "--database", "web", "--no-input", "-v", "0")

    assert failed.returncode != 0
    assert "python manage.py migrate --database web" in failed.stderr
    assert mended.returncode == 0, mended.stderr
    assert manage(migrated, "check").returncode == 0
