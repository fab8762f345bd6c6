"""State of the database and of the Celery broker, for /healthz."""

import time
from dataclasses import asdict, dataclass

from django.db import DatabaseError, connection

from .celery import app as celery_app


@dataclass
class ComponentState:
    ok: bool
    backend: str
    latency_ms: int | None = None
    error: str | None = None


def _elapsed_ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def database_state() -> ComponentState:
    """Runs `SELECT 1` on the default database."""
    start = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The class name only: a message may carry a host name or a user.
        return ComponentState(False, connection.vendor, error=type(error).__name__)
    return ComponentState(True, connection.vendor, _elapsed_ms(start))


def broker_state() -> ComponentState:
    """Opens a connection to the Celery broker (one try, short time-out)."""
    start = time.perf_counter()
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    if celery_app.conf.task_always_eager:
        return ComponentState(True, "eager", 0)
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:  # Kombu raises the transport's own errors.
        return ComponentState(False, transport, error=type(error).__name__)
    return ComponentState(True, transport, _elapsed_ms(start))


def system_health() -> tuple[bool, dict]:
    """(healthy, report): healthy when the database answers; a broker down only degrades."""
    database = database_state()
    broker = broker_state()
    if not database.ok:
        status = "error"
    elif not broker.ok:
        status = "degraded"
    else:
        status = "ok"
    report = {"status": status, "database": asdict(database), "broker": asdict(broker)}
    return database.ok, report
