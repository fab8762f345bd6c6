"""The invoices API: list (tabs and filters, no COUNT), read with lines, enter (with an
Idempotency-Key), liquidate / validate / cancel / payment, and the same refusals as
the screens."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from budgets.models import FiscalYear, LedgerEntry
from dsi_finance.roles import Role
from procurement.models import Invoice
from procurement.services.invoices import invoice_create, invoice_liquidate
from tests.factories import BudgetLineFactory, fund
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    invoice_commitment,
    invoice_line,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:invoice-list")
TODAY = date.today()


@pytest.fixture(autouse=True)
def _rates(settings):
    ensure_tax_rates()
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 10_000_000


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture
def lines():
    servers = BudgetLineFactory(code="F-6156-INFRA")
    licences = BudgetLineFactory(code="F-6051-APPLI")
    fund({servers: 5_000_000, licences: 1_000_000})
    return servers, licences


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cegelec NC", ridet="0123456.001")


@pytest.fixture
def commitment(chef, lines, supplier):
    servers, licences = lines
    return invoice_commitment(
        chef, [(servers, 2_000_000, 10), (licences, 600_000, None)], supplier=supplier
    )


def detail_url(invoice) -> str:
    return reverse("api:invoice-detail", args=[invoice.pk])


def action_url(name: str, invoice) -> str:
    return reverse(f"api:invoice-{name}", args=[invoice.pk])


def entered(comptable, commitment, supplier, number="F-1", amount="100000", **kwargs):
    kwargs.setdefault("invoice_date", TODAY - timedelta(days=10))
    kwargs.setdefault("received_on", TODAY - timedelta(days=5))
    return invoice_create(
        user=comptable,
        supplier=supplier,
        supplier_number=number,
        lines=[invoice_line(commitment.lines.get(position=2), amount_ht=amount)],
        commitment=commitment,
        **kwargs,
    )


def body(supplier, commitment=None, number="F2026-9", lines=None, **extra) -> dict:
    data = {
        "supplier": supplier.pk,
        "supplier_number": number,
        "invoice_date": (TODAY - timedelta(days=4)).isoformat(),
        "received_on": (TODAY - timedelta(days=2)).isoformat(),
        "commitment": commitment.pk if commitment else None,
        "lines": lines or [],
    }
    data.update(extra)
    return data


# --- Reading ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE, Role.COMPTABILITE])
def test_the_roles_that_read_invoices_list_them(
    role, cast, as_user, comptable, commitment, supplier
):
    invoice = entered(comptable, commitment, supplier)
    response = as_user(cast[role]).get(LIST_URL)
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert (row["number"], row["amount_ht"], row["amount_ttc"]) == (
        invoice.number,
        100_000,
        122_000,
    )
    assert row["amount_ht_currency"] == "100000.00"
    assert "lines" not in row


def test_the_list_refuses_anonymous_and_a_role_outside_purchasing(api, as_user, sans_role):
    assert api.get(LIST_URL).status_code == 401
    assert as_user(sans_role).get(LIST_URL).status_code == 403


def test_the_buyer_reads_the_invoices_but_may_not_enter_one(as_user, acheteur, supplier):
    assert as_user(acheteur).get(LIST_URL).status_code == 200
    assert as_user(acheteur).post(LIST_URL, {}, format="json").status_code == 403


def test_the_list_filters_like_the_screen(as_user, comptable, commitment, supplier):
    waiting = entered(comptable, commitment, supplier, number="W-1")
    done = entered(comptable, commitment, supplier, number="D-1")
    invoice_liquidate(user=comptable, invoice=done)
    late = entered(
        comptable,
        commitment,
        supplier,
        number="L-1",
        invoice_date=TODAY - timedelta(days=90),
        received_on=TODAY - timedelta(days=80),
    )
    client = as_user(comptable)

    def numbers(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers(tab="to_liquidate") == {waiting.number, late.number}
    assert numbers(tab="late") == {late.number}
    assert numbers(state="liquidated") == {done.number}
    assert numbers(q="w-1") == {waiting.number}
    assert numbers(year=2026, supplier=supplier.pk) == {waiting.number, done.number, late.number}
    assert client.get(LIST_URL, {"tab": "nonsense"}).status_code == 400
    late_row = client.get(LIST_URL, {"tab": "late"}).json()["results"][0]
    assert late_row["days_late"] == 50


def test_the_list_pages_without_counting(as_user, comptable, commitment, supplier):
    for number in range(7):
        entered(comptable, commitment, supplier, number=f"N-{number}", amount="1000")
    client = as_user(comptable)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST_URL, {"page_size": 5}).json()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(first["results"]) == 5 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert second["previous"]


def test_an_invoice_is_read_with_its_lines(as_user, comptable, commitment, supplier):
    invoice = entered(comptable, commitment, supplier)
    response = as_user(comptable).get(detail_url(invoice))
    assert response.status_code == 200
    data = response.json()
    assert data["entered_by"] == "comptable"
    (line,) = data["lines"]
    assert line["commitment_line"] == commitment.lines.get(position=2).pk
    assert (line["amount_ht"], line["tax_rate"]) == (100_000, "22.00")


# --- Entering ----------------------------------------------------------------------


def test_the_assistant_enters_a_matched_invoice(as_user, comptable, commitment, supplier):
    switches = commitment.lines.get(position=1)
    response = as_user(comptable).post(
        LIST_URL,
        body(
            supplier,
            commitment,
            lines=[
                {
                    "amount_ht": "400000",
                    "tax_rate": "22",
                    "quantity": "2",
                    "commitment_line": switches.pk,
                }
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    invoice = Invoice.objects.get()
    assert response.json()["number"] == invoice.number
    assert (invoice.amount_ht, invoice.commitment) == (400_000, commitment)


def test_an_invoice_in_euros_keeps_both_amounts(as_user, comptable, commitment, supplier):
    support = commitment.lines.get(position=2)
    response = as_user(comptable).post(
        LIST_URL,
        body(
            supplier,
            commitment,
            currency="EUR",
            lines=[{"amount_ht": "1000.00", "tax_rate": "0", "commitment_line": support.pk}],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["amount_ht"], data["amount_ht_currency"], data["exchange_rate"]) == (
        119_332,
        "1000.00",
        "119.331742",
    )


def test_the_same_idempotency_key_twice_enters_one_invoice(
    as_user, comptable, commitment, supplier
):
    support = commitment.lines.get(position=2)
    client = as_user(comptable)
    data = body(
        supplier,
        commitment,
        lines=[{"amount_ht": "100000", "tax_rate": "22", "commitment_line": support.pk}],
    )
    first = client.post(LIST_URL, data, format="json", HTTP_IDEMPOTENCY_KEY="facture-42")
    second = client.post(LIST_URL, data, format="json", HTTP_IDEMPOTENCY_KEY="facture-42")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Invoice.objects.count() == 1
    support.refresh_from_db()
    assert support.invoiced == 100_000


@pytest.mark.parametrize(
    ("line", "code_in_detail"),
    [
        ({"amount_ht": "-5", "tax_rate": "22"}, None),
        ({"amount_ht": "100", "tax_rate": "19.6"}, "19.6"),
        ({"amount_ht": "100.5", "tax_rate": "22"}, None),
    ],
)
def test_bad_lines_are_refused_with_a_french_message_and_nothing_is_recorded(
    line, code_in_detail, as_user, comptable, commitment, supplier
):
    line["commitment_line"] = commitment.lines.get(position=2).pk
    response = as_user(comptable).post(
        LIST_URL, body(supplier, commitment, lines=[line]), format="json"
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail
    if code_in_detail:
        assert code_in_detail in detail
    assert not Invoice.objects.exists()


def test_a_duplicate_supplier_number_is_refused(as_user, comptable, commitment, supplier):
    first = entered(comptable, commitment, supplier, number="DUP")
    response = as_user(comptable).post(
        LIST_URL,
        body(
            supplier,
            commitment,
            number="DUP",
            lines=[
                {
                    "amount_ht": "1",
                    "tax_rate": "22",
                    "commitment_line": commitment.lines.get(position=2).pk,
                }
            ],
        ),
        format="json",
    )
    assert response.status_code == 400
    assert first.number in response.json()["detail"]
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.ACHAT, Role.CONTROLE])
def test_entering_is_refused_to_other_roles(role, cast, as_user, commitment, supplier):
    response = as_user(cast[role]).post(
        LIST_URL,
        body(supplier, commitment, lines=[{"amount_ht": "1", "tax_rate": "22"}]),
        format="json",
    )
    assert response.status_code == 403
    assert not Invoice.objects.exists()


def test_there_is_no_delete(as_user, comptable, commitment, supplier):
    invoice = entered(comptable, commitment, supplier)
    assert as_user(comptable).delete(detail_url(invoice)).status_code == 405
    assert Invoice.objects.filter(pk=invoice.pk).exists()


# --- Actions -----------------------------------------------------------------------


def test_the_assistant_liquidates_through_the_api(as_user, comptable, commitment, supplier, lines):
    invoice = entered(comptable, commitment, supplier)
    response = as_user(comptable).post(action_url("liquidate", invoice), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "liquidated"
    lines[1].refresh_from_db()
    assert lines[1].liquidated == 100_000


def test_a_short_available_amount_says_whether_it_may_be_overridden(
    as_user, comptable, commitment, supplier, lines
):
    FiscalYear.objects.filter(pk=lines[1].fiscal_year_id).update(control_mode="warn")
    invoice = entered(comptable, commitment, supplier, amount="1100000")
    client = as_user(comptable)

    refused = client.post(action_url("liquidate", invoice), {}, format="json")

    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["can_override"]) == ("credits_short", True)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED

    done = client.post(
        action_url("liquidate", invoice), {"override_reason": "Avenant signé"}, format="json"
    )
    assert done.status_code == 200
    assert LedgerEntry.objects.get(kind="override").reason == "Avenant signé"


def test_the_section_head_validates_through_the_api(
    as_user, chef, comptable, commitment, supplier, settings
):
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 1_000
    invoice = entered(comptable, commitment, supplier)
    assert (
        as_user(comptable).post(action_url("liquidate", invoice)).json()["state"] == "to_validate"
    )
    assert as_user(comptable).post(action_url("validate", invoice)).status_code == 403
    response = as_user(chef).post(action_url("validate", invoice))
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["validated_by"]) == ("liquidated", "chef")


def test_cancel_needs_a_reason_and_reverses_the_liquidation(
    as_user, comptable, commitment, supplier, lines
):
    invoice = entered(comptable, commitment, supplier)
    invoice_liquidate(user=comptable, invoice=invoice)
    client = as_user(comptable)
    assert client.post(action_url("cancel", invoice), {}, format="json").status_code == 400
    response = client.post(action_url("cancel", invoice), {"reason": "Erreur"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    lines[1].refresh_from_db()
    assert lines[1].liquidated == 0


def test_the_payment_date_is_recorded_through_the_api(as_user, comptable, commitment, supplier):
    invoice = entered(comptable, commitment, supplier)
    client = as_user(comptable)
    refused = client.post(action_url("payment", invoice), {"payment_date": TODAY.isoformat()})
    assert refused.status_code == 400 and refused.json()["detail"]
    invoice_liquidate(user=comptable, invoice=invoice)
    response = client.post(action_url("payment", invoice), {"payment_date": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.json()["payment_date"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("liquidate", Role.PILOTAGE),
        ("liquidate", Role.CONTROLE),
        ("validate", Role.COMPTABILITE),
        ("cancel", Role.DIRECTION),
        ("payment", Role.ACHAT),
    ],
)
def test_actions_are_refused_to_the_wrong_role(
    name, role, cast, as_user, comptable, commitment, supplier
):
    invoice = entered(comptable, commitment, supplier)
    response = as_user(cast[role]).post(
        action_url(name, invoice), {"reason": "x", "payment_date": TODAY.isoformat()}
    )
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED


def test_actions_refuse_anonymous_and_get(api, as_user, comptable, commitment, supplier):
    invoice = entered(comptable, commitment, supplier)
    assert api.post(action_url("liquidate", invoice)).status_code == 401
    assert as_user(comptable).get(action_url("liquidate", invoice)).status_code == 405


# --- The control total (optional in the API) -----------------------------------------


def _support_line(commitment) -> list[dict]:
    return [
        {
            "amount_ht": "250000",
            "tax_rate": "22",
            "commitment_line": commitment.lines.get(position=2).pk,
        }
    ]


@pytest.mark.parametrize("total_ttc", [None, "", "305000", "305 000", "305.000"])
def test_the_control_total_is_optional_and_when_given_equal_to_the_lines_records(
    total_ttc, as_user, comptable, commitment, supplier
):
    extra = {} if total_ttc is None else {"total_ttc": total_ttc}
    response = as_user(comptable).post(
        LIST_URL,
        body(supplier, commitment, lines=_support_line(commitment), **extra),
        format="json",
    )
    assert response.status_code == 201
    assert Invoice.objects.get().amount_ttc == 305_000


def test_a_control_total_that_differs_is_refused_with_the_difference(
    as_user, comptable, commitment, supplier
):
    response = as_user(comptable).post(
        LIST_URL,
        body(supplier, commitment, lines=_support_line(commitment), total_ttc="305 007"),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Le total TTC saisi (305\u202f007\u00a0F\u00a0CFP) diffère du total calculé "
        "(305\u202f000\u00a0F\u00a0CFP) de 7\u00a0F\u00a0CFP\u00a0: vérifiez les lignes et les "
        "taux de TGC."
    )
    assert not Invoice.objects.exists()
    assert commitment.lines.get(position=2).invoiced == 0
