"""Filters of the commitment list."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from budgets.models import FiscalYear
from dsi_finance.filters import CurrentYearByDefaultMixin

from ..models import Commitment, CommitmentLine, Supplier

SELECT = {"class": "form-select"}


def year_filter(field_name: str = "fiscal_year") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label=_("Fiscal year"),
        field_name=field_name,
        to_field_name="year",
        queryset=FiscalYear.objects.order_by("-year"),
        empty_label=_("All years"),
        widget=forms.Select(attrs=SELECT),
    )


def supplier_filter(field_name: str = "supplier") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label=_("Supplier"),
        field_name=field_name,
        queryset=Supplier.objects.order_by("name"),
        empty_label=_("All suppliers"),
        widget=forms.Select(attrs=SELECT),
    )


def search_widget(placeholder) -> forms.TextInput:
    return forms.TextInput(
        attrs={"type": "search", "class": "form-control", "placeholder": placeholder}
    )


class CommitmentFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
    year = year_filter()
    kind = django_filters.ChoiceFilter(
        label=_("Kind"),
        choices=Commitment.Kind.choices,
        empty_label=_("All kinds"),
        widget=forms.Select(attrs=SELECT),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=Commitment.State.choices,
        empty_label=_("All states"),
        widget=forms.Select(attrs=SELECT),
    )
    supplier = supplier_filter()
    budget_line = django_filters.CharFilter(
        label=_("Budget line"),
        method="on_budget_line",
        widget=search_widget(_("Line code")),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=search_widget(_("Number, subject or supplier")),
    )
    remaining = django_filters.BooleanFilter(
        label=_("With a remainder"),
        method="with_remainder",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = Commitment
        fields = ("year", "kind", "state", "supplier", "budget_line", "q", "remaining")

    def on_budget_line(self, queryset, name, value):
        """Commitments with a line on a budget line whose code starts with the text."""
        value = value.strip()
        if not value:
            return queryset
        lines = CommitmentLine.objects.filter(
            commitment=OuterRef("pk"), budget_line__code__istartswith=value
        )
        return queryset.filter(Exists(lines))

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(number__icontains=word)
                | Q(subject__icontains=word)
                | Q(supplier__name__icontains=word)
            )
        return queryset

    def with_remainder(self, queryset, name, value):
        """Committed credits neither liquidated nor released (closing would give them back)."""
        if not value:
            return queryset
        return queryset.filter(remaining__gt=0)
