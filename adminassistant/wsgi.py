"""WSGI entry point (gunicorn adminassistant.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")

application = get_wsgi_application()
