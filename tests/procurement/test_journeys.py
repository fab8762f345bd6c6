"""End-to-end journeys through the screens, as the people of DESIGN.md live them.

Only the pages are used: each step opens the page a person would open, reads the
form it shows (its fields, their current values, the hidden `form_token`, the
CSRF token, the formset's management fields, the options of each select) and
posts it back with what the person types, as a browser does; htmx calls are made
with the values the page would send. After each step the figures of the budget
lines (budgets.selectors.line_availability) and the ledger entries are checked
to the franc, together with what the pages show (state badges, amounts and
data-testid values). Along the way, the roles that may not act are refused (403,
nothing changed), and the management controller reads every page and can change
nothing. Each journey ends with `check_ledger` clean.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from dsi_finance.idempotency import FORM_TOKEN_FIELD
from dsi_finance.money import format_xpf
from procurement.models import (
    Commitment,
    Invoice,
    PurchaseOrder,
    PurchaseRequest,
    Receipt,
    Supplier,
    TaxRate,
)
from tests.pages import Browser, Page, french, parse_html, pdf_text, tr, xpf
from tests.procurement.factories import SupplierFactory, ensure_tax_rates
from tests.procurement.journeys_harness import (
    assert_ledger_clean,
    assert_recorded_once,
    budget_lines,
    entries,
    entry_kinds,
    figures,
    moved,
    shortage_message,
    shown_figures,
    snapshot,
    today,
)

pytestmark = pytest.mark.django_db

RequestState = PurchaseRequest.State


# The harness (reading pages, posting forms, the figures checked to the franc) is in
# tests/pages.py and tests/procurement/journeys_harness.py, shared with the API journeys.


# ---------------------------------------------------------------------------
# The cast at work


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def lines():
    return budget_lines()


@pytest.fixture
def people(chef, acheteur, comptable, directeur, controleur) -> dict:
    """Each member of the cast at their own browser."""
    return {
        name: Browser(user)
        for name, user in {
            "chef": chef,
            "acheteur": acheteur,
            "comptable": comptable,
            "directeur": directeur,
            "controleur": controleur,
        }.items()
    }


@pytest.fixture
def intruders(chef, acheteur, comptable, directeur, controleur) -> dict:
    """The same people typing a URL or replaying a post by hand (no CSRF in the way:
    a 403 then comes from their role, never from a missing token)."""
    clients = {}
    for user in (chef, acheteur, comptable, directeur, controleur):
        client = Client()
        client.force_login(user)
        clients[user.username] = client
    return clients


def refused(intruders: dict, names: list[str], url: str, data: dict | None = None) -> None:
    """Each of these people posting to `url` gets 403, and nothing changes."""
    for name in names:
        before = snapshot()
        response = intruders[name].post(url, data or {})
        assert response.status_code == 403, (name, url, response.status_code)
        assert snapshot() == before, (name, url)


def request_url(name: str, obj) -> str:
    return reverse(f"procurement:{name}", args=[obj.pk])


def enter_request(buyer: Browser, supplier: Supplier, rows: list[dict], *, subject: str):
    """The buyer opens the list, clicks "New request", types the lines (adding rows as
    needed) and saves the draft: (the request, its page)."""
    listing = buyer.open(reverse("procurement:request-list"))
    page = buyer.open(listing.link("new-request"))
    form = page.form("request-form")
    assert form.fields[FORM_TOKEN_FIELD]
    form.fill({"supplier": supplier.pk, "subject": subject, "justification": "Plan 2026"})
    for index, row in enumerate(rows):
        if index:
            assert form.add_row("request-line-template", "lines") == index
        form.fill({f"lines-{index}-{name}": value for name, value in row.items()})
    detail = buyer.submit(form)
    purchase_request = PurchaseRequest.objects.get(subject=subject)
    assert detail.url == purchase_request.get_absolute_url()
    assert detail.state == RequestState.DRAFT
    return purchase_request, detail


def submit_request(buyer: Browser, purchase_request) -> Page:
    page = buyer.open(purchase_request.get_absolute_url())
    page = buyer.submit(page.form(button="submit"))
    assert page.state == RequestState.SUBMITTED
    return page


def rate_pk(percent: str) -> str:
    return str(TaxRate.objects.get(rate=percent, valid_until__isnull=True).pk)


def row(line, description, quantity, unit_price, rate) -> dict:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": rate_pk(rate),
        "budget_line": line.pk,
    }


# ---------------------------------------------------------------------------
# The journey of a purchase, from the supplier's file to the commitment's closing


def test_a_purchase_goes_from_entry_to_closing_through_the_screens_with_exact_figures(
    lines, people, intruders, settings
):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # the order form is built
    buyer, head, assistant = people["acheteur"], people["chef"], people["comptable"]
    line_a, line_b = lines["a"], lines["b"]
    start_a, start_b = figures(line_a), figures(line_b)
    assert start_a["available"] == 10_000_000 and start_b["available"] == 2_000_000

    # --- The buyer keeps the supplier file: a new supplier --------------------------
    suppliers = buyer.open(reverse("procurement:supplier-list"))
    page = buyer.open(suppliers.link("create-link"))
    form = page.form("supplier-form").fill(
        {
            "name": "Calédonie Informatique SARL",
            "ridet": "1234567.001",
            "address": "15 avenue du Maréchal Foch\n98800 Nouméa",
            "contact_name": "Marie Wamytan",
            "email": "contact@caledonie-informatique.nc",
            "payment_terms_days": "30",
        }
    )
    refused(intruders, ["chef", "comptable", "directeur", "controleur"], form.action(), form.fields)
    page = buyer.submit(form)
    supplier = Supplier.objects.get(ridet="1234567.001")
    assert page.url == supplier.get_absolute_url()
    assert_recorded_once(buyer, form, supplier)

    # --- The buyer enters a request with two lines on two budget lines ---------------
    listing = buyer.open(reverse("procurement:request-list"))
    page = buyer.open(listing.link("new-request"))
    form = page.form("request-form")
    form.fill(
        {
            "supplier": supplier.pk,
            "subject": "Baie de stockage de la salle B",
            "justification": "Fin de garantie de la baie actuelle",
        }
    )
    form.fill(
        {
            f"lines-0-{k}": v
            for k, v in row(line_a, "Tiroir de disques", "3", "250 000", "22").items()
        }
    )
    assert form.add_row("request-line-template", "lines") == 1
    form.fill(
        {
            f"lines-1-{k}": v
            for k, v in row(line_b, "Jours d’intégration", "2,5", "98 000", "11").items()
        }
    )
    # While typing, htmx shows each row's amount and its budget line's available amount.
    lines_region = page.testid("request-lines")
    live = buyer.htmx(
        lines_region.get("hx-get"),
        {name: value for name, value in form.fields.items() if name.startswith("lines-")},
    )
    first = live.find(id="availability-lines-0")
    assert first.testid("row-amount").text == xpf(750_000)
    assert first.find(data_figure="available").text == xpf(10_000_000)
    assert first.has(data_testid="row-fits")
    second = live.find(id="availability-lines-1")
    assert second.testid("row-amount").text == xpf(245_000)
    assert second.find(data_figure="available").text == xpf(2_000_000)
    totals = live.find(id="request-totals")
    assert totals.testid("amount-ht").text == xpf(995_000)
    assert totals.testid("amount-tax").text == xpf(191_950)
    assert totals.testid("amount-ttc").text == xpf(1_186_950)

    refused(intruders, ["chef", "comptable", "directeur", "controleur"], form.action(), form.fields)
    page = buyer.submit(form)
    purchase_request = PurchaseRequest.objects.get()
    assert page.url == purchase_request.get_absolute_url()
    assert page.state == RequestState.DRAFT
    assert page.text("amount-ht") == xpf(995_000)
    assert page.text("amount-ttc") == xpf(1_186_950)
    assert [cell.text for cell in page.root.find_all(data_testid="line-amount")] == [
        xpf(750_000),
        xpf(245_000),
    ]
    assert_recorded_once(buyer, form, purchase_request)
    assert figures(line_a) == start_a and figures(line_b) == start_b  # a draft takes nothing

    # --- Submitted ----------------------------------------------------------------
    submit_form = page.form(button="submit")
    refused(intruders, ["chef", "comptable", "directeur", "controleur"], submit_form.action(), {})
    page = buyer.submit(submit_form)
    assert page.state == RequestState.SUBMITTED
    assert figures(line_a) == start_a and figures(line_b) == start_b

    # --- The section head approves: each line drops by exactly its share -------------
    page = head.open(purchase_request.get_absolute_url())
    decision = page.form("decision-form")
    assert [card.get("data-fits") for card in page.root.find_all(data_testid="budget-line")] == [
        "true",
        "true",
    ]
    refused(intruders, ["acheteur", "comptable", "controleur"], decision.action("approve"), {})
    refused(
        intruders,
        ["acheteur", "comptable", "controleur"],
        decision.action("reject"),
        {"reason": "Non"},
    )
    page = head.submit(decision, button="approve")
    purchase_request.refresh_from_db()
    commitment = Commitment.objects.get(purchase_request=purchase_request)
    assert purchase_request.state == RequestState.APPROVED == page.state
    after_approval_a = moved(start_a, committed=750_000, available=-750_000)
    after_approval_b = moved(start_b, committed=245_000, available=-245_000)
    assert figures(line_a) == after_approval_a
    assert figures(line_b) == after_approval_b
    assert sorted(entries(commitment)) == sorted(
        [("commit", line_a.pk, 750_000, ""), ("commit", line_b.pk, 245_000, "")]
    )
    assert commitment.amount == 995_000 and commitment.state == Commitment.State.OPEN
    assert (
        tr(
            "Request %(number)s approved: commitment %(commitment)s takes %(amount)s before tax.",
            number=purchase_request.number,
            commitment=commitment.number,
            amount=format_xpf(995_000),
        )
        in page.messages
    )
    assert commitment.number in page.text("commitment")
    assert entry_kinds(page) == ["commit", "commit"]
    # The budget lines' own pages agree.
    assert shown_figures(head, line_a) == after_approval_a
    assert shown_figures(head, line_b) == after_approval_b
    assert after_approval_a["available"] == 9_250_000

    # --- The buyer issues the order, downloads its PDF, marks it as sent -------------
    page = buyer.open(purchase_request.get_absolute_url())
    page = buyer.open(page.testid("commitment").find("a").get("href"))
    assert page.state == Commitment.State.OPEN
    assert page.text("amount") == xpf(995_000)
    assert page.text("remainder") == xpf(995_000)
    page = buyer.open(page.link("order-create"))
    form = page.form("order-form").fill(
        {
            "delivery_address": "DSI, salle B\n98800 Nouméa",
            "delivery_date": (today() + timedelta(days=21)).isoformat(),
            "notes": "Livraison sur rendez-vous",
        }
    )
    assert page.text("total-ttc") == xpf(1_186_950)
    refused(intruders, ["chef", "comptable", "directeur", "controleur"], form.action(), form.fields)
    page = buyer.submit(form)
    order = PurchaseOrder.objects.get(commitment=commitment)
    assert page.url == order.get_absolute_url()
    assert_recorded_once(buyer, form, order)
    assert order.number == f"BC-{line_a.fiscal_year.year}-00001"
    assert page.state == PurchaseOrder.State.ISSUED
    assert page.text("amount-ttc") == xpf(1_186_950)
    assert page.text("total-ht") == xpf(995_000)
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.ORDERED
    assert buyer.open(purchase_request.get_absolute_url()).state == RequestState.ORDERED
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    pdf = buyer.client.get(page.link("pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert order.number in text
    assert xpf(995_000) in text and xpf(1_186_950) in text

    send = page.form(button="mark-sent")
    refused(intruders, ["chef", "comptable", "directeur", "controleur"], send.action(), {})
    page = buyer.submit(send)
    assert page.state == PurchaseOrder.State.SENT

    # --- Receipts: partial, then the rest ----------------------------------------------
    line_1, line_2 = commitment.lines.order_by("position")
    page = buyer.open(page.link("receipt-create"))
    form = page.form("receipt-form").fill(
        {f"quantity_{line_1.pk}": "2", "received_on": today().isoformat()}
    )
    refused(intruders, ["chef", "comptable", "directeur", "controleur"], form.action(), form.fields)
    page = buyer.submit(form)
    first_receipt = Receipt.objects.get()
    assert page.url == first_receipt.get_absolute_url()
    assert_recorded_once(buyer, form, first_receipt)
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.PARTLY_RECEIVED
    assert buyer.open(purchase_request.get_absolute_url()).state == RequestState.PARTLY_RECEIVED

    page = buyer.open(order.get_absolute_url())
    page = buyer.open(page.link("receipt-create"))
    form = page.form("receipt-form")
    assert page.root.find("tr", data_line=line_1.pk).find(data_figure="left").text == "1"
    form.fill({f"quantity_{line_1.pk}": "1", f"quantity_{line_2.pk}": "2,5"})
    page = buyer.submit(form)
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.RECEIVED
    assert buyer.open(purchase_request.get_absolute_url()).state == RequestState.RECEIVED
    assert Receipt.objects.count() == 2
    # Receipts move no credits.
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    # --- The assistant enters the invoice matched to the commitment's lines -----------
    invoices = assistant.open(reverse("procurement:invoice-list"))
    page = assistant.open(invoices.link("enter-invoice"))
    form = page.form("invoice-form").fill(
        {
            "supplier": supplier.pk,
            "supplier_number": "FC-2026-0815",
            "invoice_date": today().isoformat(),
            "received_on": today().isoformat(),
        }
    )
    # Choosing the supplier, then the commitment, reloads the matching region (htmx).
    matching = page.testid("matching").find("select", name="commitment")
    region = assistant.htmx(
        matching.get("hx-get"),
        {"supplier": supplier.pk, "currency": "XPF", "exchange_rate": ""},
    )
    form.replace_region("invoice-matching", region)
    form.fill({"commitment": commitment.pk})
    region = assistant.htmx(
        matching.get("hx-get"),
        {
            "supplier": supplier.pk,
            "commitment": commitment.pk,
            "currency": "XPF",
            "exchange_rate": "",
        },
    )
    form.replace_region("invoice-matching", region)
    assert region.find("tr", data_line=line_1.pk).find(data_figure="received").text == "3"
    assert form.fields["lines-TOTAL_FORMS"] == "2"
    assert form.fields["lines-0-commitment_line"] == str(line_1.pk)
    assert form.fields["lines-1-commitment_line"] == str(line_2.pk)
    assert form.fields["lines-0-amount"] == "750000"
    # The supplier's total with tax, typed from the paper, controls the lines.
    form.fill({"lines-0-amount": "740 000", "lines-1-amount": "230 000", "total_ttc": "1 158 100"})
    refused(intruders, ["chef", "acheteur", "directeur", "controleur"], form.action(), form.fields)
    page = assistant.submit(form)
    invoice = Invoice.objects.get()
    assert page.url == invoice.get_absolute_url()
    assert_recorded_once(assistant, form, invoice)
    assert page.state == Invoice.State.ENTERED
    assert page.text("amount-ht") == xpf(970_000)
    assert page.text("amount-tax") == xpf(162_800 + 25_300)
    assert page.text("amount-ttc") == xpf(1_158_100)
    assert page.text("due-on").startswith((today() + timedelta(days=30)).strftime("%d/%m/%Y"))
    assert entries(invoice) == []  # nothing posted before liquidation
    assert figures(line_a) == after_approval_a and figures(line_b) == after_approval_b

    # --- ... and liquidates it: committed unchanged, liquidated up by its amount -------
    liquidate = page.form("liquidate-form")
    refused(intruders, ["chef", "acheteur", "directeur", "controleur"], liquidate.action(), {})
    page = assistant.submit(liquidate)
    invoice.refresh_from_db()
    assert page.state == Invoice.State.LIQUIDATED == invoice.state
    after_liquidation_a = moved(after_approval_a, liquidated=740_000)
    after_liquidation_b = moved(after_approval_b, liquidated=230_000)
    assert figures(line_a) == after_liquidation_a == shown_figures(assistant, line_a)
    assert figures(line_b) == after_liquidation_b == shown_figures(assistant, line_b)
    assert sorted(entries(invoice)) == sorted(
        [("liquidate", line_a.pk, 740_000, ""), ("liquidate", line_b.pk, 230_000, "")]
    )
    assert entry_kinds(page) == ["liquidate", "liquidate"]
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.INVOICED
    page = head.open(commitment.get_absolute_url())
    assert page.text("amount") == xpf(995_000)
    assert page.text("liquidated") == xpf(970_000)
    assert page.text("remainder") == xpf(25_000)

    # --- The section head closes the commitment: the remainder comes back -------------
    assert page.text("release-total") == xpf(25_000)
    close = page.form("close").fill({"reason": "Marché soldé, remise du fournisseur"})
    refused(
        intruders,
        ["acheteur", "comptable", "directeur", "controleur"],
        close.action(),
        close.fields,
    )
    page = head.submit(close)
    commitment.refresh_from_db()
    assert page.state == Commitment.State.CLOSED == commitment.state
    assert commitment.released == 25_000 and commitment.remainder == 0
    assert page.text("released") == xpf(25_000) and page.text("remainder") == xpf(0)
    assert entry_kinds(page) == ["commit", "commit", "release", "release"]
    assert figures(line_a) == moved(after_liquidation_a, committed=-10_000, available=10_000)
    assert figures(line_b) == moved(after_liquidation_b, committed=-15_000, available=15_000)
    assert sorted(entries(commitment)) == sorted(
        [
            ("commit", line_a.pk, 750_000, ""),
            ("commit", line_b.pk, 245_000, ""),
            ("release", line_a.pk, -10_000, "Marché soldé, remise du fournisseur"),
            ("release", line_b.pk, -15_000, "Marché soldé, remise du fournisseur"),
        ]
    )
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.CLOSED
    assert head.open(purchase_request.get_absolute_url()).state == RequestState.CLOSED
    assert shown_figures(head, line_a) == figures(line_a)
    assert shown_figures(head, line_b) == figures(line_b)
    # Over the whole journey: exactly what was invoiced is spent, the rest is available.
    assert figures(line_a) == moved(
        start_a, committed=740_000, liquidated=740_000, available=-740_000
    )
    assert figures(line_b) == moved(
        start_b, committed=230_000, liquidated=230_000, available=-230_000
    )

    # --- The management controller reads every page of the journey -------------------
    reader = people["controleur"]
    receipts = list(Receipt.objects.order_by("pk"))
    pages = [
        reverse("procurement:supplier-list"),
        supplier.get_absolute_url(),
        reverse("procurement:request-list"),
        reverse("procurement:request-list") + "?tab=all",
        purchase_request.get_absolute_url(),
        reverse("procurement:commitment-list"),
        commitment.get_absolute_url(),
        reverse("procurement:order-list"),
        order.get_absolute_url(),
        reverse("procurement:receipt-list"),
        *(receipt.get_absolute_url() for receipt in receipts),
        reverse("procurement:invoice-list"),
        reverse("procurement:invoice-list") + "?tab=to_liquidate",
        reverse("procurement:invoice-list") + "?tab=late",
        invoice.get_absolute_url(),
        line_a.get_absolute_url(),
        line_b.get_absolute_url(),
    ]
    for url in pages:
        page = reader.open(url)
        content = page.root.find("main", id="content")
        assert not content.find_all("form", method="post"), f"{url} offers the reader a change"
    assert purchase_request.number in reader.open(reverse("procurement:request-list")).root.text
    assert reader.open(invoice.get_absolute_url()).text("amount-ht") == xpf(970_000)
    assert reader.open(commitment.get_absolute_url()).text("released") == xpf(25_000)
    pdf = reader.client.get(reverse("procurement:order-pdf", args=[order.pk]))
    assert pdf.status_code == 200 and xpf(1_186_950) in pdf_text(pdf.content)
    # ... and every change of the journey is refused to the reader.
    refused(
        intruders,
        ["controleur"],
        reverse("procurement:receipt-cancel", args=[receipts[0].pk]),
        {"reason": "Essai"},
    )
    refused(
        intruders,
        ["controleur"],
        reverse("procurement:invoice-cancel", args=[invoice.pk]),
        {"reason": "Essai"},
    )
    refused(
        intruders,
        ["controleur"],
        reverse("procurement:order-cancel", args=[order.pk]),
        {"reason": "Essai"},
    )
    refused(
        intruders,
        ["controleur"],
        request_url("request-cancel", purchase_request),
        {"reason": "Essai"},
    )

    # Nobody else: an anonymous visitor is sent to the login page.
    response = Client().get(purchase_request.get_absolute_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    assert_ledger_clean()


# ---------------------------------------------------------------------------
# A cancellation after approval, a request above the threshold, a short line


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


def test_a_request_cancelled_after_approval_gives_its_credits_back_exactly(
    lines, people, intruders, supplier
):
    buyer, head = people["acheteur"], people["chef"]
    line_a = lines["a"]
    start = figures(line_a)
    purchase_request, _page = enter_request(
        buyer,
        supplier,
        [row(line_a, "Licences de sauvegarde", "4", "120 000", "22")],
        subject="Sauvegarde des postes",
    )
    submit_request(buyer, purchase_request)
    page = head.open(purchase_request.get_absolute_url())
    page = head.submit(page.form("decision-form"), button="approve")
    commitment = Commitment.objects.get(purchase_request=purchase_request)
    assert page.state == RequestState.APPROVED
    assert figures(line_a) == moved(start, committed=480_000, available=-480_000)
    assert entries(commitment) == [("commit", line_a.pk, 480_000, "")]

    cancel = page.form(button="cancel").fill({"reason": "Projet reporté à 2027"})
    refused(intruders, ["comptable", "controleur"], cancel.action(), cancel.fields)
    # The buyer may cancel a request, but not one that holds credits: a French refusal.
    before = snapshot()
    response = intruders["acheteur"].post(cancel.action(), cancel.fields)
    assert response.status_code == 302
    assert snapshot() == before
    page = Page(intruders["acheteur"].get(response["Location"]), response["Location"])
    assert (
        tr(
            "The request %(number)s holds credits: only the section head or the IT director may "
            "cancel it.",
            number=purchase_request.number,
        )
        in page.messages
    )
    assert not page.has("cancel")  # nor is the buyer offered the button

    page = head.submit(cancel)
    commitment.refresh_from_db()
    assert page.state == RequestState.CANCELLED
    assert page.text("cancel-reason") == "Projet reporté à 2027"
    assert commitment.state == Commitment.State.CANCELLED
    assert commitment.released == 480_000 and commitment.remainder == 0
    assert figures(line_a) == start
    assert entries(commitment) == [
        ("commit", line_a.pk, 480_000, ""),
        ("release", line_a.pk, -480_000, "Projet reporté à 2027"),
    ]
    page = head.open(commitment.get_absolute_url())
    assert page.state == Commitment.State.CANCELLED
    assert page.text("released") == xpf(480_000)
    assert entry_kinds(page) == ["commit", "release"]
    assert shown_figures(head, line_a) == start
    assert_ledger_clean()


def test_a_request_above_the_threshold_is_approved_by_the_it_director_only(
    lines, people, intruders, supplier, settings
):
    buyer, head, director = people["acheteur"], people["chef"], people["directeur"]
    line_a = lines["a"]
    start = figures(line_a)
    assert settings.PROCUREMENT_APPROVAL_THRESHOLD == 5_000_000
    purchase_request, page = enter_request(
        buyer,
        supplier,
        [row(line_a, "Serveurs lames", "2", "3 000 000", "22")],
        subject="Renouvellement du cœur de réseau",
    )
    assert page.has("over-threshold")
    submit_request(buyer, purchase_request)

    # The section head is told the IT director approves it, and is offered no approval.
    page = head.open(purchase_request.get_absolute_url())
    assert page.has("needs-director")
    assert not page.has("approve")
    assert page.has("reject")  # rejecting stays possible
    # Posted anyway (a URL typed by hand): refused in French, nothing taken.
    before = snapshot()
    response = intruders["chef"].post(request_url("request-approve", purchase_request), {})
    assert response.status_code == 302
    assert snapshot() == before
    page = Page(intruders["chef"].get(response["Location"]), response["Location"])
    assert page.state == RequestState.SUBMITTED
    assert (
        tr(
            "The request %(number)s amounts to %(amount)s before tax, above %(threshold)s: "
            "only the IT director may approve it.",
            number=purchase_request.number,
            amount=format_xpf(6_000_000),
            threshold=format_xpf(5_000_000),
        )
        in page.messages
    )
    assert figures(line_a) == start

    # The IT director approves it.
    page = director.open(purchase_request.get_absolute_url())
    assert not page.has("needs-director")
    page = director.submit(page.form("decision-form"), button="approve")
    commitment = Commitment.objects.get(purchase_request=purchase_request)
    assert page.state == RequestState.APPROVED
    assert figures(line_a) == moved(start, committed=6_000_000, available=-6_000_000)
    assert shown_figures(director, line_a) == figures(line_a)
    assert entries(commitment) == [("commit", line_a.pk, 6_000_000, "")]
    purchase_request.refresh_from_db()
    assert purchase_request.decided_by.username == "directeur"
    assert_ledger_clean()


def test_a_short_line_is_approved_only_by_the_it_director_with_a_written_reason(
    lines, people, supplier
):
    buyer, head, director = people["acheteur"], people["chef"], people["directeur"]
    line_c = lines["c"]
    start = figures(line_c)
    assert start["available"] == 500_000
    purchase_request, page = enter_request(
        buyer,
        supplier,
        [row(line_c, "Liaison fibre du site de Koné", "1", "800 000", "22")],
        subject="Liaison du site de Koné",
    )
    assert page.testid("budget-line").get("data-fits") == "false"
    assert page.text("short") == tr("Short by %(missing)s.", missing=format_xpf(300_000))
    page = submit_request(buyer, purchase_request)

    # The section head may not go over it: no approval offered, but what can succeed
    # (transmit to the IT director, propose a transfer, send back); he transmits it.
    page = head.open(purchase_request.get_absolute_url())
    assert not page.has("approve") and not page.has("override-help")
    assert page.has("propose-transfer") and page.has("send-back")
    before = snapshot()
    form = page.form("short-decision-form").fill({"reason": "Pas de virement possible"})
    page = head.submit(form, button="transmit")
    assert snapshot() == before
    assert page.state == RequestState.SUBMITTED
    assert page.messages == [
        tr(
            "Request %(number)s transmitted to the IT director: it waits on his home page.",
            number=purchase_request.number,
        )
    ]
    assert page.text("transmit-note") == "Pas de virement possible"

    # The IT director is asked for a written reason, then goes over it.
    page = director.open(purchase_request.get_absolute_url())
    response = director.post(page.form("decision-form"), button="approve")
    assert response.status_code == 302
    assert response["Location"].endswith("?override=1#approve")
    assert snapshot() == before
    page = director.open(response["Location"].split("#")[0])
    assert page.messages == [
        shortage_message(line_c, 800_000, 500_000)
        + " "
        + french("As IT director, you may override it with a written reason.")
    ]
    assert page.has("override-help")
    form = page.form("decision-form").fill(
        {"reason": "Liaison vitale pour le site de Koné ; virement prévu en DM1"}
    )
    page = director.submit(form, button="approve")
    commitment = Commitment.objects.get(purchase_request=purchase_request)
    assert page.state == RequestState.APPROVED
    assert page.text("decision-reason") == (
        "Liaison vitale pour le site de Koné ; virement prévu en DM1"
    )
    assert figures(line_c) == moved(start, committed=800_000, available=-800_000)
    assert figures(line_c)["available"] == -300_000 == shown_figures(director, line_c)["available"]
    assert entries(commitment) == [
        (
            "override",
            line_c.pk,
            800_000,
            "Liaison vitale pour le site de Koné ; virement prévu en DM1",
        )
    ]
    assert (
        page.testid("entries")
        .find("tr", data_kind="override")
        .testid("entry-reason")
        .text.endswith("virement prévu en DM1")
    )
    assert_ledger_clean()


def test_cancelling_an_ordered_request_says_who_cancelled_its_order_when_and_why(
    lines, people, supplier
):
    buyer, head = people["acheteur"], people["chef"]
    line_a = lines["a"]
    start = figures(line_a)
    purchase_request, _page = enter_request(
        buyer,
        supplier,
        [row(line_a, "Commutateurs d’étage", "2", "350 000", "22")],
        subject="Commutateurs du bâtiment C",
    )
    submit_request(buyer, purchase_request)
    page = head.open(purchase_request.get_absolute_url())
    head.submit(page.form("decision-form"), button="approve")
    commitment = Commitment.objects.get(purchase_request=purchase_request)
    page = buyer.open(commitment.get_absolute_url())
    page = buyer.submit(buyer.open(page.link("order-create")).form("order-form"))
    order = PurchaseOrder.objects.get(commitment=commitment)
    assert page.state == PurchaseOrder.State.ISSUED

    page = head.open(purchase_request.get_absolute_url())
    page = head.submit(page.form(button="cancel").fill({"reason": "Marché mutualisé"}))
    assert page.state == RequestState.CANCELLED
    assert figures(line_a) == start  # the credits came back
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.CANCELLED
    page = head.open(order.get_absolute_url())
    assert page.state == PurchaseOrder.State.CANCELLED
    assert (order.cancelled_by, order.cancel_reason) == (head.user, "Marché mutualisé")
    assert order.cancelled_at is not None
    assert page.text("cancel-reason") == "Marché mutualisé"


def approve(head: Browser, purchase_request) -> Commitment:
    page = head.open(purchase_request.get_absolute_url())
    page = head.submit(page.form("decision-form"), button="approve")
    assert page.state == RequestState.APPROVED
    return Commitment.objects.get(purchase_request=purchase_request)


def order_and_receive_all(buyer: Browser, commitment: Commitment) -> None:
    """The buyer issues the commitment's order and receives everything ordered."""
    page = buyer.open(commitment.get_absolute_url())
    page = buyer.submit(buyer.open(page.link("order-create")).form("order-form"))
    page = buyer.open(page.link("receipt-create"))
    form = page.form("receipt-form")
    form.fill(
        {
            f"quantity_{line.pk}": f"{line.quantity.normalize():f}".replace(".", ",")
            for line in commitment.lines.all()
        }
    )
    buyer.submit(form)


