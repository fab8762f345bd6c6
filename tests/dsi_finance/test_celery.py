"""Background jobs run through a real broker and a real worker.

The embedded default needs no server (Kombu's filesystem transport); CI runs
the same test against its Redis.
"""

import os
import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import connection

from dsi_finance.tasks import ping
from tests.conftest import broker_url, skip_unless


def project_celery_app(broker: str, transport_options: dict) -> Celery:
    """A Celery app with the project's settings and its own broker, not eager."""
    # Not the current app: the shared tasks of later tests must keep resolving to the
    # project's (eager in the tests) app.
    app = Celery("dsi_finance_under_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker,
        broker_transport_options=transport_options,
        task_always_eager=False,
        result_backend="django-db",
        # A queue of its own: no worker left by another test can take its messages.
        task_default_queue=f"ping-under-test-{uuid.uuid4().hex}",
    )
    app.task(name=ping.name)(ping.run)
    return app


def run_ping_through(app: Celery) -> str:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=15):
        return app.send_task(ping.name).get(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_the_embedded_broker_runs_a_job_with_no_server(tmp_path, monkeypatch):
    # Celery lets CELERY_BROKER_URL override any configuration: CI sets it to Redis.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    queue = tmp_path / "queue"
    queue.mkdir()
    app = project_celery_app(
        "filesystem://localhost//",
        {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        },
    )
    assert app.connection_for_write().transport_cls == "filesystem"
    assert run_ping_through(app) == "pong"


@pytest.mark.django_db(transaction=True)
def test_redis_carries_a_job_to_a_real_worker():
    skip_unless(broker_url().startswith("redis://"), "needs CELERY_BROKER_URL=redis://… (CI)")
    app = project_celery_app(broker_url(), {"socket_connect_timeout": 3})
    assert app.connection_for_write().transport_cls == "redis"
    assert run_ping_through(app) == "pong"


@pytest.mark.django_db
def test_ci_runs_on_the_database_that_database_url_names():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_job_results_and_failures_are_kept_in_the_database(settings):
    assert settings.CELERY_RESULT_BACKEND == "django-db"
    assert settings.CELERY_TASK_ACKS_LATE is True
