"""WSGI entry point (gunicorn adminassistant.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from foundations.bodies import BoundedRequestBodies
from foundations.startup import freeze_start_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")

# Chunked bodies are read within DATA_UPLOAD_MAX_MEMORY_SIZE or refused (foundations/bodies.py).
application = BoundedRequestBodies(get_wsgi_application())
freeze_start_up()
