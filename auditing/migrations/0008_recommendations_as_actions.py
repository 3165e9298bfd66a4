"""Existing items' recommendations were fixed sentences; each becomes the structured,
executable choice it described (its sentence kept as the reason where it still holds), so no
sentence without an action remains. Reversible: going back turns each choice into its label."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _choice(id: str, label: str, action: str, confidence: float, reason: str = "", **params: Any):
    return {
        "id": id,
        "label": label,
        "action": action,
        "params": params,
        "confidence": confidence,
        "reason": reason,
    }


def _overlap(item: Any, sentences: list[str]) -> list[dict[str, Any]]:
    members = [m for m in (item.details or {}).get("appointments", []) if "id" in m]
    reason = " ".join(sentences)
    choices = [
        _choice(
            f"keep-{member['id']}",
            f"Keep “{member.get('subject') or member['id']}”, drop the others",
            "keep",
            0.5 if index == 0 and reason else 0.3,
            reason if index == 0 else "",
            keep_ids=[member["id"]],
        )
        for index, member in enumerate(members)
    ]
    if members:
        choices.append(
            _choice(
                "keep-all",
                "Keep them all (bill each)",
                "keep",
                0.2,
                keep_ids=[m["id"] for m in members],
            )
        )
    return choices


def _converted(item: Any) -> list[dict[str, Any]]:
    sentences = [s for s in item.recommendations or [] if isinstance(s, str)]
    kind = item.event_type
    if kind == "overlap":
        return _overlap(item, sentences)
    if kind in ("uncategorised", "possibly_billable"):
        return [
            _choice(
                "mark-personal",
                "Not billable: leave it unbilled",
                "mark_personal",
                0.3,
                "Recorded before suggestions were learned; the next archive run or "
                "`manage.py attention` suggests a category from your history.",
            )
        ]
    if kind == "source_deleted":
        billed = bool((item.details or {}).get("on_issued_timesheet"))
        return [
            _choice("happened", "It happened — keep billing it", "happened", 0.6),
            _choice(
                "did-not-happen",
                "It did not happen — stop billing it, delete its archive copies",
                "did_not_happen",
                0.4,
                "It is on an issued timesheet and stays billed there until that timesheet is "
                "voided."
                if billed
                else "",
            ),
        ]
    simple = {
        "reconnect_microsoft": ("reconnect", "Check the Microsoft 365 sign-in again", "reconnect"),
        "reconnect_xero": ("reconnect", "Check the Xero connection again", "reconnect"),
        "upload_failed": ("retry-upload", "Retry the upload to OneDrive", "retry_upload"),
        "xero_push_failed": ("retry-push", "Send to Xero again", "retry_push"),
        "archive_stale": ("archive-now", "Archive the missed days now", "archive_now"),
    }
    if kind in simple:
        id, label, action = simple[kind]
        return [_choice(id, label, action, 0.7, " ".join(sentences))]
    return []


def forwards(apps: Any, schema_editor: Any) -> None:
    ActionLog = apps.get_model("auditing", "ActionLog")
    changed = []
    for item in ActionLog.objects.exclude(recommendations=None).iterator(chunk_size=500):
        if isinstance(item.recommendations, list) and all(
            isinstance(r, dict) for r in item.recommendations
        ):
            continue
        item.recommendations = _converted(item)
        changed.append(item)
        if len(changed) >= 500:
            ActionLog.objects.bulk_update(changed, ["recommendations"])
            changed = []
    if changed:
        ActionLog.objects.bulk_update(changed, ["recommendations"])


def backwards(apps: Any, schema_editor: Any) -> None:
    ActionLog = apps.get_model("auditing", "ActionLog")
    for item in ActionLog.objects.exclude(recommendations=None).iterator(chunk_size=500):
        item.recommendations = [
            r.get("label", "") if isinstance(r, dict) else r for r in item.recommendations
        ]
        item.save(update_fields=["recommendations"])


class Migration(migrations.Migration):
    dependencies = [("auditing", "0007_possibly_billable_and_structured_recommendations")]

    operations = [migrations.RunPython(forwards, backwards)]
