"""The forecast entry page: the grid of a year and month, read by the roles that read
everything, saved in one POST by pilotage."""

import datetime

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from budgets import services
from budgets.models import FiscalYear, Forecast
from reporting.views.forecasts import default_month
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)

URL = reverse("reporting:forecast-entry")


@pytest.fixture
def year(db):
    return FiscalYearFactory(year=2026, state="open")


@pytest.fixture
def lines(year, chef):
    operating = ChapterFactory(code="011", section="F")
    investment = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")
    licences = BudgetLineFactory(
        fiscal_year=year,
        code="F-LIC",
        label="Licences",
        nature_account=NatureAccountFactory(chapter=operating),
    )
    serveurs = BudgetLineFactory(
        fiscal_year=year,
        code="I-SRV",
        label="Serveurs",
        nature_account=NatureAccountFactory(chapter=investment),
    )
    fund({licences: 1_000_000, serveurs: 3_000_000})
    services.credits_commit(user=chef, document=licences, amounts={licences: 600_000})
    services.credits_liquidate(user=chef, document=licences, line=licences, amount=250_000)
    services.forecast_set(user=chef, budget_line=licences, month=9, amount=950_000)
    licences.refresh_from_db()
    return {"licences": licences, "serveurs": serveurs}


def field(line) -> str:
    return f"forecast-{line.pk}"


def test_pilotage_sees_the_grid_with_the_figures_and_the_previous_forecast(client_as, chef, lines):
    response = client_as(chef).get(URL, {"year": "2026", "month": "11"})
    assert response.status_code == 200
    rows = {row.line.code: row for row in response.context["rows"]}
    licences = rows["F-LIC"]
    assert (licences.line.opened, licences.line.committed, licences.line.liquidated) == (
        1_000_000,
        600_000,
        250_000,
    )
    assert (licences.previous.month, licences.previous.amount, licences.value) == (9, 950_000, "")
    page = response.content.decode()
    assert f'name="{field(lines["licences"])}"' in page
    assert lines["licences"].get_absolute_url() in page
    assert "Prévision de novembre" in page
    assert 'name="form_token"' in page


def test_the_months_own_forecast_fills_its_input(client_as, chef, lines):
    response = client_as(chef).get(URL, {"year": "2026", "month": "9"})
    row = next(r for r in response.context["rows"] if r.line.code == "F-LIC")
    assert (row.previous, row.value) == (None, "950000")


@pytest.mark.parametrize("who", ["directeur", "controleur"])
def test_readers_see_the_grid_without_inputs(request, client_as, lines, who):
    response = client_as(request.getfixturevalue(who)).get(URL, {"year": "2026", "month": "9"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "forecast-" not in page.replace("forecast-filters", "").replace("forecast-table", "")
    assert "950\u202f000" in page


@pytest.mark.parametrize("who", ["acheteur", "comptable", "sans_role"])
def test_other_roles_are_refused(request, client_as, lines, who):
    client = client_as(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    data = {"year": "2026", "month": "11", field(lines["licences"]): "1"}
    assert client.post(URL, data).status_code == 403
    assert Forecast.objects.count() == 1


def test_readers_cannot_save(client_as, directeur, lines):
    data = {"year": "2026", "month": "11", field(lines["licences"]): "1 000"}
    assert client_as(directeur).post(URL, data).status_code == 403
    assert Forecast.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(client, lines):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_one_post_saves_the_grid_and_comes_back_to_it(client_as, chef, lines):
    licences, serveurs = lines["licences"], lines["serveurs"]
    data = {
        "year": "2026",
        "month": "11",
        "form_token": "grille-1",
        field(licences): "1 050 000",
        field(serveurs): "2 800 000",
    }
    response = client_as(chef).post(URL, data, follow=True)
    assert response.redirect_chain[-1][0] == f"{URL}?year=2026&month=11"
    assert dict(Forecast.objects.filter(month=11).values_list("budget_line__code", "amount")) == {
        "F-LIC": 1_050_000,
        "I-SRV": 2_800_000,
    }
    assert "2 saisie(s), 0 modifiée(s), 0 retirée(s)" in response.content.decode()
    assert Forecast.objects.get(budget_line=licences, month=11).entered_by == chef


def test_the_same_grid_posted_twice_records_once(client_as, chef, lines):
    client = client_as(chef)
    data = {"year": "2026", "month": "11", "form_token": "grille-2", field(lines["serveurs"]): "5"}
    client.post(URL, data)
    Forecast.objects.filter(month=11).update(amount=7)  # changed meanwhile
    response = client.post(URL, data, follow=True)
    assert "déjà été enregistrée" in response.content.decode()
    assert Forecast.objects.get(month=11).amount == 7


def test_a_blank_cell_removes_the_months_forecast(client_as, chef, lines):
    data = {"year": "2026", "month": "9", field(lines["licences"]): ""}
    response = client_as(chef).post(URL, data, follow=True)
    assert not Forecast.objects.exists()
    assert "1 retirée(s)" in response.content.decode()


def test_a_bad_cell_refuses_the_grid_and_keeps_what_was_typed(client_as, chef, lines):
    licences, serveurs = lines["licences"], lines["serveurs"]
    data = {"year": "2026", "month": "11", field(licences): "12,5", field(serveurs): "deux"}
    response = client_as(chef).post(URL, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Le montant prévu de F-LIC «\u00a012,5\u00a0»\u00a0: 12,5 francs\u00a0? Le franc CFP "
        "n’a pas de décimales\u00a0; tapez 12." in page
    )
    assert "Le montant prévu de I-SRV n’est pas un nombre : « deux »." in page
    assert 'value="deux"' in page
    assert Forecast.objects.count() == 1


def test_a_forecast_grouped_by_dots_is_thousands_and_each_cell_echoes_it(client_as, chef, lines):
    data = {"year": "2026", "month": "11", field(lines["licences"]): "1.250.000"}
    client_as(chef).post(URL, data)
    assert Forecast.objects.get(budget_line=lines["licences"], month=11).amount == 1_250_000
    page = client_as(chef).get(URL, {"year": "2026", "month": "11"}).content.decode()
    assert 'data-francs="/montant/"' in page


def test_a_negative_forecast_is_refused(client_as, chef, lines):
    data = {"year": "2026", "month": "11", field(lines["licences"]): "-5"}
    response = client_as(chef).post(URL, data)
    assert "Le montant prévu de F-LIC doit être positif." in response.content.decode()
    assert Forecast.objects.count() == 1


def test_a_line_of_another_year_is_refused(client_as, chef, lines):
    other = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2025, state="open"), code="OLD")
    data = {"year": "2026", "month": "11", field(other): "5"}
    response = client_as(chef).post(URL, data)
    assert "n’est pas une ligne de l’exercice 2026" in response.content.decode()
    assert Forecast.objects.count() == 1


def test_a_tampered_field_name_is_a_bad_request(client_as, chef, lines):
    response = client_as(chef).post(URL, {"year": "2026", "month": "11", "forecast-x": "1"})
    assert response.status_code == 400
    assert Forecast.objects.count() == 1


def test_the_save_refuses_a_missing_month(client_as, chef, lines):
    response = client_as(chef).post(URL, {"year": "2026", field(lines["licences"]): "1"})
    assert response.status_code == 400
    assert "Choisissez le mois des prévisions." in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "1999"}, "L’exercice « 1999 » n’existe pas."),
        ({"year": "deux mille"}, "L’exercice « deux mille » n’existe pas."),
        ({"year": "2026", "month": "0"}, "Le mois « 0 » n’est pas valide"),
        ({"year": "2026", "month": "13"}, "Le mois « 13 » n’est pas valide"),
        ({"year": "2026", "month": "-1"}, "Le mois « -1 » n’est pas valide"),
        ({"year": "2026", "month": "x"}, "Le mois « x » n’est pas valide"),
        ({"year": "2026", "section": "Z"}, "La section « Z » n’existe pas."),
        ({"year": "2026", "chapter": "999"}, "Le chapitre « 999 » n’existe pas."),
    ],
)
def test_bad_parameters_get_a_french_message(client_as, chef, lines, params, message):
    response = client_as(chef).get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_bad_month_on_save_changes_nothing(client_as, chef, lines):
    data = {"year": "2026", "month": "13", field(lines["licences"]): "1"}
    response = client_as(chef).post(URL, data)
    assert response.status_code == 400
    assert Forecast.objects.count() == 1


