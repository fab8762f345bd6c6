"""ASGI entry point, kept for completeness; production runs WSGI under gunicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")

application = get_asgi_application()
