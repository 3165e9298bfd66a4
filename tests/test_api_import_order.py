"""The classes REST_FRAMEWORK names import no DRF views: DRF imports them while it defines its
views, so each must load first, in a fresh interpreter, without a circular import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

# Each case imports the project in a fresh interpreter.
pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def named_classes() -> list[str]:
    rest = settings.REST_FRAMEWORK
    names = [
        *rest["DEFAULT_AUTHENTICATION_CLASSES"],
        *rest["DEFAULT_PARSER_CLASSES"],
        *rest["DEFAULT_RENDERER_CLASSES"],
        *rest["DEFAULT_FILTER_BACKENDS"],
        rest["DEFAULT_PAGINATION_CLASS"],
        *rest["DEFAULT_THROTTLE_CLASSES"],
    ]
    return [name for name in names if not name.startswith(("rest_framework.", "django_filters."))]


@pytest.mark.parametrize("dotted", named_classes())
def test_a_class_rest_framework_names_loads_before_drf_views(dotted: str) -> None:
    module, _, name = dotted.rpartition(".")
    script = (
        "import django; django.setup(); "
        f"import {module}; assert hasattr({module}, {name!r}); "
        "import rest_framework.views, rest_framework.generics"
    )
    answer = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "adminassistant.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
