"""WSGI entry point (gunicorn dsi_finance.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")

application = get_wsgi_application()
