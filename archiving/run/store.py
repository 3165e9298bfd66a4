"""Step 3: the events upserted as appointments, in bulk (one query per kind of row, not per
event), with their billing read from the categories. A billed appointment keeps what its issued
timesheet printed; an event back in Outlook closes its `source_deleted` item; one without a
billing category opens an `uncategorised` item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from archiving.attention import attention_items_sync, local_category_overrides, own_domains
from archiving.graph_events import STORED_FIELDS, SourceEvent, appointment_values, location_name
from archiving.run.record import EventWork, Run
from auditing.models import ActionLog
from calendars.categories import Billing, billing_from_categories
from calendars.evidence import appointment_features_store
from calendars.models import Appointment, Calendar, Category, Location


@dataclass
class _Upserts:
    works: list[EventWork] = field(default_factory=list)
    to_create: list[Appointment] = field(default_factory=list)
    to_update: list[Appointment] = field(default_factory=list)
    reappeared: list[int] = field(default_factory=list)


def appointments_store(run: Run, events: list[SourceEvent]) -> list[EventWork]:
    """One `EventWork` per event, its appointment created or brought up to date."""
    assert run.source is not None
    upserts = _plan(run, events, run.source)
    run.counts.created += len(upserts.to_create)
    run.counts.updated += len(upserts.to_update)
    if run.dry_run:
        return upserts.works
    with transaction.atomic():
        Appointment.objects.bulk_create(upserts.to_create, batch_size=500)
        if upserts.to_update:
            Appointment.objects.bulk_update(
                upserts.to_update, [*STORED_FIELDS, "updated_at"], batch_size=500
            )
    _read_back_ids(run, upserts.to_create)
    _close_reappeared(run, upserts.reappeared)
    appointment_features_store(
        appointments=[*upserts.to_create, *upserts.to_update],
        own=own_domains(user=run.user, mailboxes=[run.source.mailbox]),
        zone=run.user.timezone,
    )
    _flag_uncategorised(run, upserts.works)
    return upserts.works


def _plan(run: Run, events: list[SourceEvent], source: Calendar) -> _Upserts:
    billings = local_category_overrides(
        user=run.user,
        categories={event.id: event.categories for event in events},
        billings={event.id: billing_from_categories(event.categories) for event in events},
    )
    locations = _locations(run, {n for e in events if (n := location_name(e.graph)) is not None})
    categories = _categories(run, billings.values())
    existing = {
        a.ms_event_id: a
        for a in Appointment.objects.filter(user=run.user, ms_event_id__in=[e.id for e in events])
    }
    upserts = _Upserts()
    for event in events:
        appointment = existing.get(event.id) or Appointment(user=run.user, ms_event_id=event.id)
        billing = billings[event.id]
        if appointment.source_deleted_at is not None:
            upserts.reappeared.append(appointment.pk)
        values = appointment_values(event, billing)
        name = location_name(event.graph)
        category = categories.get(billing.category.casefold()) if billing.category else None
        values["location_id"] = locations[name].pk if name else None
        values["category_id"] = category.pk if category and billing.customer else None
        values["calendar_id"] = source.pk
        changed = _assign(appointment, values)
        if appointment.pk is None:
            upserts.to_create.append(appointment)
        elif changed and appointment.is_locked:
            # Billed on an issued timesheet: the database keeps what was billed until the
            # timesheet is voided; the archive copies still follow Outlook.
            run.counts.locked += 1
        elif changed:
            appointment.updated_at = timezone.now()
            upserts.to_update.append(appointment)
        else:
            run.counts.unchanged += 1
        upserts.works.append(EventWork(source=event, appointment=appointment, billing=billing))
    return upserts


def _read_back_ids(run: Run, created: list[Appointment]) -> None:
    if not created or created[0].pk is not None:
        return
    # SQLite < 3.35 returns no ids from bulk_create; read them back.
    ids = dict(
        Appointment.objects.filter(
            user=run.user, ms_event_id__in=[a.ms_event_id for a in created]
        ).values_list("ms_event_id", "pk")
    )
    for appointment in created:
        appointment.pk = ids[appointment.ms_event_id]


def _close_reappeared(run: Run, appointment_ids: list[int]) -> None:
    """An event that was missing is back in Outlook: its open item has nothing to decide."""
    if not appointment_ids:
        return
    Appointment.objects.filter(pk__in=appointment_ids).update(source_deleted_at=None)
    for item in ActionLog.objects.filter(
        user=run.user,
        event_type=ActionLog.EventType.SOURCE_DELETED,
        key__in=[str(pk) for pk in appointment_ids],
    ).open():
        item.close(by=None, note="the event is back in Outlook")


def _flag_uncategorised(run: Run, works: list[EventWork]) -> None:
    """Meetings whose categories bill no customer get an item with suggestions learned from the
    user's history (archiving/attention.py); those now billed close theirs."""
    source = run.configuration.source_calendar
    attention_items_sync(
        user=run.user,
        zone=run.zone,
        mailboxes=[source.mailbox] if source else [],
        works=[(w.appointment, w.billing, w.key) for w in works],
    )


def _locations(run: Run, names: set[str]) -> dict[str, Location]:
    if not names:
        return {}
    user = run.user
    if not run.dry_run:
        Location.objects.bulk_create(
            [Location(user=user, name=name) for name in names], ignore_conflicts=True
        )
    found = {loc.name: loc for loc in Location.objects.filter(user=user, name__in=names)}
    return {name: found.get(name) or Location(user=user, name=name) for name in names}


def _categories(run: Run, billings: Iterable[Billing]) -> dict[str, Category]:
    names = {b.category.casefold(): b.category for b in billings if b.customer and b.category}
    if not names:
        return {}

    def rows() -> dict[str, Category]:
        return {
            c.name.casefold(): c
            for c in Category.objects.annotate(lower=Lower("name")).filter(
                user=run.user, lower__in=list(names)
            )
        }

    found = rows()
    missing = [Category(user=run.user, name=names[key]) for key in names if key not in found]
    if missing and not run.dry_run:
        Category.objects.bulk_create(missing, ignore_conflicts=True)
        found = rows()
    return found


def _assign(appointment: Appointment, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(appointment, name) != value:
            setattr(appointment, name, value)
            changed = True
    return changed
