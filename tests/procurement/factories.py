"""Procurement factories. Documents beyond suppliers are made through the real
services (requests, approvals, invoices…), so that tests see real ledger entries.

Helpers: append new factories at the end, never change an existing one.
"""

from datetime import date
from decimal import Decimal

import factory

from tests.factories import BudgetLineFactory, fund

TGC_START = date(2018, 10, 1)
TGC_RATES = {
    "22": "Taux supérieur",
    "11": "Taux normal",
    "6": "Taux réduit spécifique",
    "3": "Taux réduit",
    "0": "Exonéré",
}


def tax_rate(percent="22"):
    """The TGC rate of that percentage (the migration's reference data; re-created after
    a transactional test flushed it)."""
    from procurement.models import TaxRate

    rate, _created = TaxRate.objects.get_or_create(
        rate=Decimal(str(percent)),
        valid_from=TGC_START,
        defaults={"label": TGC_RATES.get(str(percent), f"{percent} %")},
    )
    return rate


def ensure_tax_rates():
    """All the reference TGC rates (transactional tests flush the migration's rows)."""
    return {percent: tax_rate(percent) for percent in TGC_RATES}


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "procurement.Supplier"

    name = factory.Sequence(lambda n: f"Fournisseur {n} SARL")
    ridet = factory.Sequence(lambda n: f"{1000000 + n:07d}.001")
    address = "12 rue de Sébastopol\n98800 Nouméa"
    contact_name = "Marie Wamytan"
    email = factory.Sequence(lambda n: f"contact{n}@fournisseur.nc")
    phone = "+687 27 00 00"
    payment_terms_days = 30
    bank_name = "BCI"
    bank_account = "17499 00010 12345678901 02"


def funded_line(amount: int = 10_000_000, **kwargs):
    """A budget line of the (open) 2026 year with `amount` voted on it (a DM1 if the
    BP of the year is already voted)."""
    from budgets.models import BudgetRevision

    line = BudgetLineFactory(**kwargs)
    voted = set(
        BudgetRevision.objects.filter(fiscal_year=line.fiscal_year, state="voted").values_list(
            "kind", flat=True
        )
    )
    kind = next((k for k in ("BP", "DM1", "DM2") if k not in voted), None)
    if kind is None:
        raise RuntimeError("BP, DM1 and DM2 are voted: fund the lines in one call instead.")
    fund({line: amount}, kind=kind)
    return line


# --- Purchase requests (helper "requests") -----------------------------------


def request_line(budget_line=None, quantity="1", unit_price=100_000, tax_rate="22", **extra):
    """One line of a purchase request, in the shape the services take."""
    line = {
        "description": extra.pop("description", "Prestation de test"),
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": tax_rate,
        "budget_line": budget_line,
    }
    line.update(extra)
    return line


def purchase_request(*, user, lines, supplier=None, subject="Achat de test", submit=False):
    """A purchase request entered by `user` (a buyer) through the real services, and
    submitted when `submit`; `lines` are request_line() dicts."""
    from procurement.services.requests import purchase_request_create, purchase_request_submit

    ensure_tax_rates()
    request = purchase_request_create(
        user=user,
        supplier=supplier or SupplierFactory(),
        subject=subject,
        justification="",
        lines=lines,
    )
    if submit:
        request = purchase_request_submit(user=user, request=request)
    return request


def approved_request(*, buyer, approver, lines, supplier=None, override_reason=""):
    """A request entered and submitted by `buyer`, approved by `approver`: its
    commitment (credits taken through the real services)."""
    from procurement.services.requests import purchase_request_approve

    request = purchase_request(user=buyer, lines=lines, supplier=supplier, submit=True)
    return purchase_request_approve(user=approver, request=request, override_reason=override_reason)


# --- Invoices (helper "invoices") ----------------------------------------------


