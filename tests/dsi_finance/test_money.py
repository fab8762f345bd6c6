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

NB = "\u00a0"  # no-break space of French punctuation (before : ; ? and inside « »)
THOUSANDS_HINT = "(milliers séparés par des espaces, des points ou des apostrophes)"
GROUPS_HINT = (
    "Groupez les milliers par 3 chiffres (250 000, 250.000 ou 250’000) ou tapez les "
    "chiffres seuls (250000)."
)


def fraction(value, number, whole, thousands=None):
    hint = f"tapez {whole} ou {thousands} {THOUSANDS_HINT}." if thousands else f"tapez {whole}."
    return (
        f"Le montant «{NB}{value}{NB}»{NB}: {number} francs{NB}? "
        f"Le franc CFP n’a pas de décimales{NB}; {hint}"
    )


@pytest.mark.parametrize(
    ("value", "francs"),
    [
        (1234567, 1234567),
        ("250000", 250000),
        ("250 000", 250000),
        ("250\t000", 250000),
        ("250\u00a0000", 250000),
        ("250\u202f000", 250000),
        ("250\u2009000", 250000),
        ("250  000", 250000),
        ("250.000", 250000),
        ("250'000", 250000),
        ("250\u2019000", 250000),
        ("1 234 567", 1234567),
        ("1.234.567", 1234567),
        ("1'234'567", 1234567),
        ("1\u202f234\u202f567", 1234567),
        ("  250 000  ", 250000),
        ("-50 000", -50000),
        ("-50.000", -50000),
        ("- 50 000", -50000),
        ("+50 000", 50000),
        ("\u221250 000", -50000),
        ("0", 0),
        ("999", 999),
        (12000000.0, 12000000),
        (Decimal("250000"), 250000),
        ("250 000,00", 250000),
        ("250,00", 250),
        ("250,0", 250),
        ("1.000,00", 1000),
        ("", None),
        (None, None),
        ("   ", None),
    ],
)
def test_an_amount_is_read_in_whole_francs(value, francs):
    assert parse_francs(value) == francs


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # A real fraction: what was understood, what to type.
        ("250.5", fraction("250.5", "250,5", "250", f"250{NNBSP}000")),
        ("250.50", fraction("250.50", "250,50", "250", f"250{NNBSP}000")),
        # A dot groups thousands: 250.00 may be 250 as well as a mistyped 250.000.
        ("250.00", fraction("250.00", "250,00", "250", f"250{NNBSP}000")),
        ("1.000.00", fraction("1.000.00", f"1{NNBSP}000,00", f"1{NNBSP}000")),
        ("250000.0", fraction("250000.0", f"250{NNBSP}000,0", f"250{NNBSP}000")),
        ("1 234.56", fraction("1 234.56", f"1{NNBSP}234,56", f"1{NNBSP}234")),
        ("1 000,50", fraction("1 000,50", f"1{NNBSP}000,50", f"1{NNBSP}000")),
        ("12,5", fraction("12,5", "12,5", "12")),
        ("-0,5", fraction("-0,5", "-0,5", "0")),
        (12.5, fraction("12.5", "12,5", "12")),
        (Decimal("99.9"), fraction("99.9", "99,9", "99")),
        # Misgrouped figures.
        (
            "12.34.567",
            f"Le montant «{NB}12.34.567{NB}»{NB}: montant peu clair, «{NB}34{NB}» n’est "
            f"pas un groupe de 3 chiffres. {GROUPS_HINT}",
        ),
        (
            "250 00",
            f"Le montant «{NB}250 00{NB}»{NB}: montant peu clair, «{NB}00{NB}» n’est "
            f"pas un groupe de 3 chiffres. {GROUPS_HINT}",
        ),
        (
            "2500.000",
            f"Le montant «{NB}2500.000{NB}»{NB}: montant peu clair, «{NB}2500{NB}» a plus "
            f"de 3 chiffres avant un séparateur de milliers. {GROUPS_HINT}",
        ),
        # Mixed separators: 1 000.000 could be 1 000 000 or 1 000,000.
        (
            "1 000.000",
            f"Le montant «{NB}1 000.000{NB}»{NB}: montant ambigu, il mêle plusieurs "
            f"séparateurs de milliers (espace, point). N’en utilisez qu’un{NB}: 250 000, "
            "250.000 ou 250’000.",
        ),
        (
            "1'000.000",
            f"Le montant «{NB}1'000.000{NB}»{NB}: montant ambigu, il mêle plusieurs "
            f"séparateurs de milliers (point, apostrophe). N’en utilisez qu’un{NB}: 250 000, "
            "250.000 ou 250’000.",
        ),
        # A comma then 3 digits: English thousands or French decimals?
        (
            "250,000",
            f"Le montant «{NB}250,000{NB}»{NB}: 250{NNBSP}000 ou 250 francs{NB}? En "
            f"français, la virgule marque les décimales{NB}; tapez 250{NNBSP}000 "
            f"{THOUSANDS_HINT}.",
        ),
        (
            "1,000,000",
            f"Le montant «{NB}1,000,000{NB}»{NB}: 1{NNBSP}000{NNBSP}000 francs{NB}? En "
            f"français, la virgule marque les décimales{NB}; tapez 1{NNBSP}000{NNBSP}000 "
            f"{THOUSANDS_HINT}.",
        ),
        # Not a number at all.
        ("douze", "Le montant n’est pas un nombre : « douze »."),
        ("12 F", "Le montant n’est pas un nombre : « 12 F »."),
        ("1e6", "Le montant n’est pas un nombre : « 1e6 »."),
        ("250.", "Le montant n’est pas un nombre : « 250. »."),
        (",5", "Le montant n’est pas un nombre : « ,5 »."),
        ("--5", "Le montant n’est pas un nombre : « --5 »."),
        (True, "Le montant n’est pas un nombre."),
        (float("nan"), "Le montant n’est pas un nombre."),
        (datetime.datetime(2026, 1, 1), "Le montant n’est pas un nombre."),
    ],
)
def test_decimals_ambiguities_and_text_are_refused_with_what_was_understood(value, message):
    with pytest.raises(ValidationError) as error:
        parse_francs(value)
    assert error.value.messages == [message]


def test_the_message_names_the_amount_it_refuses():
    with pytest.raises(ValidationError) as error:
        parse_francs("250.5", label="Le prix unitaire")
    assert error.value.messages[0].startswith(f"Le prix unitaire «{NB}250.5{NB}»")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_every_way_of_grouping_thousands_reads_back_the_same_francs(amount):
    grouped = f"{abs(amount):,}"
    sign = "-" if amount < 0 else ""
    for separator in (" ", ".", "'", "\u2019", "\u00a0", "\u202f", "\u2009"):
        assert parse_francs(sign + grouped.replace(",", separator)) == amount
    assert parse_francs(format_xpf(amount).removesuffix(CURRENCY_SUFFIX)) == amount
