"""django-q2's Schedule admin, with our rules: an archive job's schedule is the job's (read-only
here; change the job), and any other schedule is saved only if the scheduler can fire it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from archiving.scheduler_guard import schedule_problem
from archiving.schedules import SCHEDULE_PREFIX


def is_archive_job_schedule(schedule: Schedule | None) -> bool:
    return schedule is not None and (schedule.name or "").startswith(SCHEDULE_PREFIX)


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = [
            "name",
            "func",
            "hook",
            "args",
            "kwargs",
            "schedule_type",
            "minutes",
            "repeats",
            "next_run",
            "cron",
            "cluster",
            "intended_date_kwarg",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("name") or "").startswith(SCHEDULE_PREFIX):
            raise forms.ValidationError(
                f"Names starting with “{SCHEDULE_PREFIX}” belong to archive jobs; "
                "schedule an archive from its job configuration."
            )
        candidate = Schedule(
            **{name: value for name, value in cleaned.items() if name != "id"},
        )
        problem = schedule_problem(candidate)
        if problem is not None:
            field = "kwargs" if "Keyword" in problem else "args"
            raise forms.ValidationError(
                {field: f"The scheduler could not turn this into a task: {problem}"}
            )
        return cleaned


class GuardedScheduleAdmin(ScheduleAdmin):
    form = ScheduleForm

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if is_archive_job_schedule(obj):
            return [field.name for field in Schedule._meta.fields]
        return super().get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_archive_job_schedule(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_archive_job_schedule(obj) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # Bulk deletion spares the archive jobs' schedules too (their jobs remove them).
        super().delete_queryset(request, queryset.exclude(name__startswith=SCHEDULE_PREFIX))


def schedule_admin_register(site: admin.AdminSite) -> None:
    if site.is_registered(Schedule):
        site.unregister(Schedule)
    site.register(Schedule, GuardedScheduleAdmin)
