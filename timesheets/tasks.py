"""django-q2 tasks: thin wrappers around the timesheet services."""

from __future__ import annotations

from timesheets.admin_exports import export_pdf_render


def export_pdf_task(export_id: str, appointment_ids: list[int]) -> str:
    export_pdf_render(export_id, appointment_ids)
    return export_id
