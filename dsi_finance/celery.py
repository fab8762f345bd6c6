"""The Celery application.

With no CELERY_BROKER_URL, the broker is Kombu's filesystem transport under
var/celery/: a real worker and beat run with no server at all. With
CELERY_BROKER_URL=redis://…, Redis carries the messages (production, CI).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")

app = Celery("dsi_finance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
