"""Commitments (engagements): the list, a commitment's page (lines, order, receipts,
invoices, ledger entries, history), the form of a recurring contract's commitment
with each line's live available amount, and the closing that gives back the
remainder."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from budgets.selectors import document_entries
from budgets.services import CreditsShortError
from dsi_finance.errors import ServiceError
from dsi_finance.exports import XlsxExportMixin
from dsi_finance.history import document_changes
from dsi_finance.idempotency import once_from_form
from dsi_finance.money import format_xpf
from dsi_finance.roles import holds
from dsi_finance.tables import document_link
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin, render_line_availability

from .. import access
from ..exports import COMMITMENT_EXPORT
from ..filters.commitments import CommitmentFilter
from ..forms.commitments import (
    CommitmentCloseForm,
    CommitmentLineFormSet,
    RecurringCommitmentForm,
)
from ..models import Commitment, PurchaseOrder
from ..selectors import commitments as selectors
from ..services import commitments as services
from ..services.commitments import LineSpec
from ..tables.commitments import CommitmentTable


class CommitmentListView(
    CapabilityRequiredMixin, XlsxExportMixin, HtmxTableMixin, SingleTableMixin, FilterView
):
    capability = access.COMMITMENTS
    template_name = "procurement/commitment_list.html"
    table_class = CommitmentTable
    filterset_class = CommitmentFilter
    export_columns = COMMITMENT_EXPORT
    export_name = "achats-engagements"
    export_title = gettext_lazy("Commitments")

    def get_queryset(self):
        return selectors.commitment_list(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_open"] = holds(self.request.user, "open_commitment")
        return context


class CommitmentDetailView(CapabilityRequiredMixin, DetailView):
    capability = access.COMMITMENTS
    template_name = "procurement/commitment_detail.html"
    context_object_name = "commitment"

    def get_queryset(self):
        return selectors.commitment_list(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        commitment = self.object
        file = selectors.commitment_file(actor=user, commitment=commitment)
        is_open = commitment.state == Commitment.State.OPEN
        order = file.order
        active_order = order if order and order.state != PurchaseOrder.State.CANCELLED else None
        release = [line for line in file.lines if line.remainder > 0]
        context.update(
            {
                "file": file,
                "order": order,
                "supplier_link": document_link(commitment.supplier),
                "request_link": (
                    document_link(commitment.purchase_request)
                    if commitment.purchase_request_id
                    else ""
                ),
                "invoice_links": [(invoice, document_link(invoice)) for invoice in file.invoices],
                "entries": document_entries(actor=user, document=commitment),
                "changes": document_changes(commitment),
                "release_lines": release,
                "release_total": sum(line.remainder for line in release),
                "may_close": is_open and holds(user, "open_commitment"),
                "may_order": is_open
                and commitment.kind == Commitment.Kind.REQUEST
                and order is None
                and holds(user, "record_order"),
                # An open commitment (not a direct invoice's) takes invoices, matched from here.
                "may_invoice": is_open
                and commitment.kind != Commitment.Kind.DIRECT
                and holds(user, "enter_invoice"),
                "may_receive": is_open
                and file.receivable
                and (active_order is not None or commitment.kind != Commitment.Kind.REQUEST)
                and holds(user, "record_receipt"),
                "close_form": CommitmentCloseForm(),
            }
        )
        return context


class CommitmentCreateView(CapabilityRequiredMixin, TemplateView):
    """A recurring contract's commitment (yearly maintenance, telecom links,
    subscriptions): supplier, subject, period and lines, each line's available amount
    shown as the line is chosen. A short available amount comes back as the form's
    error; who may override it sees the reason field."""

    capability = "open_commitment"
    template_name = "procurement/commitment_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(
            self.get_context_data(
                form=RecurringCommitmentForm(), formset=CommitmentLineFormSet(prefix="lines")
            )
        )

    def post(self, request, *args, **kwargs):
        form = RecurringCommitmentForm(request.POST)
        formset = CommitmentLineFormSet(request.POST, prefix="lines")
        show_override = bool(request.POST.get("override_reason", "").strip())
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            specs = [
                LineSpec(
                    budget_line=row["budget_line"],
                    description=row["description"],
                    amount=row["amount"],
                )
                for row in formset.cleaned_data
                if row
            ]
            try:
                commitment, created = once_from_form(
                    request,
                    "procurement.commitment-create",
                    lambda: services.commitment_open_recurring(
                        user=request.user,
                        supplier=data["supplier"],
                        subject=data["subject"],
                        period_start=data["period_start"],
                        period_end=data["period_end"],
                        lines=specs,
                        override_reason=data["override_reason"],
                    ),
                )
            except CreditsShortError as error:
                show_override = show_override or error.can_override
                for message in error.messages:
                    form.add_error(None, message)
            except ServiceError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                if created:
                    messages.success(
                        request,
                        _(
                            "Commitment %(number)s opened: %(amount)s taken from the "
                            "available amount."
                        )
                        % {"number": commitment.number, "amount": format_xpf(commitment.amount)},
                    )
                return redirect(commitment)
        return self.render_to_response(
            self.get_context_data(form=form, formset=formset, show_override=show_override)
        )


class CommitmentLineAvailabilityView(CapabilityRequiredMixin, View):
    """htmx: a line select of the commitment form asks for its line's available amount
    (`?lines-0-budget_line=<pk>`, the select's own name and value)."""

    capability = "open_commitment"

    def get(self, request):
        line = None
        for name, value in request.GET.items():
            if name.endswith("budget_line") and value.isdigit():
                line = selectors.open_year_lines(actor=request.user).filter(pk=int(value)).first()
                break
        return render_line_availability(request, line)


class CommitmentCloseView(CapabilityRequiredMixin, View):
    """POST only: close the commitment; its remainder goes back to the available amount."""

    capability = "open_commitment"
    http_method_names = ["post"]

    def post(self, request, pk):
        commitment = get_object_or_404(selectors.commitment_list(actor=request.user), pk=pk)
        form = CommitmentCloseForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(commitment)
        released_before = commitment.released
        try:
            closed = services.commitment_close(
                user=request.user, commitment=commitment, reason=form.cleaned_data["reason"]
            )
        except ServiceError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(commitment)
        messages.success(
            request,
            _("Commitment %(number)s closed: %(amount)s given back to the available amount.")
            % {
                "number": closed.number,
                "amount": format_xpf(closed.released - released_before),
            },
        )
        return redirect(closed)


urlpatterns = [
    path("engagements/", CommitmentListView.as_view(), name="commitment-list"),
    path("engagements/nouveau/", CommitmentCreateView.as_view(), name="commitment-create"),
    path(
        "engagements/disponible/",
        CommitmentLineAvailabilityView.as_view(),
        name="commitment-line-availability",
    ),
    path("engagements/<int:pk>/", CommitmentDetailView.as_view(), name="commitment-detail"),
    path("engagements/<int:pk>/cloturer/", CommitmentCloseView.as_view(), name="commitment-close"),
]
