"""Filter mixins every app's lists share, and the filters of the shell's list pages."""

from collections.abc import Callable

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .forms import FrancsField
from .roles import Role

# --- The current fiscal year -------------------------------------------------
# The kernel does not know fiscal years: the app that owns them (budgets) registers
# from its AppConfig.ready() the function giving the current one's year, or None.


def _no_year() -> int | None:
    return None


_current_year: Callable[[], int | None] = _no_year


def register_current_year(provider: Callable[[], int | None]) -> None:
    """Set the function that gives the current fiscal year (an int), or None."""
    global _current_year
    _current_year = provider


def current_year() -> int | None:
    return _current_year()


class CurrentYearByDefaultMixin:
    """A `year` filter that starts on the current fiscal year.

    No `year` in the query string means the current year (open, else in
    preparation); an explicit empty `year=` means every year.
    """

    def __init__(self, data=None, *args, **kwargs):
        if data is None or "year" not in data:
            year = current_year()
            data = data.copy() if data is not None else QueryDict(mutable=True)
            if year is not None:
                data["year"] = str(year)
        super().__init__(data, *args, **kwargs)


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
