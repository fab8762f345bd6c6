"""GET /api/v1/dashboard/: the dashboard's figures for the roles that read it (the same
selector as the page), 401/403 for the others, a French message for an unknown year."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from reporting.selectors.dashboard import dashboard
from tests.reporting.dashboard_books import TODAY, books, clock  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

URL = reverse("api:dashboard")


@pytest.fixture
def api():
    return APIClient()


def get(api, user, **params):
    api.force_authenticate(user)
    with clock(TODAY.year, TODAY.month, TODAY.day):
        return api.get(URL, params)


def test_the_director_reads_the_years_figures_beside_last_years(books, directeur, api):  # noqa: F811
    response = get(api, directeur)
    assert response.status_code == 200
    data = response.json()
    assert (data["year"], data["previous_year"]) == (2026, 2025)
    assert (data["today"], data["last_year_as_of"]) == ("2026-06-15", "2025-06-15")
    figures = data["figures"]
    assert {key: figures[key]["value"] for key in figures} == {
        "opened": 3_500_000,
        "committed": 1_450_000,
        "liquidated": 600_000,
        "available": 2_050_000,
        "execution_rate": 17.1,
    }
    assert {key: figures[key]["last_year"] for key in figures} == {
        "opened": 800_000,
        "committed": 600_000,
        "liquidated": 300_000,
        "available": 200_000,
        "execution_rate": 37.5,
    }
    assert figures["opened"]["url"] == reverse("budgets:disco") + "?year=2026"
    assert [m["liquidated"] for m in data["months"]][:7] == [
        0,
        300_000,
        300_000,
        600_000,
        600_000,
        600_000,
        None,
    ]
    assert [m["linear"] for m in data["months"]][-1] == 3_500_000
    assert [
        (s["key"], s["committed"], s["liquidated"], s["available"]) for s in data["sections"]
    ] == [
        ("F", 950_000, 500_000, 550_000),
        ("I", 500_000, 100_000, 1_500_000),
    ]
    assert [c["key"] for c in data["chapters"]] == ["011", "21"]
    assert [(r["code"], r["reason"], r["forecast"]) for r in data["at_risk"]] == [
        ("I-B", "forecast", 2_500_000),
        ("F-A", "available", None),
    ]
    assert data["requests"] == {
        "count": 1,
        "amount": 120_000,
        "url": reverse("procurement:request-list") + "?tab=to_approve&year=2026",
    }
    assert (data["invoices"]["count"], data["invoices"]["amount"]) == (2, 36_600)
    assert data["invoices"]["average_payment_days"] is None


def test_the_api_and_the_page_show_the_same_figures(books, chef, api, client_as):  # noqa: F811
    data = get(api, chef).json()
    board = dashboard(actor=chef, today=TODAY)
    assert data["figures"]["available"]["value"] == board.figures["available"].value
    assert [b["url"] for b in data["chapters"]] == [b.url for b in board.chapters]
    assert [m["last_year"] for m in data["months"]] == [m.last_year for m in board.months]


@pytest.mark.parametrize("role", ["chef", "directeur", "controleur"])
def test_the_roles_that_read_the_dashboard_get_it(role, books, request, api):  # noqa: F811
    response = get(api, request.getfixturevalue(role), year="2025")
    assert response.status_code == 200
    assert response.json()["figures"]["liquidated"]["value"] == 500_000


@pytest.mark.parametrize("role", ["acheteur", "comptable", "sans_role"])
def test_the_other_roles_get_403_in_french(role, request, api):
    response = get(api, request.getfixturevalue(role))
    assert response.status_code == 403
    assert response.json()["detail"] == "Votre rôle ne permet pas cette action."


def test_an_anonymous_call_gets_401(api):
    assert api.get(URL).status_code == 401


def test_the_endpoint_is_read_only(books, directeur, api):  # noqa: F811
    api.force_authenticate(directeur)
    assert api.post(URL, {}).status_code == 405


@pytest.mark.parametrize("year", ["1999", "abc", "2026x", "99999999"])
def test_an_unknown_year_gets_400_with_a_french_message(year, books, directeur, api):  # noqa: F811
    response = get(api, directeur, year=year)
    assert response.status_code == 400
    assert response.json()["year"] == [f"L’exercice « {year} » n’existe pas."]


def test_without_any_year_the_api_says_so(directeur, api):
    response = get(api, directeur)
    assert response.status_code == 400
    assert response.json()["year"] == ["Aucun exercice n’existe encore."]


def test_the_schema_documents_the_dashboard(directeur, api):
    api.force_authenticate(directeur)
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/dashboard/"]["get"]
    assert operation["parameters"][0]["name"] == "year"
    assert "Dashboard" in schema["components"]["schemas"]
