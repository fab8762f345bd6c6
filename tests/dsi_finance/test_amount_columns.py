"""List cells write amounts as grouped figures, the currency once in the column header."""

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy

from dsi_finance.money import format_francs
from dsi_finance.tables import amount_html, with_currency

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_234_567, f"1{NNBSP}234{NNBSP}567"),
        (-90_000, f"-90{NNBSP}000"),
        (0, "0"),
        (987_654_321_012, f"987{NNBSP}654{NNBSP}321{NNBSP}012"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_a_list_cell_writes_the_grouped_figure_without_the_currency(value, text):
    assert format_francs(value) == text
    assert Template("{{ value|francs }}").render(Context({"value": value})) == text


def test_a_negative_amount_is_red():
    assert amount_html(-5) == '<span class="text-danger fw-semibold">-5</span>'
    assert amount_html(5) == '<span class="">5</span>'


def test_the_header_names_the_currency_once_in_french():
    with translation.override("fr"):
        assert str(with_currency(gettext_lazy("Amount before tax"))) == "Montant HT (F\u00a0CFP)"
