"""Filters of the invoice list: year, state, supplier and a text on the numbers.

The tab (all, to liquidate, late for payment) is the selector's business
(procurement.selectors.invoices.invoice_list); the filters narrow it. The year
starts on the current fiscal year on the "all" tab only: what waits for its
liquidation or its payment matters whatever its year.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from budgets.models import FiscalYear
from budgets.selectors import current_fiscal_year

from ..models import Invoice, Supplier
from ..selectors.invoices import search

SELECT = {"class": "form-select"}


class InvoiceFilter(django_filters.FilterSet):
    year = django_filters.ModelChoiceFilter(
        label=_("Fiscal year"),
        field_name="fiscal_year",
        to_field_name="year",
        queryset=FiscalYear.objects.order_by("-year"),
        empty_label=_("All years"),
        widget=forms.Select(attrs=SELECT),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=Invoice.State.choices,
        empty_label=_("All states"),
        widget=forms.Select(attrs=SELECT),
    )
    # Text, not a select: a select of thousands of suppliers costs more than the page.
    supplier = django_filters.CharFilter(
        label=_("Supplier"),
        method="on_supplier",
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": _("Name or RIDET")}
        ),
    )
    q = django_filters.CharFilter(
        label=_("Number"),
        method="on_numbers",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("FA-2026-… or the supplier's number"),
            }
        ),
    )

    class Meta:
        model = Invoice
        fields = ("year", "state", "supplier", "q")

    def __init__(self, data=None, *args, tab: str = "all", **kwargs):
        if tab == "all" and (data is None or "year" not in data):
            current = current_fiscal_year()
            data = data.copy() if data is not None else QueryDict(mutable=True)
            if current is not None:
                data["year"] = str(current.year)
        super().__init__(data, *args, **kwargs)

    def on_numbers(self, queryset, name, value):
        return search(queryset, value)

    def on_supplier(self, queryset, name, value):
        """Invoices of the suppliers whose name or RIDET contains the text (the
        suppliers are found first, then their invoices through their index)."""
        value = value.strip()
        if not value:
            return queryset
        suppliers = Supplier.objects.filter(Q(name__icontains=value) | Q(ridet__icontains=value))
        return queryset.filter(supplier__in=list(suppliers.values_list("pk", flat=True)[:500]))
