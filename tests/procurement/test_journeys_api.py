"""The same journeys through the API only (/api/v1/…), each person with their own
token, with the same checks of the figures to the franc.

Every creation endpoint (suppliers, purchase-requests, purchase-orders, receipts,
invoices, commitments) is sent twice with the same `Idempotency-Key`: one object,
the second answer 200 with the same id (and the figures moved once). Along the
way the roles that may not act get 403 and change nothing, and the management
controller reads every endpoint of the journey and can change nothing. Each
journey ends with `check_ledger` clean.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dsi_finance.money import format_xpf
from procurement.models import (
    Commitment,
    CommitmentLine,
    Invoice,
    PurchaseOrder,
    PurchaseRequest,
    Receipt,
    Supplier,
)
from tests.pages import french, norm, pdf_text, tr, xpf
from tests.procurement.factories import SupplierFactory, ensure_tax_rates
from tests.procurement.journeys_harness import (
    assert_ledger_clean,
    budget_lines,
    entries,
    figures,
    moved,
    shortage_message,
    snapshot,
    today,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
RequestState = PurchaseRequest.State
EVERYONE = ("chef", "acheteur", "comptable", "directeur", "controleur")


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def lines():
    return budget_lines()


@pytest.fixture
def api(chef, acheteur, comptable, directeur, controleur) -> dict:
    """Each member of the cast with an API client authenticated by their own token."""
    clients = {}
    for user in (chef, acheteur, comptable, directeur, controleur):
        token, _created = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        clients[user.username] = client
    return clients


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


def refused(api: dict, names, url: str, body: dict | None = None) -> None:
    """Each of these people posting to `url` gets 403, and nothing changes."""
    for name in names:
        before = snapshot()
        response = api[name].post(url, body or {}, format="json")
        assert response.status_code == 403, (name, url, response.status_code, response.content)
        assert snapshot() == before, (name, url)


def others(*allowed: str) -> list[str]:
    return [name for name in EVERYONE if name not in allowed]


def create_once(client: APIClient, url: str, body: dict, *, key: str, model) -> dict:
    """POST a creation twice with the same Idempotency-Key: one object, 201 then 200
    with the same id (the replay flagged). Returns the first answer's body."""
    before = model.objects.count()
    first = client.post(url, body, format="json", headers={"Idempotency-Key": key})
    created = ok(first, 201)
    assert model.objects.count() == before + 1
    kept = snapshot()
    second = client.post(url, body, format="json", headers={"Idempotency-Key": key})
    replayed = ok(second, 200)
    assert replayed["id"] == created["id"]
    assert replayed == created  # the same object, answered again
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert model.objects.count() == before + 1
    assert snapshot() == kept
    return created


def request_body(supplier_id: int, subject: str, rows: list[tuple]) -> dict:
    return {
        "supplier": supplier_id,
        "subject": subject,
        "justification": "Plan 2026",
        "lines": [
            {
                "description": description,
                "quantity": quantity,
                "unit_price": unit_price,
                "tax_rate": rate,
                "budget_line": line.pk,
            }
            for line, description, quantity, unit_price, rate in rows
        ],
    }


def requests_url(pk=None, action=None) -> str:
    url = f"{API}/purchase-requests/"
    if pk is not None:
        url += f"{pk}/"
    if action:
        url += f"{action}/"
    return url


def submitted_request(api: dict, supplier: Supplier, subject: str, rows: list[tuple]) -> dict:
    body = ok(
        api["acheteur"].post(
            requests_url(), request_body(supplier.pk, subject, rows), format="json"
        ),
        201,
    )
    body = ok(api["acheteur"].post(requests_url(body["id"], "submit"), format="json"))
    assert body["state"] == RequestState.SUBMITTED
    return body


# ---------------------------------------------------------------------------
# The journey of a purchase through the API


