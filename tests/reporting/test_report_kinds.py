"""The report kinds as classes: one registry, each kind validating its parameters, the
runner handling errors by kind, and no import cycle between the service and the tasks."""

import ast
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from budgets.models import FiscalYear
from dsi_finance.errors import ServiceError
from reporting import reports as catalogue
from reporting.models import Report
from reporting.reports.base import Column, ReportKind
from reporting.services import reports as services
from tests.factories import FiscalYearFactory
from tests.reporting import reports_lifecycle

pytestmark = pytest.mark.django_db

fake_builder = reports_lifecycle.fake_builder
ROOT = Path(__file__).resolve().parents[2]
NOUMEA = ZoneInfo("Pacific/Noumea")


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026, state="open")


# ---------------------------------------------------------------------------
# The registry


def test_the_registry_lists_each_kind_once_under_its_code():
    assert sorted(catalogue.REGISTRY) == sorted(Report.Kind.values)
    classes = list(catalogue.REGISTRY.values())
    assert len(set(classes)) == len(classes) == 4
    for code, kind in catalogue.REGISTRY.items():
        assert issubclass(kind, ReportKind)
        assert kind.code == code
        assert kind.label() == Report.Kind(code).label
    assert catalogue.REGISTRY["monthly_execution"].label() == "Exécution budgétaire mensuelle"


def test_registering_a_second_class_for_a_kind_is_refused():
    from reporting.reports.base import register

    class Again(ReportKind):
        code = Report.Kind.DISCO

    with pytest.raises(ValueError, match="registered twice"):
        register(Again)
    assert catalogue.REGISTRY["disco"] is catalogue.DiscoReport


@pytest.mark.parametrize(
    ("kind", "parameters"),
    [
        ("monthly_execution", ["year", "month"]),
        ("variance", ["year", "month"]),
        ("provisions", ["year"]),
        ("disco", ["year", "section", "chapter"]),
    ],
)
def test_each_kind_declares_its_parameters_and_its_stem(kind, parameters):
    assert list(catalogue.REGISTRY[kind].parameters) == parameters
    assert catalogue.kind_parameters(kind) == parameters
    assert (
        catalogue.REGISTRY[kind]
        .filename_base({"year": 2026, "month": 3})
        .startswith(catalogue.REGISTRY[kind].stem + "-2026")
    )


@pytest.mark.parametrize("kind", ["monthly_execution", "variance", "provisions", "disco"])
def test_each_kind_builds_both_formats(kind):
    assert catalogue.REGISTRY[kind].builder("xlsx") is catalogue.REGISTRY[kind].build_xlsx
    assert catalogue.REGISTRY[kind].builder("pdf") is catalogue.REGISTRY[kind].build_pdf


def test_the_tabular_kinds_give_their_columns_as_label_type_getter():
    class Row:
        pass

    variance = catalogue.REGISTRY["variance"].columns()
    assert all(isinstance(column, Column) for column in variance)
    assert [column.label for column in variance][:4] == ["Code", "Libellé", "Section", "Voté"]
    row = Row()
    row.forecast_entered = False
    assert variance[-1].getter(row) == "non (engagé)"
    provisions = catalogue.REGISTRY["provisions"].columns()
    assert [(column.label, column.type) for column in provisions][4] == (
        "Montant HT",
        "amount",
    )
    assert len(catalogue.REGISTRY["disco"].columns()) == 12
    assert len(catalogue.REGISTRY["monthly_execution"].columns()) == 10


# ---------------------------------------------------------------------------
# Each kind validates its parameters (in French)


@pytest.mark.parametrize("kind", ["monthly_execution", "variance", "provisions", "disco"])
def test_each_kind_refuses_a_bad_year_in_french(year, kind):
    with pytest.raises(ValidationError) as refused:
        catalogue.REGISTRY[kind].clean({"year": "deux mille"})
    assert refused.value.message_dict == {"year": ["L’année n’est pas un nombre : « deux mille »."]}
    with pytest.raises(ValidationError) as refused:
        catalogue.REGISTRY[kind].clean({"year": 1999})
    assert refused.value.message_dict == {"year": ["L’exercice 1999 n’existe pas."]}


@pytest.mark.parametrize("kind", ["monthly_execution", "variance"])
def test_the_kinds_by_month_refuse_a_thirteenth_month(year, kind):
    with pytest.raises(ValidationError) as refused:
        catalogue.REGISTRY[kind].clean({"year": 2026, "month": 13})
    assert refused.value.message_dict == {"month": ["Le mois doit être compris entre 1 et 12."]}


def test_the_disco_extract_refuses_an_unknown_section(year):
    with pytest.raises(ValidationError) as refused:
        catalogue.REGISTRY["disco"].clean({"year": 2026, "section": "X"})
    assert refused.value.message_dict == {"section": ["Section inconnue : « X »."]}


