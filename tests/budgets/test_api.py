"""The budgets JSON API: fiscal years, budget lines and their ledger, revisions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from budgets import selectors, services
from budgets.models import BudgetRevision, LedgerEntry
from dsi_finance.money import format_xpf
from dsi_finance.roles import Role
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    ProjectFactory,
    fund,
)

pytestmark = pytest.mark.django_db

FIGURES = ("opened", "committed", "liquidated", "to_liquidate", "available")


def french(msgid: str, **params) -> str:
    """The French message a service gives for `msgid`; fails if the catalogue lacks it."""
    with translation.override("fr"):
        message = translation.gettext(msgid)
    assert message != msgid, f"no French translation for {msgid!r}"
    return message % params if params else message


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def get_lines(client, **params) -> dict:
    response = client.get(reverse("api:budget-line-list"), params)
    assert response.status_code == 200, response.content
    return response.json()


def codes(body: dict) -> list[str]:
    return [line["code"] for line in body["results"]]


@pytest.fixture
def budget(chef, directeur):
    """Two years of lines in both sections, funded, committed and liquidated through
    the services:

    2026  F-INFRA-01  011 / 6156 / INFRA           opened 1 000 000, committed 400 000, liquidated 150 000
          F-APPS-01   011 / 6161 / APPS / PRJ-ERP  opened   500 000, committed 500 000
          I-INFRA-01  21  / 2183 / INFRA           opened 2 000 000
    2025  F-INFRA-01  011 / 6156 / INFRA           opened   300 000, committed 100 000
    """
    year = FiscalYearFactory(year=2026)
    last_year = FiscalYearFactory(year=2025)
    operating = ChapterFactory(code="011", label="Charges à caractère général", section="F")
    investment = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")
    maintenance = NatureAccountFactory(number="6156", label="Maintenance", chapter=operating)
    software = NatureAccountFactory(number="6161", label="Licences", chapter=operating)
    hardware = NatureAccountFactory(
        number="2183", label="Matériel informatique", chapter=investment
    )
    infra = CostCentreFactory(code="INFRA", label="Infrastructures et exploitation")
    apps = CostCentreFactory(code="APPS", label="Applications")
    erp = ProjectFactory(code="PRJ-ERP", label="Nouvel ERP")
    maintenance_line = BudgetLineFactory(
        fiscal_year=year,
        code="F-INFRA-01",
        label="Maintenance des serveurs",
        nature_account=maintenance,
        cost_centre=infra,
    )
    licences_line = BudgetLineFactory(
        fiscal_year=year,
        code="F-APPS-01",
        label="Licences ERP",
        nature_account=software,
        cost_centre=apps,
        project=erp,
    )
    hardware_line = BudgetLineFactory(
        fiscal_year=year,
        code="I-INFRA-01",
        label="Renouvellement des postes",
        nature_account=hardware,
        cost_centre=infra,
    )
    old_line = BudgetLineFactory(
        fiscal_year=last_year,
        code="F-INFRA-01",
        label="Maintenance des serveurs",
        nature_account=maintenance,
        cost_centre=infra,
    )
    fund({maintenance_line: 1_000_000, licences_line: 500_000, hardware_line: 2_000_000})
    fund({old_line: 300_000})
    services.credits_commit(user=chef, document=year, amounts={maintenance_line: 400_000})
    services.credits_liquidate(user=chef, document=year, line=maintenance_line, amount=150_000)
    services.credits_commit(user=chef, document=year, amounts={licences_line: 500_000})
    services.credits_commit(user=chef, document=last_year, amounts={old_line: 100_000})
    return {
        "year": year,
        "last_year": last_year,
        "maintenance": maintenance_line,
        "licences": licences_line,
        "hardware": hardware_line,
        "old": old_line,
    }


# ---------------------------------------------------------------------------
# Who may call


ENDPOINTS = [
    ("api:fiscal-year-list", None),
    ("api:budget-line-list", None),
    ("api:budget-line-ledger", "maintenance"),
    ("api:revision-list", None),
]


@pytest.mark.parametrize(("name", "line"), ENDPOINTS)
def test_every_endpoint_answers_401_to_an_anonymous_caller(name, line, budget, api):
    args = [budget[line].pk] if line else []
    response = api.get(reverse(name, args=args))
    assert response.status_code == 401
    assert "Informations d'authentification non fournies" in response.json()["detail"]


@pytest.mark.parametrize(("name", "line"), ENDPOINTS)
def test_every_endpoint_refuses_an_account_without_a_role(name, line, budget, sans_role, as_user):
    args = [budget[line].pk] if line else []
    response = as_user(sans_role).get(reverse(name, args=args))
    assert response.status_code == 403
    assert "Votre rôle ne permet pas cette action" in response.json()["detail"]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_budget_lines_and_the_fiscal_years(role, cast, budget, as_user):
    client = as_user(cast[role])
    assert len(get_lines(client)["results"]) == 4
    years = client.get(reverse("api:fiscal-year-list")).json()["results"]
    assert [y["year"] for y in years] == [2026, 2025]
    ledger = client.get(reverse("api:budget-line-ledger", args=[budget["maintenance"].pk]))
    assert ledger.json()["count"] == 3


def test_a_token_authenticates_the_budget_api(chef, budget):
    token = Token.objects.create(user=chef)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(reverse("api:budget-line-list"), {"year": 2025})
    assert response.status_code == 200
    assert [line["id"] for line in response.json()["results"]] == [budget["old"].pk]


def test_the_budget_endpoints_are_read_only(chef, budget, as_user):
    client = as_user(chef)
    line_url = reverse("api:budget-line-detail", args=[budget["maintenance"].pk])
    assert client.post(reverse("api:budget-line-list"), {"code": "X"}).status_code == 405
    assert client.patch(line_url, {"label": "Autre"}).status_code == 405
    assert client.delete(line_url).status_code == 405
    assert client.post(reverse("api:fiscal-year-list"), {"year": 2030}).status_code == 405
    budget["maintenance"].refresh_from_db()
    assert budget["maintenance"].label == "Maintenance des serveurs"


# ---------------------------------------------------------------------------
# Fiscal years


def test_fiscal_years_list_each_year_with_its_settings_and_figures(chef, budget, as_user):
    response = as_user(chef).get(reverse("api:fiscal-year-list"))
    assert response.status_code == 200
    by_year = {y["year"]: y for y in response.json()["results"]}
    assert by_year[2026] == {
        "id": budget["year"].pk,
        "year": 2026,
        "state": "open",
        "state_label": french("Open"),
        "control_level": "line",
        "control_mode": "block",
        "opened": 3_500_000,
        "committed": 900_000,
        "liquidated": 150_000,
        "to_liquidate": 750_000,
        "available": 2_600_000,
        "commitment_rate": 25.7,
        "execution_rate": 4.3,
    }
    assert {f: by_year[2025][f] for f in FIGURES} == {
        "opened": 300_000,
        "committed": 100_000,
        "liquidated": 0,
        "to_liquidate": 100_000,
        "available": 200_000,
    }


def test_a_fiscal_year_totals_equal_the_sum_of_its_lines(chef, budget, as_user):
    client = as_user(chef)
    lines = get_lines(client, year=2026)["results"]
    year = client.get(reverse("api:fiscal-year-detail", args=[budget["year"].pk])).json()
    for figure in FIGURES:
        assert year[figure] == sum(line[figure] for line in lines), figure


def test_a_fiscal_year_without_lines_shows_zero_figures(chef, as_user):
    empty = FiscalYearFactory(year=2027, state="preparation")
    body = as_user(chef).get(reverse("api:fiscal-year-detail", args=[empty.pk])).json()
    assert body["state"] == "preparation"
    assert {f: body[f] for f in FIGURES} == dict.fromkeys(FIGURES, 0)
    assert body["execution_rate"] is None


def test_the_fiscal_years_list_costs_the_same_queries_for_more_years(chef, as_user):
    client = as_user(chef)
    for year in (2024, 2025):
        fund({BudgetLineFactory(fiscal_year=FiscalYearFactory(year=year)): 1000})
    client.get(reverse("api:fiscal-year-list"))  # warms the permission cache
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("api:fiscal-year-list"))
    for year in (2020, 2021, 2022, 2023):
        fund({BudgetLineFactory(fiscal_year=FiscalYearFactory(year=year)): 1000})
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("api:fiscal-year-list")).json()
    assert body["count"] == 6
    assert all(y["opened"] == 1000 for y in body["results"])
    assert len(many) == len(few)


# ---------------------------------------------------------------------------
# Budget lines


def test_a_line_shows_its_axes_and_its_integer_figures(chef, budget, as_user):
    body = get_lines(as_user(chef), year=2026, search="F-APPS-01")
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": budget["licences"].pk,
        "code": "F-APPS-01",
        "label": "Licences ERP",
        "year": 2026,
        "section": "F",
        "section_label": french("Operating (OPEX)"),
        "chapter": {"code": "011", "label": "Charges à caractère général"},
        "account": {"number": "6161", "label": "Licences"},
        "cost_centre": {"code": "APPS", "label": "Applications"},
        "project": {"code": "PRJ-ERP", "label": "Nouvel ERP"},
        "opened": 500_000,
        "committed": 500_000,
        "liquidated": 0,
        "to_liquidate": 500_000,
        "available": 0,
        "commitment_rate": 100.0,
        "execution_rate": 0.0,
    }


def test_a_commitment_shows_at_once_in_the_line_figures(chef, budget, as_user):
    client = as_user(chef)
    url = reverse("api:budget-line-detail", args=[budget["hardware"].pk])
    before = client.get(url).json()
    assert (before["opened"], before["committed"], before["available"]) == (2_000_000, 0, 2_000_000)
    services.credits_commit(
        user=chef, document=budget["year"], amounts={budget["hardware"]: 1_234_567}
    )
    after = client.get(url).json()
    assert {f: after[f] for f in FIGURES} == {
        "opened": 2_000_000,
        "committed": 1_234_567,
        "liquidated": 0,
        "to_liquidate": 1_234_567,
        "available": 765_433,
    }
    assert all(type(after[f]) is int for f in FIGURES)
    assert after["project"] is None
    assert after["commitment_rate"] == 61.7
    assert after["execution_rate"] == 0.0


def test_an_override_shows_a_negative_available_amount(chef, directeur, budget, as_user):
    services.credits_commit(
        user=directeur,
        document=budget["year"],
        amounts={budget["licences"]: 80_000},
        override_reason="Renouvellement urgent des licences",
    )
    line = as_user(chef).get(reverse("api:budget-line-detail", args=[budget["licences"].pk])).json()
    assert (line["committed"], line["available"]) == (580_000, -80_000)


def test_every_line_of_the_api_has_the_figures_of_the_availability_selector(
    chef, directeur, budget, as_user
):
    services.credits_commit(
        user=directeur,
        document=budget["year"],
        amounts={budget["licences"]: 25_000},
        override_reason="Dépassement autorisé",
    )
    services.credits_release(
        user=chef, document=budget["year"], line=budget["maintenance"], amount=50_000
    )
    body = get_lines(as_user(chef), page_size=1000)
    from_api = {line["id"]: line for line in body["results"]}
    expected = selectors.line_availability()
    assert set(from_api) == {line.pk for line in expected}
    for line in expected:
        row = from_api[line.pk]
        assert (
            row["opened"],
            row["committed"],
            row["liquidated"],
            row["to_liquidate"],
            row["available"],
        ) == (
            line.opened,
            line.committed,
            line.liquidated,
            line.to_liquidate_amount,
            line.available_amount,
        ), line.code
        assert row["execution_rate"] == (
            float(line.execution_rate) if line.execution_rate is not None else None
        )


def test_lines_are_filtered_by_year(chef, budget, as_user):
    client = as_user(chef)
    assert codes(get_lines(client, year=2026)) == ["F-APPS-01", "F-INFRA-01", "I-INFRA-01"]
    assert [line["id"] for line in get_lines(client, year=2025)["results"]] == [budget["old"].pk]
    assert get_lines(client, year=1999)["count"] == 0


def test_lines_are_filtered_by_section_chapter_account_cost_centre_and_project(
    chef, budget, as_user
):
    client = as_user(chef)
    assert codes(get_lines(client, year=2026, section="I")) == ["I-INFRA-01"]
    assert codes(get_lines(client, year=2026, chapter="011")) == ["F-APPS-01", "F-INFRA-01"]
    assert codes(get_lines(client, year=2026, account="6156")) == ["F-INFRA-01"]
    assert codes(get_lines(client, year=2026, cost_centre="INFRA")) == ["F-INFRA-01", "I-INFRA-01"]
    assert codes(get_lines(client, project="PRJ-ERP")) == ["F-APPS-01"]
    assert codes(get_lines(client, year=2026, section="F", cost_centre="INFRA")) == ["F-INFRA-01"]


def test_lines_are_searched_by_code_or_label(chef, budget, as_user):
    client = as_user(chef)
    assert codes(get_lines(client, year=2026, search="postes")) == ["I-INFRA-01"]
    assert codes(get_lines(client, year=2026, search="f-infra")) == ["F-INFRA-01"]
    assert get_lines(client, search="introuvable")["count"] == 0


def test_lines_are_filtered_by_available_amount_below_a_figure(chef, budget, as_user):
    client = as_user(chef)
    assert codes(get_lines(client, year=2026, available_lt=1)) == ["F-APPS-01"]
    assert codes(get_lines(client, year=2026, available_lt=1_000_000)) == [
        "F-APPS-01",
        "F-INFRA-01",
    ]
    # Francs grouped by dots are thousands, as in the forms (issue 11): never 1 franc.
    assert codes(get_lines(client, year=2026, available_lt="1.000.000")) == [
        "F-APPS-01",
        "F-INFRA-01",
    ]


def test_lines_are_ordered_by_a_figure(chef, budget, as_user):
    client = as_user(chef)
    assert codes(get_lines(client, year=2026, ordering="-available")) == [
        "I-INFRA-01",
        "F-INFRA-01",
        "F-APPS-01",
    ]
    assert codes(get_lines(client, year=2026, ordering="committed")) == [
        "I-INFRA-01",
        "F-INFRA-01",
        "F-APPS-01",
    ]
    # Equal rates keep the order of the lines' creation.
    assert codes(get_lines(client, year=2026, ordering="-execution_rate")) == [
        "F-INFRA-01",
        "F-APPS-01",
        "I-INFRA-01",
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"year": "abc"}, "year", "Saisissez un nombre"),
        ({"section": "X"}, "section", "Sélectionnez un choix valide"),
        ({"available_lt": "beaucoup"}, "available_lt", "n’est pas un nombre"),
        ({"available_lt": "250.5"}, "available_lt", "Le franc CFP n’a pas de décimales"),
        ({"ordering": "password"}, "ordering", "Sélectionnez un choix valide"),
    ],
)
def test_a_bad_filter_is_answered_400_in_french(params, field, message, chef, budget, as_user):
    response = as_user(chef).get(reverse("api:budget-line-list"), params)
    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_lines_are_paginated_with_a_page_size_up_to_a_thousand(chef, budget, as_user):
    client = as_user(chef)
    first = get_lines(client, page_size=3)
    assert first["count"] == 4
    assert len(first["results"]) == 3
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert {line["id"] for line in first["results"] + second["results"]} == {
        budget[key].pk for key in ("maintenance", "licences", "hardware", "old")
    }
    BudgetLineFactory.create_batch(1000, fiscal_year=budget["year"])
    assert len(get_lines(client, page_size=5000)["results"]) == 1000


def test_the_line_list_costs_the_same_queries_for_ten_or_a_hundred_lines(chef, as_user):
    year = FiscalYearFactory(year=2026)
    client = as_user(chef)
    projects = ProjectFactory.create_batch(3)
    BudgetLineFactory.create_batch(10, fiscal_year=year, project=projects[0])
    client.get(reverse("api:budget-line-list"))  # warms the permission cache
    with CaptureQueriesContext(connection) as ten:
        assert len(get_lines(client, page_size=1000)["results"]) == 10
    for project in projects:
        BudgetLineFactory.create_batch(30, fiscal_year=year, project=project)
    with CaptureQueriesContext(connection) as hundred:
        assert len(get_lines(client, page_size=1000)["results"]) == 100
    assert len(hundred) == len(ten) <= 2  # the count and the page


def test_the_line_list_answers_within_a_few_queries(
    chef, budget, as_user, django_assert_max_num_queries
):
    client = as_user(chef)
    client.get(reverse("api:budget-line-list"))
    with django_assert_max_num_queries(2):
        client.get(reverse("api:budget-line-list"), {"year": 2026, "search": "INFRA"})


def test_an_unknown_line_is_404(chef, as_user):
    response = as_user(chef).get(reverse("api:budget-line-detail", args=[999_999]))
    assert response.status_code == 404
    assert response.json()["detail"] == "Non trouvé."


# ---------------------------------------------------------------------------
# A line's ledger


def test_the_ledger_lists_a_line_entries_with_their_documents(chef, budget, as_user):
    line = budget["maintenance"]
    bp = BudgetRevision.objects.get(fiscal_year=budget["year"], kind="BP")
    response = as_user(chef).get(reverse("api:budget-line-ledger", args=[line.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    opening, commitment, liquidation = body["results"]
    entries = list(LedgerEntry.objects.filter(budget_line=line).order_by("pk"))
    assert [e["id"] for e in body["results"]] == [e.pk for e in entries]
    assert opening["kind"] == "open"
    assert opening["kind_label"] == french("Credits opened")
    assert (opening["amount"], opening["available_after"]) == (1_000_000, 1_000_000)
    assert opening["user"] == "fund-admin"
    assert opening["document"] == {
        "type": "budgets.budgetrevision",
        "id": bp.pk,
        "label": "BP 2026",
        "url": "http://testserver" + reverse("budgets:revision-detail", args=[bp.pk]),
    }
    assert (commitment["kind"], commitment["amount"], commitment["available_after"]) == (
        "commit",
        400_000,
        600_000,
    )
    assert commitment["user"] == "chef"
    # A fiscal year has no page of its own: the document is named, without a link.
    assert commitment["document"] == {
        "type": "budgets.fiscalyear",
        "id": budget["year"].pk,
        "label": "2026",
        "url": None,
    }
    assert (liquidation["kind"], liquidation["amount"], liquidation["available_after"]) == (
        "liquidate",
        150_000,
        600_000,
    )
    assert liquidation["created_at"] >= commitment["created_at"]


def test_the_ledger_keeps_the_reason_of_an_override(chef, directeur, budget, as_user):
    line = budget["licences"]
    services.credits_commit(
        user=directeur,
        document=budget["year"],
        amounts={line: 10_000},
        override_reason="Sécurité : correctif urgent",
    )
    body = as_user(chef).get(reverse("api:budget-line-ledger", args=[line.pk])).json()
    last = body["results"][-1]
    assert (last["kind"], last["amount"], last["available_after"]) == ("override", 10_000, -10_000)
    assert (last["user"], last["reason"]) == ("directeur", "Sécurité : correctif urgent")


@pytest.mark.parametrize(
    ("figure", "kinds"),
    [
        ("opened", ["open"]),
        ("committed", ["commit", "release"]),
        ("liquidated", ["liquidate"]),
        ("to_liquidate", ["commit", "liquidate", "release"]),
        ("available", ["open", "commit", "release"]),
    ],
)
def test_the_ledger_shows_only_the_entries_behind_a_figure(figure, kinds, chef, budget, as_user):
    line = budget["maintenance"]
    services.credits_release(user=chef, document=budget["year"], line=line, amount=20_000)
    body = as_user(chef).get(reverse("api:budget-line-ledger", args=[line.pk]), {"figure": figure})
    assert [e["kind"] for e in body.json()["results"]] == kinds
    total = sum(e["amount"] for e in body.json()["results"])
    if figure in ("opened", "committed", "liquidated"):
        line.refresh_from_db()
        assert total == getattr(line, figure)


def test_the_ledger_refuses_an_unknown_figure_in_french(chef, budget, as_user):
    url = reverse("api:budget-line-ledger", args=[budget["maintenance"].pk])
    response = as_user(chef).get(url, {"figure": "benefice"})
    assert response.status_code == 400
    assert "n'est pas un choix valide" in response.json()["figure"][0]


def test_the_ledger_of_an_unknown_line_is_404(chef, as_user):
    response = as_user(chef).get(reverse("api:budget-line-ledger", args=[999_999]))
    assert response.status_code == 404


def test_the_ledger_is_paginated_in_a_constant_number_of_queries(chef, budget, as_user):
    line = budget["hardware"]
    client = as_user(chef)
    url = reverse("api:budget-line-ledger", args=[line.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).json()["count"] == 1
    for _ in range(30):
        services.credits_commit(user=chef, document=budget["year"], amounts={line: 1000})
        services.credits_commit(user=chef, document=line, amounts={line: 1000})
    with CaptureQueriesContext(connection) as many:
        body = client.get(url, {"page_size": 100}).json()
    assert body["count"] == 61
    assert body["results"][-1]["available_after"] == 2_000_000 - 60 * 1000
    # The line, the count, the page, and one query per document type.
    assert len(many) == len(few) + 2


# ---------------------------------------------------------------------------
# Revisions


@pytest.fixture
def dm1(budget, chef):
    """A draft DM1 of 2026: +200 000 on the hardware line, −100 000 on maintenance."""
    revision = services.revision_create(user=chef, fiscal_year=budget["year"], kind="DM1")
    services.revision_item_set(
        user=chef,
        revision=revision,
        budget_line=budget["hardware"],
        amount=200_000,
        justification="Renouvellement anticipé",
    )
    services.revision_item_set(
        user=chef,
        revision=revision,
        budget_line=budget["maintenance"],
        amount=-100_000,
        justification="Contrat renégocié",
    )
    return revision


def vote_url(revision) -> str:
    return reverse("api:revision-vote", args=[revision.pk])


def submit_url(revision) -> str:
    return reverse("api:revision-submit", args=[revision.pk])


def revision_entries(revision):
    """The ledger entries a revision's vote posted."""
    return LedgerEntry.objects.filter(
        document_type__app_label="budgets",
        document_type__model="budgetrevision",
        document_id=revision.pk,
    )


