"""DSI Finance project package: settings, URLs, Celery app, roles and shared UI helpers."""

from .celery import app as celery_app

__all__ = ("celery_app",)
