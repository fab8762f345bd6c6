"""Project-wide Celery tasks."""

from celery import shared_task


@shared_task(name="dsi_finance.ping")
def ping() -> str:
    """Answers 'pong': lets the health checks and tests prove that a worker consumes the queue."""
    return "pong"