VOTE = {"vote_date": "2026-06-20", "vote_reference": "Délibération 2026-042"}


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE])
def test_revisions_are_listed_with_their_items_for_the_roles_that_read_everything(
    role, cast, budget, dm1, as_user
):
    response = as_user(cast[role]).get(reverse("api:revision-list"), {"year": 2026})
    assert response.status_code == 200
    by_kind = {r["kind"]: r for r in response.json()["results"]}
    assert set(by_kind) == {"BP", "DM1"}
    draft = by_kind["DM1"]
    assert (draft["id"], draft["year"], draft["state"]) == (dm1.pk, 2026, "draft")
    assert (draft["created_by"], draft["submitted_by"], draft["vote_date"]) == ("chef", None, None)
    assert (draft["item_count"], draft["total"]) == (2, 100_000)
    assert [(i["line_code"], i["amount"], i["justification"]) for i in draft["items"]] == [
        ("F-INFRA-01", -100_000, "Contrat renégocié"),
        ("I-INFRA-01", 200_000, "Renouvellement anticipé"),
    ]
    voted = by_kind["BP"]
    assert (voted["state"], voted["vote_date"], voted["vote_reference"]) == (
        "voted",
        "2026-01-15",
        "Délib. test",
    )
    assert voted["total"] == 3_500_000


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_revisions_are_refused_to_buyers_and_accountants(role, cast, dm1, as_user):
    client = as_user(cast[role])
    assert client.get(reverse("api:revision-list")).status_code == 403
    response = client.get(reverse("api:revision-detail", args=[dm1.pk]))
    assert response.status_code == 403
    assert "Votre rôle ne permet pas cette action" in response.json()["detail"]


