"""django-q2 tasks: thin wrappers around the timesheet services."""

from __future__ import annotations

from typing import Any

from auditing.context import RequestContext, current_request, new_correlation_id
from timesheets.admin_exports import export_pdf_render
from timesheets.services import TimesheetError
from timesheets.xero import xero_tokens_refresh
from timesheets.xero_client import XeroError
from timesheets.xero_push import xero_push_run
from timesheets.xero_queue import xero_push_retry_due


def export_pdf_task(export_id: str, appointment_ids: list[int]) -> str:
    export_pdf_render(export_id, appointment_ids)
    return export_id


def xero_push_task(push_id: int, correlation_id: str | None = None) -> dict[str, Any]:
    """One queued push. Never raises: the failure is on the push row and in the action log."""
    context = current_request.get()
    token = None
    if context is None or (correlation_id and context.correlation_id != correlation_id):
        token = current_request.set(
            RequestContext(correlation_id=correlation_id or new_correlation_id())
        )
    try:
        result = xero_push_run(push_id=push_id)
    except (XeroError, TimesheetError) as error:
        return {"status": "failed", "error": str(error)}
    finally:
        if token is not None:
            current_request.reset(token)
    return {"status": "sent", "invoice_number": result.invoice_number}


def xero_upkeep_task() -> dict[str, Any]:
    """Scheduled daily: refresh refresh tokens before Xero's 60 days, and queue again the
    pushes that failed on something transient (Xero down, a limit) once it may have passed."""
    return {"tokens": xero_tokens_refresh(), "retried": xero_push_retry_due()}
