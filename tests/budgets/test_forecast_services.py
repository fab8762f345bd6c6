"""Forecasts (atterrissage): the services that enter them and the selectors that read
the current one of each line."""

import pytest
from django.core.exceptions import PermissionDenied

from budgets import selectors, services
from budgets.models import FiscalYear, Forecast
from dsi_finance.errors import ServiceError
from tests.factories import BudgetLineFactory, FiscalYearFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026, state="open")


@pytest.fixture
def lines(year):
    licences = BudgetLineFactory(fiscal_year=year, code="F-LIC")
    maintenance = BudgetLineFactory(fiscal_year=year, code="F-MAINT")
    fund({licences: 1_000_000, maintenance: 500_000})
    return {"licences": licences, "maintenance": maintenance}


def test_a_forecast_is_entered_with_its_user_and_history(chef, lines):
    forecast = services.forecast_set(
        user=chef, budget_line=lines["licences"], month=3, amount=900_000, note=" Renouvellement "
    )
    assert (forecast.month, forecast.amount, forecast.note, forecast.entered_by) == (
        3,
        900_000,
        "Renouvellement",
        chef,
    )
    services.forecast_set(user=chef, budget_line=lines["licences"], month=3, amount=950_000)
    forecast.refresh_from_db()
    assert forecast.amount == 950_000
    history = list(forecast.history.order_by("history_id"))
    assert [(h.amount, h.history_user) for h in history] == [(900_000, chef), (950_000, chef)]
    assert Forecast.objects.count() == 1


def test_a_zero_forecast_is_allowed(chef, lines):
    forecast = services.forecast_set(user=chef, budget_line=lines["licences"], month=5, amount=0)
    assert forecast.amount == 0


@pytest.mark.parametrize(
    ("month", "amount", "message"),
    [
        (0, 1_000, "Le mois doit être compris entre 1 et 12."),
        (13, 1_000, "Le mois doit être compris entre 1 et 12."),
        ("3", 1_000, "Le mois doit être compris entre 1 et 12."),
        (3, -1, "doit être positif"),
        (3, 10.5, "nombre entier de francs"),
        (3, "1000", "nombre entier de francs"),
        (3, 10**16, "vérifiez le chiffre"),
    ],
)
def test_a_bad_month_or_amount_is_refused_in_french(chef, lines, month, amount, message):
    with pytest.raises(ServiceError) as error:
        services.forecast_set(user=chef, budget_line=lines["licences"], month=month, amount=amount)
    assert message in " ".join(error.value.messages)
    assert not Forecast.objects.exists()


def test_only_the_roles_holding_enter_forecast_may_enter_one(
    directeur, controleur, acheteur, lines
):
    for user in (directeur, controleur, acheteur):
        with pytest.raises(PermissionDenied):
            services.forecast_set(user=user, budget_line=lines["licences"], month=3, amount=1)
    assert not Forecast.objects.exists()


def test_a_closed_year_takes_no_forecast(chef, lines, year):
    FiscalYear.objects.filter(pk=year.pk).update(state="closed")
    with pytest.raises(ServiceError) as error:
        services.forecast_set(user=chef, budget_line=lines["licences"], month=3, amount=1)
    assert "clos" in error.value.messages[0]
    with pytest.raises(ServiceError):
        services.forecasts_set(
            user=chef, fiscal_year=year, month=3, amounts={lines["licences"].pk: 1}
        )
    assert not Forecast.objects.exists()


def test_the_grid_creates_changes_and_removes_the_months_forecasts(chef, lines, year):
    licences, maintenance = lines["licences"], lines["maintenance"]
    services.forecast_set(user=chef, budget_line=licences, month=4, amount=800_000)
    services.forecast_set(user=chef, budget_line=maintenance, month=4, amount=450_000)
    third = BudgetLineFactory(fiscal_year=year, code="F-TROIS")

    result = services.forecasts_set(
        user=chef,
        fiscal_year=year,
        month=4,
        amounts={licences.pk: 850_000, maintenance.pk: None, third.pk: 10_000},
    )

    assert (result.created, result.changed, result.removed, result.unchanged) == (1, 1, 1, 0)
    assert dict(Forecast.objects.values_list("budget_line__code", "amount")) == {
        "F-LIC": 850_000,
        "F-TROIS": 10_000,
    }
    # The removal is kept in the history, with who did it.
    removed = Forecast.history.filter(budget_line_id=maintenance.pk, history_type="-").get()
    assert (removed.amount, removed.history_user) == (450_000, chef)


def test_saving_the_same_grid_twice_changes_nothing_the_second_time(chef, lines, year):
    amounts = {lines["licences"].pk: 700_000, lines["maintenance"].pk: 400_000}
    services.forecasts_set(user=chef, fiscal_year=year, month=6, amounts=amounts)
    again = services.forecasts_set(user=chef, fiscal_year=year, month=6, amounts=amounts)
    assert (again.touched, again.unchanged) == (0, 2)
    assert Forecast.history.count() == 2


def test_one_bad_cell_refuses_the_whole_grid(chef, lines, year):
    other_year = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2025), code="OLD")
    with pytest.raises(ServiceError) as error:
        services.forecasts_set(
            user=chef,
            fiscal_year=year,
            month=6,
            amounts={lines["licences"].pk: 700_000, lines["maintenance"].pk: -5, other_year.pk: 1},
        )
    messages = error.value.messages
    assert "Le montant prévu de F-MAINT doit être positif." in messages
    assert any("2026" in m for m in messages)
    assert not Forecast.objects.exists()


def test_the_grid_needs_enter_forecast(directeur, lines, year):
    with pytest.raises(PermissionDenied):
        services.forecasts_set(
            user=directeur, fiscal_year=year, month=1, amounts={lines["licences"].pk: 1}
        )


def test_the_current_forecast_is_the_latest_month_up_to_the_one_asked(chef, lines, year):
    licences, maintenance = lines["licences"], lines["maintenance"]
    services.forecast_set(user=chef, budget_line=licences, month=2, amount=100)
    services.forecast_set(user=chef, budget_line=licences, month=5, amount=500)
    services.forecast_set(user=chef, budget_line=licences, month=9, amount=900)
    services.forecast_set(user=chef, budget_line=maintenance, month=7, amount=700)
    other = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2027, state="preparation"))
    services.forecast_set(user=chef, budget_line=other, month=1, amount=1)

    latest = selectors.current_forecasts(fiscal_year=year)
    assert [(f.budget_line.code, f.month, f.amount) for f in latest] == [
        ("F-LIC", 9, 900),
        ("F-MAINT", 7, 700),
    ]
    assert selectors.forecast_by_line(fiscal_year=year, month=6) == {licences.pk: 500}
    assert selectors.forecast_by_line(fiscal_year=year.pk, month=8) == {
        licences.pk: 500,
        maintenance.pk: 700,
    }
    assert selectors.forecast_by_line(fiscal_year=year, month=1) == {}
