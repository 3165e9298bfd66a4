"""The app's settings with the benchmark's floor views added (see floor_urls.py)."""

from __future__ import annotations

from adminassistant.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
