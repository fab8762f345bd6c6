"""Filters of the supplier list: a text (name or RIDET) and active / deactivated / all,
the active suppliers by default."""

import django_filters
from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from ..models import Supplier
from ..selectors.suppliers import search_suppliers

ACTIVE_CHOICES = (
    ("yes", _("Active")),
    ("no", _("Deactivated")),
    ("all", _("All")),
)


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("Name or RIDET"),
            }
        ),
    )
    active = django_filters.ChoiceFilter(
        label=_("State"),
        choices=ACTIVE_CHOICES,
        empty_label=None,
        method="filter_active",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Supplier
        fields = ("q", "active")

    def __init__(self, data=None, *args, **kwargs):
        # No `active` in the query string: the active suppliers.
        if data is None or not data.get("active"):
            data = data.copy() if data is not None else QueryDict(mutable=True)
            data["active"] = "yes"
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        return search_suppliers(queryset, value)

    def filter_active(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(is_active=True)
        if value == "no":
            return queryset.filter(is_active=False)
        return queryset
