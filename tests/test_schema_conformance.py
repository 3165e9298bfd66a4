"""The core database matches the seed's schema document, column by column.

The seed (DATABASE-SCHEMA-001) is the contract. Its tables are written out below as data, so a
migration that drifts from it fails here on PostgreSQL (CI) and SQLite (local) alike. Nullability
and types are read from the real database; the model is consulted only for what a database cannot
say (an exact `String(N)` length, Python-side defaults).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connections, models, transaction
from django.db.backends.base.introspection import FieldInfo
from django.db.models.expressions import Value
from django.utils import timezone

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar, Category, Location
from tests.factories import AppointmentFactory, UserFactory
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db

NO_DEFAULT = object()


class SeedColumn(NamedTuple):
    name: str
    type: str
    null: bool
    default: Any = NO_DEFAULT


def column(name: str, type_: str, *, null: bool, default: Any = NO_DEFAULT) -> SeedColumn:
    return SeedColumn(name, type_, null, default)


PRIMARY_KEY = column("id", "Integer", null=False)
OWNER = column("user_id", "Integer", null=False)
CREATED_AT = column("created_at", "UTCDateTime", null=False)
UPDATED_AT = column("updated_at", "UTCDateTime", null=False)

# Interpretation of the seed: a "Foreign Key" to an owner is NOT NULL, the optional links
# (audit user and parent, an appointment's location/category/timesheet) are nullable, and a
# column with a default is NOT NULL.
SEED_TABLES: dict[str, list[SeedColumn]] = {
    "users": [
        PRIMARY_KEY,
        column("email", "String", null=False),
        column("name", "String", null=True),
        column("role", "String", null=True),
        column("is_active", "Boolean", null=False, default=True),
        column("ms_access_token", "String", null=True),
        column("ms_refresh_token", "String", null=True),
        column("ms_token_expires_at", "UTCDateTime", null=True),
        column("profile_photo_url", "String", null=True),
        column("ms_token_cache", "String", null=True),
    ],
    "appointments": [
        PRIMARY_KEY,
        column("ms_event_id", "String", null=True),
        OWNER,
        column("start_time", "UTCDateTime", null=False),
        column("end_time", "UTCDateTime", null=False),
        column("subject", "String", null=True),
        column("location_id", "Integer", null=True),
        column("category_id", "Integer", null=True),
        column("timesheet_id", "Integer", null=True),
        column("recurrence", "String", null=True),
        column("ms_event_data", "JSON", null=True),
        column("is_private", "Boolean", null=False, default=False),
        column("is_archived", "Boolean", null=False, default=False),
        column("is_out_of_office", "Boolean", null=False, default=False),
        CREATED_AT,
        UPDATED_AT,
    ],
    "locations": [
        PRIMARY_KEY,
        column("name", "String", null=False),
        column("address", "String", null=True),
        OWNER,
    ],
    "categories": [
        PRIMARY_KEY,
        column("name", "String", null=False),
        column("description", "String", null=True),
        OWNER,
        column("ms_category_id", "String", null=True),
        column("color", "String", null=True),
    ],
    "timesheets": [
        PRIMARY_KEY,
        OWNER,
        column("start_date", "Date", null=False),
        column("end_date", "Date", null=False),
        column("pdf_path", "String", null=True),
        column("csv_path", "String", null=True),
        column("excel_path", "String", null=True),
        column("uploaded_to_onedrive", "Boolean", null=False, default=False),
        column("uploaded_to_xero", "Boolean", null=False, default=False),
        CREATED_AT,
    ],
    "calendars": [
        PRIMARY_KEY,
        column("name", "String", null=False),
        column("description", "String", null=True),
        OWNER,
        column("ms_calendar_id", "String", null=True),
        column("is_archive", "Boolean", null=False, default=False),
        CREATED_AT,
        UPDATED_AT,
    ],
    "archive_configurations": [
        PRIMARY_KEY,
        OWNER,
        column("name", "String", null=False),
        column("source_calendar_uri", "String", null=False),
        column("destination_calendar_uri", "String", null=False),
        column("is_active", "Boolean", null=False, default=True),
        column("timezone", "String", null=False),
        CREATED_AT,
        UPDATED_AT,
    ],
    "job_configurations": [
        PRIMARY_KEY,
        OWNER,
        column("archive_configuration_id", "Integer", null=False),
        column("archive_window_days", "Integer", null=False, default=1),
        column("schedule_type", "String", null=False),
        column("schedule_hour", "Integer", null=False, default=23),
        column("schedule_minute", "Integer", null=False, default=59),
        column("schedule_day_of_week", "Integer", null=True),
        column("is_active", "Boolean", null=False, default=True),
        CREATED_AT,
        UPDATED_AT,
    ],
    "audit_log": [
        PRIMARY_KEY,
        column("user_id", "Integer", null=True),
        column("action_type", "String(64)", null=False),
        column("operation", "String(128)", null=False),
        column("resource_type", "String(64)", null=True),
        column("resource_id", "String(128)", null=True),
        column("status", "String(32)", null=False),
        column("message", "Text", null=True),
        column("details", "JSON", null=True),
        column("request_data", "JSON", null=True),
        column("response_data", "JSON", null=True),
        column("duration_ms", "Float", null=True),
        column("ip_address", "String(45)", null=True),
        column("user_agent", "String(512)", null=True),
        column("correlation_id", "String(128)", null=True),
        column("parent_audit_id", "Integer", null=True),
        CREATED_AT,
    ],
    "action_log": [
        PRIMARY_KEY,
        OWNER,
        column("event_type", "String", null=False),
        column("state", "String", null=False, default="open"),
        column("description", "String", null=True),
        column("details", "JSON", null=True),
        column("recommendations", "JSON", null=True),
        CREATED_AT,
        UPDATED_AT,
    ],
}

# The seed's foreign keys: (table, column) -> referenced table.
SEED_FOREIGN_KEYS = {
    **{
        (table, "user_id"): "users"
        for table in (
            "appointments",
            "locations",
            "categories",
            "timesheets",
            "calendars",
            "archive_configurations",
            "job_configurations",
            "audit_log",
            "action_log",
        )
    },
    ("appointments", "location_id"): "locations",
    ("appointments", "category_id"): "categories",
    ("appointments", "timesheet_id"): "timesheets",
    ("job_configurations", "archive_configuration_id"): "archive_configurations",
    ("audit_log", "parent_audit_id"): "audit_log",
}

# The seed's "Recommended Indexes", verbatim: name -> (table, columns in order).
SEED_INDEXES = {
    "idx_users_email": ("users", ["email"]),
    "idx_users_active": ("users", ["is_active"]),
    "idx_appointments_user_time": ("appointments", ["user_id", "start_time", "end_time"]),
    "idx_appointments_archived": ("appointments", ["is_archived"]),
    "idx_appointments_ms_event": ("appointments", ["ms_event_id"]),
    "idx_audit_log_user_time": ("audit_log", ["user_id", "created_at"]),
    "idx_audit_log_correlation": ("audit_log", ["correlation_id"]),
    "idx_audit_log_operation": ("audit_log", ["action_type", "operation"]),
    "idx_job_config_active": ("job_configurations", ["is_active"]),
    "idx_job_config_user": ("job_configurations", ["user_id"]),
}

# Seed type -> the Django field types the database's column may introspect as.
INTROSPECTED_TYPES = {
    "Integer": {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
    },
    "String": {"CharField", "TextField"},
    "Text": {"TextField"},
    "Boolean": {"BooleanField"},
    "UTCDateTime": {"DateTimeField"},
    "Date": {"DateField"},
    "JSON": {"JSONField"},
    "Float": {"FloatField"},
}

SEED_COLUMNS = [(table, seed) for table, columns in SEED_TABLES.items() for seed in columns]
SEED_COLUMN_IDS = [f"{table}.{seed.name}" for table, seed in SEED_COLUMNS]
SEED_DEFAULTS = [(table, seed) for table, seed in SEED_COLUMNS if seed.default is not NO_DEFAULT]
SEED_DEFAULT_IDS = [f"{table}.{seed.name}" for table, seed in SEED_DEFAULTS]


def core_table_names() -> list[str]:
    connection = connections["default"]
    with connection.cursor() as cursor:
        return connection.introspection.table_names(cursor)


def database_column(table: str, name: str) -> FieldInfo:
    connection = connections["default"]
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    matches = [info for info in description if info.name == name]
    assert matches, f"{table}.{name} is missing from the database"
    return matches[0]


def introspected_type(info: FieldInfo) -> str:
    return connections["default"].introspection.get_field_type(info.type_code, info)


def table_constraints(table: str) -> dict[str, dict[str, Any]]:
    connection = connections["default"]
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def model_for_table(table: str) -> type[models.Model]:
    return next(model for model in apps.get_models() if model._meta.db_table == table)


def model_field(table: str, name: str) -> models.Field:
    model = model_for_table(table)
    return next(field for field in model._meta.concrete_fields if field.column == name)


def database_default_value(raw: str, seed_type: str) -> Any:
    """The value of a column default as introspected: `'open'::character varying`, `true`, `1`."""
    literal = raw.split("::")[0].strip().strip("'")
    if seed_type == "Boolean":
        return {"true": True, "1": True, "false": False, "0": False}[literal.lower()]
    if seed_type == "Integer":
        return int(literal)
    return literal


def seed_length(seed_type: str) -> int | None:
    if seed_type.startswith("String("):
        return int(seed_type.removeprefix("String(").removesuffix(")"))
    return None


def type_family(seed_type: str) -> str:
    return "String" if seed_length(seed_type) is not None else seed_type


def at(hour: int) -> datetime:
    return timezone.make_aware(datetime(2025, 5, 8, hour, 0))


# Small builders, one per owned table, for the delete-rule and timestamp tests.
def build_appointment(user: User) -> Appointment:
    return AppointmentFactory(user=user)


def build_location(user: User) -> Location:
    return Location.objects.create(user=user, name="Acme HQ")


def build_category(user: User) -> Category:
    return Category.objects.create(user=user, name="Acme - billable")


def build_timesheet(user: User) -> Timesheet:
    return Timesheet.objects.create(
        user=user, start_date=date(2025, 5, 1), end_date=date(2025, 5, 31)
    )


def build_calendar(user: User) -> Calendar:
    return Calendar.objects.create(user=user, name="Calendar")


def build_archive_configuration(user: User, name: str = "Work archive") -> ArchiveConfiguration:
    return ArchiveConfiguration.objects.create(
        user=user,
        name=name,
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone="Europe/London",
    )


def build_job_configuration(user: User) -> JobConfiguration:
    return JobConfiguration.objects.create(
        user=user,
        archive_configuration=build_archive_configuration(user, name="Nightly archive"),
        schedule_type=JobConfiguration.ScheduleType.DAILY,
    )


def build_action_log(user: User) -> ActionLog:
    return ActionLog.objects.create(user=user, event_type="overlap")


def build_audit_log(user: User) -> AuditLog:
    return AuditLog.objects.create(
        user=user, action_type="archive", operation="run", status=AuditLog.Status.SUCCESS
    )


OWNED_BUILDERS = {
    "appointments": build_appointment,
    "locations": build_location,
    "categories": build_category,
    "timesheets": build_timesheet,
    "calendars": build_calendar,
    "archive_configurations": build_archive_configuration,
    "job_configurations": build_job_configuration,
    "action_log": build_action_log,
}

CREATED_AT_BUILDERS = {
    table: builder
    for table, builder in {**OWNED_BUILDERS, "audit_log": build_audit_log}.items()
    if any(seed.name == "created_at" for seed in SEED_TABLES[table])
}

UPDATED_AT_BUILDERS = {
    table: builder
    for table, builder in OWNED_BUILDERS.items()
    if any(seed.name == "updated_at" for seed in SEED_TABLES[table])
}


def test_the_user_model_is_accounts_user_stored_in_the_users_table() -> None:
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model()._meta.db_table == "users"


@pytest.mark.parametrize("table", SEED_TABLES)
def test_seed_table_exists_in_the_core_database(table: str) -> None:
    assert table in core_table_names()


@pytest.mark.parametrize(("table", "seed"), SEED_COLUMNS, ids=SEED_COLUMN_IDS)
def test_seed_column_exists(table: str, seed: SeedColumn) -> None:
    assert database_column(table, seed.name).name == seed.name


@pytest.mark.parametrize(("table", "seed"), SEED_COLUMNS, ids=SEED_COLUMN_IDS)
def test_seed_column_nullability_matches_the_database(table: str, seed: SeedColumn) -> None:
    assert bool(database_column(table, seed.name).null_ok) is seed.null


@pytest.mark.parametrize(("table", "seed"), SEED_COLUMNS, ids=SEED_COLUMN_IDS)
def test_seed_column_type_matches_the_database(table: str, seed: SeedColumn) -> None:
    info = database_column(table, seed.name)
    assert introspected_type(info) in INTROSPECTED_TYPES[type_family(seed.type)]


@pytest.mark.parametrize(("table", "seed"), SEED_COLUMNS, ids=SEED_COLUMN_IDS)
def test_seed_column_type_matches_the_model_field(table: str, seed: SeedColumn) -> None:
    field = model_field(table, seed.name)
    # A foreign key's column has the type of the key it points at.
    internal_type = (field.target_field if field.is_relation else field).get_internal_type()
    assert internal_type in INTROSPECTED_TYPES[type_family(seed.type)]


@pytest.mark.parametrize(
    ("table", "seed"),
    [(table, seed) for table, seed in SEED_COLUMNS if seed_length(seed.type) is not None],
    ids=[f"{table}.{seed.name}" for table, seed in SEED_COLUMNS if seed_length(seed.type)],
)
def test_sized_string_column_has_exactly_the_seed_length(table: str, seed: SeedColumn) -> None:
    length = seed_length(seed.type)
    info = database_column(table, seed.name)
    assert introspected_type(info) == "CharField"
    assert model_field(table, seed.name).max_length == length
    assert info.display_size is None or info.display_size >= length


@pytest.mark.parametrize(("table", "seed"), SEED_DEFAULTS, ids=SEED_DEFAULT_IDS)
def test_seed_default_is_the_model_default(table: str, seed: SeedColumn) -> None:
    assert model_field(table, seed.name).default == seed.default


@pytest.mark.parametrize(("table", "seed"), SEED_DEFAULTS, ids=SEED_DEFAULT_IDS)
def test_seed_default_is_also_a_database_default(table: str, seed: SeedColumn) -> None:
    field = model_field(table, seed.name)
    assert field.has_db_default()
    db_default = field.db_default
    assert (db_default.value if isinstance(db_default, Value) else db_default) == seed.default


@pytest.mark.parametrize(("table", "seed"), SEED_DEFAULTS, ids=SEED_DEFAULT_IDS)
def test_seed_default_is_declared_on_the_database_column(table: str, seed: SeedColumn) -> None:
    raw_default = database_column(table, seed.name).default
    assert raw_default is not None
    assert database_default_value(raw_default, seed.type) == seed.default


@pytest.mark.parametrize(
    ("table", "column_name", "target_table"),
    [(table, name, target) for (table, name), target in SEED_FOREIGN_KEYS.items()],
    ids=[f"{table}.{name}" for table, name in SEED_FOREIGN_KEYS],
)
def test_seed_foreign_key_is_enforced_by_the_database(
    table: str, column_name: str, target_table: str
) -> None:
    foreign_keys = [
        constraint["foreign_key"]
        for constraint in table_constraints(table).values()
        if constraint["foreign_key"] and constraint["columns"] == [column_name]
    ]
    assert foreign_keys == [(target_table, "id")]


@pytest.mark.parametrize(
    ("index_name", "table", "columns"),
    [(name, table, columns) for name, (table, columns) in SEED_INDEXES.items()],
    ids=list(SEED_INDEXES),
)
def test_recommended_index_exists_with_its_seed_name_and_columns(
    index_name: str, table: str, columns: list[str]
) -> None:
    constraints = table_constraints(table)
    assert index_name in constraints
    assert constraints[index_name]["index"] is True
    assert constraints[index_name]["columns"] == columns


def test_user_email_has_a_unique_constraint_in_the_database() -> None:
    unique_on_email = [
        name
        for name, constraint in table_constraints("users").items()
        if constraint["unique"] and constraint["columns"] == ["email"]
    ]
    assert unique_on_email


def test_user_email_is_unique_regardless_of_case() -> None:
    User.objects.create(email="alice@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Alice@Example.com")


def test_database_refuses_an_appointment_that_ends_when_it_starts(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(user=alice, start_time=at(9), end_time=at(9))


def test_database_refuses_an_appointment_that_ends_before_it_starts(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(user=alice, start_time=at(10), end_time=at(9))


@pytest.mark.parametrize("table", OWNED_BUILDERS)
def test_deleting_a_user_deletes_the_rows_they_own(table: str) -> None:
    owner = UserFactory(email="owner@example.com")
    row = OWNED_BUILDERS[table](owner)
    owner.delete()
    assert not type(row).objects.filter(pk=row.pk).exists()


def test_deleting_a_user_leaves_other_users_rows_alone(alice: User, bob: User) -> None:
    bobs = {table: build(bob) for table, build in OWNED_BUILDERS.items()}
    alice.delete()
    for row in bobs.values():
        assert type(row).objects.filter(pk=row.pk).exists()


def test_deleting_an_archive_configuration_deletes_its_job_configurations(alice: User) -> None:
    job = build_job_configuration(alice)
    job.archive_configuration.delete()
    assert not JobConfiguration.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize(
    ("link", "build"),
    [
        ("location", build_location),
        ("category", build_category),
        ("timesheet", build_timesheet),
    ],
)
def test_deleting_a_linked_row_unlinks_the_appointment_and_keeps_it(
    alice: User, link: str, build: Any
) -> None:
    linked = build(alice)
    appointment = AppointmentFactory(user=alice, **{link: linked})
    linked.delete()
    appointment.refresh_from_db()
    assert getattr(appointment, f"{link}_id") is None


def test_deleting_a_parent_audit_row_keeps_its_children_without_a_parent(alice: User) -> None:
    parent = build_audit_log(alice)
    child = AuditLog.objects.create(
        user=alice,
        action_type="archive",
        operation="copy_event",
        status=AuditLog.Status.SUCCESS,
        parent_audit=parent,
    )
    parent.delete()
    child.refresh_from_db()
    assert child.parent_audit_id is None


def test_deleting_a_user_keeps_their_audit_rows_without_a_user(alice: User) -> None:
    audit = build_audit_log(alice)
    alice.delete()
    audit.refresh_from_db()
    assert audit.user_id is None


@pytest.mark.parametrize("table", CREATED_AT_BUILDERS)
def test_created_at_is_filled_automatically(alice: User, table: str) -> None:
    row = CREATED_AT_BUILDERS[table](alice)
    row.refresh_from_db()
    assert row.created_at is not None


@pytest.mark.parametrize("table", UPDATED_AT_BUILDERS)
def test_updated_at_is_filled_automatically(alice: User, table: str) -> None:
    row = UPDATED_AT_BUILDERS[table](alice)
    row.refresh_from_db()
    assert row.updated_at is not None


@pytest.mark.parametrize("table", UPDATED_AT_BUILDERS)
def test_updated_at_moves_forward_when_the_row_is_saved(alice: User, table: str) -> None:
    row = UPDATED_AT_BUILDERS[table](alice)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    type(row).objects.filter(pk=row.pk).update(updated_at=an_hour_ago)
    row.refresh_from_db()
    row.save()
    row.refresh_from_db()
    assert row.updated_at > an_hour_ago
    assert row.created_at <= row.updated_at


def test_rows_written_with_only_the_seeds_columns_are_accepted() -> None:
    """SQL written from the seed alone works: our extra columns all have database defaults."""
    with connections["default"].cursor() as cursor:
        cursor.execute("INSERT INTO users (email) VALUES ('seed-only@example.com')")
        cursor.execute("SELECT id FROM users WHERE email = 'seed-only@example.com'")
        (user_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO appointments (user_id, start_time, end_time) VALUES (%s, %s, %s)",
            [user_id, datetime(2025, 5, 8, 9, tzinfo=UTC), datetime(2025, 5, 8, 10, tzinfo=UTC)],
        )

    user = User.objects.get(email="seed-only@example.com")
    appointment = Appointment.objects.get(user=user)
    assert (user.is_active, user.is_staff, user.has_usable_password()) == (True, False, False)
    assert (appointment.categories, appointment.show_as, appointment.is_private) == (
        [],
        "busy",
        False,
    )
