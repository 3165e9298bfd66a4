"""The API's Xero pushes: queue one (202), follow it (202, 200, or the failure's 409/502/503),
queue a month-end batch and follow its progress. Mixed into the timesheets' viewset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foundations.api.exceptions import Conflict
from foundations.api.schema import error_response
from foundations.requests import AuthenticatedRequest
from timesheets.models import Timesheet, XeroPush
from timesheets.services import TimesheetError
from timesheets.xero_client import XeroError
from timesheets.xero_push import xero_push_what_to_do
from timesheets.xero_queue import xero_batch_progress, xero_push_batch, xero_push_queue


class XeroPushStateSerializer(serializers.ModelSerializer):
    """Where the timesheet's push to Xero stands: queued, sending, sent (with the invoice) or
    failed (with what happened and what to do)."""

    detail = serializers.CharField(source="error", help_text="What went wrong, when failed.")
    what_to_do = serializers.SerializerMethodField()
    invoice_id = serializers.CharField(source="timesheet.xero_invoice_id")
    invoice_number = serializers.CharField(source="timesheet.xero_invoice_number")
    invoice_url = serializers.CharField(source="timesheet.xero_invoice_url")
    contact = serializers.SerializerMethodField(help_text="How the Xero contact was chosen.")
    status_url = serializers.SerializerMethodField(help_text="GET it to follow the push.")

    class Meta:
        model = XeroPush
        fields = [
            "status",
            "failure",
            "limit_problem",
            "detail",
            "what_to_do",
            "invoice_id",
            "invoice_number",
            "invoice_url",
            "contact",
            "attempts",
            "requests_sent",
            "limit_waits",
            "task_id",
            "status_url",
            "queued_at",
            "finished_at",
        ]

    def get_what_to_do(self, push: XeroPush) -> str:
        return xero_push_what_to_do(push) if push.status == XeroPush.Status.FAILED else ""

    def get_contact(self, push: XeroPush) -> str:
        return str((push.body or {}).get("contact", ""))

    def get_status_url(self, push: XeroPush) -> str:
        url = reverse("api:timesheet-xero", args=[push.timesheet_id])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class XeroBatchSerializer(serializers.Serializer):
    timesheets = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=1000,
        help_text="Ids of your timesheets to send to Xero (a month end).",
    )


class XeroBatchProgressSerializer(serializers.Serializer):
    batch = serializers.CharField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    done = serializers.BooleanField(help_text="True once none is queued or sending.")
    refused = serializers.ListField(child=serializers.CharField(), required=False)
    status_url = serializers.CharField()


class TimesheetXeroMixin:
    """The viewset's Xero actions; the viewset names its push serializer."""

    # Provided by the viewset (annotations only, so they never shadow its methods).
    get_object: Callable[[], Timesheet]
    get_queryset: Callable[[], Any]

    def xero_push_serializer(self) -> type[serializers.Serializer]:
        return XeroPushStateSerializer

    @extend_schema(
        methods=["POST"],
        request=None,
        responses={
            202: XeroPushStateSerializer,
            409: error_response(
                409, "The timesheet is void or has no rate, or Xero is not configured/connected."
            ),
        },
    )
    @extend_schema(
        methods=["GET"],
        responses={
            200: XeroPushStateSerializer,
            202: XeroPushStateSerializer,
            404: error_response(404, "The timesheet was never sent to Xero."),
            409: XeroPushStateSerializer,
            502: XeroPushStateSerializer,
            503: XeroPushStateSerializer,
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="xero")
    def xero(
        self, request: AuthenticatedRequest, pk: str | None = None, format: str | None = None
    ) -> Response:
        """POST queues sending the timesheet to Xero as a draft sales invoice with its PDF
        (once: a push already sent or under way is left as it is) and answers 202 at once.
        GET follows it: 202 while queued or sending, 200 once sent (invoice number and link),
        and when it failed 409 (you must act: a setting Xero refused, or reconnect Xero),
        502 (Xero answered badly) or 503 (Xero unavailable or a limit reached: retried
        automatically); `detail` says what happened and `what_to_do` what to do."""
        timesheet = self.get_object()
        if request.method == "POST":
            try:
                push = xero_push_queue(timesheet=timesheet, user=request.user)
            except (TimesheetError, XeroError) as error:
                raise Conflict(str(error)) from error
            queued = XeroPush.objects.select_related("timesheet").get(pk=push.pk)
            body = self.xero_push_serializer()(queued, context={"request": request}).data
            return Response(body, status=status.HTTP_202_ACCEPTED)
        found = XeroPush.objects.select_related("timesheet").filter(timesheet=timesheet).first()
        if found is None:
            raise exceptions.NotFound("This timesheet was never sent to Xero: POST to send it.")
        answer = xero_failure_status(found)
        if found.status == XeroPush.Status.SENT:
            answer = status.HTTP_200_OK
        elif found.status in (XeroPush.Status.QUEUED, XeroPush.Status.SENDING):
            answer = status.HTTP_202_ACCEPTED
        return Response(
            self.xero_push_serializer()(found, context={"request": request}).data, status=answer
        )

    @extend_schema(
        request=XeroBatchSerializer,
        responses={
            202: XeroBatchProgressSerializer,
            400: error_response(400, "No timesheets, or one that is not yours."),
        },
    )
    @action(detail=False, methods=["post"], url_path="xero-batch")
    def xero_batch(self, request: AuthenticatedRequest) -> Response:
        """Queue many timesheets to Xero at once (a month end); answers 202 with the batch's
        progress and its `status_url`. Each one is sent once; refusals (void, no rate, not
        connected) are listed in `refused`."""
        body = XeroBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = set(body.validated_data["timesheets"])
        timesheets = list(self.get_queryset().filter(pk__in=wanted))
        if len(timesheets) != len(wanted):
            raise exceptions.ValidationError({"timesheets": ["Only ids of your own timesheets."]})
        batch, refused = xero_push_batch(timesheets=timesheets, user=request.user)
        answer = _progress(request, batch)
        answer["refused"] = refused
        return Response(answer, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: XeroBatchProgressSerializer})
    @action(detail=False, methods=["get"], url_path=r"xero-batch/(?P<batch>[A-Za-z0-9]{1,64})")
    def xero_batch_status(
        self, request: AuthenticatedRequest, batch: str, format: str | None = None
    ) -> Response:
        """A batch's progress: how many are queued, sending, sent and failed."""
        answer = _progress(request, batch)
        if not answer["total"]:
            raise exceptions.NotFound("No such batch of yours.")
        return Response(answer)


def _progress(request: AuthenticatedRequest, batch: str) -> dict[str, Any]:
    counts = xero_batch_progress(batch=batch, user=request.user)
    url = reverse("api:timesheet-xero-batch-status", kwargs={"batch": batch})
    return {
        "batch": batch,
        "total": sum(counts.values()),
        **counts,
        "done": not (counts["queued"] or counts["sending"]),
        "status_url": request.build_absolute_uri(url),
    }


def xero_failure_status(push: XeroPush) -> int:
    if push.user_must_act:
        return status.HTTP_409_CONFLICT
    if push.failure == XeroPush.Failure.BAD_ANSWER:
        return status.HTTP_502_BAD_GATEWAY
    return status.HTTP_503_SERVICE_UNAVAILABLE
