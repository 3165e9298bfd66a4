"""What the items of the workers' faults offer: an archive run that kept dying, a schedule
django-q2 could not fire (archiving/fault_resolutions.py carries them out)."""

from __future__ import annotations

from typing import Any

from auditing.recommendations import recommendation


def abandoned_run_recommendations() -> list[dict[str, Any]]:
    return [
        recommendation(
            id="archive-again",
            label="Archive these days again",
            action="archive_again",
            confidence=0.5,
            reason="The run stopped without finishing on every attempt: look at the qcluster "
            "logs around its last heartbeat (memory, timeouts) first, then run it again.",
        )
    ]


def broken_schedule_recommendations() -> list[dict[str, Any]]:
    return [
        recommendation(
            id="resume",
            label="I corrected its arguments: resume it",
            action="resume",
            confidence=0.5,
            reason="Correct its arguments in Admin, Django Q, Scheduled tasks (a Python "
            "literal, e.g. 1, 'text' or (1, 2)); resuming checks them first.",
        )
    ]