def test_the_grid_filters_by_section_and_chapter(client_as, chef, lines):
    client = client_as(chef)
    by_section = client.get(URL, {"year": "2026", "month": "11", "section": "I"})
    assert [row.line.code for row in by_section.context["rows"]] == ["I-SRV"]
    by_chapter = client.get(URL, {"year": "2026", "month": "11", "chapter": "011"})
    assert [row.line.code for row in by_chapter.context["rows"]] == ["F-LIC"]


def test_a_closed_year_shows_the_grid_read_only(client_as, chef, lines, year):
    FiscalYear.objects.filter(pk=year.pk).update(state="closed")
    response = client_as(chef).get(URL, {"year": "2026", "month": "9"})
    page = response.content.decode()
    assert "ne peuvent plus être modifiées" in page
    assert f'name="{field(lines["licences"])}"' not in page


def test_the_default_is_the_current_year_and_month_in_noumea(client_as, chef, lines, year):
    response = client_as(chef).get(URL)
    assert response.context["period"].fiscal_year == year
    assert response.context["period"].month == default_month(year)


def test_the_default_month_of_a_past_or_future_year(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2026, 11, 29))
    assert default_month(FiscalYear(year=2026)) == 11
    assert default_month(FiscalYear(year=2025)) == 12
    assert default_month(FiscalYear(year=2027)) == 1


def test_the_demo_enters_three_past_months_of_forecasts_once(year, chef):
    from reporting.demo import seed_demo_forecasts

    chapter = ChapterFactory(code="011", section="F")
    made = [
        BudgetLineFactory(
            fiscal_year=year, code=f"F-{i}", nature_account=NatureAccountFactory(chapter=chapter)
        )
        for i in range(8)
    ]
    fund(dict.fromkeys(made, 1_000_000))
    for i, line in enumerate(made):
        if i:
            services.credits_commit(user=chef, document=line, amounts={line: 120_000 * i})

    assert seed_demo_forecasts(today=datetime.date(2026, 1, 10)) is None  # no past month yet
    assert seed_demo_forecasts(today=datetime.date(2026, 11, 29)) == 24
    assert sorted(set(Forecast.objects.values_list("month", flat=True))) == [8, 9, 10]
    assert set(Forecast.objects.values_list("entered_by__username", flat=True)) == {"chef"}
    final = {f.budget_line.code: f.amount for f in Forecast.objects.filter(month=10)}
    overrunning = [code for code, amount in final.items() if amount > 1_000_000]
    assert overrunning == ["F-7"]  # the only line committed beyond 75 %
    assert final["F-0"] < 500_000  # nothing committed: a clear surplus
    assert seed_demo_forecasts(today=datetime.date(2026, 11, 29)) is None  # once
