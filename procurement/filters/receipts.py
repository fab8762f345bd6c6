"""Filters of the receipt list."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dsi_finance.filters import CurrentYearByDefaultMixin

from ..models import Receipt
from .commitments import SELECT, search_widget, supplier_filter, year_filter

LIVE = "live"
CANCELLED = "cancelled"


class ReceiptFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
    year = year_filter("commitment__fiscal_year")
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=[(LIVE, _("Recorded")), (CANCELLED, _("Cancelled"))],
        empty_label=_("All states"),
        method="in_state",
        widget=forms.Select(attrs=SELECT),
    )
    supplier = supplier_filter("commitment__supplier")
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=search_widget(_("Number, order or supplier")),
    )

    class Meta:
        model = Receipt
        fields = ("year", "state", "supplier", "q")

    def in_state(self, queryset, name, value):
        if value == LIVE:
            return queryset.filter(cancelled_at__isnull=True)
        if value == CANCELLED:
            return queryset.filter(cancelled_at__isnull=False)
        return queryset

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(commitment__number__icontains=word)
                | Q(commitment__order__number__icontains=word)
                | Q(commitment__subject__icontains=word)
                | Q(commitment__supplier__name__icontains=word)
            )
        return queryset
