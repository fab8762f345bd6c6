"""The XPF filter: every amount on screen reads `1 234 567 F CFP`."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from dsi_finance.money import (
    CURRENCY_SUFFIX,
    EMPTY,
    THOUSANDS_SEPARATOR,
    format_xpf,
    parse_francs,
)

NNBSP = "\u202f"  # narrow no-break space between thousands
NBSP = "\u00a0"  # no-break space before the currency


def render(amount) -> str:
    return Template("{{ amount|xpf }}").render(Context({"amount": amount}))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, f"0{NBSP}F{NBSP}CFP"),
        (7, f"7{NBSP}F{NBSP}CFP"),
        (999, f"999{NBSP}F{NBSP}CFP"),
        (1000, f"1{NNBSP}000{NBSP}F{NBSP}CFP"),
        (1234567, f"1{NNBSP}234{NNBSP}567{NBSP}F{NBSP}CFP"),
        (-1234567, f"-1{NNBSP}234{NNBSP}567{NBSP}F{NBSP}CFP"),
        (-5, f"-5{NBSP}F{NBSP}CFP"),
        (12_345_678_901, f"12{NNBSP}345{NNBSP}678{NNBSP}901{NBSP}F{NBSP}CFP"),
        (-3_000_000_000, f"-3{NNBSP}000{NNBSP}000{NNBSP}000{NBSP}F{NBSP}CFP"),
    ],
)
def test_filter_groups_thousands_and_names_the_currency(amount, expected):
    assert render(amount) == expected


@pytest.mark.parametrize("empty", [None, ""])
def test_filter_shows_a_dash_for_an_empty_amount(empty):
    assert render(empty) == "—"


def test_filter_shows_zero_as_zero_not_as_empty():
    assert render(0) != EMPTY


def test_filter_rounds_a_decimal_to_the_franc_half_away_from_zero():
    assert render(Decimal("1234.5")) == f"1{NNBSP}235{NBSP}F{NBSP}CFP"
    assert render(Decimal("-1234.5")) == f"-1{NNBSP}235{NBSP}F{NBSP}CFP"
    assert render(Decimal("1234.49")) == f"1{NNBSP}234{NBSP}F{NBSP}CFP"


def test_filter_reads_digits_given_as_text():
    assert render("2500000") == f"2{NNBSP}500{NNBSP}000{NBSP}F{NBSP}CFP"


def test_filter_keeps_text_that_is_not_a_number_visible():
    assert render("à définir") == "à définir"


def test_filter_never_shows_a_boolean_as_an_amount():
    assert render(True) == "True"


def test_filter_output_is_escaped_like_any_text():
    assert render("<b>") == "&lt;b&gt;"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_formatting_keeps_every_digit_and_the_sign(amount):
    text = format_xpf(amount)
    assert text.endswith(CURRENCY_SUFFIX)
    figure = text.removesuffix(CURRENCY_SUFFIX)
    assert int(figure.replace(THOUSANDS_SEPARATOR, "")) == amount
    # Groups of three digits after the first one.
    groups = figure.lstrip("-").split(THOUSANDS_SEPARATOR)
    assert 1 <= len(groups[0]) <= 3
    assert all(len(group) == 3 for group in groups[1:])


# --- Reading what people type or spreadsheets hold ----------------------------


@pytest.mark.parametrize(
    ("value", "francs"),
    [
        (1234567, 1234567),
        ("1 234 567", 1234567),
        ("1\u202f234\u202f567", 1234567),
        ("-50 000", -50000),
        (12000000.0, 12000000),
        ("", None),
        (None, None),
        ("   ", None),
        ("250 000,00", 250000),
        ("250000.0", 250000),
    ],
)
def test_an_amount_is_read_in_whole_francs(value, francs):
    assert parse_francs(value) == francs


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12.5, "Le montant doit être un nombre entier de francs."),
        ("12,5", "Le montant doit être un nombre entier de francs."),
        ("1 234.56", "Le montant doit être un nombre entier de francs."),
        ("douze", "Le montant n’est pas un nombre : « douze »."),
        ("12 F", "Le montant n’est pas un nombre : « 12 F »."),
        ("1e6", "Le montant n’est pas un nombre : « 1e6 »."),
        (True, "Le montant n’est pas un nombre."),
        (datetime.datetime(2026, 1, 1), "Le montant n’est pas un nombre."),
    ],
)
def test_decimals_and_text_are_refused_as_amounts(value, message):
    with pytest.raises(ValidationError) as error:
        parse_francs(value)
    assert error.value.messages == [message]
