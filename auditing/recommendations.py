"""What an action item recommends: structured, executable choices, best first.

Each recommendation is `{"id", "label", "action", "params", "confidence", "reason"}`. `action`
names a resolver registered for the item's event type (auditing/resolutions.py), `params` are
that resolver's keyword arguments, `confidence` (0 to 1) how sure the system is that this is what
the user wants, `reason` why, in the user's words ("8 of your 9 meetings with people at
modena.example were 'Modena - billable'"). A fixed sentence with no action is not a
recommendation: the JSON Schema below refuses it, on every write.

Pure: no ORM. The threshold above which a recommendation is pre-selected (the admin's "apply
the top recommendation" and `manage.py attention --apply-confident`) is the setting
`ATTENTION_CONFIDENCE_THRESHOLD`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from foundations.inputs import json_schema_validator

RECOMMENDATIONS_MAX = 20
RECOMMENDATION_SCHEMA: dict[str, Any] = {
    "description": "Recommendations must be a list of {id, label, action, params, confidence, "
    "reason}",
    "type": "array",
    "maxItems": RECOMMENDATIONS_MAX,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "label", "action", "params", "confidence", "reason"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.:-]{0,63}$"},
            "label": {"type": "string", "minLength": 1, "maxLength": 255},
            "action": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "params": {"type": "object", "maxProperties": 10},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string", "maxLength": 1000},
        },
    },
}
_check = json_schema_validator(RECOMMENDATION_SCHEMA)


def validate_recommendations(value: object) -> None:
    """The field's validator: the shape, and each id once."""
    if value is None:
        return
    _check(value)
    assert isinstance(value, list)
    ids = [item["id"] for item in value]
    if len(ids) != len(set(ids)):
        from django.core.exceptions import ValidationError

        raise ValidationError("Each recommendation of an item needs its own id.", code="invalid")


def recommendation(
    *,
    id: str,
    label: str,
    action: str,
    params: Mapping[str, Any] | None = None,
    confidence: float,
    reason: str = "",
) -> dict[str, Any]:
    """One recommendation, its confidence rounded to what a person reads (two places)."""
    return {
        "id": id,
        "label": label[:255],
        "action": action,
        "params": dict(params or {}),
        "confidence": round(min(max(float(confidence), 0.0), 1.0), 2),
        "reason": reason[:1000],
    }


def recommendations_ordered(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Best first (highest confidence; ties keep the order they were given in), validated."""
    listed = list(items)
    validate_recommendations(listed)
    return sorted((dict(item) for item in listed), key=lambda item: -item["confidence"])


def confidence_threshold() -> float:
    """Above this a recommendation is pre-selected; below it is offered, never applied for the
    user without their say."""
    value = float(getattr(settings, "ATTENTION_CONFIDENCE_THRESHOLD", 0.8))
    if not 0 <= value <= 1:
        raise ImproperlyConfigured(
            f"ATTENTION_CONFIDENCE_THRESHOLD is a confidence from 0 to 1, not {value}."
        )
    return value


def is_preselected(item: Mapping[str, Any]) -> bool:
    return float(item.get("confidence", 0)) >= confidence_threshold()
