"""What the tests that start other processes (a qcluster, a second machine's worker, a restore)
share: our interpreter and `manage.py` in the project, the cluster's own databases, and a
qcluster in its own process group.

A cluster is another process, so it cannot see the test's databases (in-memory on SQLite, an
uncommitted transaction on PostgreSQL). It gets fresh databases of its own on the backend under
test, copied from a pair migrated once per test process (`CREATE DATABASE ... TEMPLATE` on
PostgreSQL, a file copy on SQLite): migrating both databases takes longer than most of these
tests' own work. The fixtures (`cluster_env`, `cluster_databases`) are in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connections

PROJECT = Path(settings.BASE_DIR)
# django-q2 1.11's guard calls the scheduler once its cycles add up to 30 s (60 cycles of 0.5 s by
# default). A 30 s cycle calls it on the first cycle, right after start, once the settings pass
# Q_GUARD_CYCLE on as "guard_cycle"; until then the first look comes about 30 s after start.
GUARD_CYCLE = "30"
SQLITE_FILES = ("core.sqlite3", "web.sqlite3")


def run_in_project(
    command: list[str], env: dict[str, str], *, stdin: str = "", timeout: int = 120
) -> str:
    """Run `command` in the project folder; what it printed. A failure fails the test, with
    what the command said."""
    answer = subprocess.run(  # noqa: S603 - our own interpreter, manage.py and scripts
        command,
        cwd=PROJECT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    return answer.stdout


def run_python(code: str, env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run `code` with our interpreter in the project; the last line it printed."""
    printed = run_in_project([sys.executable, "-c", code, *args], env, stdin=stdin)
    return printed.strip().splitlines()[-1]


def manage(env: dict[str, str], *args: str) -> None:
    run_in_project([sys.executable, "manage.py", *args], env, timeout=300)


def postgres_url(settings_dict: dict[str, Any], name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{name}"


def on_postgres() -> bool:
    return connections["default"].vendor == "postgresql"


@contextlib.contextmanager
def fresh_postgres_databases(
    names: list[str], templates: list[str] | None = None
) -> Iterator[list[str]]:
    """Databases on the server the test run uses (empty, or copies of `templates`), dropped
    afterwards; their URLs."""
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
        for name, template in zip(names, templates or [None] * len(names), strict=True):
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            maintenance.execute(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )
        yield [postgres_url(server, name) for name in names]
    finally:
        for name in names:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.close()


def database_names(kind: str) -> list[str]:
    """A unique core and web database name on PostgreSQL (cut at 63 bytes: a cut name would not
    match its URL), after the test run's own."""
    default = connections["default"].settings_dict
    base = default["TEST"].get("NAME") or f"test_{default['NAME']}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    run = uuid.uuid4().hex[:8]
    return [f"{base[:34]}_{kind}_{part}_{worker}{run}" for part in ("core", "web")]


def migrate_both(env: dict[str, str]) -> None:
    """What an operator runs on a new machine: both databases migrated, the cache table made."""
    manage(env, "migrate", "--database", "default", "--verbosity", "0")
    manage(env, "migrate", "--database", "web", "--verbosity", "0")
    manage(env, "createcachetable", "--database", "web")


def process_environment() -> dict[str, str]:
    """This process's environment without the test run's own database, Microsoft or queue
    settings, so nothing of them leaks into another process."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "WEB_DATABASE_", "TEST_", "MS_", "Q_", "REDIS_"))
    }


@contextlib.contextmanager
def migrated_template(folder: Path) -> Iterator[dict[str, str]]:
    """A migrated pair of databases on the backend under test, to copy from: their URLs on
    PostgreSQL, their files (in `folder`) on SQLite."""
    env = {
        **process_environment(),
        "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
        "DJANGO_ENV": "development",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(folder / "var"),
    }
    if on_postgres():
        names = database_names("qc_tpl")
        with fresh_postgres_databases(names) as (core, web):
            migrate_both({**env, "DATABASE_URL": core, "WEB_DATABASE_URL": web})
            yield {"core": names[0], "web": names[1]}
    else:
        core, web = (folder / name for name in SQLITE_FILES)
        migrate_both(
            {**env, "DATABASE_URL": f"sqlite:///{core}", "WEB_DATABASE_URL": f"sqlite:///{web}"}
        )
        yield {"core": str(core), "web": str(web)}


@contextlib.contextmanager
def databases_from(template: dict[str, str], folder: Path) -> Iterator[dict[str, str]]:
    """DATABASE_URL and WEB_DATABASE_URL of a fresh copy of the migrated `template`."""
    if on_postgres():
        names = database_names("qc")
        with fresh_postgres_databases(names, [template["core"], template["web"]]) as (core, web):
            yield {"DATABASE_URL": core, "WEB_DATABASE_URL": web}
        return
    copies = []
    for source, name in zip((template["core"], template["web"]), SQLITE_FILES, strict=True):
        copies.append(folder / name)
        shutil.copyfile(source, copies[-1])
    yield {
        "DATABASE_URL": f"sqlite:///{copies[0]}",
        "WEB_DATABASE_URL": f"sqlite:///{copies[1]}",
    }


@contextlib.contextmanager
def qcluster(
    env: dict[str, str], log: Path, *, append: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py qcluster` in its own process group: SIGTERM, then SIGKILL if it lingers."""
    with log.open("ab" if append else "wb") as output:
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
