"""Filters of the purchase request list (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from budgets.models import FiscalYear
from dsi_finance.filters import CurrentYearByDefaultMixin

from ..models import PurchaseRequest, Supplier


class PurchaseRequestFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
    year = django_filters.ModelChoiceFilter(
        label=_("Fiscal year"),
        field_name="fiscal_year",
        to_field_name="year",
        queryset=FiscalYear.objects.order_by("-year"),
        empty_label=_("All years"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=PurchaseRequest.State.choices,
        empty_label=_("All states"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    supplier = django_filters.ModelChoiceFilter(
        label=_("Supplier"),
        queryset=Supplier.objects.order_by("name", "pk"),
        empty_label=_("All suppliers"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("Number, subject or supplier"),
            }
        ),
    )

    class Meta:
        model = PurchaseRequest
        fields = ("year", "state", "supplier", "q")

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(subject__icontains=word)
                | Q(supplier__name__icontains=word)
            )
        return queryset
