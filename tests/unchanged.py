"""`unchanged()`: a refused write leaves the database, the audit log and the fakes as they were.

A test that checks only the status code of a refused write would still pass if the write had
half happened (a row saved before the error, an audit row, an event created in Outlook). Wrap the
write in `with unchanged(microsoft=..., xero=...):` and the test also says that nothing changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import router
from django.db.models import Model
from django.test.testcases import DatabaseOperationForbidden

from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.xero import FakeXero

# The product's own tables (the audit log and action items included), allauth's accounts and the
# django-q2 schedules and queue. Not sessions, the cache or django-axes: a refused login is meant
# to count against the user, and the throttles count refused requests too.
APP_LABELS = ("accounts", "auditing", "calendars", "archiving", "timesheets", "account", "django_q")

# When a credential was last used is bookkeeping written on every request, refused or not.
IGNORED_FIELDS = {"accounts.ApiToken": {"last_used_at"}, "accounts.User": {"last_login"}}

# What a failed operation leaves on purpose: its audit row and the action item it opens.
FAILURE_RECORDS = ("auditing.AuditLog", "auditing.ActionLog")

Snapshot = dict[str, Any]


def _rows(model: type[Model]) -> dict[Any, dict[str, Any]] | None:
    ignored = IGNORED_FIELDS.get(model._meta.label, set())
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in ignored]
    key = model._meta.pk.attname
    rows = model._base_manager.using(router.db_for_read(model)).order_by("pk").values(*names)
    try:
        return {row[key]: row for row in rows}
    except DatabaseOperationForbidden:
        return None  # the test may not use this model's database, so it cannot change it


def database_snapshot() -> Snapshot:
    """Every row of every table in APP_LABELS, by table and primary key."""
    snapshot = {}
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.proxy:
                continue  # its rows are its concrete model's
            rows = _rows(model)
            if rows is not None:
                snapshot[model._meta.label] = rows
    return snapshot


def microsoft_snapshot(fake: FakeMicrosoft) -> Snapshot:
    """What each fake mailbox stores: calendars, categories, events (with their occurrences'
    changes) and OneDrive files."""
    with fake._lock:
        return {
            email: copy.deepcopy(
                {
                    "calendars": mailbox.calendars,
                    "categories": mailbox.categories,
                    "events": {
                        event_id: (event.calendar_id, event.data, event.overrides)
                        for event_id, event in mailbox.events.items()
                    },
                    "files": {path: (f.id, f.content) for path, f in mailbox.files.items()},
                }
            )
            for email, mailbox in fake.graph.mailboxes.items()
        }


def xero_snapshot(fake: FakeXero) -> Snapshot:
    """What each fake Xero organisation stores: contacts, invoices and attachments."""
    with fake._lock:
        return {
            tenant: copy.deepcopy(
                {
                    "contacts": org.contacts,
                    "invoices": org.invoices,
                    "attachments": org.attachments,
                }
            )
            for tenant, org in fake.organisations.items()
        }


def _differences(before: Snapshot, after: Snapshot, allow_new: Collection[str] = ()) -> list[str]:
    found = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name, {}), after.get(name, {})
        if old == new:
            continue
        keys = {
            "added": set() if name in allow_new else new.keys() - old.keys(),
            "removed": old.keys() - new.keys(),
            "changed": {key for key in old.keys() & new.keys() if old[key] != new[key]},
        }
        if not any(keys.values()):
            continue
        found.append(
            f"{name}: "
            + ", ".join(f"{what} {sorted(map(str, k))}" for what, k in keys.items() if k)
        )
    return found


@contextmanager
def unchanged(
    *,
    microsoft: FakeMicrosoft | None = None,
    xero: FakeXero | None = None,
    allow_new: Collection[str] = (),
) -> Iterator[None]:
    """Assert that the block changes no row (audit log included) and, when given, nothing the
    fake Microsoft 365 or Xero stores.

    `allow_new` names tables (`"auditing.AuditLog"`) that may gain rows: a failure that is
    recorded as one (an audit row, an action item) and changes nothing else.
    """
    snapshots: dict[str, Callable[[], Snapshot]] = {"database": database_snapshot}
    if microsoft is not None:
        snapshots["Microsoft 365"] = lambda: microsoft_snapshot(microsoft)
    if xero is not None:
        snapshots["Xero"] = lambda: xero_snapshot(xero)
    before = {name: take() for name, take in snapshots.items()}
    yield
    differences = [
        f"{name}: {line}"
        for name, take in snapshots.items()
        for line in _differences(before[name], take(), allow_new)
    ]
    assert not differences, "The refused write changed:\n" + "\n".join(differences)