def test_revisions_are_filtered_by_year_and_kind(controleur, budget, dm1, as_user):
    client = as_user(controleur)
    url = reverse("api:revision-list")
    assert [(r["kind"], r["year"]) for r in client.get(url, {"year": 2025}).json()["results"]] == [
        ("BP", 2025)
    ]
    assert [r["id"] for r in client.get(url, {"kind": "DM1"}).json()["results"]] == [dm1.pk]
    assert [r["year"] for r in client.get(url, {"kind": "BP"}).json()["results"]] == [2026, 2025]
    assert client.get(url, {"kind": "DM3"}).status_code == 400
    assert client.get(url, {"year": "deux-mille"}).status_code == 400


def test_a_revision_is_retrieved_by_its_id(controleur, dm1, as_user):
    body = as_user(controleur).get(reverse("api:revision-detail", args=[dm1.pk])).json()
    assert (body["kind"], body["kind_label"]) == ("DM1", french("Amending decision 1 (DM1)"))
    assert len(body["items"]) == 2


def test_an_unknown_revision_is_404(directeur, as_user):
    client = as_user(directeur)
    assert client.get(reverse("api:revision-detail", args=[999_999])).status_code == 404
    response = client.post(reverse("api:revision-submit", args=[999_999]))
    assert response.status_code == 404
    assert response.json()["detail"] == "Non trouvé."
    assert client.post(reverse("api:revision-vote", args=[999_999]), VOTE).status_code == 404


