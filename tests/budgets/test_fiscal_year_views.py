"""Fiscal years page: state changes and control settings, each by its role only."""

import pytest
from django.urls import reverse

from budgets import services
from budgets.models import FiscalYear
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import BudgetLineFactory, FiscalYearFactory, fund

pytestmark = pytest.mark.django_db

URL = reverse("budgets:fiscal-year-list")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_years_with_their_figures(role, cast, client_as):
    line = BudgetLineFactory()
    fund({line: 1_500_000})
    response = client_as(cast[role]).get(URL)
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row["year"].year == 2026
    assert row["lines"] == 1
    assert row["figures"].opened == 1_500_000
    assert row["figures"].available == 1_500_000
    assert "1\u202f500\u202f000\u00a0F\u00a0CFP" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_login(client):
    assert_sends_to_login(client.get(URL))


def test_a_user_without_role_is_refused(sans_role, client_as):
    assert client_as(sans_role).get(URL).status_code == 403


def test_the_director_opens_a_year_in_preparation(directeur, client_as):
    year = FiscalYearFactory(year=2027, state="preparation")
    response = client_as(directeur).post(
        reverse("budgets:fiscal-year-open", args=[year.pk]), follow=True
    )
    year.refresh_from_db()
    assert year.state == FiscalYear.State.OPEN
    assert "L’exercice 2027 est ouvert." in messages_of(response)


def test_the_section_head_may_not_open_a_year(chef, client_as):
    year = FiscalYearFactory(year=2027, state="preparation")
    response = client_as(chef).post(reverse("budgets:fiscal-year-open", args=[year.pk]))
    assert response.status_code == 403
    year.refresh_from_db()
    assert year.state == FiscalYear.State.PREPARATION


def test_opening_an_open_year_is_refused_with_a_message(directeur, client_as):
    year = FiscalYearFactory(year=2026, state="open")
    response = client_as(directeur).post(
        reverse("budgets:fiscal-year-open", args=[year.pk]), follow=True
    )
    (message,) = messages_of(response)
    assert "2026" in message and "ouvert" in message
    year.refresh_from_db()
    assert year.state == FiscalYear.State.OPEN


def test_the_section_head_closes_a_year_without_pending_transfers(chef, client_as):
    year = FiscalYearFactory(year=2025, state="open")
    client_as(chef).post(reverse("budgets:fiscal-year-close", args=[year.pk]))
    year.refresh_from_db()
    assert year.state == FiscalYear.State.CLOSED


def test_closing_waits_for_the_pending_transfers(chef, client_as):
    source, target = BudgetLineFactory(), BudgetLineFactory()
    fund({source: 1000, target: 1000})
    services.transfer_request(user=chef, source=source, target=target, amount=100, reason="Test")
    response = client_as(chef).post(
        reverse("budgets:fiscal-year-close", args=[source.fiscal_year.pk]), follow=True
    )
    (message,) = messages_of(response)
    assert "1 virement à décider" in message
    assert FiscalYear.objects.get(pk=source.fiscal_year.pk).state == FiscalYear.State.OPEN


def test_the_section_head_prepares_the_next_year(chef, client_as):
    FiscalYearFactory(year=2026)
    client_as(chef).post(reverse("budgets:fiscal-year-create"), {"year": "2027"})
    assert FiscalYear.objects.get(year=2027).state == FiscalYear.State.PREPARATION


@pytest.mark.parametrize("year", ["", "deux mille", "1850"])
def test_a_bad_year_is_refused_with_a_message(year, chef, client_as):
    response = client_as(chef).post(
        reverse("budgets:fiscal-year-create"), {"year": year}, follow=True
    )
    (message,) = messages_of(response)
    assert "L’année" in message
    assert not FiscalYear.objects.exists()


def test_a_year_is_not_created_twice(chef, client_as):
    FiscalYearFactory(year=2027, state="preparation")
    response = client_as(chef).post(
        reverse("budgets:fiscal-year-create"), {"year": "2027"}, follow=True
    )
    assert "L’exercice 2027 existe déjà." in messages_of(response)
    assert FiscalYear.objects.filter(year=2027).count() == 1


def test_the_director_sets_the_controls_of_a_year(directeur, client_as):
    year = FiscalYearFactory(year=2026)
    client_as(directeur).post(
        reverse("budgets:fiscal-year-controls", args=[year.pk]),
        {f"y{year.pk}-control_level": "chapter", f"y{year.pk}-control_mode": "warn"},
    )
    year.refresh_from_db()
    assert (year.control_level, year.control_mode) == ("chapter", "warn")


def test_only_the_director_sets_the_controls(chef, client_as):
    year = FiscalYearFactory(year=2026)
    response = client_as(chef).post(
        reverse("budgets:fiscal-year-controls", args=[year.pk]),
        {f"y{year.pk}-control_level": "chapter", f"y{year.pk}-control_mode": "warn"},
    )
    assert response.status_code == 403
    year.refresh_from_db()
    assert (year.control_level, year.control_mode) == ("line", "block")


def test_an_unknown_control_mode_changes_nothing(directeur, client_as):
    year = FiscalYearFactory(year=2026)
    response = client_as(directeur).post(
        reverse("budgets:fiscal-year-controls", args=[year.pk]),
        {f"y{year.pk}-control_level": "line", f"y{year.pk}-control_mode": "laisser-faire"},
        follow=True,
    )
    assert messages_of(response)
    year.refresh_from_db()
    assert year.control_mode == "block"


@pytest.mark.parametrize("name", ["fiscal-year-open", "fiscal-year-close", "fiscal-year-controls"])
def test_actions_refuse_get(name, directeur, client_as):
    year = FiscalYearFactory(year=2026)
    assert client_as(directeur).get(reverse(f"budgets:{name}", args=[year.pk])).status_code == 405


def test_the_page_offers_the_next_year_and_links_each_year_to_its_disco_page(chef, client_as):
    FiscalYearFactory(year=2026)
    page = client_as(chef).get(URL).content.decode()
    assert 'name="year" value="2027"' in page
    assert "Préparer l’exercice 2027" in page
    assert f'href="{reverse("budgets:disco")}?year=2026"' in page
