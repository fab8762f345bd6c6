"""Dates typed jj/mm/aaaa whatever the browser's language: the parser, the widget,
the field, and every date field of every form of the project."""

import datetime as dt
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.utils import translation

from dsi_finance.widgets import FrenchDateField, FrenchDateInput, parse_day_first_date

DECEMBER_8 = dt.date(2026, 12, 8)


class DateForm(forms.Form):
    day = FrenchDateField(label="Day")
    optional = FrenchDateField(label="Optional", required=False)


@pytest.mark.parametrize(
    "text",
    [
        "08/12/2026",
        "8/12/2026",
        " 08/12/2026 ",
        "08.12.2026",
        "08-12-2026",
        "08122026",
        "2026-12-08",
    ],
)
def test_a_date_written_day_first_or_iso_is_read_as_8_december(text):
    assert parse_day_first_date(text) == DECEMBER_8


@pytest.mark.parametrize(
    "text",
    [
        "12/31/2026",  # month first: never read as 31 December
        "31/02/2026",  # no such day
        "08/13/2026",
        "08/12/26",  # two-digit year: the widget asks for aaaa
        "08/12-2026",  # mixed separators
        "2026/12/08",
        "8122026",
        "le 8 décembre",
        "",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_day_first_date(text)


def test_the_widget_shows_the_date_day_first_with_the_french_hint_and_no_native_picker():
    with translation.override("fr"):
        rendered = FrenchDateInput().render("day", DECEMBER_8)
    assert 'type="text"' in rendered and 'type="date"' not in rendered
    assert 'value="08/12/2026"' in rendered
    assert 'placeholder="jj/mm/aaaa"' in rendered
    assert 'inputmode="numeric"' in rendered and "data-date-input" in rendered
    assert 'class="form-control"' in rendered


def test_the_english_screens_show_the_same_day_first_value_with_an_english_hint():
    with translation.override("en"):
        rendered = FrenchDateInput().render("day", DECEMBER_8)
    assert 'value="08/12/2026"' in rendered and 'placeholder="dd/mm/yyyy"' in rendered


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_form_reads_08_12_2026_as_8_december_in_either_language(language):
    with translation.override(language):
        form = DateForm({"day": "08/12/2026", "optional": ""})
        assert form.is_valid(), form.errors
    assert form.cleaned_data == {"day": DECEMBER_8, "optional": None}


def test_a_month_first_date_is_refused_with_a_french_message_quoting_it():
    with translation.override("fr"):
        form = DateForm({"day": "12/31/2026"})
        assert not form.is_valid()
        assert form.errors["day"] == [
            "« 12/31/2026 » n’est pas une date au format jj/mm/aaaa, le jour d’abord "
            "(08/12/2026 pour le 8 décembre 2026)."
        ]


def test_a_refused_date_comes_back_in_the_field_as_typed():
    with translation.override("fr"):
        form = DateForm({"day": "31/02/2026"})
        assert not form.is_valid()
        assert 'value="31/02/2026"' in str(form["day"])


def project_forms() -> list[type[forms.BaseForm]]:
    """Every form class defined in the project's own modules."""
    for app in ("dsi_finance", "budgets", "procurement", "reporting", "archive"):
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {
            "dsi_finance",
            "budgets",
            "procurement",
            "reporting",
            "archive",
        }:
            found.append(cls)
    return found


def test_every_date_field_of_every_form_is_typed_day_first():
    date_fields = {
        f"{form.__module__}.{form.__name__}.{name}": type(field).__name__
        for form in project_forms()
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field, forms.DateField)
    }
    assert "procurement.forms.invoices.InvoiceForm.invoice_date" in date_fields
    assert "budgets.forms.RevisionVoteForm.vote_date" in date_fields
    assert {name: kind for name, kind in date_fields.items() if kind != "FrenchDateField"} == {}


def test_no_template_asks_the_browser_for_its_own_date_input():
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        if re.search(r"type=[\"']?date\b", path.read_text())
    ]
    assert offenders == []
