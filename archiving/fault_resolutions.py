"""How the items the workers' faults open are settled: an archive run that kept dying is run
again for its days, and a schedule django-q2 could not fire is resumed once its arguments read."""

from __future__ import annotations

from django_q.models import Schedule

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.phrases import DateRange
from archiving.scheduler_guard import schedule_problem
from archiving.services import archive_queue
from auditing.models import ActionLog
from auditing.resolutions import ResolutionFailed, resolutions_register


def abandoned_run_archive_again(*, item: ActionLog, by: User) -> str:
    run = ArchiveRun.objects.filter(pk=item.detail_id("run")).first()
    configuration = ArchiveConfiguration.objects.filter(
        pk=item.detail_id("configuration"), user=item.user
    ).first()
    if run is None or configuration is None:
        raise ResolutionFailed("The archive configuration or run of this item no longer exists.")
    queued = archive_queue(configuration=configuration, dates=DateRange(run.start, run.end), by=by)
    item.close(by=by, note=f"archived again (run {queued.correlation_id})")
    return f"Archiving {run.start} to {run.end} again (run {queued.correlation_id})."


def broken_schedule_resume(*, item: ActionLog, by: User) -> str:
    schedule = Schedule.objects.filter(pk=item.detail_id("schedule")).first()
    if schedule is None:
        item.close(by=by, note="the schedule was deleted")
        return "The schedule no longer exists: nothing to resume."
    problem = schedule_problem(schedule)
    if problem is not None:
        raise ResolutionFailed(f"Its arguments still cannot be read: {problem}")
    Schedule.objects.filter(pk=schedule.pk).update(repeats=-1)
    item.close(by=by, note="the schedule was corrected and resumed")
    return f"Schedule “{schedule.name or schedule.pk}” fires again."


def fault_resolutions_register() -> None:
    resolutions_register(
        event_type=ActionLog.EventType.ARCHIVE_ABANDONED,
        choices={"archive_again": abandoned_run_archive_again},
    )
    resolutions_register(
        event_type=ActionLog.EventType.SCHEDULE_BROKEN, choices={"resume": broken_schedule_resume}
    )
