"""Filters of the purchase order list."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dsi_finance.filters import CurrentYearByDefaultMixin

from ..models import PurchaseOrder
from .commitments import SELECT, search_widget, supplier_filter, year_filter


class PurchaseOrderFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
    year = year_filter()
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=PurchaseOrder.State.choices,
        empty_label=_("All states"),
        widget=forms.Select(attrs=SELECT),
    )
    supplier = supplier_filter()
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=search_widget(_("Number, subject or supplier")),
    )

    class Meta:
        model = PurchaseOrder
        fields = ("year", "state", "supplier", "q")

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(commitment__number__icontains=word)
                | Q(commitment__subject__icontains=word)
                | Q(supplier__name__icontains=word)
            )
        return queryset
