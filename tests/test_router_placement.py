"""Every table lives on the database the router names: runtime state on `web`, the rest core.

`web` holds what may be thrown away (sessions, the django-q2 queue, results and schedules, the
cache); `default` is the system of record. The tests read both real databases, so a migration or a
cache table on the wrong side fails here on PostgreSQL (CI) and SQLite (local) alike.
"""

from __future__ import annotations

import os

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connections, models, router
from django.test import Client
from django_q.models import OrmQ, Schedule, Task
from django_q.tasks import async_task

from accounts.models import User
from calendars.models import Appointment
from foundations.routers import DatabaseRouter
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

ALIASES = ("default", "web")
WEB_APP_LABELS = {"sessions", "django_q"}
CACHE_TABLE = "django_cache"
SEED_TABLES = {
    "users",
    "appointments",
    "locations",
    "categories",
    "timesheets",
    "calendars",
    "archive_configurations",
    "job_configurations",
    "audit_log",
    "action_log",
}

# Concrete tables only: django-q2's Success and Failure are proxies of Task's table.
MODELS = [
    model
    for model in apps.get_models(include_auto_created=True)
    if model._meta.managed and not model._meta.proxy
]
MODEL_IDS = [model._meta.label for model in MODELS]


def expected_database(model: type[models.Model]) -> str:
    return "web" if model._meta.app_label in WEB_APP_LABELS else "default"


def table_names(alias: str) -> set[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def count_rows(alias: str, sql: str, params: list[object] | None = None) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def saved_session() -> Session:
    store = SessionStore()
    store.save()
    return Session.objects.get(session_key=store.session_key)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_model_table_exists_only_on_the_database_the_router_names(
    model: type[models.Model],
) -> None:
    holders = {alias for alias in ALIASES if model._meta.db_table in table_names(alias)}
    assert holders == {expected_database(model)}


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_model_migrates_only_on_the_database_the_router_names(
    model: type[models.Model],
) -> None:
    allowed = {alias for alias in ALIASES if router.allow_migrate_model(alias, model)}
    assert allowed == {expected_database(model)}


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_router_reads_and_writes_a_model_on_its_database(model: type[models.Model]) -> None:
    assert router.db_for_read(model) == expected_database(model)
    assert router.db_for_write(model) == expected_database(model)


def test_every_seed_table_is_on_the_core_database() -> None:
    assert table_names("default") >= SEED_TABLES
    assert not table_names("web") & SEED_TABLES


def test_web_database_holds_only_runtime_tables() -> None:
    runtime_tables = {
        "django_session",
        "django_q_task",
        "django_q_schedule",
        "django_q_ormq",
        CACHE_TABLE,
    }
    assert table_names("web") - {"django_migrations"} == runtime_tables


def test_core_database_holds_every_table_that_is_not_runtime_state() -> None:
    core_tables = {
        model._meta.db_table for model in MODELS if expected_database(model) == "default"
    }
    assert table_names("default") - {"django_migrations"} == core_tables


def test_cache_table_is_created_on_the_web_database_only() -> None:
    assert CACHE_TABLE in table_names("web")
    assert CACHE_TABLE not in table_names("default")


def test_cache_table_migrates_only_on_the_web_database() -> None:
    allowed = {
        alias for alias in ALIASES if router.allow_migrate_model(alias, cache.cache_model_class)
    }
    assert allowed == {"web"}


def test_a_cached_value_is_a_row_in_the_web_cache_table() -> None:
    cache.set("placement-probe", "stored on web", timeout=60)
    rows = count_rows("web", "SELECT count(*) FROM django_cache")
    assert rows == 1
    assert cache.get("placement-probe") == "stored on web"


def test_a_saved_session_is_a_row_on_the_web_database() -> None:
    session = SessionStore()
    session["purpose"] = "placement"
    session.save()
    rows = count_rows(
        "web", "SELECT count(*) FROM django_session WHERE session_key = %s", [session.session_key]
    )
    assert rows == 1
    assert "django_session" not in table_names("default")


def test_logging_in_stores_the_session_on_the_web_database(alice_client: Client) -> None:
    session_key = alice_client.session.session_key
    rows = count_rows(
        "web", "SELECT count(*) FROM django_session WHERE session_key = %s", [session_key]
    )
    assert rows == 1


@pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")),
    reason="REDIS_URL makes Redis the django-q2 broker, so queued tasks are not OrmQ rows.",
)
def test_a_queued_task_is_an_orm_queue_row_on_the_web_database() -> None:
    async_task("math.floor", 1.5, sync=False)
    assert count_rows("web", "SELECT count(*) FROM django_q_ormq") == 1
    assert "django_q_ormq" not in table_names("default")


def test_an_appointment_is_a_row_on_the_core_database(alice: User) -> None:
    appointment = AppointmentFactory(user=alice)
    rows = count_rows(
        "default", "SELECT count(*) FROM appointments WHERE id = %s", [appointment.pk]
    )
    assert rows == 1
    assert "appointments" not in table_names("web")


def test_router_refuses_a_relation_between_a_session_and_a_user(alice: User) -> None:
    assert router.allow_relation(saved_session(), alice) is False


def test_router_allows_a_relation_between_two_core_rows(alice: User) -> None:
    group = Group.objects.create(name="Billing")
    assert router.allow_relation(group, alice) is True


@pytest.mark.parametrize(
    ("model", "alias"),
    [
        (User, "default"),
        (Appointment, "default"),
        (Session, "web"),
        (Schedule, "web"),
        (Task, "web"),
        (OrmQ, "web"),
    ],
    ids=lambda value: value if isinstance(value, str) else value._meta.label,
)
def test_router_names_a_database_explicitly(model: type[models.Model], alias: str) -> None:
    assert DatabaseRouter().db_for_read(model) == alias
    assert DatabaseRouter().db_for_write(model) == alias


@pytest.mark.parametrize(
    ("app_label", "alias"),
    [
        ("accounts", "default"),
        ("calendars", "default"),
        ("auth", "default"),
        ("sessions", "web"),
        ("django_q", "web"),
        (CACHE_TABLE, "web"),
    ],
)
def test_router_allows_migrating_an_app_on_its_database_only(app_label: str, alias: str) -> None:
    allowed = {db for db in ALIASES if DatabaseRouter().allow_migrate(db, app_label)}
    assert allowed == {alias}