def test_a_liquidation_above_the_threshold_waits_for_the_section_heads_validation(
    lines, people, intruders, supplier, settings
):
    buyer, head, assistant = people["acheteur"], people["chef"], people["comptable"]
    line_a = lines["a"]
    assert settings.PROCUREMENT_LIQUIDATION_THRESHOLD == 1_000_000
    purchase_request, _page = enter_request(
        buyer,
        supplier,
        [row(line_a, "Pare-feu de cœur de réseau", "2", "750 000", "22")],
        subject="Pare-feux",
    )
    submit_request(buyer, purchase_request)
    commitment = approve(head, purchase_request)
    order_and_receive_all(buyer, commitment)
    approved = figures(line_a)

    page = assistant.open(reverse("procurement:invoice-create") + f"?commitment={commitment.pk}")
    form = page.form("invoice-form")
    assert form.fields["commitment"] == str(commitment.pk)
    assert form.fields["lines-0-amount"] == "1500000"
    form.fill(
        {
            "supplier_number": "PF-77",
            "total_ttc": "1 830 000",
            "invoice_date": today().isoformat(),
            "received_on": today().isoformat(),
        }
    )
    page = assistant.submit(form)
    invoice = Invoice.objects.get()
    page = assistant.submit(page.form("liquidate-form"))
    assert page.state == Invoice.State.TO_VALIDATE
    assert page.has("liquidated-by")
    assert not page.has("validate")  # the assistant does not validate
    assert entries(invoice) == [] and figures(line_a) == approved  # nothing posted yet

    page = head.open(invoice.get_absolute_url())
    validate = page.form("validate-form")
    refused(intruders, ["acheteur", "comptable", "directeur", "controleur"], validate.action(), {})
    page = head.submit(validate)
    assert page.state == Invoice.State.LIQUIDATED
    assert page.has("validated-by")
    assert figures(line_a) == moved(approved, liquidated=1_500_000)
    assert entries(invoice) == [("liquidate", line_a.pk, 1_500_000, "")]
    purchase_request.refresh_from_db()
    assert purchase_request.state == RequestState.INVOICED
    assert_ledger_clean()


