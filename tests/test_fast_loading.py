"""Rows read from the database skip `Model.__init__` (foundations.models.FastLoaded): the same
instance as Django's own loading, deferred columns and related rows included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.db.models.signals import post_init

from accounts.models import User
from calendars.models import Appointment
from foundations.models import FastLoaded
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def _djangos_own(instance: models.Model) -> models.Model:
    """The same row as Django's `Model.from_db` builds it: through `__init__`."""
    cls = type(instance)
    names = [f.attname for f in cls._meta.concrete_fields if f.attname in instance.__dict__]
    values = [instance.__dict__[name] for name in names]
    return models.Model.from_db.__func__(cls, instance._state.db, names, values)  # type: ignore[attr-defined]


def _state(instance: models.Model) -> dict[str, Any]:
    fields = {key: value for key, value in instance.__dict__.items() if key != "_state"}
    return {"fields": fields, "adding": instance._state.adding, "db": instance._state.db}


def test_every_fast_loaded_model_is_a_concrete_one_of_ours() -> None:
    loaded = [m._meta.label for m in apps.get_models() if issubclass(m, FastLoaded)]
    assert {"calendars.Appointment", "accounts.User", "auditing.AuditLog"} <= set(loaded)


def test_a_read_row_is_the_instance_djangos_init_builds(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    AppointmentFactory(
        user=alice,
        subject="Planning",
        start_time=datetime(2025, 6, 2, 9, tzinfo=UTC),
        end_time=datetime(2025, 6, 2, 10, tzinfo=UTC),
    )
    built: list[int] = []
    init = Appointment.__init__

    def counted(self: Appointment, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(Appointment, "__init__", counted)

    found = Appointment.objects.get(subject="Planning")

    assert built == []  # read without __init__
    assert _state(found) == _state(_djangos_own(found))
    assert built == [1]
    assert found._state.adding is False and found._state.db == "default"
    # It saves as an existing row, not a new one.
    found.subject = "Planning, moved"
    found.save()
    assert Appointment.objects.get(pk=found.pk).subject == "Planning, moved"
    assert Appointment.objects.count() == 1


def test_a_deferred_column_loads_when_read_and_related_rows_are_cached(alice: User) -> None:
    appointment = AppointmentFactory(user=alice, ms_event_data={"id": "AAMk-1"})

    found = Appointment.objects.defer("ms_event_data").select_related("user").get(pk=appointment.pk)

    assert "ms_event_data" not in found.__dict__
    assert found.get_deferred_fields() == {"ms_event_data"}
    assert found.user == alice and found.user.email == "alice@example.com"
    assert found.ms_event_data == {"id": "AAMk-1"}  # one query, then cached
    # Changing the foreign key's id drops the cached user, as Django's descriptor does.
    found.user_id = 0
    assert not Appointment.user.is_cached(found)  # type: ignore[attr-defined]


def test_a_model_something_listens_to_is_built_by_djangos_own_path(alice: User) -> None:
    seen: list[str] = []

    def listener(sender: type, instance: Appointment, **kwargs: Any) -> None:
        seen.append(instance.subject)

    AppointmentFactory(user=alice, subject="Watched")
    post_init.connect(listener, sender=Appointment)
    try:
        Appointment.objects.get(subject="Watched")
    finally:
        post_init.disconnect(listener, sender=Appointment)
    assert seen == ["Watched"]
