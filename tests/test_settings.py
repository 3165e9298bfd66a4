"""Settings: runs with nothing configured, refuses production without secrets, deploy-clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

# Each test starts manage.py in a subprocess with its own environment.
pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CONFIG_VARIABLES = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "DJANGO_ENV",
    "DJANGO_DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "WEB_DATABASE_URL",
    "MS_CLIENT_ID",
    "MS_CLIENT_SECRET",
    "REDIS_URL",
    "CACHE_URL",
)


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment["VAR_DIR"] = str(tmp_path / "var")
    environment.update(variables)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_secrets() -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "admin.example.com",
        "MS_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
        "MS_CLIENT_SECRET": "client-secret-for-the-check",
        "XERO_CLIENT_ID": "XEROCLIENTIDFORTHECHECK000000000",
        "XERO_CLIENT_SECRET": "xero-secret-for-the-check",
        "XERO_REDIRECT_URI": "https://admin.example.com/admin/timesheets/xeroconnection/callback/",
    }


def test_development_runs_with_nothing_configured_and_keeps_its_keys_in_var(
    tmp_path: Path,
) -> None:
    result = manage(tmp_path, "check")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "secret_key").exists()
    assert (tmp_path / "var" / "field_encryption_key").exists()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_a_secret(tmp_path: Path, missing: str) -> None:
    variables = production_secrets()
    del variables[missing]

    result = manage(tmp_path, "check", **variables)

    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production." in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_refuses_a_malformed_encryption_key(tmp_path: Path) -> None:
    variables = {**production_secrets(), "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}

    result = manage(tmp_path, "check", **variables)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_secrets()
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    off = manage(tmp_path, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    on = manage(
        tmp_path,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_DEBUG="1",
    )

    assert off.stdout.splitlines()[-1] == "False"
    assert on.stdout.splitlines()[-1] == "True"


def test_an_unknown_environment_name_is_refused(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", DJANGO_ENV="staging")

    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr
