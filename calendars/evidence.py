"""The evidence appointments carry, stored and counted in the database (AppointmentFeature),
for the category suggestions of calendars/suggestions.py.

An archive run stores each new or changed appointment's features; a suggestion then counts,
per billing category, only the rows of the features the meeting at hand has — an index
lookup, so the time to suggest does not grow with the length of the user's history. Every
query is the user's own.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, QuerySet

from calendars.models import Appointment, AppointmentFeature, Location
from calendars.suggestions import Evidence, evidence_of

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

Feature = tuple[str, str]
CHUNK = 400  # features per IN (...) query, well under SQLite's variable limit


def feature_key(feature: Feature) -> str:
    return f"{feature[0]}:{feature[1]}"[:300]


def feature_of(key: str) -> Feature:
    kind, _, value = key.partition(":")
    return kind, value


def appointments_evidence(
    appointments: Sequence[Appointment], own: set[str], *, zone: str
) -> dict[int, Evidence]:
    """What each (saved) appointment shows, from the Outlook event the archive stored with it;
    the time of day in `zone` (its user's). One query for the locations' names."""
    local = zoneinfo.ZoneInfo(zone)
    places = dict(
        Location.objects.filter(
            pk__in={a.location_id for a in appointments if a.location_id}
        ).values_list("pk", "name")
    )
    found = {}
    for appointment in appointments:
        graph = appointment.ms_event_data if isinstance(appointment.ms_event_data, dict) else {}
        start = appointment.start_time
        found[appointment.pk] = evidence_of(
            event=graph,
            subject=appointment.subject,
            location=places.get(appointment.location_id) if appointment.location_id else None,
            hour=start.astimezone(local).hour if start else None,
            own_domains=own,
        )
    return found


def appointment_features_store(
    *, appointments: Sequence[Appointment], own: set[str], zone: str
) -> int:
    """Replace the stored features of these (saved) appointments; how many rows were written."""
    saved = [a for a in appointments if a.pk is not None]
    if not saved:
        return 0
    evidences = appointments_evidence(saved, own, zone=zone)
    rows = [
        AppointmentFeature(user_id=a.user_id, appointment_id=a.pk, feature=feature_key(f))
        for a in saved
        for f in dict.fromkeys(evidences[a.pk].features())
    ]
    with transaction.atomic():
        AppointmentFeature.objects.filter(appointment_id__in=[a.pk for a in saved]).delete()
        AppointmentFeature.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def categorised_feature_counts(
    *, user: User, features: Iterable[Feature]
) -> dict[Feature, Counter[str]]:
    """For each feature, how many of the user's categorised meetings carrying it went to each
    billing category."""
    billed = (
        Appointment.objects.filter(user=user, category__isnull=False, is_cancelled=False)
        .exclude(customer__isnull=True)
        .exclude(customer="")
    )
    return _counts(
        user=user,
        features=features,
        appointments=billed,
        label="appointment__category__name",
    )


def feature_counts_for(
    *, user: User, features: Iterable[Feature], appointments: QuerySet[Appointment], label: str
) -> dict[Feature, Counter[str]]:
    """The same counts over other appointments of the user's, all with one `label`."""
    counts = _counts(user=user, features=features, appointments=appointments, label=None)
    return {feature: Counter({label: sum(c.values())}) for feature, c in counts.items()}


def _counts(
    *,
    user: User,
    features: Iterable[Feature],
    appointments: QuerySet[Appointment],
    label: str | None,
) -> dict[Feature, Counter[str]]:
    keys = sorted({feature_key(f) for f in features})
    found: dict[Feature, Counter[str]] = {}
    for start in range(0, len(keys), CHUNK):
        rows = (
            AppointmentFeature.objects.filter(
                user=user,
                feature__in=keys[start : start + CHUNK],
                appointment__in=appointments.order_by().values("pk"),
            )
            .values("feature", *([label] if label else []))
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            name = row[label] if label else ""
            found.setdefault(feature_of(row["feature"]), Counter())[name] += row["n"]
    return found
