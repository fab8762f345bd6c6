"""The report pages: list, request form, report page with its polled status, download,
retry; and the ledger checks page."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from reporting.models import LedgerCheck, Report
from reporting.services import reports as services
from tests.factories import FiscalYearFactory
from tests.reporting import reports_lifecycle
from tests.reporting.report_helpers import normalise

pytestmark = pytest.mark.django_db

fake_builder = reports_lifecycle.fake_builder

NOUMEA = ZoneInfo("Pacific/Noumea")
LIST = reverse("reporting:report-list")
REQUEST = reverse("reporting:report-request")
CHECKS = reverse("reporting:ledger-check-list")
RUN_CHECK = reverse("reporting:ledger-check-run")


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026)


@pytest.fixture
def published(monkeypatch):
    """The task sent to the broker: recorded here instead."""
    sent = []
    monkeypatch.setattr(
        services, "_publish", lambda task, *, args, task_id: sent.append((task.name, args[0]))
    )
    return sent


def make_report(status="queued", **fields) -> Report:
    return Report.objects.create(
        kind="monthly_execution",
        format="xlsx",
        parameters={"year": 2026, "month": 10},
        status=status,
        **fields,
    )


def built_report(chef, _builder) -> Report:
    report = make_report(requested_by=chef)
    return services.report_build(report_id=report.pk)


# --- who may see what ------------------------------------------------------


@pytest.mark.parametrize("who", ["chef", "directeur", "controleur"])
def test_every_download_report_holder_sees_every_report(who, request, chef, fake_builder):
    report = built_report(chef, fake_builder)
    client = request.getfixturevalue("client_as")(request.getfixturevalue(who))
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-report="{report.pk}"' in html
    assert "Exécution budgétaire mensuelle" in html
    assert "2026, octobre" in html
    assert reverse("reporting:report-download", args=[report.pk]) in html
    assert client.get(report.get_absolute_url()).status_code == 200
    download = client.get(reverse("reporting:report-download", args=[report.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"monthly_execution xlsx")


@pytest.mark.parametrize("who", ["acheteur", "comptable", "sans_role"])
def test_the_other_roles_get_403_everywhere(who, request, chef, fake_builder):
    report = built_report(chef, fake_builder)
    client = request.getfixturevalue("client_as")(request.getfixturevalue(who))
    for url in (
        LIST,
        REQUEST,
        report.get_absolute_url(),
        reverse("reporting:report-download", args=[report.pk]),
        CHECKS,
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("reporting:report-retry", args=[report.pk])).status_code == 403
    assert client.post(RUN_CHECK).status_code == 403


def test_anonymous_users_are_sent_to_the_login_page(client, chef, fake_builder):
    report = built_report(chef, fake_builder)
    for url in (LIST, REQUEST, report.get_absolute_url(), CHECKS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["directeur", "controleur"])
def test_readers_may_neither_request_nor_retry_nor_check_the_ledger(who, request, year):
    report = make_report(status="failed", error="boom")
    client = request.getfixturevalue("client_as")(request.getfixturevalue(who))
    assert client.get(REQUEST).status_code == 403
    assert client.post(REQUEST, {"kind": "disco", "format": "xlsx"}).status_code == 403
    assert client.post(reverse("reporting:report-retry", args=[report.pk])).status_code == 403
    assert client.get(CHECKS).status_code == 403
    assert Report.objects.count() == 1
    page = client.get(report.get_absolute_url()).content.decode()
    assert 'data-testid="retry"' not in page
    assert 'data-testid="request-link"' not in client.get(LIST).content.decode()


# --- the list ----------------------------------------------------------------


def test_the_list_filters_by_kind_and_status_and_htmx_gets_only_the_table(chef, client_as, year):
    make_report(status="done")
    make_report(status="failed")
    Report.objects.create(kind="disco", format="pdf", parameters={"year": 2026})
    client = client_as(chef)
    page = client.get(LIST, {"status": "failed"})
    assert "1 rapport" in page.content.decode()
    page = client.get(
        LIST, {"kind": "disco"}, headers={"HX-Request": "true", "HX-Target": "table-region"}
    )
    html = page.content.decode()
    assert html.lstrip().startswith('<div id="table-region"')
    assert "Extrait DISCO" in html
    assert "1 rapport" in html
    assert "Exécution budgétaire mensuelle" not in html


def test_an_empty_list_without_filters_says_there_is_no_report_yet_and_how_to_get_one(
    chef, directeur, client_as, year
):
    html = normalise(client_as(chef).get(LIST).content.decode())
    assert "Aucun rapport pour l’instant." in html
    assert "Demandez-en un" in html and 'data-testid="empty-request-link"' in html
    assert "ne correspond à ces filtres" not in html
    # A reader, who may not request one, is told where they come from.
    html = normalise(client_as(directeur).get(LIST).content.decode())
    assert "Aucun rapport pour l’instant. Le rapport d’exécution budgétaire mensuelle" in html
    assert 'data-testid="empty-request-link"' not in html


def test_an_empty_list_with_filters_says_that_nothing_matches_them(chef, client_as, year):
    make_report(status="done")
    client = client_as(chef)
    html = client.get(LIST, {"status": "failed"}).content.decode()
    assert "Aucun rapport ne correspond à ces filtres." in html
    assert "Aucun rapport pour l’instant" not in html
    # The same through htmx (a filter changed in place).
    region = client.get(
        LIST, {"kind": "disco"}, headers={"HX-Request": "true", "HX-Target": "table-region"}
    ).content.decode()
    assert "Aucun rapport ne correspond à ces filtres." in region
    # Filters set back to "all" are no filter.
    html = client.get(LIST, {"kind": "", "status": ""}).content.decode()
    assert f'data-report="{Report.objects.get().pk}"' in html


# --- the request form ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_chef_requests_a_report_and_lands_on_its_page(
    chef, client_as, year, published, django_capture_on_commit_callbacks
):
    client = client_as(chef)
    form = client.get(REQUEST)
    assert form.status_code == 200
    assert 'name="form_token"' in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            REQUEST, {"kind": "monthly_execution", "format": "pdf", "year": "2026", "month": "9"}
        )
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == report.get_absolute_url()
    assert (report.kind, report.format, report.parameters) == (
        "monthly_execution",
        "pdf",
        {"year": 2026, "month": 9},
    )
    assert report.requested_by == chef
    assert published == [("reporting.build_report", report.pk)]
    page = client.get(response["Location"]).content.decode()
    assert "Rapport demandé : Exécution budgétaire mensuelle." in page
    assert 'hx-trigger="every 1s"' in page  # polled while queued
    # "Being built" is said inside the polled region only, never in a lasting banner.
    region = page.split('id="report-status"')[1]
    assert 'data-testid="building"' in region
    assert page.count("Sa construction est en cours") == 1


def test_the_form_starts_on_the_last_complete_month_and_says_which(chef, client_as, year):
    FiscalYearFactory(year=2025)
    with time_machine.travel(datetime(2026, 12, 8, 10, 0, tzinfo=NOUMEA), tick=False):
        response = client_as(chef).get(REQUEST)
    form = response.context["form"]
    assert (form["year"].value(), form["month"].value()) == ("2026", "11")
    html = normalise(response.content.decode())
    assert "Par défaut : novembre 2026, dernier mois complet." in html
    assert '<option value="11" selected>' in html


def test_in_january_the_form_starts_on_last_years_december(chef, client_as, year):
    FiscalYearFactory(year=2027)
    with time_machine.travel(datetime(2027, 1, 10, 10, 0, tzinfo=NOUMEA), tick=False):
        response = client_as(chef).get(REQUEST, {"kind": "monthly_execution"})
    form = response.context["form"]
    assert (form["year"].value(), form["month"].value()) == ("2026", "12")
    assert "Par défaut : décembre 2026, dernier mois complet." in normalise(
        response.content.decode()
    )


def test_a_month_to_come_is_refused_with_a_french_message(chef, client_as, year, published):
    FiscalYearFactory(year=2027)
    with time_machine.travel(datetime(2026, 12, 8, 10, 0, tzinfo=NOUMEA), tick=False):
        response = client_as(chef).post(
            REQUEST,
            {"kind": "monthly_execution", "format": "pdf", "year": "2027", "month": "2"},
        )
    assert response.status_code == 200
    assert response.context["form"].errors["month"] == [
        "Le mois de février 2027 n’a pas encore commencé : choisissez un mois jusqu’à "
        "décembre 2026 (le mois en cours)."
    ]
    assert Report.objects.count() == 0 and published == []


def test_a_double_submit_records_one_report(chef, client_as, year, published):
    client = client_as(chef)
    data = {"kind": "disco", "format": "xlsx", "year": "2026", "form_token": "token-123"}
    first = client.post(REQUEST, data)
    second = client.post(REQUEST, data)
    assert Report.objects.count() == 1
    assert first["Location"] == second["Location"]
    page = client.get(second["Location"]).content.decode()
    assert "déjà été envoyé" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "monthly_execution", "year": "1990"}, "year", "L’exercice 1990 n’existe pas."),
        (
            {"kind": "monthly_execution", "year": "2026", "month": "13"},
            "month",
            "Le mois doit être compris entre 1 et 12.",
        ),
        ({"kind": "bilan_magique", "year": "2026"}, "kind", "Sélectionnez un choix valide"),
    ],
)
def test_bad_parameters_show_a_french_message_and_record_nothing(
    chef, client_as, year, published, data, field, message
):
    response = client_as(chef).post(REQUEST, {"format": "xlsx", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert Report.objects.count() == 0
    assert published == []


def test_the_form_shows_the_parameters_of_the_chosen_kind(chef, client_as, year):
    client = client_as(chef)
    region = client.get(
        REQUEST, {"kind": "disco"}, headers={"HX-Request": "true", "HX-Target": "report-parameters"}
    ).content.decode()
    assert region.lstrip().startswith('<div id="report-parameters"')
    assert 'name="section"' in region and 'name="chapter"' in region
    assert 'name="month"' not in region
    page = client.get(REQUEST, {"kind": "provisions"}).content.decode()
    assert 'name="year"' in page and 'name="month"' not in page


@pytest.mark.django_db(transaction=True)
def test_a_request_with_the_broker_down_stays_queued_and_says_so(
    chef, client_as, year, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(task, *, args, task_id):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(services, "_publish", refuse)
    client = client_as(chef)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUEST, {"kind": "disco", "format": "xlsx"}, follow=True)
    report = Report.objects.get()
    assert (report.status, report.enqueued_at) == ("queued", None)
    html = response.content.decode()
    assert "injoignables pour le moment" in html
    assert 'data-testid="waiting"' in html


# --- the report page -------------------------------------------------------------


def test_the_status_region_stops_polling_once_done_and_offers_the_download(
    chef, client_as, fake_builder
):
    report = built_report(chef, fake_builder)
    region = client_as(chef).get(
        report.get_absolute_url(), headers={"HX-Request": "true", "HX-Target": "report-status"}
    )
    html = region.content.decode()
    assert html.lstrip().startswith('<section id="report-status"')
    assert "hx-trigger" not in html
    assert 'data-status="done"' in html
    assert reverse("reporting:report-download", args=[report.pk]) in html
    assert "construction est en cours" not in html  # the banner went with the build


def test_a_done_report_page_has_no_building_banner_and_reads_its_size_in_ko(chef, client_as, year):
    report = make_report(status="done", file_size=12_600, progress=100)
    page = normalise(client_as(chef).get(report.get_absolute_url()).content.decode())
    assert "construction est en cours" not in page
    assert 'data-testid="building"' not in page
    assert "Télécharger (12,3 Ko)" in page
    assert "Kio" not in page
    big = make_report(status="done", file_size=3_400_000, progress=100)
    assert "Télécharger (3,2 Mo)" in normalise(
        client_as(chef).get(big.get_absolute_url()).content.decode()
    )
    queued = make_report()
    page = client_as(chef).get(queued.get_absolute_url()).content.decode()
    assert 'data-testid="building"' in page


def test_the_running_status_shows_the_progress(chef, client_as, year):
    report = make_report(status="running", progress=42, progress_note="Mise en page")
    html = client_as(chef).get(report.get_absolute_url()).content.decode()
    assert 'value="42"' in html
    assert "Mise en page" in html
    assert 'hx-trigger="every 1s"' in html


def test_the_download_has_the_content_type_and_the_french_name(chef, client_as, fake_builder):
    report = built_report(chef, fake_builder)
    response = client_as(chef).get(reverse("reporting:report-download", args=[report.pk]))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = services.report_download_name(report)
    assert name.startswith("execution-budgetaire-2026-10_")
    assert f'attachment; filename="{name}"' == response["Content-Disposition"]


def test_a_report_not_built_yet_has_nothing_to_download(chef, client_as, year):
    report = make_report()
    response = client_as(chef).get(
        reverse("reporting:report-download", args=[report.pk]), follow=True
    )
    assert "Ce rapport n’a pas encore de fichier." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_failed_report_shows_its_error_and_is_retried(
    chef, client_as, year, published, django_capture_on_commit_callbacks
):
    report = make_report(
        status="failed", error="Le rapport n’a pas pu être construit. boom", attempts=1
    )
    client = client_as(chef)
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Le rapport n’a pas pu être construit. boom" in page
    assert 'data-testid="retry"' in page
    retry = reverse("reporting:report-retry", args=[report.pk])
    assert client.get(retry).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry, follow=True)
    report.refresh_from_db()
    assert (report.status, report.error, report.attempts) == ("queued", "", 1)
    assert published == [("reporting.build_report", report.pk)]
    assert "Le rapport est de nouveau en attente." in response.content.decode()
    # Retrying what is not failed is refused with a message, nothing changes.
    response = client.post(retry, follow=True)
    assert "Seul un rapport en échec peut être relancé" in response.content.decode()
    assert len(published) == 1


# --- ledger checks ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pilotage_sees_the_ledger_checks_and_runs_one(
    chef, client_as, monkeypatch, django_capture_on_commit_callbacks
):
    LedgerCheck.objects.create(
        lines_checked=12,
        entries_checked=40,
        differences=1,
        details=[
            {
                "type": "difference",
                "line_id": 1,
                "code": "L1",
                "figure": "committed",
                "cached": 1000,
                "ledger": 900,
                "gap": 100,
            }
        ],
        finished_at="2026-11-28T15:30:00Z",
    )
    client = client_as(chef)
    html = client.get(CHECKS).content.decode()
    assert "Écarts constatés" in html
    assert "Lignes vérifiées : 12, écritures : 40 · totaux en écart : 1" in html
    assert "1 000 F CFP" in normalise(html) and "900 F CFP" in normalise(html)
    ran = []
    monkeypatch.setattr(
        services, "_publish", lambda task, *, args, task_id: ran.append((task.name, args[0]))
    )
    assert client.get(RUN_CHECK).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUN_CHECK, follow=True)
    check = LedgerCheck.objects.order_by("-pk").first()
    assert ran == [("reporting.run_ledger_check", check.pk)]
    assert check.triggered_by == chef
    assert "Le contrôle du grand livre est lancé" in response.content.decode()
