from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django_q.models import Schedule

from archiving.admin_schedules import schedule_admin_register
from archiving.forms import ArchiveNowForm
from archiving.models import (
    ArchiveConfiguration,
    ArchiveCopy,
    ArchiveRun,
    CategoryDecision,
    JobConfiguration,
)
from archiving.phrases import DateRange
from archiving.run_status import (
    ArchiveRunStatus,
    LastRun,
    archive_last_runs,
    archive_run_opened_items,
    archive_run_status,
)
from archiving.schedules import (
    configuration_schedules_sync,
    job_schedule_remove,
    job_schedule_sync,
    schedule_name,
)
from archiving.services import archive_dates, archive_queue
from foundations.admin import OwnedModelAdmin, ReadOnlyAdminMixin
from foundations.admin_list import PlannedChangeListMixin
from foundations.days import today_in
from foundations.models import OwnedQuerySet
from foundations.requests import AuthenticatedHttpRequest, authenticated


def audit_link(correlation_id: str) -> str:
    url = reverse("admin:auditing_auditlog_changelist") + f"?correlation_id={correlation_id}"
    return format_html('<a href="{}">audit log</a>', url)


@admin.register(ArchiveConfiguration)
class ArchiveConfigurationAdmin(OwnedModelAdmin[ArchiveConfiguration]):
    list_display = [
        "name",
        "source_calendar_uri",
        "destination_calendar_uri",
        "timezone",
        "is_active",
        "allow_overlaps",
        "copies_in_destination",
        "last_run",
        "user",
    ]
    list_filter = ["is_active", "allow_overlaps", "timezone", "user"]
    search_fields = ["name", "source_calendar_uri", "destination_calendar_uri"]
    list_select_related = ["user", "destination_calendar"]
    readonly_fields = [
        "source_calendar",
        "destination_calendar",
        "copies_in_destination",
        "created_at",
        "updated_at",
    ]
    actions = ["archive_now"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A new configuration counts its days where its owner lives.
        zone = authenticated(request).user.timezone
        return {"timezone": zone, **super().get_changeform_initial_data(request)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArchiveConfiguration]:
        return (
            super()
            .get_queryset(request)
            .annotate(copies_held=Count("destination_calendar__archive_copies"))
        )

    @admin.display(description="copies in its archive calendar", ordering="copies_held")
    def copies_in_destination(self, obj: ArchiveConfiguration) -> str:
        if obj.destination_calendar_id is None:
            return "not run yet"
        held = getattr(obj, "copies_held", None)
        if held is None:
            held = ArchiveCopy.objects.filter(destination_id=obj.destination_calendar_id).count()
        url = (
            reverse("admin:archiving_archivecopy_changelist")
            + f"?destination__id__exact={obj.destination_calendar_id}"
        )
        return format_html('<a href="{}">{}</a>', url, held)

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/archive-now/",
                self.admin_site.admin_view(self.archive_now_view),
                name="archiving_archiveconfiguration_archive_now",
            ),
            path(
                "runs/<str:task_id>/",
                self.admin_site.admin_view(self.run_view),
                name="archiving_archive_run",
            ),
            path(
                "runs/<str:task_id>/status/",
                self.admin_site.admin_view(self.run_status_view),
                name="archiving_archive_run_status",
            ),
            *super().get_urls(),
        ]

    def save_model(
        self, request: HttpRequest, obj: ArchiveConfiguration, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        configuration_schedules_sync(configuration=obj)

    def delete_model(self, request: HttpRequest, obj: ArchiveConfiguration) -> None:
        job_ids = list(obj.job_configurations.values_list("pk", flat=True))
        super().delete_model(request, obj)
        for job_id in job_ids:
            job_schedule_remove(job_id=job_id)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[ArchiveConfiguration]
    ) -> None:
        job_ids = list(
            JobConfiguration.objects.filter(archive_configuration__in=queryset).values_list(
                "pk", flat=True
            )
        )
        super().delete_queryset(request, queryset)
        for job_id in job_ids:
            job_schedule_remove(job_id=job_id)

    @admin.display(description="Last run")
    def last_run(self, obj: ArchiveConfiguration) -> str:
        row: LastRun | None = getattr(obj, "_last_run", None)
        return f"{row.at:%d %b %H:%M} {row.status}" if row else "never"

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list
        last = archive_last_runs(configuration_ids=[c.pk for c in rows])
        for configuration in rows:
            configuration._last_run = last.get(configuration.pk)
        return changelist

    @admin.action(description="Archive now (yesterday)")
    def archive_now(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[ArchiveConfiguration]
    ) -> HttpResponse | None:
        task_ids = []
        for configuration in queryset:
            dates = archive_dates(configuration=configuration, phrase="yesterday")
            task_ids.append(self._queued(request, configuration, dates))
        if len(task_ids) == 1 and task_ids[0]:
            return HttpResponseRedirect(reverse("admin:archiving_archive_run", args=task_ids))
        return None

    def _queued(
        self,
        request: AuthenticatedHttpRequest,
        configuration: ArchiveConfiguration,
        dates: DateRange,
    ) -> str | None:
        """Queue the run and say so; the task id, for the run page."""
        queued = archive_queue(configuration=configuration, dates=dates, by=request.user)
        follow = audit_link(queued.correlation_id)
        if queued.task_id:
            url = reverse("admin:archiving_archive_run", args=[queued.task_id])
            follow = format_html('{} or on its <a href="{}">run page</a>', follow, url)
        messages.success(
            request,
            format_html(
                "Archive of “{}” for {} queued; follow it in the {}.",
                configuration,
                dates,
                follow,
            ),
        )
        return queued.task_id

    def _run(self, request: AuthenticatedHttpRequest, task_id: str) -> ArchiveRunStatus:
        run = archive_run_status(task_id=task_id, user=request.user)
        if run is None:
            raise Http404("You have no archive run with this task id.")
        return run

    def _run_state(
        self, request: AuthenticatedHttpRequest, run: ArchiveRunStatus
    ) -> dict[str, Any]:
        result = run.result if isinstance(run.result, dict) else {}
        counts = result.get("counts")
        if not isinstance(counts, dict):
            counts = {}
        items = archive_run_opened_items(run=run, user=request.user)
        return {
            "status": run.status,
            "finished": run.status in {ArchiveRun.Status.SUCCESS, ArchiveRun.Status.FAILURE},
            "outcome": result.get("status") or run.status,
            "reason": result.get("reason") or run.error or "",
            # Only what happened: a run's many zero counts would hide the few that matter.
            "counts": [
                {"name": name.replace("_", " "), "value": value}
                for name, value in counts.items()
                if value
            ],
            "items": [
                {
                    "description": item.description or item.event_type,
                    "url": reverse("admin:auditing_actionlog_change", args=[item.pk]),
                }
                for item in items
            ],
            "audit_url": reverse("admin:auditing_auditlog_changelist")
            + f"?correlation_id={run.correlation_id}",
        }

    def run_view(self, request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
        run = self._run(request, task_id)
        configuration = (
            ArchiveConfiguration.objects.filter(pk=run.configuration_id).first()
            if run.configuration_id is not None
            else None
        )
        return TemplateResponse(
            request,
            "admin/archiving/archiveconfiguration/archive_run.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": configuration,
                "run": run,
                "state": self._run_state(request, run),
                "status_url": reverse("admin:archiving_archive_run_status", args=[task_id]),
                "title": f"Archive run for {run.dates}",
            },
        )

    def run_status_view(self, request: AuthenticatedHttpRequest, task_id: str) -> JsonResponse:
        return JsonResponse(self._run_state(request, self._run(request, task_id)))

    def archive_now_view(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        configuration = self.get_object(request, str(pk))
        form = ArchiveNowForm(request.POST or None, today=today_in(configuration.timezone))
        if request.method == "POST" and form.is_valid():
            task_id = self._queued(request, configuration, form.cleaned_data["dates"])
            if task_id:
                return HttpResponseRedirect(reverse("admin:archiving_archive_run", args=[task_id]))
            return HttpResponseRedirect(
                reverse("admin:archiving_archiveconfiguration_change", args=[pk])
            )
        return TemplateResponse(
            request,
            "admin/archiving/archiveconfiguration/archive_now.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": configuration,
                "form": form,
                "title": f"Archive “{configuration}” now",
            },
        )