def test_a_rejected_request_goes_back_to_the_buyer_with_the_reason_and_is_reworked(
    lines, people, supplier
):
    buyer, head = people["acheteur"], people["chef"]
    line_a = lines["a"]
    start = figures(line_a)
    purchase_request, _page = enter_request(
        buyer,
        supplier,
        [row(line_a, "Écrans 27 pouces", "10", "95 000", "22")],
        subject="Écrans du centre de services",
    )
    submit_request(buyer, purchase_request)

    # A rejection needs its reason: without one, a French refusal and nothing changes.
    page = head.open(purchase_request.get_absolute_url())
    before = snapshot()
    page = head.submit(page.form("decision-form"), button="reject")
    assert snapshot() == before and page.state == RequestState.SUBMITTED
    with translation.override("fr"):
        label = translation.gettext("The reason for the rejection")
    assert page.messages == [tr("%(label)s is required.", label=label)]
    form = page.form("decision-form").fill({"reason": "Prévoir des écrans de 24 pouces"})
    page = head.submit(form, button="reject")
    assert page.state == RequestState.REJECTED
    assert figures(line_a) == start

    # The buyer reads why, reopens the request, reworks it and submits it again.
    page = buyer.open(purchase_request.get_absolute_url())
    assert page.text("decision-reason") == "Prévoir des écrans de 24 pouces"
    page = buyer.submit(page.form(button="reopen"))
    assert page.state == RequestState.DRAFT
    page = buyer.open(page.link("edit"))
    form = page.form("request-form")
    assert form.fields["lines-INITIAL_FORMS"] == "1"
    assert form.fields["lines-0-unit_price"] == "95 000"  # shown grouped, as typed
    form.fill({"lines-0-description": "Écrans 24 pouces", "lines-0-unit_price": "62 000"})
    page = buyer.submit(form)
    assert page.text("amount-ht") == xpf(620_000)
    submit_request(buyer, purchase_request)
    commitment = approve(head, purchase_request)
    assert figures(line_a) == moved(start, committed=620_000, available=-620_000)
    assert entries(commitment) == [("commit", line_a.pk, 620_000, "")]

    # Once approved, the request can no longer be edited: refused in French, unchanged.
    before = snapshot()
    response = buyer.client.post(
        reverse("procurement:request-update", args=[purchase_request.pk]), form.fields
    )
    assert response.status_code == 302
    page = buyer.open(response["Location"])
    with translation.override("fr"):
        state = str(RequestState.APPROVED.label).lower()
    assert page.messages == [
        tr(
            "The request %(number)s is %(state)s: only a draft request can be edited.",
            number=purchase_request.number,
            state=state,
        )
    ]
    assert snapshot() == before
    assert PurchaseRequest.objects.get(pk=purchase_request.pk).amount_ht == 620_000
    assert_ledger_clean()