def test_the_director_submits_a_draft_revision(directeur, dm1, as_user):
    response = as_user(directeur).post(submit_url(dm1))
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["submitted_by"]) == ("submitted", "directeur")
    dm1.refresh_from_db()
    assert dm1.state == "submitted"
    assert dm1.submitted_by.username == "directeur"


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.CONTROLE, Role.ACHAT])
def test_only_the_director_submits_or_votes(role, cast, dm1, as_user):
    client = as_user(cast[role])
    submit = client.post(submit_url(dm1))
    assert submit.status_code == 403
    assert "Votre rôle ne permet pas cette action" in submit.json()["detail"]
    services.revision_submit(user=cast[Role.DIRECTION], revision=dm1)
    assert client.post(vote_url(dm1), VOTE, format="json").status_code == 403
    dm1.refresh_from_db()
    assert dm1.state == "submitted"
    assert not revision_entries(dm1).exists()


def test_submit_and_vote_refuse_get(directeur, dm1, as_user):
    client = as_user(directeur)
    assert client.get(submit_url(dm1)).status_code == 405
    assert client.get(vote_url(dm1)).status_code == 405
    dm1.refresh_from_db()
    assert dm1.state == "draft"


def test_submitting_an_empty_revision_is_refused_in_french(directeur, chef, budget, as_user):
    dm1 = services.revision_create(user=chef, fiscal_year=budget["year"], kind="DM1")
    response = as_user(directeur).post(submit_url(dm1))
    assert response.status_code == 400
    assert response.json() == {
        "detail": french("The %(revision)s has no line: nothing to submit.", revision="DM1 2026")
    }
    dm1.refresh_from_db()
    assert dm1.state == "draft"


