"""Reporting: dashboards, exports and the controlling reports built by Celery. Reads all."""