@admin.register(JobConfiguration)
class JobConfigurationAdmin(OwnedModelAdmin[JobConfiguration]):
    list_display = [
        "__str__",
        "archive_configuration",
        "schedule_type",
        "schedule_hour",
        "schedule_minute",
        "schedule_day_of_week",
        "archive_window_days",
        "is_active",
        "next_run",
        "last_result",
        "user",
    ]
    list_filter = ["schedule_type", "is_active", "user"]
    search_fields = ["archive_configuration__name"]
    list_select_related = ["user", "archive_configuration"]
    autocomplete_fields = ["archive_configuration"]
    readonly_fields = ["next_run", "last_result", "created_at", "updated_at"]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        jobs = changelist.result_list
        runs = {
            s.name: s.next_run
            for s in Schedule.objects.filter(name__in=[schedule_name(j.pk) for j in jobs])
        }
        last = archive_last_runs(configuration_ids=[j.archive_configuration_id for j in jobs])
        for job in jobs:
            job._next_run = runs.get(schedule_name(job.pk))
            job._last_run = last.get(job.archive_configuration_id)
        return changelist

    @admin.display(description="Next run")
    def next_run(self, obj: JobConfiguration) -> Any:
        if not hasattr(obj, "_next_run"):
            schedule = Schedule.objects.filter(name=schedule_name(obj.pk)).first()
            obj._next_run = schedule.next_run if schedule else None
        return obj._next_run or "—"

    @admin.display(description="Last run")
    def last_result(self, obj: JobConfiguration) -> str:
        if not hasattr(obj, "_last_run"):
            obj._last_run = archive_last_runs(configuration_ids=[obj.archive_configuration_id]).get(
                obj.archive_configuration_id
            )
        row: LastRun | None = obj._last_run
        if row is None:
            return "never"
        return f"{row.at:%d %b %Y %H:%M}: {row.status} — {row.message or ''}"[:200]

    def save_model(
        self, request: HttpRequest, obj: JobConfiguration, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        job_schedule_sync(job=obj)

    def delete_model(self, request: HttpRequest, obj: JobConfiguration) -> None:
        job_id = obj.pk
        super().delete_model(request, obj)
        job_schedule_remove(job_id=job_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[JobConfiguration]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for job_id in ids:
            job_schedule_remove(job_id=job_id)


@admin.register(ArchiveCopy)
class ArchiveCopyAdmin(ReadOnlyAdminMixin, PlannedChangeListMixin, admin.ModelAdmin):
    """Where each appointment was copied; written only by archive runs."""

    list_display = ["appointment", "destination", "event_id", "created_at", "updated_at"]
    list_filter = [("destination", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["appointment__subject", "event_id"]
    list_select_related = ["appointment", "destination"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArchiveCopy]:
        # ArchiveCopy's manager is an OwnedQuerySet (owned through the appointment).
        return cast(OwnedQuerySet, super().get_queryset(request)).for_user(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: ArchiveCopy | None = None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        return (
            obj is None or request.user.is_superuser or obj.appointment.user_id == request.user.pk
        )


@admin.register(ArchiveRun)
class ArchiveRunAdmin(ReadOnlyAdminMixin, PlannedChangeListMixin, admin.ModelAdmin):
    """Every queued or scheduled run and what became of it; written only by the runs."""

    # Short columns, so that a superuser's list (with each run's owner) fits 1280 px; when it
    # was queued and what it wrote are on the run's page.
    list_display = ["configuration", "kind", "window", "status", "finished"]
    list_filter = ["status", "kind"]
    search_fields = ["task_id", "correlation_id", "configuration__name"]
    list_select_related = ["configuration__user"]
    date_hierarchy = "queued_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArchiveRun]:
        # ArchiveRun's manager is an OwnedQuerySet (owned through the configuration).
        return cast(OwnedQuerySet, super().get_queryset(request)).for_user(request.user)

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return ["configuration_and_owner", *self.list_display[1:]]
        return self.list_display

    @admin.display(description="configuration", ordering="configuration__name")
    def configuration_and_owner(self, obj: ArchiveRun) -> str:
        return format_html(
            '{}<span class="list-owner">{}</span>', obj.configuration, obj.configuration.user
        )

    @admin.display(description="days", ordering="start")
    def window(self, obj: ArchiveRun) -> str:
        if obj.start == obj.end:
            return f"{obj.start.day} {obj.start:%b %Y}"
        return f"{obj.start.day} {obj.start:%b %Y} \u2013 {obj.end.day} {obj.end:%b %Y}"

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj: ArchiveRun) -> str:
        if obj.finished_at is None:
            return "\u2014"
        return dateformat.format(timezone.localtime(obj.finished_at), "j M Y H:i")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: ArchiveRun | None = None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        return (
            obj is None or request.user.is_superuser or obj.configuration.user_id == request.user.pk
        )


@admin.register(CategoryDecision)
class CategoryDecisionAdmin(ReadOnlyAdminMixin, OwnedModelAdmin[CategoryDecision]):
    """What the attention inbox learned from: categories applied, suggestions turned down."""

    list_display = ["created_at", "appointment", "label", "decision", "local_only", "user"]
    list_filter = ["decision", "local_only"]
    search_fields = ["label", "appointment__subject"]
    list_select_related = ["appointment", "user"]


schedule_admin_register(admin.site)