def test_submitting_twice_is_refused(directeur, dm1, as_user):
    client = as_user(directeur)
    assert client.post(submit_url(dm1)).status_code == 200
    response = client.post(submit_url(dm1))
    assert response.status_code == 400
    assert response.json()["detail"] == french(
        "The %(revision)s is %(state)s: it can no longer be changed.",
        revision="DM1 2026",
        state=french("Submitted").lower(),
    )


def test_the_director_votes_a_submitted_revision_and_the_credits_open(
    directeur, chef, budget, dm1, as_user
):
    client = as_user(directeur)
    client.post(submit_url(dm1))
    response = client.post(vote_url(dm1), VOTE, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["vote_date"], body["vote_reference"], body["voted_by"]) == (
        "voted",
        "2026-06-20",
        "Délibération 2026-042",
        "directeur",
    )
    lines = {line["code"]: line for line in get_lines(as_user(chef), year=2026)["results"]}
    assert (lines["I-INFRA-01"]["opened"], lines["I-INFRA-01"]["available"]) == (
        2_200_000,
        2_200_000,
    )
    assert (lines["F-INFRA-01"]["opened"], lines["F-INFRA-01"]["available"]) == (900_000, 500_000)
    posted = revision_entries(dm1).order_by("budget_line__code")
    assert [(e.budget_line.code, e.kind, e.amount, e.user.username) for e in posted] == [
        ("F-INFRA-01", "open", -100_000, "directeur"),
        ("I-INFRA-01", "open", 200_000, "directeur"),
    ]
    assert selectors.ledger_differences() == []


