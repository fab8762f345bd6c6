"""The line page: a line's figures, each leading to the ledger entries and documents behind it,
and the line-availability fragment that forms reuse."""

import html
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets import services
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import BudgetLineFactory, CostCentreFactory, ProjectFactory, fund

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
NNBSP = "\u202f"


def figure(francs: int) -> str:
    """How a list cell writes an amount (its header names the currency): `1 234 567`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int, sign: bool = False) -> str:
    text = f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"
    if francs < 0:
        return "-" + text
    return ("+" + text) if sign else text


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def entries(response) -> list[tuple[str, int]]:
    """(kind, amount) of the ledger rows shown, in the order shown."""
    return [(entry.kind, entry.amount) for entry in response.context["table"].paginated_rows.data]


@pytest.fixture
def line(chef, directeur):
    """Opened 1 000 000 (BP) + 200 000 (transfer in); committed 700 000 then 150 000 released;
    liquidated 300 000.  Available 650 000, to liquidate 250 000."""
    line = BudgetLineFactory(code="F-6156-INFRA", label="Maintenance des serveurs")
    donor = BudgetLineFactory(code="F-6262-INFRA", label="Liaisons télécom")
    revision = fund({line: 1_000_000, donor: 500_000})
    transfer = services.transfer_request(
        user=chef, source=donor, target=line, amount=200_000, reason="Renfort de maintenance"
    )
    services.transfer_approve(user=directeur, transfer=transfer, note="Accordé")
    contract = ProjectFactory(code="MAINT-2026", label="Contrat de maintenance")
    services.credits_commit(user=chef, document=contract, amounts={line: 700_000})
    services.credits_release(
        user=chef, document=contract, line=line, amount=150_000, reason="Option non levée"
    )
    services.credits_liquidate(user=chef, document=contract, line=line, amount=300_000)
    line.refresh_from_db()
    line.revision, line.transfer, line.contract = revision, transfer, contract
    return line


def url(line, **query) -> str:
    base = reverse("budgets:line-detail", args=[line.pk])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


# --- Who may open it --------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_line_its_figures_and_its_whole_ledger(role, cast, line, client_as):
    response = client_as(cast[role]).get(url(line))
    assert response.status_code == 200
    assert response.context["line"].available_amount == 650_000
    assert response.context["line"].to_liquidate_amount == 250_000
    text = page_text(response)
    assert "F-6156-INFRA" in text
    assert "Maintenance des serveurs" in text
    for amount in (1_200_000, 550_000, 300_000, 250_000, 650_000):
        assert xpf(amount) in text
    # Newest first: liquidation, release, commitment, transfer in, opening.
    assert entries(response) == [
        ("liquidate", 300_000),
        ("release", -150_000),
        ("commit", 700_000),
        ("transfer_in", 200_000),
        ("open", 1_000_000),
    ]


def test_an_anonymous_visitor_is_sent_to_login(client, line):
    assert_sends_to_login(client.get(url(line)))
    assert_sends_to_login(client.get(reverse("budgets:line-availability", args=[line.pk])))


def test_an_account_without_a_role_is_refused(sans_role, line, client_as):
    assert client_as(sans_role).get(url(line)).status_code == 403
    availability = reverse("budgets:line-availability", args=[line.pk])
    assert client_as(sans_role).get(availability).status_code == 403


def test_an_unknown_line_is_not_found(chef, client_as):
    assert client_as(chef).get(reverse("budgets:line-detail", args=[999_999])).status_code == 404


# --- Drilling from a figure to its entries ------------------------------------------


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("opened", [("transfer_in", 200_000), ("open", 1_000_000)]),
        ("committed", [("release", -150_000), ("commit", 700_000)]),
        ("liquidated", [("liquidate", 300_000)]),
        (
            "to_liquidate",
            [("liquidate", 300_000), ("release", -150_000), ("commit", 700_000)],
        ),
        (
            "available",
            [
                ("release", -150_000),
                ("commit", 700_000),
                ("transfer_in", 200_000),
                ("open", 1_000_000),
            ],
        ),
    ],
)
def test_each_figure_lists_exactly_the_entries_that_make_it(
    figure, expected, chef, line, client_as
):
    response = client_as(chef).get(url(line, figure=figure))
    assert entries(response) == expected
    assert response.context["figure"] == figure


def test_the_entries_of_a_figure_add_up_to_the_figure(chef, line, client_as):
    client = client_as(chef)
    committed = entries(client.get(url(line, figure="committed")))
    opened = entries(client.get(url(line, figure="opened")))
    assert sum(amount for _kind, amount in committed) == line.committed == 550_000
    assert sum(amount for _kind, amount in opened) == line.opened == 1_200_000


def test_every_figure_on_the_page_links_to_its_entries(chef, line, client_as):
    text = page_text(client_as(chef).get(url(line)))
    for figure in ("opened", "committed", "liquidated", "to_liquidate", "available"):
        assert f'href="?figure={figure}"' in text


def test_an_unknown_figure_is_reported_in_french_and_every_entry_is_listed(chef, line, client_as):
    response = client_as(chef).get(url(line, figure="tresorerie"))
    assert len(entries(response)) == 5
    assert "Montant inconnu : toutes les écritures de la ligne sont listées." in page_text(response)


def test_each_entry_shows_its_signed_amount_the_available_after_it_who_and_why(
    chef, directeur, line, client_as
):
    text = page_text(client_as(chef).get(url(line)))
    row = text.split('data-kind="release"')[1].split("</tr>")[0]
    # The list's cells: figures only, the currency is in the headers.
    assert f">{figure(-150_000)}<" in row
    assert f">{figure(650_000)}<" in row  # available after the release
    assert "Option non levée" in row
    assert chef.get_full_name() in row
    transfer_row = text.split('data-kind="transfer_in"')[1].split("</tr>")[0]
    assert f">+{figure(200_000)}<" in transfer_row
    assert directeur.get_full_name() in transfer_row


def test_documents_link_to_their_page_or_show_their_name(chef, line, client_as):
    text = page_text(client_as(chef).get(url(line)))
    transfer_row = text.split('data-kind="transfer_in"')[1].split("</tr>")[0]
    assert f'href="{line.transfer.get_absolute_url()}"' in transfer_row
    assert f"Virement n° {line.transfer.pk}" in transfer_row
    commit_row = text.split('data-kind="commit"')[1].split("</tr>")[0]
    (document_cell,) = [cell for cell in commit_row.split("<td")[1:] if "MAINT-2026" in cell]
    assert "MAINT-2026 Contrat de maintenance" in document_cell  # a project has no page
    assert "<a " not in document_cell


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_budget_documents_are_named_not_linked_for_roles_that_cannot_open_them(
    role, cast, line, client_as
):
    text = page_text(client_as(cast[role]).get(url(line)))
    transfer_row = text.split('data-kind="transfer_in"')[1].split("</tr>")[0]
    assert f"Virement n° {line.transfer.pk}" in transfer_row
    assert line.transfer.get_absolute_url() not in transfer_row
    assert line.revision.get_absolute_url() not in text
    assert client_as(cast[role]).get(line.transfer.get_absolute_url()).status_code == 403


def test_dates_are_shown_in_noumea_time(chef, client_as):
    line = BudgetLineFactory()
    with time_machine.travel(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), tick=False):
        fund({line: 1_000})
    text = page_text(client_as(chef).get(url(line)))
    assert "02/03/2026 09:30" in text  # UTC+11


def test_the_ledger_is_paginated_and_htmx_swaps_only_its_region(chef, client_as):
    line = BudgetLineFactory()
    revision = fund({line: 1_000_000})
    for _ in range(55):
        services.credits_commit(user=chef, document=revision, amounts={line: 1_000})
    client = client_as(chef)
    first = client.get(url(line))
    assert len(entries(first)) == 50
    second = client.get(
        url(line, page=2), headers={"HX-Request": "true", "HX-Target": "table-region"}
    )
    text = second.content.decode()
    assert text.lstrip().startswith('<section id="table-region"')
    assert "<html" not in text
    assert len(entries(second)) == 6
    assert entries(second)[-1] == ("open", 1_000_000)


def test_the_ledger_costs_the_same_queries_for_3_or_40_entries_and_documents(
    chef, client_as, django_assert_max_num_queries
):
    line = BudgetLineFactory()
    fund({line: 1_000_000})
    client = client_as(chef)
    # One document of each type from the start: documents are fetched once per type.
    for document in (CostCentreFactory(code="A"), ProjectFactory(code="B")):
        services.credits_commit(user=chef, document=document, amounts={line: 1_000})
    client.get(url(line))
    with CaptureQueriesContext(connection) as few:
        client.get(url(line))
    for index in range(37):
        document = (
            ProjectFactory(code=f"P{index}") if index % 2 else CostCentreFactory(code=f"C{index}")
        )
        services.credits_commit(user=chef, document=document, amounts={line: 1_000})
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(line))
    assert len(entries(response)) == 40


def test_the_page_lists_the_revisions_and_transfers_of_the_line(chef, line, client_as):
    text = page_text(client_as(chef).get(url(line)))
    revisions = text.split('data-testid="revisions"')[1].split("</section>")[0]
    assert "Budget primitif (BP)" in revisions
    assert xpf(1_000_000) in revisions
    transfers = text.split('data-testid="transfers"')[1].split("</section>")[0]
    assert f'href="{line.transfer.get_absolute_url()}"' in transfers
    assert xpf(200_000) in transfers


def test_only_those_who_read_everything_see_the_transfers_section(acheteur, line, client_as):
    text = page_text(client_as(acheteur).get(url(line)))
    assert 'data-testid="transfers"' not in text
    assert "Demander un virement depuis cette ligne" not in text


def test_the_section_head_may_start_a_transfer_from_the_line(chef, line, client_as):
    text = page_text(client_as(chef).get(url(line)))
    assert f'href="{reverse("budgets:transfer-create")}?source={line.pk}"' in text


# --- The availability fragment --------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_the_availability_fragment_shows_opened_committed_and_available(
    role, cast, line, client_as
):
    response = client_as(cast[role]).get(reverse("budgets:line-availability", args=[line.pk]))
    assert response.status_code == 200
    text = page_text(response)
    assert "<html" not in text
    assert f'data-line="{line.pk}"' in text
    opened = text.split('data-figure="opened">')[1].split("<")[0]
    committed = text.split('data-figure="committed">')[1].split("<")[0]
    available = text.split('data-figure="available">')[1].split("<")[0]
    assert (opened, committed, available) == (xpf(1_200_000), xpf(550_000), xpf(650_000))
    assert "Disponible" in text


def test_the_availability_fragment_of_an_overspent_line_is_red(chef, directeur, client_as):
    line = BudgetLineFactory()
    revision = fund({line: 1_000})
    services.credits_commit(
        user=directeur, document=revision, amounts={line: 1_500}, override_reason="Urgence"
    )
    text = page_text(client_as(chef).get(reverse("budgets:line-availability", args=[line.pk])))
    assert xpf(-500) in text
    assert "text-danger" in text.split('data-figure="available"')[0].rsplit("<dd", 1)[1]


def test_the_availability_fragment_of_an_unknown_line_is_not_found(chef, client_as):
    response = client_as(chef).get(reverse("budgets:line-availability", args=[999_999]))
    assert response.status_code == 404
