"""Store the suggestion features of the appointments archived before features were stored, so
the attention inbox learns from the whole history at once (later runs keep them current)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.db import migrations

from calendars.suggestions import evidence_of

BATCH = 2000


def forwards(apps: Any, schema_editor: Any) -> None:
    Appointment = apps.get_model("calendars", "Appointment")
    AppointmentFeature = apps.get_model("calendars", "AppointmentFeature")
    User = apps.get_model("accounts", "User")
    places = dict(apps.get_model("calendars", "Location").objects.values_list("pk", "name"))
    for user in User.objects.all().iterator():
        own = {user.email.rpartition("@")[2].casefold()} if "@" in (user.email or "") else set()
        zone = zoneinfo.ZoneInfo(user.timezone or "UTC")
        rows = []
        for appointment in Appointment.objects.filter(user=user).iterator(chunk_size=BATCH):
            graph = appointment.ms_event_data if isinstance(appointment.ms_event_data, dict) else {}
            evidence = evidence_of(
                event=graph,
                subject=appointment.subject,
                location=places.get(appointment.location_id),
                hour=appointment.start_time.astimezone(zone).hour,
                own_domains=own,
            )
            rows += [
                AppointmentFeature(
                    user_id=user.pk, appointment_id=appointment.pk, feature=f"{k}:{v}"[:300]
                )
                for k, v in dict.fromkeys(evidence.features())
            ]
            if len(rows) >= BATCH:
                AppointmentFeature.objects.bulk_create(rows, ignore_conflicts=True)
                rows = []
        AppointmentFeature.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0007_appointment_features"),
        ("accounts", "0004_microsoft_identity"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
