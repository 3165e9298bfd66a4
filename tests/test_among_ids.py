"""`AmongIds` finds the rows `pk__in` finds, on SQLite and on PostgreSQL (CI)."""

from __future__ import annotations

import pytest
from django.db.models import F

from accounts.models import User
from calendars.models import Appointment
from foundations.lookups import AmongIds
from tests.factories import acme_at_nine_utc

pytestmark = pytest.mark.django_db


def test_the_rows_are_those_pk_in_finds(alice: User) -> None:
    ids = [acme_at_nine_utc(alice, day).pk for day in range(1, 8)]
    for wanted in (ids, ids[::2], {ids[0], ids[-1]}, [ids[3], None, ids[3]], [10**12]):
        ours = Appointment.objects.filter(AmongIds(F("pk"), wanted))
        theirs = Appointment.objects.filter(pk__in=wanted)
        assert sorted(ours.values_list("pk", flat=True)) == sorted(
            theirs.values_list("pk", flat=True)
        )


def test_no_ids_find_nothing_without_a_query(
    alice: User, django_assert_num_queries: object
) -> None:
    acme_at_nine_utc(alice, 1)
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert list(Appointment.objects.filter(AmongIds(F("pk"), []))) == []
        assert list(Appointment.objects.filter(AmongIds(F("pk"), [None]))) == []
