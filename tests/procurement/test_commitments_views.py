"""Commitment pages: the list and its filters, a commitment's page (lines, figures,
order, receipts, ledger entries, history), the recurring contract form with each line's
live available amount, and the closing that gives the remainder back."""

import html
from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from dsi_finance.idempotency import FORM_TOKEN_FIELD
from procurement.models import Commitment
from procurement.services import orders
from procurement.services.commitments import LineSpec, commitment_close, commitment_open_recurring
from tests.assertions import assert_sends_to_login
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("procurement:commitment-list")
CREATE_URL = reverse("procurement:commitment-create")
AVAILABILITY_URL = reverse("procurement:commitment-line-availability")
NBSP = "\u00a0"
NNBSP = "\u202f"


def figure(francs: int) -> str:
    """How a list cell writes an amount (its header names the currency): `1 234 567`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int) -> str:
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def lines(db):
    ensure_tax_rates()
    return (
        funded_line(3_000_000, code="F-6156-INFRA"),
        funded_line(1_000_000, code="F-6262-TELECOM"),
    )


@pytest.fixture
def supplier(db):
    return SupplierFactory(name="OPT Nouvelle-Calédonie")


@pytest.fixture
def recurring(chef, lines, supplier):
    return commitment_open_recurring(
        user=chef,
        supplier=supplier,
        subject="Liaisons fibre 2026",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        lines=[
            LineSpec(budget_line=lines[0], description="Maintenance", amount=1_200_000),
            LineSpec(budget_line=lines[1], description="Liaison fibre", amount=480_000),
        ],
    )


@pytest.fixture
def goods(chef, lines):
    return request_commitment(chef, [ordered_goods(lines[0], "2", 150_000, "22", "Onduleur")])


def available(line) -> int:
    return BudgetLine.objects.get(pk=line.pk).available


def entries_of(commitment) -> list[tuple[str, str, int]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(Commitment), document_id=commitment.pk
        )
        .order_by("pk")
        .values_list("budget_line__code", "kind", "amount")
    )


# --- The list -----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["chef", "acheteur", "comptable", "directeur", "controleur"])
def test_every_role_lists_the_commitments(username, cast, recurring, goods, client_as):
    user = next(u for u in cast.values() if u.username == username)
    response = client_as(user).get(LIST_URL)
    assert response.status_code == 200
    shown = {c.number for c in response.context["table"].paginated_rows.data}
    assert shown == {recurring.number, goods.number}
    assert f">{figure(1_680_000)}<" in page_text(response)
    assert ('data-testid="open-recurring"' in page_text(response)) == (username == "chef")


def test_a_user_without_a_role_may_not_open_the_commitment_pages(sans_role, recurring, client_as):
    client = client_as(sans_role)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(recurring.get_absolute_url()).status_code == 403


def test_an_anonymous_visitor_is_sent_to_login(client, recurring):
    for target in (LIST_URL, CREATE_URL, AVAILABILITY_URL, recurring.get_absolute_url()):
        assert_sends_to_login(client.get(target))
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    assert_sends_to_login(client.post(close, {"reason": "x"}))
    assert Commitment.objects.get(pk=recurring.pk).state == Commitment.State.OPEN


def test_the_list_filters_by_kind_state_supplier_line_text_and_remainder(
    chef, lines, recurring, goods, client_as
):
    from procurement.services.commitments import commitment_close

    closed = request_commitment(chef, [ordered_goods(lines[1], "1", 10_000)])
    commitment_close(user=chef, commitment=closed, reason="Abandon")
    client = client_as(chef)

    def shown(**filters):
        response = client.get(LIST_URL, filters)
        return sorted(c.number for c in response.context["table"].paginated_rows.data)

    everything = sorted([recurring.number, goods.number, closed.number])
    assert shown() == everything
    assert shown(kind="recurring") == [recurring.number]
    assert shown(state="closed") == [closed.number]
    assert shown(supplier=recurring.supplier_id) == [recurring.number]
    assert shown(budget_line="F-6262") == sorted([recurring.number, closed.number])
    assert shown(q="fibre") == [recurring.number]
    assert shown(q="OPT") == [recurring.number]
    assert shown(remaining="true") == sorted([recurring.number, goods.number])
    assert shown(year="2027") == []
    assert shown(year="") == everything


def test_the_list_answers_htmx_with_its_table_only(chef, recurring, client_as):
    response = client_as(chef).get(
        LIST_URL, {"kind": "recurring"}, headers={"HX-Request": "true", "HX-Target": "table-region"}
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="table-region"')
    assert "<html" not in text


# --- A commitment's page ---------------------------------------------------------------


def test_the_page_shows_the_lines_figures_entries_and_history(chef, recurring, client_as):
    response = client_as(chef).get(recurring.get_absolute_url())
    assert response.status_code == 200
    text = page_text(response)
    assert f'data-testid="amount">{xpf(1_680_000)}<' in text
    assert f'data-testid="remainder">{xpf(1_680_000)}<' in text
    assert "F-6156-INFRA" in text and "F-6262-TELECOM" in text
    assert 'data-figure="remainder">' + xpf(480_000) in text
    assert 'data-kind="commit"' in text  # the ledger entries
    assert 'data-testid="history-item"' in text
    assert "01/01/2026" in text and "31/12/2026" in text
    assert 'data-testid="release-total">' + xpf(1_680_000) in text
    assert 'data-testid="order-create"' not in text


def test_a_requests_commitment_offers_the_buyer_its_order_then_its_receipt(
    acheteur, goods, client_as
):
    client = client_as(acheteur)
    text = page_text(client.get(goods.get_absolute_url()))
    assert f"{reverse('procurement:order-create')}?commitment={goods.pk}" in text
    assert 'data-testid="close"' not in text
    order = orders.purchase_order_create(user=acheteur, commitment=goods)
    text = page_text(client.get(goods.get_absolute_url()))
    assert 'data-testid="order-create"' not in text
    assert order.number in text
    assert f"{reverse('procurement:receipt-create')}?commitment={goods.pk}" in text
    assert 'data-figure="quantity">2<' in text


def test_the_accounting_assistant_enters_an_invoice_from_an_open_commitment(
    comptable, acheteur, chef, recurring, client_as
):
    link = f"{reverse('procurement:invoice-create')}?commitment={recurring.pk}"
    assert link in page_text(client_as(comptable).get(recurring.get_absolute_url()))
    assert link not in page_text(client_as(acheteur).get(recurring.get_absolute_url()))
    form = page_text(client_as(comptable).get(link))
    assert recurring.number in form
    commitment_close(user=chef, commitment=recurring, reason="Fin du contrat")
    assert link not in page_text(client_as(comptable).get(recurring.get_absolute_url()))


# --- Closing --------------------------------------------------------------------------


def test_the_section_head_closes_and_the_remainder_goes_back(chef, lines, recurring, client_as):
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    response = client_as(chef).post(close, {"reason": "Contrat résilié"}, follow=True)
    recurring.refresh_from_db()
    assert recurring.state == Commitment.State.CLOSED
    assert (recurring.released, recurring.remainder, recurring.close_reason) == (
        1_680_000,
        0,
        "Contrat résilié",
    )
    assert entries_of(recurring)[-2:] == [
        ("F-6156-INFRA", "release", -1_200_000),
        ("F-6262-TELECOM", "release", -480_000),
    ]
    assert (available(lines[0]), available(lines[1])) == (3_000_000, 1_000_000)
    assert any(xpf(1_680_000) in message for message in messages_of(response))


def test_closing_needs_a_reason_and_changes_nothing_without_one(chef, recurring, client_as):
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    response = client_as(chef).post(close, {"reason": " "}, follow=True)
    assert messages_of(response)
    assert Commitment.objects.get(pk=recurring.pk).state == Commitment.State.OPEN


def test_closing_twice_answers_with_a_message(chef, recurring, client_as):
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    client = client_as(chef)
    client.post(close, {"reason": "Fin"})
    response = client.post(close, {"reason": "Encore"}, follow=True)
    assert any(recurring.number in message for message in messages_of(response))
    assert len([e for e in entries_of(recurring) if e[1] == "release"]) == 2


@pytest.mark.parametrize("username", ["acheteur", "comptable", "directeur", "controleur"])
def test_only_the_section_head_closes(username, cast, recurring, client_as):
    user = next(u for u in cast.values() if u.username == username)
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    assert client_as(user).post(close, {"reason": "Essai"}).status_code == 403
    assert Commitment.objects.get(pk=recurring.pk).state == Commitment.State.OPEN


def test_closing_refuses_get(chef, recurring, client_as):
    close = reverse("procurement:commitment-close", args=[recurring.pk])
    assert client_as(chef).get(close).status_code == 405


# --- The recurring contract form -----------------------------------------------------


def form_data(supplier, rows, **extra):
    data = {
        "supplier": supplier.pk,
        "subject": "Maintenance du standard",
        "period_start": "01/01/2026",
        "period_end": "31/12/2026",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, (line, description, amount) in enumerate(rows):
        data[f"lines-{index}-budget_line"] = line.pk if line else ""
        data[f"lines-{index}-description"] = description
        data[f"lines-{index}-amount"] = amount
    data.update(extra)
    return data


def test_the_form_offers_the_open_years_lines_with_their_live_availability(chef, lines, client_as):
    response = client_as(chef).get(CREATE_URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "F-6156-INFRA" in text
    assert f'hx-get="{AVAILABILITY_URL}"' in text
    assert 'id="commitment-line-template"' in text
    assert FORM_TOKEN_FIELD in text
    fragment = client_as(chef).get(AVAILABILITY_URL, {"lines-3-budget_line": lines[1].pk})
    assert 'data-figure="available">' + xpf(1_000_000) in page_text(fragment)
    empty = client_as(chef).get(AVAILABILITY_URL, {"lines-0-budget_line": ""})
    assert 'data-figure="available"' not in page_text(empty)


def test_the_section_head_opens_a_recurring_contract_that_takes_exactly_its_amount(
    chef, lines, supplier, client_as
):
    response = client_as(chef).post(
        CREATE_URL,
        form_data(
            supplier,
            [(lines[0], "Maintenance", "1 200 000"), (lines[1], "Liaison", "480000")],
            **{FORM_TOKEN_FIELD: "jeton-ej"},
        ),
    )
    commitment = Commitment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == commitment.get_absolute_url()
    assert (commitment.kind, commitment.amount, commitment.subject) == (
        Commitment.Kind.RECURRING,
        1_680_000,
        "Maintenance du standard",
    )
    assert (available(lines[0]), available(lines[1])) == (1_800_000, 520_000)
    assert entries_of(commitment) == [
        ("F-6156-INFRA", "commit", 1_200_000),
        ("F-6262-TELECOM", "commit", 480_000),
    ]


def test_the_form_sent_twice_opens_one_commitment(chef, lines, supplier, client_as):
    client = client_as(chef)
    data = form_data(supplier, [(lines[0], "Maintenance", "100 000")], form_token="un-jeton")
    client.post(CREATE_URL, data)
    response = client.post(CREATE_URL, data)
    commitment = Commitment.objects.get()
    assert response["Location"] == commitment.get_absolute_url()
    assert available(lines[0]) == 2_900_000


def test_a_shortage_is_refused_with_the_figures_and_nothing_is_taken(
    chef, lines, supplier, client_as
):
    response = client_as(chef).post(
        CREATE_URL, form_data(supplier, [(lines[1], "Liaison", "1 000 001")])
    )
    assert response.status_code == 200
    text = page_text(response)
    assert xpf(1_000_001) in text and xpf(1_000_000) in text
    assert 'data-testid="override"' not in text  # a "block" year: only the director
    assert not Commitment.objects.exists()
    assert available(lines[1]) == 1_000_000


def test_in_a_year_that_warns_the_form_asks_for_a_reason_then_commits_over(
    chef, lines, supplier, client_as
):
    FiscalYear.objects.filter(year=2026).update(control_mode=FiscalYear.ControlMode.WARN)
    client = client_as(chef)
    data = form_data(supplier, [(lines[1], "Liaison", "1 200 000")])
    response = client.post(CREATE_URL, data)
    assert 'data-testid="override"' in page_text(response)
    assert not Commitment.objects.exists()
    response = client.post(CREATE_URL, {**data, "override_reason": "Reconduction urgente"})
    commitment = Commitment.objects.get()
    assert entries_of(commitment) == [("F-6262-TELECOM", "override", 1_200_000)]
    assert available(lines[1]) == -200_000


@pytest.mark.parametrize("amount", ["12,5", "douze", "-5000", "0", ""])
def test_a_bad_amount_is_refused_and_nothing_is_taken(amount, chef, lines, supplier, client_as):
    response = client_as(chef).post(CREATE_URL, form_data(supplier, [(lines[0], "X", amount)]))
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors.get("amount")
    assert not Commitment.objects.exists()
    assert available(lines[0]) == 3_000_000


def test_a_period_ending_before_it_starts_is_refused(chef, lines, supplier, client_as):
    data = form_data(supplier, [(lines[0], "X", "1000")])
    data["period_start"], data["period_end"] = "01/07/2026", "30/06/2026"
    response = client_as(chef).post(CREATE_URL, data)
    assert response.context["form"].errors["period_end"]
    assert not Commitment.objects.exists()


def test_a_deactivated_supplier_is_not_offered(chef, lines, supplier, client_as):
    supplier.is_active = False
    supplier.save()
    response = client_as(chef).post(CREATE_URL, form_data(supplier, [(lines[0], "X", "1000")]))
    assert response.context["form"].errors["supplier"]
    assert not Commitment.objects.exists()


@pytest.mark.parametrize("username", ["acheteur", "comptable", "directeur", "controleur"])
def test_only_the_section_head_opens_the_form(username, cast, lines, supplier, client_as):
    user = next(u for u in cast.values() if u.username == username)
    client = client_as(user)
    assert client.get(CREATE_URL).status_code == 403
    assert client.get(AVAILABILITY_URL).status_code == 403
    response = client.post(CREATE_URL, form_data(supplier, [(lines[0], "X", "1000")]))
    assert response.status_code == 403
    assert not Commitment.objects.exists()


def test_the_list_and_a_page_read_in_a_fixed_number_of_queries(chef, lines, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(chef)
    request_commitment(chef, [ordered_goods(lines[0], "1", 1_000)])
    client.get(LIST_URL)  # the user's permissions are cached from then on
    with CaptureQueriesContext(connection) as one:
        client.get(LIST_URL)
    many = [request_commitment(chef, [ordered_goods(lines[0], "1", 1_000)] * 3) for _ in range(4)]
    with CaptureQueriesContext(connection) as five:
        client.get(LIST_URL)
    assert len(five.captured_queries) == len(one.captured_queries)
    with CaptureQueriesContext(connection) as page:
        client.get(many[0].get_absolute_url())
    assert len(page.captured_queries) < 30
