"""Purchase orders (bons de commande): the list, an order's page, the order form of
an approved request's commitment, the PDF order form, and the sent / cancel actions."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
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
from dsi_finance.money import format_xpf
from dsi_finance.roles import holds
from dsi_finance.tables import document_link
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from .. import access
from ..exports import ORDER_EXPORT
from ..filters.orders import PurchaseOrderFilter
from ..forms.orders import PurchaseOrderForm, ReasonForm
from ..models import Commitment, PurchaseOrder
from ..pdf import (
    OrderPdfUnavailable,
    order_pdf_filename,
    pdf_unavailable_message,
    render_order_pdf,
)
from ..selectors import commitments as commitment_selectors
from ..selectors import orders as selectors
from ..services import orders as services
from ..tables.orders import PurchaseOrderTable


class OrderListView(
    CapabilityRequiredMixin,
    HomeQueueListMixin,
    XlsxExportMixin,
    HtmxTableMixin,
    SingleTableMixin,
    FilterView,
):
    queue_url_name = "procurement:order-list"
    capability = access.ORDERS
    template_name = "procurement/order_list.html"
    table_class = PurchaseOrderTable
    filterset_class = PurchaseOrderFilter
    export_columns = ORDER_EXPORT
    export_name = "achats-commandes"
    export_title = gettext_lazy("Purchase orders")

    def get_queryset(self):
        return selectors.order_list(actor=self.request.user)


class OrderDetailView(CapabilityRequiredMixin, DetailView):
    capability = access.ORDERS
    template_name = "procurement/order_detail.html"
    context_object_name = "order"

    def get_queryset(self):
        return selectors.order_list(actor=self.request.user).select_related(
            "issued_by", "sent_by", "cancelled_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        order = self.object
        commitment = order.commitment
        file = selectors.order_file(actor=user, order=order)
        live = order.state != PurchaseOrder.State.CANCELLED
        received = any(not receipt.is_cancelled for receipt in file.receipts)
        receivable = any(
            line.quantity is not None and line.received_quantity < line.quantity
            for line in (item.line for item in file.lines)
        )
        context.update(
            {
                "file": file,
                "commitment": commitment,
                "supplier_link": document_link(order.supplier),
                "request_link": (
                    document_link(commitment.purchase_request)
                    if commitment.purchase_request_id
                    else ""
                ),
                "changes": document_changes(order),
                # Said here rather than after a click that would download an error page.
                "pdf_unavailable": pdf_unavailable_message(),
                "may_send": order.state == PurchaseOrder.State.ISSUED
                and holds(user, "record_order"),
                "may_cancel": live and not received and holds(user, "record_order"),
                "may_receive": live
                and receivable
                and commitment.state == Commitment.State.OPEN
                and holds(user, "record_receipt"),
                "cancel_form": ReasonForm(),
            }
        )
        return context


class OrderCreateView(CapabilityRequiredMixin, FormView):
    """The order of an approved request's commitment (`?commitment=<pk>`): delivery
    address and date, notes; the lines and totals come from the commitment."""

    capability = "record_order"
    template_name = "procurement/order_form.html"
    form_class = PurchaseOrderForm

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        pk = request.GET.get("commitment", "")
        if not pk.isdigit():
            messages.error(
                request, _("Open the commitment of an approved request to issue its order.")
            )
            return redirect("procurement:commitment-list")
        self.commitment = get_object_or_404(
            commitment_selectors.commitment_list(actor=request.user), pk=int(pk)
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        commitment = self.commitment
        context["commitment"] = commitment
        try:
            context["preview"] = selectors.order_preview(
                actor=self.request.user, commitment=commitment
            )
        except ServiceError as error:
            context["preview"] = None
            context["blocking"] = error.messages
        context["existing"] = PurchaseOrder.objects.filter(commitment=commitment).first()
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            order, created = once_from_form(
                self.request,
                "procurement.order-create",
                lambda: services.purchase_order_create(
                    user=self.request.user,
                    commitment=self.commitment,
                    delivery_address=data["delivery_address"],
                    delivery_date=data["delivery_date"],
                    notes=data["notes"],
                ),
            )
        except ServiceError as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        if created:
            messages.success(
                self.request,
                _("Order %(number)s issued for %(amount)s with tax: download its form and send it.")
                % {"number": order.number, "amount": format_xpf(order.amount_ttc)},
            )
        return redirect(order)


class OrderPdfView(CapabilityRequiredMixin, View):
    """The order form as a PDF file named after the order's number."""

    capability = access.ORDERS

    def get(self, request, pk):
        order = get_object_or_404(selectors.order_list(actor=request.user), pk=pk)
        try:
            data = render_order_pdf(order)
        except OrderPdfUnavailable as error:
            # 409: the order is fine, the instance's configuration is not finished.
            context = {"order": order, "message": str(error)}
            return render(request, "procurement/order_pdf_unavailable.html", context, status=409)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{order_pdf_filename(order)}"'
        return response


class OrderActionView(CapabilityRequiredMixin, View):
    """POST only: mark the order as sent, or cancel it with a reason; a refusal is a
    French error message and changes nothing."""

    capability = "record_order"
    http_method_names = ["post"]
    action = ""  # "send" or "cancel"

    def post(self, request, pk):
        order = get_object_or_404(selectors.order_list(actor=request.user), pk=pk)
        try:
            if self.action == "send":
                order = services.purchase_order_mark_sent(user=request.user, order=order)
                message = _("Order %(number)s marked as sent.") % {"number": order.number}
            else:
                form = ReasonForm(request.POST)
                if not form.is_valid():
                    for errors in form.errors.values():
                        for error in errors:
                            messages.error(request, error)
                    return redirect(order)
                order = services.purchase_order_cancel(
                    user=request.user, order=order, reason=form.cleaned_data["reason"]
                )
                message = _("Order %(number)s cancelled.") % {"number": order.number}
        except ServiceError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(order)
        messages.success(request, message)
        return redirect(order)


urlpatterns = [
    path("commandes/", OrderListView.as_view(), name="order-list"),
    path("commandes/nouvelle/", OrderCreateView.as_view(), name="order-create"),
    path("commandes/<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("commandes/<int:pk>/pdf/", OrderPdfView.as_view(), name="order-pdf"),
    path(
        "commandes/<int:pk>/envoyee/",
        OrderActionView.as_view(action="send"),
        name="order-mark-sent",
    ),
    path(
        "commandes/<int:pk>/annuler/",
        OrderActionView.as_view(action="cancel"),
        name="order-cancel",
    ),
]