def test_the_kinds_ignore_the_parameters_they_do_not_take(year):
    assert catalogue.REGISTRY["provisions"].clean({"year": "2026", "month": 99}) == {"year": 2026}


@time_machine.travel(datetime(2026, 11, 18, 9, 0, tzinfo=NOUMEA), tick=False)
def test_the_monthly_kind_defaults_to_the_last_complete_month_and_refuses_the_future(year):
    kind = catalogue.REGISTRY["monthly_execution"]
    assert kind.clean({}) == {"year": 2026, "month": 10}
    with pytest.raises(ValidationError) as refused:
        kind.clean({"year": 2026, "month": 12})
    assert refused.value.message_dict["month"][0].startswith(
        "Le mois de décembre 2026 n’a pas encore commencé"
    )
    # The variance analysis takes no default month.
    assert catalogue.REGISTRY["variance"].clean({}) == {"year": 2026}


def test_the_service_refuses_bad_parameters_in_french(chef, year):
    with pytest.raises(ServiceError) as refused:
        services.report_request(
            user=chef, kind="variance", format="xlsx", parameters={"month": "mars"}
        )
    assert refused.value.message_dict == {"month": ["Le mois n’est pas un nombre : « mars »."]}
    assert not Report.objects.exists()


# ---------------------------------------------------------------------------
# The runner handles errors by kind


def request_variance(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.report_request(
            user=user, kind="variance", format="xlsx", parameters={"year": 2026}
        )


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection"),
        BrokerError("connection refused"),
        TimeoutError("timed out"),
    ],
)
def test_a_transient_error_is_raised_for_the_task_to_retry(
    chef, year, fake_builder, django_capture_on_commit_callbacks, error
):
    report = request_variance(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = error
    with pytest.raises(type(error)):
        services.report_build(report_id=report.pk, task_id="task-a")
    assert isinstance(error, services.TRANSIENT_ERRORS)


def test_the_task_retries_a_transient_error_then_builds_the_report(
    chef, year, fake_builder, django_capture_on_commit_callbacks, settings
):
    import reporting.tasks as tasks

    report = request_variance(chef, django_capture_on_commit_callbacks)
    failures = [OperationalError("server closed the connection")]

    def pause():
        # The first attempt meets the database down; the retry finds it back.
        fake_builder.fail_with = failures.pop() if failures else None

    fake_builder.pause = pause
    # Eager: the retry runs at once (its backoff is what the worker waits).
    result = tasks.build_report.apply(args=[report.pk], task_id="task-a", throw=False)
    assert result.get() == "done"
    report.refresh_from_db()
    assert (report.status, report.attempts, fake_builder.calls) == ("done", 2, 2)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            ServiceError("La ligne 011-2051 est close."),
            "Le rapport n’a pas pu être construit. La ligne 011-2051 est close.",
        ),
        (
            ValidationError({"month": ["Le mois doit être compris entre 1 et 12."]}),
            "Le rapport n’a pas pu être construit. Le mois doit être compris entre 1 et 12.",
        ),
        (
            FiscalYear.DoesNotExist("FiscalYear matching query does not exist."),
            "Le rapport n’a pas pu être construit : un élément qu’il lit n’existe plus (exercice).",
        ),
    ],
)
def test_a_data_error_fails_the_report_with_a_french_message_and_is_not_retried(
    chef, year, fake_builder, django_capture_on_commit_callbacks, error, message
):
    report = request_variance(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = error
    failed = services.report_build(report_id=report.pk, task_id="task-a")  # not raised
    assert (failed.status, failed.error) == ("failed", message)
    assert failed.finished_at is not None


def test_an_unexpected_error_fails_the_report_and_is_logged_with_its_traceback(
    chef, year, fake_builder, django_capture_on_commit_callbacks, caplog
):
    report = request_variance(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = KeyError("gap")
    with caplog.at_level(logging.ERROR, logger="reporting.services.reports"):
        failed = services.report_build(report_id=report.pk, task_id="task-a")
    assert (failed.status, failed.error) == (
        "failed",
        "Le rapport n’a pas pu être construit. KeyError: 'gap'",
    )
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None and record.exc_info[0] is KeyError


# ---------------------------------------------------------------------------
# No import cycle between the service and the tasks


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_service_and_the_tasks_do_not_import_each_other():
    service = imported_modules(ROOT / "reporting/services/reports.py")
    tasks = imported_modules(ROOT / "reporting/tasks.py")
    assert not any(name.startswith("reporting.tasks") for name in service)
    # The tasks import the service (one direction only).
    assert "reporting.services.reports" in tasks


def test_the_reports_are_not_imported_by_name():
    for path in [
        ROOT / "reporting/reports/__init__.py",
        ROOT / "reporting/services/reports.py",
    ]:
        assert "importlib" not in imported_modules(path), path
