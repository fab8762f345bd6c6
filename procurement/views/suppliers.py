"""Pages of the suppliers: list, detail with figures and history, create, edit,
deactivate and reactivate; and the TGC rates they reach.

Every role reads suppliers (procurement.access.SUPPLIERS); the buyers keep them
(manage_supplier). A supplier is never deleted.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin, SingleTableView

from dsi_finance.errors import ServiceError
from dsi_finance.exports import XlsxExportMixin
from dsi_finance.history import document_changes
from dsi_finance.idempotency import once_from_form
from dsi_finance.roles import holds
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from ..access import SUPPLIERS
from ..exports import SUPPLIER_EXPORT, TAX_RATE_EXPORT
from ..filters.suppliers import SupplierFilter
from ..forms.suppliers import SupplierForm
from ..models import Supplier
from ..selectors import suppliers as selectors
from ..services import suppliers as services
from ..tables.suppliers import SupplierTable, TaxRateTable

MANAGE = "manage_supplier"
CREATE_SCOPE = "procurement:supplier-create"


class SupplierListView(
    CapabilityRequiredMixin, XlsxExportMixin, HtmxTableMixin, SingleTableMixin, FilterView
):
    capability = SUPPLIERS
    template_name = "procurement/supplier_list.html"
    table_class = SupplierTable
    filterset_class = SupplierFilter
    export_columns = SUPPLIER_EXPORT
    export_name = "achats-fournisseurs"
    export_title = gettext_lazy("Suppliers")

    def get_queryset(self):
        return selectors.suppliers(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = holds(self.request.user, MANAGE)
        return context


class SupplierDetailView(CapabilityRequiredMixin, DetailView):
    capability = SUPPLIERS
    template_name = "procurement/supplier_detail.html"
    context_object_name = "supplier"

    def get_queryset(self):
        return selectors.suppliers(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        supplier = self.object
        user = self.request.user
        context["figures"] = selectors.supplier_figures(actor=user, supplier=supplier)
        context["documents"] = selectors.supplier_documents(actor=user, supplier=supplier)
        context["bank_account"] = selectors.bank_account_display(supplier.bank_account)
        context["changes"] = document_changes(supplier)
        context["may_manage"] = holds(user, MANAGE)
        return context


class SupplierFormMixin(CapabilityRequiredMixin):
    """The create and edit pages: each page's `save(data) -> (supplier, recorded by this
    post?)` calls its service; the service's refusals go back on the fields they name."""

    capability = MANAGE
    template_name = "procurement/supplier_form.html"
    form_class = SupplierForm

    def form_valid(self, form):
        try:
            supplier, recorded = self.save(form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        if recorded:
            messages.success(self.request, self.success_message(supplier))
        return redirect(supplier)


class SupplierCreateView(SupplierFormMixin, FormView):
    """Creates once per form token: a double submit shows the first supplier."""

    def save(self, data: dict) -> tuple[Supplier, bool]:
        return once_from_form(
            self.request,
            CREATE_SCOPE,
            lambda: services.supplier_create(user=self.request.user, **data),
        )

    def success_message(self, supplier) -> str:
        return _("Supplier %(name)s created (RIDET %(ridet)s).") % {
            "name": supplier.name,
            "ridet": supplier.ridet,
        }


class SupplierUpdateView(SupplierFormMixin, FormView):
    def dispatch(self, request, *args, **kwargs):
        self.supplier = get_object_or_404(selectors.suppliers(actor=request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return SupplierForm.initial_of(self.supplier)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["supplier"] = self.supplier
        return context

    def save(self, data: dict) -> tuple[Supplier, bool]:
        supplier = services.supplier_update(user=self.request.user, supplier=self.supplier, **data)
        return supplier, True

    def success_message(self, supplier) -> str:
        return _("Supplier %(name)s updated.") % {"name": supplier.name}


class SupplierActionView(CapabilityRequiredMixin, View):
    """POST only: deactivate or reactivate (`action` set per URL); a refusal is a French
    error message and changes nothing."""

    capability = MANAGE
    http_method_names = ["post"]
    action = ""  # "deactivate" or "reactivate"

    def post(self, request, pk):
        supplier = get_object_or_404(selectors.suppliers(actor=request.user), pk=pk)
        try:
            if self.action == "deactivate":
                supplier = services.supplier_deactivate(user=request.user, supplier=supplier)
                message = _(
                    "Supplier %(name)s deactivated: it can no longer be chosen for new "
                    "requests, commitments or invoices; its documents are kept."
                )
            else:
                supplier = services.supplier_reactivate(user=request.user, supplier=supplier)
                message = _("Supplier %(name)s reactivated.")
        except ServiceError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(supplier)
        messages.success(request, message % {"name": supplier.name})
        return redirect(supplier)


class TaxRateListView(CapabilityRequiredMixin, XlsxExportMixin, SingleTableView):
    """The TGC rates and their validity (reference data, kept in the admin)."""

    capability = SUPPLIERS
    template_name = "procurement/tax_rate_list.html"
    table_class = TaxRateTable
    table_pagination = False
    export_columns = TAX_RATE_EXPORT
    export_name = "achats-taux-tgc"
    export_title = gettext_lazy("TGC rates")

    def get_queryset(self):
        return selectors.tax_rates(actor=self.request.user)


urlpatterns = [
    path("fournisseurs/", SupplierListView.as_view(), name="supplier-list"),
    path("fournisseurs/nouveau/", SupplierCreateView.as_view(), name="supplier-create"),
    path("fournisseurs/taux-tgc/", TaxRateListView.as_view(), name="tax-rate-list"),
    path("fournisseurs/<int:pk>/", SupplierDetailView.as_view(), name="supplier-detail"),
    path("fournisseurs/<int:pk>/modifier/", SupplierUpdateView.as_view(), name="supplier-update"),
    path(
        "fournisseurs/<int:pk>/desactiver/",
        SupplierActionView.as_view(action="deactivate"),
        name="supplier-deactivate",
    ),
    path(
        "fournisseurs/<int:pk>/reactiver/",
        SupplierActionView.as_view(action="reactivate"),
        name="supplier-reactivate",
    ),
]
