"""Invoices: the list (all, to liquidate, late for payment), the entry form that
matches the invoice to a commitment's lines (or charges a direct invoice to budget
lines), an invoice's page with its actions (liquidate, validate, cancel, payment
date), its ledger entries and history, and the import of payment dates.

Thin views: each finds the invoice, reads a form, calls one service of
procurement.services.invoices and redirects with a French message; whatever the
service refuses comes back as the form's error or a message, and changes nothing.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from budgets.selectors import document_entries
from budgets.services import CreditsShortError
from dsi_finance.errors import ServiceError
from dsi_finance.exports import XlsxExportMixin, export_filename
from dsi_finance.history import document_changes
from dsi_finance.home import HomeQueueListMixin
from dsi_finance.idempotency import once_from_form
from dsi_finance.money import format_xpf
from dsi_finance.roles import holds
from dsi_finance.tables import document_link
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin, render_line_availability

from .. import access
from ..exports import INVOICE_EXPORT
from ..filters.invoices import InvoiceFilter
from ..forms.invoices import (
    CURRENCIES,
    InvoiceForm,
    InvoiceLineFormSet,
    LiquidationForm,
    PaymentDateForm,
    PaymentImportForm,
    ReasonForm,
    tax_rates_in_force,
)
from ..models import Commitment, Invoice
from ..selectors import invoices as selectors
from ..services import invoices as services
from ..services import payments
from ..services.common import line_amount
from ..services.currency import XPF
from ..tables.invoices import InvoiceTable, days_late_text

CANCEL = ("enter_invoice", "liquidate_invoice", "validate_liquidation")
# The entry service's refusals (their code) that belong to a field of the header.
HEADER_ERROR_FIELDS = {
    "duplicate": "supplier_number",
    "supplier_number": "supplier_number",
    "total_ttc": "total_ttc",
}
PAYMENT = payments.PAYMENT_CAPABILITIES
TAB_LABELS = (
    ("all", pgettext_lazy("invoices tab", "All")),  # "Toutes" (les factures)
    ("to_liquidate", gettext_lazy("Awaiting liquidation")),
    ("late", gettext_lazy("Late for payment")),
)
EXPORT_NAMES = {
    "all": "achats-factures",
    "to_liquidate": "achats-factures-a-liquider",
    "late": "achats-factures-en-retard",
}


class InvoiceListView(
    CapabilityRequiredMixin,
    HomeQueueListMixin,
    XlsxExportMixin,
    HtmxTableMixin,
    SingleTableMixin,
    FilterView,
):
    """The invoices, in tabs. Paged without COUNT (LazyPaginator): a million invoices
    cost one query of one page."""

    queue_url_name = "procurement:invoice-list"
    capability = access.INVOICES
    template_name = "procurement/invoice_list.html"
    table_class = InvoiceTable
    filterset_class = InvoiceFilter
    paginator_class = LazyPaginator
    export_columns = INVOICE_EXPORT
    export_title = gettext_lazy("Invoices")

    @property
    def tab(self) -> str:
        tab = self.request.GET.get("tab", "all")
        return tab if tab in selectors.TABS else "all"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["tab"] = self.tab
        return kwargs

    def get_queryset(self):
        return selectors.invoice_list(actor=self.request.user, tab=self.tab)

    def get_export_filename(self):
        return export_filename(EXPORT_NAMES[self.tab])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        list_url = reverse("procurement:invoice-list")
        context.update(
            {
                "tab": self.tab,
                "tabs": [(key, str(label), f"{list_url}?tab={key}") for key, label in TAB_LABELS],
                "may_enter": holds(user, "enter_invoice"),
                "may_import": holds(user, PAYMENT),
            }
        )
        return context


# ---------------------------------------------------------------------------
# Entry


def _quantity_input(value: Decimal) -> str:
    """A quantity as typed back in a field: `1,5`."""
    return f"{Decimal(value).normalize():f}".replace(".", ",")


def _default_rate() -> int | None:
    """The TGC rate a new line starts with: the normal rate (setting, 11 % by default)."""
    rates = tax_rates_in_force()
    rate = (
        rates.filter(rate=Decimal(settings.PROCUREMENT_DEFAULT_TGC_RATE)).first() or rates.first()
    )
    return rate.pk if rate else None


def _initial_lines(commitment: Commitment | None, currency: str) -> list[dict]:
    """The rows the form starts with: one per commitment line still to invoice (what
    remains, and the quantity received and not yet invoiced), or one empty direct row."""
    default_rate = _default_rate()
    if commitment is None:
        return [{"tax_rate": default_rate}]
    rows = []
    for matchable in selectors.commitment_lines_to_invoice(commitment=commitment):
        line = matchable.line
        quantity = matchable.quantity_to_invoice
        if line.quantity is not None:
            if not quantity:
                continue
            amount = line_amount(quantity, line.unit_price) if line.unit_price else None
        else:
            if matchable.to_invoice <= 0:
                continue
            amount = matchable.to_invoice
        rows.append(
            {
                "commitment_line": line.pk,
                "description": line.description,
                "quantity": _quantity_input(quantity) if quantity else "",
                "amount": str(amount) if amount and currency == "XPF" else "",
                "tax_rate": line.tax_rate_id or default_rate,
            }
        )
    return rows or [{"tax_rate": default_rate}]


def matching_context(form: InvoiceForm, formset=None) -> dict:
    """What the matching region shows: the commitment select, the commitment's lines
    with their figures, and the invoice lines (a new formset when none is given)."""
    commitment = form.chosen_commitment
    if formset is None:
        formset = InvoiceLineFormSet(
            prefix="lines",
            commitment=commitment,
            initial=_initial_lines(commitment, form.currency_value),
        )
    return {
        "form": form,
        "formset": formset,
        "commitment": commitment,
        "matchable": (
            selectors.commitment_lines_to_invoice(commitment=commitment) if commitment else []
        ),
        "supplier": form.chosen_supplier,
        "currency": form.currency_value,
        "eur_parity": settings.EUR_PARITY,
        "tolerance": settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT,
    }


class InvoiceCreateView(CapabilityRequiredMixin, TemplateView):
    """The entry form. `?commitment=<pk>` (a link from a commitment's page) starts
    matched to that commitment. A form posted twice records once (its token)."""

    capability = "enter_invoice"
    template_name = "procurement/invoice_form.html"

    def get(self, request, *args, **kwargs):
        initial = {"currency": "XPF"}
        pk = request.GET.get("commitment", "")
        if pk.isdigit():
            commitment = selectors.open_commitments().filter(pk=int(pk)).first()
            if commitment is not None:
                initial.update(supplier=commitment.supplier_id, commitment=commitment.pk)
        form = InvoiceForm(initial=initial)
        return self.render_to_response(self.get_context_data(**matching_context(form)))

    def post(self, request, *args, **kwargs):
        form = InvoiceForm(request.POST)
        commitment = form.chosen_commitment
        formset = InvoiceLineFormSet(request.POST, prefix="lines", commitment=commitment)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                invoice, created = once_from_form(
                    request,
                    "procurement.invoice-create",
                    lambda: services.invoice_create(
                        user=request.user,
                        supplier=data["supplier"],
                        supplier_number=data["supplier_number"],
                        invoice_date=data["invoice_date"],
                        received_on=data["received_on"],
                        lines=formset.lines(),
                        commitment=data["commitment"],
                        currency=data["currency"],
                        exchange_rate=data["exchange_rate"] or None,
                        total_ttc=data["total_ttc"],
                    ),
                )
            except ServiceError as error:
                # A refusal about a header field shows under it (and in the summary).
                field = HEADER_ERROR_FIELDS.get(getattr(error, "code", None))
                for message in error.messages:
                    form.add_error(field, message)
            else:
                if created:
                    messages.success(
                        request,
                        _("Invoice %(number)s entered: %(amount)s before tax, due on %(due)s.")
                        % {
                            "number": invoice.number,
                            "amount": format_xpf(invoice.amount_ht),
                            "due": invoice.due_on.strftime("%d/%m/%Y"),
                        },
                    )
                return redirect(invoice)
        return self.render_to_response(
            self.get_context_data(**matching_context(form, formset)), status=200
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["currencies"] = CURRENCIES
        return context


class InvoiceMatchingView(CapabilityRequiredMixin, View):
    """htmx: the entry form's matching region for the chosen supplier and commitment
    (`?supplier=<pk>&commitment=<pk>&currency=XPF`): the commitment's lines with what
    is committed, invoiced, left, received, and the invoice lines to match to them; or,
    without commitment, direct lines on budget lines with their available amounts."""

    capability = "enter_invoice"

    def get(self, request):
        form = InvoiceForm(data=request.GET)
        return render(request, "procurement/partials/invoice_matching.html", matching_context(form))


class InvoiceLineAvailabilityView(CapabilityRequiredMixin, View):
    """htmx: a direct invoice line's budget line select asks for the line's live
    available amount (`?lines-0-budget_line=<pk>`, the select's own name and value)."""

    capability = "enter_invoice"

    def get(self, request):
        line = None
        for name, value in request.GET.items():
            if name.endswith("budget_line") and value.isdigit():
                line = selectors.direct_invoice_lines(actor=request.user).filter(pk=int(value))
                line = line.first()
                break
        return render_line_availability(request, line)


# ---------------------------------------------------------------------------
# An invoice's page and its actions


class InvoiceDetailView(CapabilityRequiredMixin, DetailView):
    capability = access.INVOICES
    template_name = "procurement/invoice_detail.html"
    context_object_name = "invoice"

    def get_queryset(self):
        return selectors.invoice_detail(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        invoice = self.object
        state = invoice.state
        State = Invoice.State
        live = state != State.CANCELLED and not invoice.is_paid
        override = self.request.GET.get("override", "")
        context.update(
            {
                "lines": list(invoice.lines.all()),
                "supplier_link": document_link(invoice.supplier),
                "commitment_link": document_link(invoice.commitment) if invoice.commitment else "",
                "tax_rows": selectors.invoice_tax_rows(invoice),
                "foreign": invoice.currency != XPF,
                "days_late": days_late_text(invoice.days_late),
                "entries": document_entries(actor=user, document=invoice),
                "changes": document_changes(invoice),
                "may_liquidate": state == State.ENTERED and holds(user, "liquidate_invoice"),
                "may_validate": state == State.TO_VALIDATE and holds(user, "validate_liquidation"),
                "may_cancel": live
                and (
                    holds(user, services.CANCELLABLE_BY)
                    or (state == State.TO_VALIDATE and holds(user, "validate_liquidation"))
                ),
                "may_pay": state == State.LIQUIDATED and holds(user, PAYMENT),
                "show_override": override in ("liquidate", "validate"),
                "threshold": settings.PROCUREMENT_LIQUIDATION_THRESHOLD,
                "above_threshold": invoice.amount_ht > settings.PROCUREMENT_LIQUIDATION_THRESHOLD,
                "liquidation_form": LiquidationForm(),
                "reason_form": ReasonForm(),
                "payment_form": PaymentDateForm(initial={"payment_date": invoice.payment_date}),
            }
        )
        return context


class InvoiceActionView(CapabilityRequiredMixin, View):
    """POST only: liquidate, validate, cancel, or record the payment date through the
    service; a refusal is a French error message and changes nothing. A shortage that
    the user may override brings the page back with the reason field."""

    http_method_names = ["post"]
    action = ""  # "liquidate", "validate", "cancel" or "payment"
    forms = {
        "liquidate": LiquidationForm,
        "validate": LiquidationForm,
        "cancel": ReasonForm,
        "payment": PaymentDateForm,
    }

    def post(self, request, pk):
        invoice = get_object_or_404(selectors.invoices(actor=request.user), pk=pk)
        form = self.forms[self.action](request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(invoice)
        try:
            message = self.act(invoice, form.cleaned_data)
        except CreditsShortError as error:
            for text in error.messages:
                messages.error(request, text)
            if error.can_override:
                return redirect(f"{invoice.get_absolute_url()}?override={self.action}#actions")
            return redirect(invoice)
        except ServiceError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(invoice)
        messages.success(request, message)
        return redirect(invoice)

    def act(self, invoice: Invoice, data: dict) -> str:
        user = self.request.user
        if self.action == "liquidate":
            invoice = services.invoice_liquidate(
                user=user, invoice=invoice, override_reason=data["override_reason"]
            )
            if invoice.state == Invoice.State.TO_VALIDATE:
                return _(
                    "Invoice %(number)s is above %(threshold)s: its liquidation awaits the "
                    "section head's validation."
                ) % {
                    "number": invoice.number,
                    "threshold": format_xpf(settings.PROCUREMENT_LIQUIDATION_THRESHOLD),
                }
            return _("Invoice %(number)s liquidated: %(amount)s.") % {
                "number": invoice.number,
                "amount": format_xpf(invoice.amount_ht),
            }
        if self.action == "validate":
            invoice = services.invoice_validate(
                user=user, invoice=invoice, override_reason=data["override_reason"]
            )
            return _("Liquidation of invoice %(number)s validated: %(amount)s.") % {
                "number": invoice.number,
                "amount": format_xpf(invoice.amount_ht),
            }
        if self.action == "cancel":
            invoice = services.invoice_cancel(user=user, invoice=invoice, reason=data["reason"])
            return _("Invoice %(number)s cancelled.") % {"number": invoice.number}
        invoice = payments.invoice_set_payment_date(
            user=user, invoice=invoice, payment_date=data["payment_date"]
        )
        return _("Invoice %(number)s paid on %(date)s.") % {
            "number": invoice.number,
            "date": invoice.payment_date.strftime("%d/%m/%Y"),
        }


# ---------------------------------------------------------------------------
# Payment dates from a spreadsheet


class InvoicePaymentsImportView(CapabilityRequiredMixin, FormView):
    """Upload an XLSX of payment dates: all applied, or none and every row's error."""

    capability = PAYMENT
    template_name = "procurement/invoice_payments_import.html"
    form_class = PaymentImportForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["headers"] = payments.payment_import_headers()
        context["max_rows"] = payments.PAYMENT_IMPORT_MAX_ROWS
        return context

    def form_valid(self, form):
        try:
            result = payments.invoice_payments_import(
                user=self.request.user, file=form.cleaned_data["file"]
            )
        except ServiceError as error:
            for message in error.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        if not result.ok:
            return self.render_to_response(self.get_context_data(form=form, result=result))
        messages.success(
            self.request,
            ngettext(
                "%(applied)s payment date recorded (%(unchanged)s already known).",
                "%(applied)s payment dates recorded (%(unchanged)s already known).",
                result.applied,
            )
            % {"applied": result.applied, "unchanged": result.unchanged},
        )
        return redirect(reverse("procurement:invoice-payments-import") + "?done=1")


urlpatterns = [
    path("factures/", InvoiceListView.as_view(), name="invoice-list"),
    path("factures/nouvelle/", InvoiceCreateView.as_view(), name="invoice-create"),
    path(
        "factures/engagement-lignes/",
        InvoiceMatchingView.as_view(),
        name="invoice-commitment-lines",
    ),
    path(
        "factures/disponible/",
        InvoiceLineAvailabilityView.as_view(),
        name="invoice-line-availability",
    ),
    path(
        "factures/paiements/import/",
        InvoicePaymentsImportView.as_view(),
        name="invoice-payments-import",
    ),
    path("factures/<int:pk>/", InvoiceDetailView.as_view(), name="invoice-detail"),
    path(
        "factures/<int:pk>/liquider/",
        InvoiceActionView.as_view(action="liquidate", capability="liquidate_invoice"),
        name="invoice-liquidate",
    ),
    path(
        "factures/<int:pk>/valider/",
        InvoiceActionView.as_view(action="validate", capability="validate_liquidation"),
        name="invoice-validate",
    ),
    path(
        "factures/<int:pk>/annuler/",
        InvoiceActionView.as_view(action="cancel", capability=CANCEL),
        name="invoice-cancel",
    ),
    path(
        "factures/<int:pk>/paiement/",
        InvoiceActionView.as_view(action="payment", capability=PAYMENT),
        name="invoice-payment",
    ),
]
