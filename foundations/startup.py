"""What a web process does once, before its first request."""

from __future__ import annotations

import gc

from django.urls import get_resolver


def freeze_start_up() -> None:
    """Import the URL conf and every view it names, as the first request would, free start-up's
    garbage, and move what is left into the permanent generation.

    What start-up builds (modules, models, the URL conf and its views: about 150,000 objects)
    lives as long as the process. Left in the collector's sight, each full collection walks all
    of it, a pause of about 75 ms that a random request pays: most of the API's p99 before
    (README, Benchmarks; docs.python.org/3/library/gc.html#gc.freeze)."""
    get_resolver().url_patterns  # noqa: B018 - imports the URL conf and its views
    gc.collect()
    gc.freeze()
