"""What a web server loads (adminassistant.wsgi or asgi) is ready before the first request and
out of the garbage collector's way: the URL conf and its views imported, start-up's objects
frozen, so a full collection during a request walks only what requests made (README,
Benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster_helpers import process_environment, run_python

pytestmark = pytest.mark.slow

LOAD = """
import gc, json, sys
import importlib
importlib.import_module(sys.argv[1])
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "views": [name for name in ("adminassistant.urls", "calendars.api", "timesheets.admin")
              if name in sys.modules],
}))
"""


@pytest.mark.parametrize("entry_point", ["adminassistant.wsgi", "adminassistant.asgi"])
def test_the_web_entry_point_imports_its_views_and_freezes_what_start_up_made(
    entry_point: str, tmp_path: Path
) -> None:
    environment = {**process_environment(), "VAR_DIR": str(tmp_path)}

    loaded = json.loads(run_python(LOAD, environment, entry_point))

    assert loaded["views"] == ["adminassistant.urls", "calendars.api", "timesheets.admin"]
    assert loaded["frozen"] > 50_000
    assert loaded["tracked"] < loaded["frozen"] / 10