def test_a_direct_invoice_commits_and_liquidates_at_once_and_its_cancellation_gives_all_back(
    lines, people, intruders, supplier
):
    assistant = people["comptable"]
    line_b = lines["b"]
    start = figures(line_b)
    page = assistant.open(reverse("procurement:invoice-create"))
    form = page.form("invoice-form")
    assert form.fields["lines-TOTAL_FORMS"] == "1"  # one direct line to charge
    form.fill(
        {
            "supplier": supplier.pk,
            "supplier_number": "ABO-2026-11",
            "total_ttc": "103 700",
            "invoice_date": today().isoformat(),
            "received_on": today().isoformat(),
            "lines-0-budget_line": line_b.pk,
            "lines-0-description": "Abonnement de supervision, novembre",
            "lines-0-amount": "85 000",
            "lines-0-tax_rate": rate_pk("22"),
        }
    )
    page = assistant.submit(form)
    invoice = Invoice.objects.get()
    assert page.state == Invoice.State.ENTERED and invoice.commitment is None
    assert figures(line_b) == start  # entered: nothing taken yet

    page = assistant.submit(page.form("liquidate-form"))
    invoice.refresh_from_db()
    commitment = invoice.commitment
    assert page.state == Invoice.State.LIQUIDATED
    assert commitment.kind == Commitment.Kind.DIRECT and commitment.amount == 85_000
    assert figures(line_b) == moved(start, committed=85_000, liquidated=85_000, available=-85_000)
    assert entries(commitment) == [("commit", line_b.pk, 85_000, "")]
    assert entries(invoice) == [("liquidate", line_b.pk, 85_000, "")]

    cancel = page.form("cancel-form").fill({"reason": "Facturé deux fois par le fournisseur"})
    refused(
        intruders, ["chef", "acheteur", "directeur", "controleur"], cancel.action(), cancel.fields
    )
    page = assistant.submit(cancel)
    assert page.state == Invoice.State.CANCELLED
    commitment.refresh_from_db()
    assert commitment.state == Commitment.State.CANCELLED
    assert figures(line_b) == start
    assert entries(invoice) == [
        ("liquidate", line_b.pk, 85_000, ""),
        ("unliquidate", line_b.pk, -85_000, "Facturé deux fois par le fournisseur"),
    ]
    assert entries(commitment) == [
        ("commit", line_b.pk, 85_000, ""),
        ("release", line_b.pk, -85_000, "Facturé deux fois par le fournisseur"),
    ]
    assert_ledger_clean()