def test_a_purchase_goes_from_entry_to_closing_through_the_api_with_exact_figures(
    lines, api, settings
):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # the order form is built
    buyer, head, assistant = api["acheteur"], api["chef"], api["comptable"]
    line_a, line_b = lines["a"], lines["b"]
    start_a, start_b = figures(line_a), figures(line_b)

    # --- The buyer creates the supplier --------------------------------------------
    supplier_body = {
        "name": "Calédonie Informatique SARL",
        "ridet": "1234567.001",
        "address": "15 avenue du Maréchal Foch\n98800 Nouméa",
        "payment_terms_days": 30,
    }
    refused(api, others("acheteur"), f"{API}/suppliers/", supplier_body)
    created = create_once(
        buyer, f"{API}/suppliers/", supplier_body, key="fournisseur-calinfo", model=Supplier
    )
    supplier = Supplier.objects.get(pk=created["id"])
    assert supplier.ridet == "1234567.001"

    # --- The buyer creates the request with two lines, and submits it ---------------
    body = request_body(
        supplier.pk,
        "Baie de stockage de la salle B",
        [
            (line_a, "Tiroir de disques", "3", 250_000, "22"),
            (line_b, "Jours d’intégration", "2.5", 98_000, "11"),
        ],
    )
    refused(api, others("acheteur"), requests_url(), body)
    created = create_once(
        buyer, requests_url(), body, key="da-baie-stockage", model=PurchaseRequest
    )
    assert created["state"] == RequestState.DRAFT
    assert (created["amount_ht"], created["amount_tax"], created["amount_ttc"]) == (
        995_000,
        191_950,
        1_186_950,
    )
    assert [line["amount_ht"] for line in created["lines"]] == [750_000, 245_000]
    assert created["over_threshold"] is False
    assert {(t["rate"], t["base"], t["tax"]) for t in created["tax_by_rate"]} == {
        ("22", 750_000, 165_000),
        ("11", 245_000, 26_950),
    }
    request_id = created["id"]
    assert figures(line_a) == start_a and figures(line_b) == start_b

    refused(api, others("acheteur"), requests_url(request_id, "submit"))
    body = ok(buyer.post(requests_url(request_id, "submit"), format="json"))
    assert body["state"] == RequestState.SUBMITTED
    assert figures(line_a) == start_a and figures(line_b) == start_b

    # --- The section head approves: each line drops by exactly its share -------------
    refused(api, ["acheteur", "comptable", "controleur"], requests_url(request_id, "approve"))
    refused(
        api,
        ["acheteur", "comptable", "controleur"],
        requests_url(request_id, "reject"),
        {"reason": "Non"},
    )
    body = ok(head.post(requests_url(request_id, "approve"), {}, format="json"))
    assert body["state"] == RequestState.APPROVED
    assert body["decided_by"] == "chef"
    commitment = Commitment.objects.get(pk=body["commitment"]["id"])
    assert body["commitment"]["amount"] == 995_000 == commitment.amount
    after_approval_a = moved(start_a, committed=750_000, available=-750_000)
    after_approval_b = moved(start_b, committed=245_000, available=-245_000)
    assert figures(line_a) == after_approval_a
    assert figures(line_b) == after_approval_b
    assert sorted(entries(commitment)) == sorted(
        [("commit", line_a.pk, 750_000, ""), ("commit", line_b.pk, 245_000, "")]
    )
    # The budget lines' endpoint agrees.
    line_body = ok(head.get(f"{API}/budget-lines/{line_a.pk}/"))
    assert (line_body["committed"], line_body["available"]) == (750_000, 9_250_000)

    commitment_body = ok(buyer.get(f"{API}/commitments/{commitment.pk}/"))
    assert commitment_body["state"] == Commitment.State.OPEN
    assert commitment_body["remainder"] == 995_000
    line_1, line_2 = (line["id"] for line in commitment_body["lines"])

    # --- The buyer issues the order, downloads its PDF, marks it as sent -------------
    order_body = {
        "commitment": commitment.pk,
        "delivery_address": "DSI, salle B\n98800 Nouméa",
        "delivery_date": (today() + timedelta(days=21)).isoformat(),
    }
    refused(api, others("acheteur"), f"{API}/purchase-orders/", order_body)
    created = create_once(
        buyer, f"{API}/purchase-orders/", order_body, key="bc-baie", model=PurchaseOrder
    )
    order_id = created["id"]
    assert created["number"] == f"BC-{line_a.fiscal_year.year}-00001"
    assert (created["amount_ht"], created["amount_tax"], created["amount_ttc"]) == (
        995_000,
        191_950,
        1_186_950,
    )
    assert ok(buyer.get(requests_url(request_id)))["state"] == RequestState.ORDERED
    pdf = buyer.get(f"{API}/purchase-orders/{order_id}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert created["number"] in text and xpf(1_186_950) in text and xpf(995_000) in text

    refused(api, others("acheteur"), f"{API}/purchase-orders/{order_id}/mark-sent/")
    body = ok(buyer.post(f"{API}/purchase-orders/{order_id}/mark-sent/", format="json"))
    assert body["state"] == PurchaseOrder.State.SENT
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    # --- Receipts: partial, then the rest ----------------------------------------------
    receipt_body = {
        "commitment": commitment.pk,
        "received_on": today().isoformat(),
        "lines": [{"commitment_line": line_1, "quantity": "2"}],
    }
    refused(api, others("acheteur"), f"{API}/receipts/", receipt_body)
    first_receipt = create_once(
        buyer, f"{API}/receipts/", receipt_body, key="sf-baie-1", model=Receipt
    )
    assert [(line["commitment_line"], line["quantity"]) for line in first_receipt["lines"]] == [
        (line_1, "2.000")
    ]
    assert ok(buyer.get(requests_url(request_id)))["state"] == RequestState.PARTLY_RECEIVED
    second_body = {
        "commitment": commitment.pk,
        "received_on": today().isoformat(),
        "lines": [
            {"commitment_line": line_1, "quantity": "1"},
            {"commitment_line": line_2, "quantity": "2.5"},
        ],
    }
    create_once(buyer, f"{API}/receipts/", second_body, key="sf-baie-2", model=Receipt)
    assert ok(buyer.get(requests_url(request_id)))["state"] == RequestState.RECEIVED
    assert CommitmentLine.objects.get(pk=line_2).received_quantity == 2.5
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    # --- The assistant enters the invoice matched to the commitment, liquidates it -----
    invoice_body = {
        "supplier": supplier.pk,
        "supplier_number": "FC-2026-0815",
        "invoice_date": today().isoformat(),
        "received_on": today().isoformat(),
        "commitment": commitment.pk,
        "total_ttc": "1 158 100",  # optional in the API; given, it controls the lines
        "lines": [
            {"commitment_line": line_1, "quantity": "3", "amount_ht": "740000", "tax_rate": "22"},
            {
                "commitment_line": line_2,
                "quantity": "2.5",
                "amount_ht": "230000",
                "tax_rate": "11",
            },
        ],
    }
    refused(api, others("comptable"), f"{API}/invoices/", invoice_body)
    created = create_once(
        assistant, f"{API}/invoices/", invoice_body, key="fa-fc-2026-0815", model=Invoice
    )
    invoice = Invoice.objects.get(pk=created["id"])
    assert created["state"] == Invoice.State.ENTERED
    assert (created["amount_ht"], created["amount_tax"], created["amount_ttc"]) == (
        970_000,
        188_100,
        1_158_100,
    )
    assert created["due_on"] == (today() + timedelta(days=30)).isoformat()
    assert entries(invoice) == []
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    liquidate_url = f"{API}/invoices/{invoice.pk}/liquidate/"
    refused(api, others("comptable"), liquidate_url)
    body = ok(assistant.post(liquidate_url, {}, format="json"))
    assert body["state"] == Invoice.State.LIQUIDATED
    assert body["liquidated_by"] == "comptable"
    after_liquidation_a = moved(after_approval_a, liquidated=740_000)
    after_liquidation_b = moved(after_approval_b, liquidated=230_000)
    assert figures(line_a) == after_liquidation_a
    assert figures(line_b) == after_liquidation_b
    assert sorted(entries(invoice)) == sorted(
        [("liquidate", line_a.pk, 740_000, ""), ("liquidate", line_b.pk, 230_000, "")]
    )
    assert ok(buyer.get(requests_url(request_id)))["state"] == RequestState.INVOICED
    commitment_body = ok(head.get(f"{API}/commitments/{commitment.pk}/"))
    assert (commitment_body["amount"], commitment_body["liquidated"]) == (995_000, 970_000)
    assert commitment_body["remainder"] == 25_000

    # --- The section head closes the commitment: the remainder comes back -------------
    close_url = f"{API}/commitments/{commitment.pk}/close/"
    refused(api, others("chef"), close_url, {"reason": "Marché soldé"})
    body = ok(head.post(close_url, {"reason": "Marché soldé"}, format="json"))
    assert body["state"] == Commitment.State.CLOSED
    assert (body["released"], body["remainder"]) == (25_000, 0)
    assert figures(line_a) == moved(after_liquidation_a, committed=-10_000, available=10_000)
    assert figures(line_b) == moved(after_liquidation_b, committed=-15_000, available=15_000)
    assert sorted(entries(commitment)) == sorted(
        [
            ("commit", line_a.pk, 750_000, ""),
            ("commit", line_b.pk, 245_000, ""),
            ("release", line_a.pk, -10_000, "Marché soldé"),
            ("release", line_b.pk, -15_000, "Marché soldé"),
        ]
    )
    assert ok(buyer.get(requests_url(request_id)))["state"] == RequestState.CLOSED
    assert figures(line_a) == moved(
        start_a, committed=740_000, liquidated=740_000, available=-740_000
    )
    assert figures(line_b) == moved(
        start_b, committed=230_000, liquidated=230_000, available=-230_000
    )

    # --- The management controller reads every endpoint of the journey ---------------
    reader = api["controleur"]
    receipts = list(Receipt.objects.order_by("pk"))
    for url in (
        f"{API}/suppliers/",
        f"{API}/suppliers/{supplier.pk}/",
        requests_url(),
        requests_url(request_id),
        f"{API}/commitments/",
        f"{API}/commitments/{commitment.pk}/",
        f"{API}/purchase-orders/",
        f"{API}/purchase-orders/{order_id}/",
        f"{API}/receipts/",
        *(f"{API}/receipts/{receipt.pk}/" for receipt in receipts),
        f"{API}/invoices/",
        f"{API}/invoices/?tab=to_liquidate",
        f"{API}/invoices/?tab=late",
        f"{API}/invoices/{invoice.pk}/",
        f"{API}/budget-lines/{line_a.pk}/",
    ):
        ok(reader.get(url))
    assert ok(reader.get(f"{API}/invoices/{invoice.pk}/"))["amount_ht"] == 970_000
    assert ok(reader.get(f"{API}/commitments/{commitment.pk}/"))["released"] == 25_000
    assert [item["id"] for item in ok(reader.get(requests_url()))["results"]] == [request_id]
    pdf = reader.get(f"{API}/purchase-orders/{order_id}/pdf/")
    assert pdf.status_code == 200 and xpf(1_186_950) in pdf_text(pdf.content)
    # ... and can change nothing, whatever the endpoint.
    for url, body in (
        (f"{API}/suppliers/", supplier_body | {"ridet": "7654321.001"}),
        (f"{API}/suppliers/{supplier.pk}/deactivate/", {}),
        (requests_url(), request_body(supplier.pk, "Essai", [(line_a, "x", "1", 1, "22")])),
        (requests_url(request_id, "cancel"), {"reason": "Essai"}),
        (f"{API}/commitments/", {}),
        (close_url, {"reason": "Essai"}),
        (f"{API}/purchase-orders/", order_body),
        (f"{API}/purchase-orders/{order_id}/cancel/", {"reason": "Essai"}),
        (f"{API}/receipts/", receipt_body),
        (f"{API}/receipts/{receipts[0].pk}/cancel/", {"reason": "Essai"}),
        (f"{API}/invoices/", invoice_body | {"supplier_number": "FC-AUTRE"}),
        (f"{API}/invoices/{invoice.pk}/cancel/", {"reason": "Essai"}),
        (f"{API}/invoices/{invoice.pk}/payment/", {"payment_date": today().isoformat()}),
    ):
        refused(api, ["controleur"], url, body)
    for url, body in (
        (f"{API}/suppliers/{supplier.pk}/", {"name": "Autre nom"}),
        (requests_url(request_id), {"subject": "Autre objet"}),
    ):
        before = snapshot()
        response = reader.patch(url, body, format="json")
        assert response.status_code == 403 and snapshot() == before
    # Anonymous callers are asked to authenticate.
    assert APIClient().get(requests_url()).status_code == 401

    assert_ledger_clean()


# ---------------------------------------------------------------------------
# A recurring contract, a cancellation, the threshold and a short line


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


def test_a_recurring_contracts_commitment_sent_twice_takes_its_credits_once(lines, api, supplier):
    line_b = lines["b"]
    start = figures(line_b)
    body = {
        "supplier": supplier.pk,
        "subject": "Maintenance de l’autocommutateur 2026",
        "period_start": f"{line_b.fiscal_year.year}-01-01",
        "period_end": f"{line_b.fiscal_year.year}-12-31",
        "lines": [{"budget_line": line_b.pk, "description": "Forfait annuel", "amount": 1_200_000}],
    }
    refused(api, others("chef"), f"{API}/commitments/", body)
    created = create_once(
        api["chef"], f"{API}/commitments/", body, key="ej-autocom-2026", model=Commitment
    )
    commitment = Commitment.objects.get(pk=created["id"])
    assert created["kind"] == Commitment.Kind.RECURRING and created["amount"] == 1_200_000
    assert figures(line_b) == moved(start, committed=1_200_000, available=-1_200_000)
    assert entries(commitment) == [("commit", line_b.pk, 1_200_000, "")]
    assert_ledger_clean()


def test_a_request_cancelled_after_approval_gives_its_credits_back_exactly_through_the_api(
    lines, api, supplier
):
    line_a = lines["a"]
    start = figures(line_a)
    request = submitted_request(
        api,
        supplier,
        "Sauvegarde des postes",
        [(line_a, "Licences de sauvegarde", "4", 120_000, "22")],
    )
    body = ok(api["chef"].post(requests_url(request["id"], "approve"), format="json"))
    commitment = Commitment.objects.get(pk=body["commitment"]["id"])
    assert figures(line_a) == moved(start, committed=480_000, available=-480_000)

    cancel_url = requests_url(request["id"], "cancel")
    refused(api, ["comptable", "controleur"], cancel_url, {"reason": "Projet reporté"})
    # The buyer may cancel requests, but not one holding credits: 403 with the reason.
    before = snapshot()
    response = api["acheteur"].post(cancel_url, {"reason": "Projet reporté"}, format="json")
    assert response.status_code == 403 and snapshot() == before
    assert norm(response.json()["detail"]) == tr(
        "The request %(number)s holds credits: only the section head or the IT director may "
        "cancel it.",
        number=request["number"],
    )

    body = ok(api["chef"].post(cancel_url, {"reason": "Projet reporté"}, format="json"))
    assert body["state"] == RequestState.CANCELLED
    assert body["cancel_reason"] == "Projet reporté"
    commitment.refresh_from_db()
    assert commitment.state == Commitment.State.CANCELLED and commitment.released == 480_000
    assert figures(line_a) == start
    assert entries(commitment) == [
        ("commit", line_a.pk, 480_000, ""),
        ("release", line_a.pk, -480_000, "Projet reporté"),
    ]
    assert_ledger_clean()


def test_a_request_above_the_threshold_is_approved_by_the_it_director_only_through_the_api(
    lines, api, supplier
):
    line_a = lines["a"]
    start = figures(line_a)
    request = submitted_request(
        api,
        supplier,
        "Renouvellement du cœur de réseau",
        [(line_a, "Serveurs lames", "2", 3_000_000, "22")],
    )
    assert request["amount_ht"] == 6_000_000 > settings.PROCUREMENT_APPROVAL_THRESHOLD
    assert request["over_threshold"] is True
    approve_url = requests_url(request["id"], "approve")
    before = snapshot()
    response = api["chef"].post(approve_url, {}, format="json")
    assert response.status_code == 403 and snapshot() == before
    assert norm(response.json()["detail"]) == tr(
        "The request %(number)s amounts to %(amount)s before tax, above %(threshold)s: "
        "only the IT director may approve it.",
        number=request["number"],
        amount=format_xpf(6_000_000),
        threshold=format_xpf(5_000_000),
    )
    assert figures(line_a) == start

    body = ok(api["directeur"].post(approve_url, {}, format="json"))
    assert body["state"] == RequestState.APPROVED and body["decided_by"] == "directeur"
    commitment = Commitment.objects.get(pk=body["commitment"]["id"])
    assert figures(line_a) == moved(start, committed=6_000_000, available=-6_000_000)
    assert entries(commitment) == [("commit", line_a.pk, 6_000_000, "")]
    assert_ledger_clean()


def test_a_short_line_is_approved_only_by_the_it_director_with_a_reason_through_the_api(
    lines, api, supplier
):
    line_c = lines["c"]
    start = figures(line_c)
    request = submitted_request(
        api,
        supplier,
        "Liaison du site de Koné",
        [(line_c, "Liaison fibre du site de Koné", "1", 800_000, "22")],
    )
    approve_url = requests_url(request["id"], "approve")
    before = snapshot()
    response = api["chef"].post(approve_url, {}, format="json")
    assert response.status_code == 400 and snapshot() == before
    refusal = response.json()
    assert refusal["code"] == "credits_short" and refusal["can_override"] is False
    assert norm(refusal["detail"]) == (
        shortage_message(line_c, 800_000, 500_000)
        + " "
        + french(
            "Transmit the request to the IT director, propose a transfer to its line, "
            "or send it back to the buyer."
        )
    )
    # The section head's reason changes nothing: only the IT director overrides.
    response = api["chef"].post(approve_url, {"override_reason": "Urgent"}, format="json")
    assert response.status_code == 400 and snapshot() == before

    response = api["directeur"].post(approve_url, {}, format="json")
    assert response.status_code == 400 and snapshot() == before
    refusal = response.json()
    assert refusal["can_override"] is True
    assert refusal["shortages"] == [
        {"scope": tr("line %(code)s", code=line_c.code), "requested": 800_000, "available": 500_000}
    ]

    reason = "Liaison vitale pour le site de Koné ; virement prévu en DM1"
    body = ok(api["directeur"].post(approve_url, {"override_reason": reason}, format="json"))
    assert body["state"] == RequestState.APPROVED
    assert body["decision_reason"] == reason
    commitment = Commitment.objects.get(pk=body["commitment"]["id"])
    assert figures(line_c) == moved(start, committed=800_000, available=-800_000)
    assert figures(line_c)["available"] == -300_000
    assert entries(commitment) == [("override", line_c.pk, 800_000, reason)]
    assert_ledger_clean()


def test_a_liquidation_above_the_threshold_waits_for_the_section_heads_validation_api(
    lines, api, supplier
):
    line_a = lines["a"]
    request = submitted_request(
        api, supplier, "Pare-feux", [(line_a, "Pare-feu de cœur de réseau", "2", 750_000, "22")]
    )
    body = ok(api["chef"].post(requests_url(request["id"], "approve"), format="json"))
    commitment_id = body["commitment"]["id"]
    order = ok(
        api["acheteur"].post(
            f"{API}/purchase-orders/", {"commitment": commitment_id}, format="json"
        ),
        201,
    )
    assert order["amount_ht"] == 1_500_000
    (line,) = ok(api["acheteur"].get(f"{API}/commitments/{commitment_id}/"))["lines"]
    ok(
        api["acheteur"].post(
            f"{API}/receipts/",
            {
                "commitment": commitment_id,
                "received_on": today().isoformat(),
                "lines": [{"commitment_line": line["id"], "quantity": "2"}],
            },
            format="json",
        ),
        201,
    )
    approved = figures(line_a)
    invoice = ok(
        api["comptable"].post(
            f"{API}/invoices/",
            {
                "supplier": supplier.pk,
                "supplier_number": "PF-77",
                "invoice_date": today().isoformat(),
                "received_on": today().isoformat(),
                "commitment": commitment_id,
                "lines": [
                    {
                        "commitment_line": line["id"],
                        "quantity": "2",
                        "amount_ht": "1500000",
                        "tax_rate": "22",
                    }
                ],
            },
            format="json",
        ),
        201,
    )
    body = ok(api["comptable"].post(f"{API}/invoices/{invoice['id']}/liquidate/", format="json"))
    assert body["state"] == Invoice.State.TO_VALIDATE
    assert figures(line_a) == approved  # nothing posted yet

    validate_url = f"{API}/invoices/{invoice['id']}/validate/"
    refused(api, others("chef"), validate_url)
    body = ok(api["chef"].post(validate_url, {}, format="json"))
    assert body["state"] == Invoice.State.LIQUIDATED and body["validated_by"] == "chef"
    assert figures(line_a) == moved(approved, liquidated=1_500_000)
    assert entries(Invoice.objects.get(pk=invoice["id"])) == [
        ("liquidate", line_a.pk, 1_500_000, "")
    ]
    assert ok(api["acheteur"].get(requests_url(request["id"])))["state"] == RequestState.INVOICED
    assert_ledger_clean()


def test_a_direct_invoice_commits_and_liquidates_at_once_and_its_cancellation_gives_all_back_api(
    lines, api, supplier
):
    line_b = lines["b"]
    start = figures(line_b)
    invoice = ok(
        api["comptable"].post(
            f"{API}/invoices/",
            {
                "supplier": supplier.pk,
                "supplier_number": "ABO-2026-11",
                "invoice_date": today().isoformat(),
                "received_on": today().isoformat(),
                "lines": [
                    {
                        "budget_line": line_b.pk,
                        "description": "Abonnement de supervision, novembre",
                        "amount_ht": "85000",
                        "tax_rate": "22",
                    }
                ],
            },
            format="json",
        ),
        201,
    )
    assert invoice["commitment"] is None and figures(line_b) == start

    body = ok(api["comptable"].post(f"{API}/invoices/{invoice['id']}/liquidate/", format="json"))
    assert body["state"] == Invoice.State.LIQUIDATED
    commitment = Commitment.objects.get(pk=body["commitment"])
    assert commitment.kind == Commitment.Kind.DIRECT and commitment.amount == 85_000
    assert figures(line_b) == moved(start, committed=85_000, liquidated=85_000, available=-85_000)
    assert entries(commitment) == [("commit", line_b.pk, 85_000, "")]

    cancel_url = f"{API}/invoices/{invoice['id']}/cancel/"
    refused(api, others("comptable"), cancel_url, {"reason": "Facturé deux fois"})
    body = ok(api["comptable"].post(cancel_url, {"reason": "Facturé deux fois"}, format="json"))
    assert body["state"] == Invoice.State.CANCELLED
    commitment.refresh_from_db()
    assert commitment.state == Commitment.State.CANCELLED
    assert figures(line_b) == start
    assert entries(Invoice.objects.get(pk=invoice["id"])) == [
        ("liquidate", line_b.pk, 85_000, ""),
        ("unliquidate", line_b.pk, -85_000, "Facturé deux fois"),
    ]
    assert_ledger_clean()
