"""/api/v1/reports/: create (Idempotency-Key), list, status, download, retry."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from reporting.models import Report
from reporting.services import reports as services
from tests.factories import FiscalYearFactory
from tests.reporting import reports_lifecycle

pytestmark = pytest.mark.django_db

fake_builder = reports_lifecycle.fake_builder

LIST = reverse("api:report-list")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026)


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        services, "_publish", lambda task, *, args, task_id: sent.append((task.name, args[0]))
    )
    return sent


def built(chef) -> Report:
    report = Report.objects.create(
        kind="disco", format="pdf", parameters={"year": 2026}, requested_by=chef
    )
    return services.report_build(report_id=report.pk)


@pytest.mark.django_db(transaction=True)
def test_chef_requests_a_report_and_gets_201_with_the_queued_status(chef, api, year, published):
    api.force_authenticate(chef)
    response = api.post(
        LIST,
        {"kind": "monthly_execution", "format": "xlsx", "parameters": {"year": 2026, "month": 4}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    report = Report.objects.get()
    assert body["id"] == report.pk
    assert (body["status"], body["status_label"], body["progress"]) == ("queued", "En attente", 0)
    assert body["parameters"] == {"year": 2026, "month": 4}
    assert body["requested_by"] == "chef"
    assert body["download_url"] is None
    assert body["notice"] is None
    assert published == [("reporting.build_report", report.pk)]


def test_the_same_idempotency_key_records_once(chef, api, year, published):
    api.force_authenticate(chef)
    payload = {"kind": "disco", "format": "xlsx", "parameters": {"year": 2026}}
    first = api.post(LIST, payload, format="json", headers={"Idempotency-Key": "rapport-42"})
    second = api.post(LIST, payload, format="json", headers={"Idempotency-Key": "rapport-42"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"kind": "monthly_execution", "format": "xlsx", "parameters": {"year": 1990}},
            "L’exercice 1990 n’existe pas.",
        ),
        (
            {"kind": "monthly_execution", "format": "xlsx", "parameters": {"month": 13}},
            "Le mois doit être compris entre 1 et 12.",
        ),
        ({"kind": "bilan", "format": "xlsx"}, "Type de rapport inconnu : « bilan »."),
        ({"kind": "disco", "format": "docx"}, "Format de rapport inconnu : « docx »."),
        (
            {"kind": "disco", "format": "pdf", "parameters": [2026]},
            "Les paramètres doivent être un objet.",
        ),
    ],
)
def test_bad_requests_get_400_in_french_and_record_nothing(
    chef, api, year, published, payload, message
):
    api.force_authenticate(chef)
    response = api.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert Report.objects.count() == 0
    assert published == []


@pytest.mark.parametrize("who", ["chef", "directeur", "controleur"])
def test_readers_list_read_and_download(who, request, chef, api, fake_builder):
    # The build takes 2.5 s of a stopped clock: its duration is exactly that.
    start = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Pacific/Noumea"))
    with time_machine.travel(start, tick=False) as clock:
        fake_builder.pause = lambda: clock.shift(timedelta(seconds=2.5))
        report = built(chef)
    api.force_authenticate(request.getfixturevalue(who))
    listed = api.get(LIST, {"status": "done"}).json()
    assert [row["id"] for row in listed["results"]] == [report.pk]
    assert api.get(LIST, {"kind": "variance"}).json()["results"] == []
    detail = api.get(reverse("api:report-detail", args=[report.pk])).json()
    assert detail["status"] == "done"
    assert detail["progress"] == 100
    assert detail["duration_seconds"] == 2.5
    assert detail["file_size"] == len(b"disco pdf [('year', 2026)]")
    assert detail["download_url"] == (f"http://testserver/api/v1/reports/{report.pk}/download/")
    download = api.get(detail["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "extrait-disco-2026_" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"disco pdf [('year', 2026)]"


@pytest.mark.parametrize("who", ["directeur", "controleur"])
def test_readers_may_not_create_nor_retry(who, request, api, year, published):
    report = Report.objects.create(kind="disco", format="pdf", status="failed", error="x")
    api.force_authenticate(request.getfixturevalue(who))
    assert api.post(LIST, {"kind": "disco", "format": "xlsx"}, format="json").status_code == 403
    assert api.post(reverse("api:report-retry", args=[report.pk])).status_code == 403
    assert Report.objects.count() == 1
    assert published == []


@pytest.mark.parametrize("who", ["acheteur", "comptable", "sans_role"])
def test_other_roles_get_403(who, request, chef, api, fake_builder):
    report = built(chef)
    api.force_authenticate(request.getfixturevalue(who))
    assert api.get(LIST).status_code == 403
    assert api.get(reverse("api:report-detail", args=[report.pk])).status_code == 403
    assert api.get(reverse("api:report-download", args=[report.pk])).status_code == 403


def test_anonymous_gets_401(chef, api, fake_builder):
    report = built(chef)
    assert api.get(LIST).status_code == 401
    assert api.get(reverse("api:report-download", args=[report.pk])).status_code == 401
    assert api.post(LIST, {"kind": "disco", "format": "xlsx"}, format="json").status_code == 401


def test_a_report_not_built_yet_answers_409_on_download(chef, api, year):
    report = Report.objects.create(kind="disco", format="pdf")
    api.force_authenticate(chef)
    response = api.get(reverse("api:report-download", args=[report.pk]))
    assert response.status_code == 409
    assert response.json()["detail"] == "Ce rapport n’a pas encore de fichier."


def test_retry_queues_a_failed_report_again_and_refuses_the_others(
    chef, api, year, published, django_capture_on_commit_callbacks
):
    report = Report.objects.create(
        kind="disco", format="pdf", status="failed", error="boom", attempts=2
    )
    api.force_authenticate(chef)
    url = reverse("api:report-retry", args=[report.pk])
    assert api.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("queued", 2)
    assert published == [("reporting.build_report", report.pk)]
    again = api.post(url)
    assert again.status_code == 400
    assert "Seul un rapport en échec peut être relancé" in again.json()["detail"]


def test_the_api_cannot_delete_nor_change_a_report(chef, api, year):
    report = Report.objects.create(kind="disco", format="pdf")
    api.force_authenticate(chef)
    url = reverse("api:report-detail", args=[report.pk])
    assert api.delete(url).status_code == 405
    assert api.patch(url, {"status": "done"}, format="json").status_code == 405
    report.refresh_from_db()
    assert report.status == "queued"
