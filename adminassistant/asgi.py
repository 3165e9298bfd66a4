"""ASGI entry point."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from foundations.startup import freeze_start_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")

application = get_asgi_application()
freeze_start_up()
