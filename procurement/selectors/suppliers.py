"""Reading suppliers and the TGC rates for the screens, the API and the other forms.

Every role (procurement.access.SUPPLIERS) reads every supplier. Forms of new
documents offer `active_suppliers()` only; `tax_rates_in_force(on=…)` gives the
TGC rates a document dated that day may use.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Commitment, Invoice, PurchaseRequest, Supplier, TaxRate

RECENT = 5  # documents of each kind on a supplier's page


def suppliers(*, actor=None, search: str = "", active: bool | None = None) -> QuerySet:
    """Suppliers by name; `search` matches words of the name or the RIDET (spaces and
    the dot of a RIDET ignored), `active` True/False filters, None keeps all."""
    queryset = Supplier.objects.order_by("name", "pk")
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return search_suppliers(queryset, search)


def search_suppliers(queryset: QuerySet, text: str) -> QuerySet:
    """Each word in the name, or the RIDET as typed (`1234567`, `1 234 567.001`…)."""
    text = (text or "").strip()
    if not text:
        return queryset
    compact = "".join(text.split())
    digits = compact.replace(".", "").replace("-", "").replace("/", "")
    if digits.isdigit():
        ridet = digits[:7] + ("." + digits[7:] if len(digits) > 7 else "")
        return queryset.filter(Q(ridet__startswith=ridet) | Q(name__icontains=text))
    for word in text.split():
        queryset = queryset.filter(Q(name__icontains=word) | Q(ridet__icontains=word))
    return queryset


def active_suppliers(*, actor=None) -> QuerySet:
    """The suppliers a new request, commitment or invoice may name."""
    return Supplier.objects.filter(is_active=True).order_by("name", "pk")


@dataclass(frozen=True)
class SupplierFigures:
    requests: int  # purchase requests naming the supplier, cancelled ones included
    open_commitments: int  # open commitments
    open_remainder: int  # what they still hold: committed − liquidated − released (XPF)
    invoices_this_year: int  # live invoices dated this calendar year
    invoiced_this_year: int  # their amount with tax (XPF)
    paid_invoices: int  # liquidated invoices with a payment date
    average_payment_days: Decimal | None  # from receipt to payment, one decimal


def supplier_figures(
    *, actor=None, supplier: Supplier, today: date | None = None
) -> SupplierFigures:
    """The supplier's figures in three aggregate queries (requests, commitments, invoices)."""
    year = (today or timezone.localdate()).year
    requests = PurchaseRequest.objects.filter(supplier=supplier).order_by().count()
    commitments = (
        Commitment.objects.filter(supplier=supplier, state=Commitment.State.OPEN)
        .order_by()
        .aggregate(
            count=Count("pk"),
            remainder=Coalesce(Sum(F("amount") - F("liquidated") - F("released")), Value(0)),
        )
    )
    live = ~Q(state=Invoice.State.CANCELLED)
    this_year = live & Q(invoice_date__year=year)
    paid = Q(state=Invoice.State.LIQUIDATED, payment_date__isnull=False)
    invoices = (
        Invoice.objects.filter(supplier=supplier)
        .order_by()
        .aggregate(
            count=Count("pk", filter=this_year),
            amount=Coalesce(Sum("amount_ttc", filter=this_year), Value(0)),
            paid=Count("pk", filter=paid),
            delay=Avg(
                ExpressionWrapper(
                    F("payment_date") - F("received_on"), output_field=DurationField()
                ),
                filter=paid,
            ),
        )
    )
    delay = invoices["delay"]
    average = None
    if delay is not None:
        average = (Decimal(delay.total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))
    return SupplierFigures(
        requests=requests,
        open_commitments=commitments["count"],
        open_remainder=commitments["remainder"],
        invoices_this_year=invoices["count"],
        invoiced_this_year=invoices["amount"],
        paid_invoices=invoices["paid"],
        average_payment_days=average,
    )


@dataclass(frozen=True)
class SupplierDocuments:
    requests: list
    commitments: list
    invoices: list


def supplier_documents(*, actor=None, supplier: Supplier, limit: int = RECENT) -> SupplierDocuments:
    """The supplier's latest requests, commitments and invoices (one query each)."""
    return SupplierDocuments(
        requests=list(
            PurchaseRequest.objects.filter(supplier=supplier).order_by("-created_at", "-pk")[:limit]
        ),
        commitments=list(
            Commitment.objects.filter(supplier=supplier).order_by("-created_at", "-pk")[:limit]
        ),
        invoices=list(
            Invoice.objects.filter(supplier=supplier).order_by("-received_on", "-pk")[:limit]
        ),
    )


def bank_account_display(value: str) -> str:
    """A RIB as `17499 00010 12345678901 02`, an IBAN in groups of four."""
    compact = "".join((value or "").split()).upper()
    if not compact:
        return ""
    if compact[:2].isalpha():
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    if len(compact) == 23:
        return f"{compact[:5]} {compact[5:10]} {compact[10:21]} {compact[21:]}"
    return value


# ---------------------------------------------------------------------------
# TGC rates (reference data with validity dates)


def tax_rates(*, actor=None) -> QuerySet:
    """Every TGC rate, highest first, the latest period first."""
    return TaxRate.objects.order_by("-rate", "-valid_from")


def in_force_condition(on: date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def tax_rates_in_force(*, on: date | None = None) -> QuerySet:
    """The TGC rates in force on a date (today by default), highest first: the choices
    of the forms' TGC selects."""
    return TaxRate.objects.filter(in_force_condition(on or timezone.localdate())).order_by(
        "-rate", "-valid_from"
    )
