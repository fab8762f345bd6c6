"""/healthz: the state of the database and of the broker."""

from unittest import mock

import pytest
from celery import Celery
from django.db import OperationalError
from django.urls import reverse

from dsi_finance import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_with_the_state_of_each_part(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] in {"sqlite", "postgresql"}
    assert body["broker"]["ok"] is True


def test_healthz_needs_no_login_and_is_never_cached(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client):
    class DeadCursor:
        def __enter__(self):
            raise OperationalError("connection to server at db:5432 failed")

        def __exit__(self, *exc):
            return False

    with mock.patch.object(health.connection, "cursor", return_value=DeadCursor()):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == {
        "ok": False,
        "backend": health.connection.vendor,
        "latency_ms": None,
        "error": "OperationalError",
    }
    assert "db:5432" not in response.content.decode()  # no host names leak out


def test_healthz_stays_200_but_degraded_when_only_the_broker_is_down(client, monkeypatch):
    # A broker on a port where nothing listens (Celery gives the variable precedence).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    unreachable = Celery("unreachable", broker="redis://127.0.0.1:1/0", set_as_current=False)
    unreachable.conf.broker_connection_timeout = 1
    with mock.patch.object(health, "celery_app", unreachable):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["broker"]["backend"] == "redis"


def test_healthz_refuses_post(client):
    assert client.post(reverse("healthz")).status_code == 405