def invoice_commitment(user, lines, *, supplier=None, kind="request", received=True):
    """A commitment opened through procurement.services.commitments.commitment_create (its
    credits taken by the real budgets services), independent of the request services.

    `lines`: (budget_line, amount, quantity or None) tuples; a quantity makes the line
    ordered goods (unit price = amount / quantity). `received`: the ordered quantities
    are recorded as received (as a receipt would), so that they may be invoiced.
    """
    from decimal import Decimal

    from django.db import transaction

    from procurement.models import CommitmentLine
    from procurement.services.commitments import LineSpec, commitment_create

    rates = ensure_tax_rates()
    specs = []
    for position, (budget_line, amount, quantity) in enumerate(lines, start=1):
        quantity = Decimal(str(quantity)) if quantity is not None else None
        specs.append(
            LineSpec(
                budget_line=budget_line,
                description=f"Ligne engagée {position}",
                amount=amount,
                quantity=quantity,
                unit_price=int(amount / quantity) if quantity else None,
                tax_rate=rates["22"],
            )
        )
    with transaction.atomic():
        commitment = commitment_create(
            user=user,
            kind=kind,
            supplier=supplier or SupplierFactory(),
            subject="Engagement de test",
            lines=specs,
        )
    if received:
        for line in CommitmentLine.objects.filter(commitment=commitment, quantity__isnull=False):
            CommitmentLine.objects.filter(pk=line.pk).update(received_quantity=line.quantity)
    commitment.refresh_from_db()
    return commitment


def invoice_line(commitment_line=None, amount_ht="100000", tax_rate="22", **extra):
    """One line of an invoice, in the shape procurement.services.invoices takes:
    matched to `commitment_line`, or direct with `budget_line=...`."""
    line = {
        "description": extra.pop("description", "Ligne facturée"),
        "amount_ht": amount_ht,
        "tax_rate": tax_rate,
        "commitment_line": commitment_line,
    }
    line.update(extra)
    return line


# --- Commitments, orders and receipts (helper "orders") -----------------------


def ordered_goods(budget_line, quantity="1", unit_price=100_000, tax_rate="22", description=None):
    """One goods line of an approved request: (budget_line, quantity, unit price, TGC %)."""
    return {
        "budget_line": budget_line,
        "quantity": Decimal(str(quantity)),
        "unit_price": unit_price,
        "tax_rate": str(tax_rate),
        "description": description,
    }


def request_commitment(user, lines, *, supplier=None, subject="Serveurs de la salle B"):
    """An approved purchase request (rows written with the ORM, state approved) and its
    commitment opened by commitment_create (credits taken through the real budgets
    services), independent of the request services. `lines`: ordered_goods() dicts."""
    from django.db import transaction

    from procurement.models import PurchaseRequest, PurchaseRequestLine
    from procurement.services.commitments import LineSpec, commitment_create
    from procurement.services.common import document_totals, line_amount, next_number

    rates = ensure_tax_rates()
    supplier = supplier or SupplierFactory()
    year = lines[0]["budget_line"].fiscal_year
    with transaction.atomic():
        amounts = [line_amount(line["quantity"], line["unit_price"]) for line in lines]
        totals = document_totals(
            (amount, rates[line["tax_rate"]].rate)
            for amount, line in zip(amounts, lines, strict=True)
        )
        request = PurchaseRequest.objects.create(
            fiscal_year=year,
            number=next_number("DA", year.year),
            supplier=supplier,
            subject=subject,
            state=PurchaseRequest.State.APPROVED,
            amount_ht=totals.ht,
            amount_tax=totals.tax,
            amount_ttc=totals.ttc,
            requested_by=user,
            decided_by=user,
        )
        specs = []
        for position, (line, amount) in enumerate(zip(lines, amounts, strict=True), start=1):
            description = line["description"] or f"Article {position}"
            request_line = PurchaseRequestLine.objects.create(
                request=request,
                position=position,
                description=description,
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                tax_rate=rates[line["tax_rate"]],
                budget_line=line["budget_line"],
                amount_ht=amount,
            )
            specs.append(
                LineSpec(
                    budget_line=line["budget_line"],
                    description=description,
                    amount=amount,
                    quantity=line["quantity"],
                    unit_price=line["unit_price"],
                    tax_rate=rates[line["tax_rate"]],
                    request_line_id=request_line.pk,
                )
            )
        commitment = commitment_create(
            user=user,
            kind="request",
            supplier=supplier,
            subject=subject,
            lines=specs,
            purchase_request=request,
        )
    return commitment
