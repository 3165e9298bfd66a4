"""Step 4: double bookings among the run's timed appointments, resolved by the overlap rules
(calendars/overlaps.py). A decided group (kept, discarded by a person) stays as decided; an
unresolvable one opens one `overlap` item for a person."""

from __future__ import annotations

from collections.abc import Hashable

from archiving.overlap_advice import overlap_recommendations
from archiving.run.record import EventWork, Run
from auditing.models import ActionLog
from calendars.models import Appointment
from calendars.overlaps import Resolution, Slot, resolve_overlaps

Conflict = tuple[Resolution, list[Appointment]]
State = tuple[str, str | None]  # (overlap_state, overlap_reason)
DECIDED = (Appointment.OverlapState.KEPT, Appointment.OverlapState.DISCARDED)


def overlaps_resolve(run: Run, works: list[EventWork]) -> None:
    """Set each appointment's overlap state; all-day events (holidays, out-of-office days,
    working-location markers) never form an overlap."""
    candidates: dict[Hashable, Appointment] = {
        w.key: w.appointment
        for w in works
        if w.appointment.overlap_state not in DECIDED and not w.appointment.is_all_day
    }
    states, conflicts = _states(run, candidates)
    # An all-day event left over from an older rule is no longer part of any overlap.
    for work in works:
        if work.appointment.is_all_day and work.appointment.overlap_state not in DECIDED:
            states[work.key] = (Appointment.OverlapState.NONE, None)
            candidates[work.key] = work.appointment
    changed = []
    for key, (overlap_state, overlap_reason) in states.items():
        appointment = candidates[key]
        if (appointment.overlap_state, appointment.overlap_reason) != (
            overlap_state,
            overlap_reason,
        ):
            appointment.overlap_state = overlap_state
            appointment.overlap_reason = overlap_reason
            changed.append(appointment)
    if run.dry_run:
        return
    if changed:
        Appointment.objects.bulk_update(
            changed, ["overlap_state", "overlap_reason"], batch_size=500
        )
    _conflict_items(run, conflicts)


def _states(
    run: Run, candidates: dict[Hashable, Appointment]
) -> tuple[dict[Hashable, State], list[Conflict]]:
    """The overlap state of each candidate, and the groups a person must decide."""
    states: dict[Hashable, State] = dict.fromkeys(candidates, (Appointment.OverlapState.NONE, None))
    slots = [
        Slot(
            key=key,
            start=a.start_time,
            end=a.end_time,
            show_as=a.show_as,
            importance=a.importance,
            subject=a.subject or "",
        )
        for key, a in candidates.items()
    ]
    conflicts = []
    for resolution in resolve_overlaps(slots):
        if resolution.conflict:
            run.counts.conflicts += 1
            for slot in resolution.group:
                states[slot.key] = (Appointment.OverlapState.CONFLICT, None)
            conflicts.append((resolution, [candidates[s.key] for s in resolution.group]))
            continue
        for slot in resolution.kept:
            states[slot.key] = (Appointment.OverlapState.WINNER, None)
        for slot, reason in resolution.dropped:
            states[slot.key] = (Appointment.OverlapState.LOSER, reason)
    return states, conflicts


def _conflict_items(run: Run, conflicts: list[Conflict]) -> None:
    """One open item per conflict group (the database refuses a second)."""
    items = [_conflict_item(run, resolution, members) for resolution, members in conflicts]
    if items:
        ActionLog.objects.open_items(items)


def _conflict_item(run: Run, resolution: Resolution, members: list[Appointment]) -> ActionLog:
    zone = run.zone
    key = ",".join(str(i) for i in sorted(a.pk for a in members))
    first = min(a.start_time for a in members).astimezone(zone)
    return ActionLog(
        user=run.user,
        event_type=ActionLog.EventType.OVERLAP,
        key=key,
        description=(
            f"{len(members)} overlapping appointments on {first:%a %d %b %Y} need a decision"
        ),
        details={
            "key": key,
            "configuration": run.configuration.pk,
            "appointments": [
                {
                    "id": a.pk,
                    "subject": a.subject,
                    "start": a.start_time.astimezone(zone).isoformat(),
                    "end": a.end_time.astimezone(zone).isoformat(),
                    "show_as": a.show_as,
                    "importance": a.importance,
                    "customer": a.customer,
                }
                for a in sorted(members, key=lambda a: (a.start_time, a.pk))
            ],
        },
        recommendations=overlap_recommendations(user=run.user, members=members),
    )
