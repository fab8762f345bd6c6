"""Transfers (virements): list, request form with both lines' availability, approval."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
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
from dsi_finance.money import format_xpf
from dsi_finance.roles import perm
from dsi_finance.views import (
    CapabilityRequiredMixin,
    HtmxTableMixin,
    render_line_availability,
)

from .. import selectors, services
from ..exports import TRANSFER_EXPORT
from ..filters import TransferFilter
from ..forms import TransferDecisionForm, TransferForm
from ..models import Transfer
from ..tables import TransferTable


class TransferListView(
    CapabilityRequiredMixin,
    HomeQueueListMixin,
    XlsxExportMixin,
    HtmxTableMixin,
    SingleTableMixin,
    FilterView,
):
    queue_url_name = "budgets:transfer-list"
    capability = "view_all"
    template_name = "budgets/transfer_list.html"
    table_class = TransferTable
    filterset_class = TransferFilter
    export_columns = TRANSFER_EXPORT
    export_name = "budget-virements"
    export_title = gettext_lazy("Transfers")

    def get_queryset(self):
        return selectors.transfers(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_request"] = self.request.user.has_perm(perm("request_transfer"))
        return context


class TransferCreateView(CapabilityRequiredMixin, FormView):
    """The request form. Whatever budgets.services.transfer_request refuses (same line, two
    years, two sections, not enough available…) comes back as the form's error."""

    capability = "request_transfer"
    template_name = "budgets/transfer_form.html"
    form_class = TransferForm

    def get_initial(self):
        # A link from a line's page proposes it as the source (?source=<pk>); a short
        # purchase request proposes its line as the target, with the shortage as the
        # amount and its number in the reason (?target=&amount=&reason=).
        initial = super().get_initial()
        for name in ("source", "target", "amount"):
            value = self.request.GET.get(name, "")
            if value.isdigit():
                initial[name] = int(value)
        reason = self.request.GET.get("reason", "").strip()
        if reason:
            initial["reason"] = reason[:2000]
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        # The availability of the lines already chosen (a form sent back with an error).
        for name in ("source", "target"):
            context[f"{name}_line"] = _chosen_line(form, name)
        target = context["target_line"]
        if target is not None:
            # The lines that can give to the target: same year and section, something available.
            params = self.request.GET.copy()
            sources = []
            for line in selectors.transfer_sources(actor=self.request.user, target=target)[:20]:
                params["source"] = line.pk
                params["target"] = target.pk
                sources.append({"line": line, "url": f"?{params.urlencode()}"})
            context["sources"] = sources
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            transfer = services.transfer_request(
                user=self.request.user,
                source=data["source"],
                target=data["target"],
                amount=data["amount"],
                reason=data["reason"],
            )
        except ServiceError as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "Transfer of %(amount)s from %(source)s to %(target)s requested: "
                "it awaits the IT director's approval."
            )
            % {
                "amount": format_xpf(transfer.amount),
                "source": transfer.source.code,
                "target": transfer.target.code,
            },
        )
        return redirect(transfer)


def _chosen_line(form, name: str):
    """The line chosen in the form's field, with its figures, or None."""
    value = form[name].value()
    if value in (None, ""):
        return None
    try:
        return form.fields[name].queryset.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


class TransferLineAvailabilityView(CapabilityRequiredMixin, View):
    """htmx: the transfer form's select asks for its chosen line's availability
    (?source=<pk> or ?target=<pk>) and shows the line-availability fragment."""

    capability = "request_transfer"

    def get(self, request):
        form = TransferForm(data=request.GET)
        line = _chosen_line(form, "source") or _chosen_line(form, "target")
        return render_line_availability(request, line)


class TransferDetailView(CapabilityRequiredMixin, DetailView):
    capability = "view_all"
    template_name = "budgets/transfer_detail.html"
    context_object_name = "transfer"

    def get_queryset(self):
        return selectors.transfers(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        transfer = self.object
        lines = selectors.line_availability(actor=self.request.user).in_bulk(
            [transfer.source_id, transfer.target_id]
        )
        context["source_line"] = lines[transfer.source_id]
        context["target_line"] = lines[transfer.target_id]
        # What approving would leave on each line, for the director to see before deciding.
        context["source_after"] = lines[transfer.source_id].available_amount - transfer.amount
        context["target_after"] = lines[transfer.target_id].available_amount + transfer.amount
        context["entries"] = selectors.document_entries(actor=self.request.user, document=transfer)
        context["changes"] = document_changes(transfer)
        user = self.request.user
        pending = transfer.state == Transfer.State.REQUESTED
        context["may_decide"] = pending and user.has_perm(perm("approve_transfer"))
        context["may_cancel"] = pending and user.has_perm(perm("request_transfer"))
        context["decision_form"] = TransferDecisionForm()
        return context


class TransferActionView(CapabilityRequiredMixin, View):
    """POST only: approve, reject or cancel the transfer through its service; a refusal
    is a French error message and changes nothing (the service runs in one transaction).
    `action` and `capability` are set per URL."""

    http_method_names = ["post"]
    action = ""  # "approve", "reject" or "cancel"

    def post(self, request, pk):
        transfer = get_object_or_404(selectors.transfers(actor=request.user), pk=pk)
        form = TransferDecisionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(transfer)
        try:
            message = self.act(transfer, form.cleaned_data["note"])
        except ServiceError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(transfer)
        messages.success(request, message)
        return redirect(transfer)

    def act(self, transfer: Transfer, note: str) -> str:
        """Call the action's service; the success message."""
        user = self.request.user
        if self.action == "approve":
            transfer = services.transfer_approve(user=user, transfer=transfer, note=note)
            return _("Transfer approved: %(amount)s moved from %(source)s to %(target)s.") % {
                "amount": format_xpf(transfer.amount),
                "source": transfer.source.code,
                "target": transfer.target.code,
            }
        if self.action == "reject":
            services.transfer_reject(user=user, transfer=transfer, note=note)
            return _("Transfer rejected.")
        services.transfer_cancel(user=user, transfer=transfer)
        return _("Transfer cancelled.")


urlpatterns = [
    path("virements/", TransferListView.as_view(), name="transfer-list"),
    path("virements/nouveau/", TransferCreateView.as_view(), name="transfer-create"),
    path(
        "virements/disponible/",
        TransferLineAvailabilityView.as_view(),
        name="transfer-line-availability",
    ),
    path("virements/<int:pk>/", TransferDetailView.as_view(), name="transfer-detail"),
    path(
        "virements/<int:pk>/approuver/",
        TransferActionView.as_view(action="approve", capability="approve_transfer"),
        name="transfer-approve",
    ),
    path(
        "virements/<int:pk>/rejeter/",
        TransferActionView.as_view(action="reject", capability="approve_transfer"),
        name="transfer-reject",
    ),
    path(
        "virements/<int:pk>/annuler/",
        TransferActionView.as_view(action="cancel", capability="request_transfer"),
        name="transfer-cancel",
    ),
]
