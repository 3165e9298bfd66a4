"""Fault points for the tests that SIGKILL a qcluster: installed only by tests.fault_settings,
in the cluster's own processes, they pause a run where the test wants to kill it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig


class FaultpointsConfig(AppConfig):
    name = "tests.faultpoints"

    def ready(self) -> None:
        marker = os.environ.get("FAULT_PAUSE_BEFORE_RUN_CLOSED")
        if not marker:
            return
        import archiving.tasks

        close = archiving.tasks.archive_run_finish

        def paused(**fields: Any) -> Any:
            # The run did all its work; its row is about to be closed. Say so, then wait to die.
            Path(marker).write_text(str(os.getpid()))
            time.sleep(120)
            return close(**fields)

        archiving.tasks.archive_run_finish = paused  # type: ignore[assignment]
