"""Filters of the shell's list pages."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .forms import FrancsField
from .roles import Role


class UserDirectoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    role = django_filters.ChoiceFilter(
        label=_("Role"), choices=Role.choices, field_name="groups__name", empty_label=_("All roles")
    )
    is_active = django_filters.BooleanFilter(
        label=_("Active"),
        widget=forms.Select(
            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))],
            attrs={"class": "form-select"},
        ),
    )

    class Meta:
        model = get_user_model()
        fields = ("q", "role", "is_active")

    def search(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        return queryset


class FrancsFilter(django_filters.NumberFilter):
    """An amount in francs in a query string, read as the forms read it
    (dsi_finance.forms.FrancsField): `250.000` or `250 000` is 250 000, never 250."""

    field_class = FrancsField
