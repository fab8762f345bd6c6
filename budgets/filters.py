"""Filters of the budgets list pages (django-filter)."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dsi_finance.filters import CurrentYearByDefaultMixin

from .models import BudgetLine, Chapter, CostCentre, FiscalYear, Project, Section, Transfer

# --- DISCO and transfers (helper "disco") ------------------------------------


class DiscoFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
    year = django_filters.ModelChoiceFilter(
        label=_("Fiscal year"),
        field_name="fiscal_year",
        to_field_name="year",
        queryset=FiscalYear.objects.order_by("-year"),
        empty_label=_("All years"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    section = django_filters.ChoiceFilter(
        label=_("Section"),
        choices=Section.choices,
        empty_label=_("All sections"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    chapter = django_filters.ModelChoiceFilter(
        label=_("Chapter"),
        field_name="nature_account__chapter",
        to_field_name="code",
        queryset=Chapter.objects.order_by("code"),
        empty_label=_("All chapters"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    cost_centre = django_filters.ModelChoiceFilter(
        label=_("Cost centre"),
        to_field_name="code",
        queryset=CostCentre.objects.order_by("code"),
        empty_label=_("All cost centres"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    project = django_filters.ModelChoiceFilter(
        label=_("Project"),
        to_field_name="code",
        queryset=Project.objects.order_by("code"),
        empty_label=_("All projects"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": _("Code or label")}
        ),
    )
    low = django_filters.BooleanFilter(
        label=_("Less than 10 % available"),
        method="low_available",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = BudgetLine
        fields = ("year", "section", "chapter", "cost_centre", "project", "q", "low")

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(code__icontains=word) | Q(label__icontains=word))
        return queryset

    def low_available(self, queryset, name, value):
        """Lines whose available amount is under a tenth of their opened credits (or negative)."""
        if not value:
            return queryset
        return queryset.alias(available_tenfold=F("available_amount") * 10).filter(
            available_tenfold__lt=F("opened")
        )


class TransferFilter(CurrentYearByDefaultMixin, django_filters.FilterSet):
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
        choices=Transfer.State.choices,
        empty_label=_("All states"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Transfer
        fields = ("year", "state")