def test_every_link_of_a_journeys_pages_opens_for_whoever_is_shown_it(lines, people, supplier):
    from procurement.services.invoices import invoice_create
    from procurement.services.orders import purchase_order_create
    from procurement.services.receipts import receipt_create
    from tests.procurement.factories import approved_request, request_line

    cast = {name: browser.user for name, browser in people.items()}
    commitment = approved_request(
        buyer=cast["acheteur"],
        approver=cast["chef"],
        supplier=supplier,
        lines=[request_line(lines["a"], quantity="2", unit_price=100_000)],
    )
    (line,) = commitment.lines.all()
    order = purchase_order_create(user=cast["acheteur"], commitment=commitment)
    receipt = receipt_create(
        user=cast["acheteur"], commitment=commitment, received_on=today(), quantities={line: "2"}
    )
    invoice = invoice_create(
        user=cast["comptable"],
        supplier=supplier,
        supplier_number="F-1",
        invoice_date=today(),
        received_on=today(),
        commitment=commitment,
        lines=[{"commitment_line": line, "quantity": "2", "amount_ht": "200000", "tax_rate": "22"}],
    )
    documents = [
        commitment.purchase_request,
        commitment,
        order,
        receipt,
        invoice,
        supplier,
    ]
    dead = []
    for name, browser in people.items():
        for document in documents:
            response = browser.client.get(document.get_absolute_url())
            if response.status_code != 200:
                continue  # not this person's page: refused, and not linked from their menu
            content = parse_html(response.content.decode()).find("main", id="content")
            for link in content.find_all("a", href=True):
                href = link.get("href")
                if not href.startswith("/achats/") or "?" in href:
                    continue
                status = browser.client.get(href).status_code
                if status != 200:
                    dead.append((name, document.get_absolute_url(), href, status))
    assert dead == [], "\n".join(map(str, dead))
