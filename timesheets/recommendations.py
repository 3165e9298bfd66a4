"""The recommendations timesheets' action items offer (retry, reconnect), built in one place
for the code that opens the items; timesheets/attention.py carries them out."""

from __future__ import annotations

from typing import Any

from auditing.recommendations import recommendation


def retry_recommendation(kind: str, *, reason: str = "") -> list[dict[str, Any]]:
    if kind == "upload":
        return [
            recommendation(
                id="retry-upload",
                label="Upload it to OneDrive again",
                action="retry_upload",
                confidence=0.7,
                reason="Most failed uploads are a passing OneDrive problem; a retry replaces "
                "the files.",
            )
        ]
    return [
        recommendation(
            id="retry-push",
            label="Send it to Xero again",
            action="retry_push",
            confidence=0.7,
            reason=reason
            or "A retry makes no second invoice: it first looks up what Xero already holds.",
        )
    ]


def xero_reconnect_recommendation() -> list[dict[str, Any]]:
    return [
        recommendation(
            id="reconnect",
            label="I have reconnected: check the Xero connection again",
            action="reconnect",
            confidence=0.5,
            reason="Connect Xero again from “Xero connections” (or `manage.py connect_xero`), "
            "then check here.",
        )
    ]
