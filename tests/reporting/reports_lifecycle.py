"""Helpers of the report lifecycle tests: a test builder in place of the catalogue's,
and a Celery app of the project's settings on a broker of the test's choosing."""

import contextlib
import tempfile
import uuid
from pathlib import Path

import pytest
from celery import Celery, _state

from reporting import reports as catalogue


class FakeBuilder:
    """Builds a small file whose content names the report's parameters; reports its
    progress; fails while `fail_with` is set. `calls` counts the builds."""

    def __init__(self):
        self.calls = 0
        self.fail_with: BaseException | None = None
        self.notes: list[tuple[int, str]] = []
        self.pause = None  # a callable run halfway (lets a test look at the progress)

    def for_kind(self, kind: str, fmt: str):
        def build(*, parameters, progress):
            self.calls += 1
            progress(10, "Lecture des lignes")
            self.notes.append((10, "Lecture des lignes"))
            if self.pause is not None:
                self.pause()
            if self.fail_with is not None:
                raise self.fail_with
            progress(60, "Mise en page")
            with tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False) as handle:
                handle.write(f"{kind} {fmt} {sorted(parameters.items())}".encode())
            return catalogue.BuiltFile(
                filename=f"test.{fmt}",
                path=Path(handle.name),
                content_type=catalogue.CONTENT_TYPES[fmt],
            )

        return build


@pytest.fixture
def fake_builder(monkeypatch, settings, tmp_path):
    """The catalogue's builders replaced by FakeBuilder; media files under tmp_path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    builder = FakeBuilder()
    monkeypatch.setattr(catalogue, "builder_for", builder.for_kind)
    return builder


@contextlib.contextmanager
def project_app(broker: str, transport_options: dict | None = None):
    """A Celery app with the project's settings and its own broker, not eager, made the
    current app for the duration (the shared tasks resolve to it)."""
    import reporting.tasks  # noqa: F401 (registers the shared tasks)

    # Captured before the app exists: a new Celery app makes itself the current one
    # unless told not to, and must not stay so after the test (the shared tasks of the
    # later tests would be sent to its broker instead of running eagerly).
    previous_current = _state.get_current_app()
    previous_default = _state.default_app
    app = Celery("reports_under_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker,
        broker_transport_options=transport_options or {"socket_connect_timeout": 3},
        task_always_eager=False,
        result_backend="django-db",
        # A queue of its own: no worker left by another test can take its messages.
        task_default_queue=f"reports-under-test-{uuid.uuid4().hex}",
    )
    app.set_current()
    app.set_default()
    try:
        yield app
    finally:
        _state._set_current_app(previous_current)
        _state.set_default_app(previous_default)


@pytest.fixture
def worker_friendly_sqlite():
    """On SQLite the test database is in memory, shared between threads in shared-cache
    mode, where a reader meets "database table is locked" while the worker thread
    writes (the busy timeout does not apply to it; a file database in WAL mode, as in
    development and production, has no such lock). Readers there read without table
    locks for the test's duration. Nothing changes on PostgreSQL."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    if connection.vendor != "sqlite":
        yield
        return

    def dirty_reads(sender, connection, **kwargs):
        if connection.vendor == "sqlite":
            connection.cursor().execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(dirty_reads)
    connection.ensure_connection()
    connection.cursor().execute("PRAGMA read_uncommitted = 1")
    try:
        yield
    finally:
        connection_created.disconnect(dirty_reads)
        connection.cursor().execute("PRAGMA read_uncommitted = 0")
