"""Receipts (service fait): the list, a receipt's page, the form that records what
arrived on a commitment's lines, and the cancellation."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dsi_finance.errors import ServiceError
from dsi_finance.exports import XlsxExportMixin
from dsi_finance.history import document_changes
from dsi_finance.home import HomeQueueListMixin
from dsi_finance.idempotency import once_from_form
from dsi_finance.roles import holds
from dsi_finance.tables import document_link
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from .. import access
from ..exports import RECEIPT_EXPORT
from ..filters.receipts import ReceiptFilter
from ..forms.receipts import ReasonForm, ReceiptForm
from ..models import Commitment
from ..selectors import commitments as commitment_selectors
from ..selectors import receipts as selectors
from ..services import receipts as services
from ..services.orders import active_order
from ..tables.receipts import ReceiptTable


class ReceiptListView(
    CapabilityRequiredMixin,
    HomeQueueListMixin,
    XlsxExportMixin,
    HtmxTableMixin,
    SingleTableMixin,
    FilterView,
):
    queue_url_name = "procurement:receipt-list"
    capability = access.RECEIPTS
    template_name = "procurement/receipt_list.html"
    table_class = ReceiptTable
    filterset_class = ReceiptFilter
    export_columns = RECEIPT_EXPORT
    export_name = "achats-receptions"
    export_title = gettext_lazy("Receipts")

    def get_queryset(self):
        return selectors.receipt_list(actor=self.request.user)


class ReceiptDetailView(CapabilityRequiredMixin, DetailView):
    capability = access.RECEIPTS
    template_name = "procurement/receipt_detail.html"
    context_object_name = "receipt"

    def get_queryset(self):
        return selectors.receipt_list(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        receipt = self.object
        commitment = receipt.commitment
        lines = list(selectors.receipt_lines(actor=self.request.user, receipt=receipt))
        for line in lines:
            line.quantity_text = services.quantity_text(line.quantity)
        context.update(
            {
                "commitment": commitment,
                "order": getattr(commitment, "order", None),
                "supplier_link": document_link(commitment.supplier),
                "lines": lines,
                "changes": document_changes(receipt),
                "may_cancel": not receipt.is_cancelled
                and commitment.state == Commitment.State.OPEN
                and holds(self.request.user, "record_receipt"),
                "cancel_form": ReasonForm(),
            }
        )
        return context


class ReceiptCreateView(CapabilityRequiredMixin, FormView):
    """What arrived on a commitment (`?commitment=<pk>`): a date, a note and one quantity
    per ordered line, beside what was ordered, already received and left."""

    capability = "record_receipt"
    template_name = "procurement/receipt_form.html"
    form_class = ReceiptForm

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        pk = request.GET.get("commitment", "")
        if not pk.isdigit():
            messages.error(request, _("Open the order or the commitment that was received."))
            return redirect("procurement:order-list")
        self.commitment = get_object_or_404(
            commitment_selectors.commitment_list(actor=request.user), pk=int(pk)
        )
        self.lines = selectors.receivable_lines(actor=request.user, commitment=self.commitment)
        for line in self.lines:
            line.quantity_text = services.quantity_text(line.quantity)
            line.received_text = services.quantity_text(line.received_quantity)
            line.left_text = services.quantity_text(max(line.left, 0))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["lines"] = self.lines
        return kwargs

    def get_initial(self):
        return {"received_on": timezone.localdate()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["commitment"] = self.commitment
        context["order"] = active_order(self.commitment)
        context["nothing_left"] = not any(line.left > 0 for line in self.lines)
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            receipt, created = once_from_form(
                self.request,
                "procurement.receipt-create",
                lambda: services.receipt_create(
                    user=self.request.user,
                    commitment=self.commitment,
                    received_on=data["received_on"],
                    quantities=form.quantities(),
                    note=data["note"],
                ),
            )
        except ServiceError as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        if created:
            messages.success(
                self.request,
                _("Receipt %(number)s recorded on %(date)s.")
                % {"number": receipt.number, "date": receipt.received_on.strftime("%d/%m/%Y")},
            )
        return redirect(receipt)


class ReceiptCancelView(CapabilityRequiredMixin, View):
    """POST only: cancel the receipt with a reason; its quantities are no longer received."""

    capability = "record_receipt"
    http_method_names = ["post"]

    def post(self, request, pk):
        receipt = get_object_or_404(selectors.receipt_list(actor=request.user), pk=pk)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(receipt)
        try:
            services.receipt_cancel(
                user=request.user, receipt=receipt, reason=form.cleaned_data["reason"]
            )
        except ServiceError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(receipt)
        messages.success(request, _("Receipt %(number)s cancelled.") % {"number": receipt.number})
        return redirect(receipt)


urlpatterns = [
    path("receptions/", ReceiptListView.as_view(), name="receipt-list"),
    path("receptions/nouvelle/", ReceiptCreateView.as_view(), name="receipt-create"),
    path("receptions/<int:pk>/", ReceiptDetailView.as_view(), name="receipt-detail"),
    path("receptions/<int:pk>/annuler/", ReceiptCancelView.as_view(), name="receipt-cancel"),
]