def test_a_vote_twice_is_refused_and_opens_nothing_more(directeur, budget, dm1, as_user):
    client = as_user(directeur)
    client.post(submit_url(dm1))
    assert client.post(vote_url(dm1), VOTE, format="json").status_code == 200
    entries = LedgerEntry.objects.count()
    response = client.post(vote_url(dm1), {**VOTE, "vote_reference": "Autre"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == french(
        "The %(revision)s is already voted: it is frozen.", revision="DM1 2026"
    )
    assert LedgerEntry.objects.count() == entries
    dm1.refresh_from_db()
    assert dm1.vote_reference == "Délibération 2026-042"


def test_a_dm1_cannot_be_voted_before_the_bp(directeur, chef, as_user):
    year = FiscalYearFactory(year=2027, state="preparation")
    line = BudgetLineFactory(fiscal_year=year, code="F-2027")
    bp = services.revision_create(user=chef, fiscal_year=year, kind="BP")
    services.revision_item_set(user=chef, revision=bp, budget_line=line, amount=500_000)
    dm1 = services.revision_create(user=chef, fiscal_year=year, kind="DM1")
    services.revision_item_set(user=chef, revision=dm1, budget_line=line, amount=50_000)
    services.revision_submit(user=directeur, revision=dm1)

    response = as_user(directeur).post(vote_url(dm1), VOTE, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == french(
        "The %(kind)s can only be voted after the %(previous)s.", kind="DM1", previous="BP"
    )
    dm1.refresh_from_db()
    line.refresh_from_db()
    assert (dm1.state, dm1.vote_reference, dm1.vote_date) == ("submitted", "", None)
    assert line.opened == 0
    assert not LedgerEntry.objects.filter(budget_line=line).exists()


def test_a_vote_needs_its_date_and_its_reference(directeur, dm1, as_user):
    client = as_user(directeur)
    client.post(submit_url(dm1))
    missing = client.post(vote_url(dm1), {"vote_date": "2026-06-20"}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"vote_reference": ["Ce champ est obligatoire."]}
    blank = client.post(vote_url(dm1), {**VOTE, "vote_reference": "  "}, format="json")
    assert blank.status_code == 400
    assert blank.json() == {"vote_reference": ["Ce champ ne peut être vide."]}
    bad_date = client.post(vote_url(dm1), {**VOTE, "vote_date": "20/06/2026"}, format="json")
    assert bad_date.status_code == 400
    assert "La date n'a pas le bon format" in bad_date.json()["vote_date"][0]
    dm1.refresh_from_db()
    assert dm1.state == "submitted"
    assert not revision_entries(dm1).exists()


def test_a_draft_cannot_be_voted(directeur, dm1, as_user):
    response = as_user(directeur).post(vote_url(dm1), VOTE, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == french(
        "The %(revision)s must be submitted before it is voted.", revision="DM1 2026"
    )
    dm1.refresh_from_db()
    assert dm1.state == "draft"


def test_a_cut_below_what_is_committed_is_refused_with_the_line_and_its_figures(
    directeur, chef, budget, as_user
):
    dm1 = services.revision_create(user=chef, fiscal_year=budget["year"], kind="DM1")
    services.revision_item_set(
        user=chef, revision=dm1, budget_line=budget["licences"], amount=-200_000
    )
    response = as_user(directeur).post(submit_url(dm1))
    assert response.status_code == 400
    assert response.json()["detail"] == french(
        "Line %(code)s: cutting %(cut)s would leave %(opened)s of credits, "
        "below the %(committed)s already committed.",
        code="F-APPS-01",
        cut=format_xpf(200_000),
        opened=format_xpf(300_000),
        committed=format_xpf(500_000),
    )
    dm1.refresh_from_db()
    assert dm1.state == "draft"


def test_the_schema_documents_the_budget_endpoints(chef, as_user):
    schema = as_user(chef).get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/fiscal-years/",
        "/api/v1/budget-lines/",
        "/api/v1/budget-lines/{id}/ledger/",
        "/api/v1/revisions/",
        "/api/v1/revisions/{id}/submit/",
        "/api/v1/revisions/{id}/vote/",
    ):
        assert path in paths, path
    line = schema["components"]["schemas"]["BudgetLine"]["properties"]
    assert all(line[f]["type"] == "integer" for f in FIGURES)
    filters = {p["name"] for p in paths["/api/v1/budget-lines/"]["get"]["parameters"]}
    assert {"year", "section", "chapter", "account", "cost_centre", "project", "search"} <= filters
