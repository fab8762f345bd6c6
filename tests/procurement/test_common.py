"""The shared procurement helpers: numbering, quantities, amounts, TGC rates."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from procurement.models import DocumentSequence, TaxRate
from procurement.services.common import (
    ProcurementError,
    document_totals,
    line_amount,
    next_number,
    resolve_tax_rate,
    round_francs,
    validate_quantity,
    validate_text,
)
from tests.procurement.factories import ensure_tax_rates

pytestmark = pytest.mark.django_db


def test_numbers_follow_each_other_per_kind_and_year():
    with transaction.atomic():
        first = next_number("BC", 2026)
        second = next_number("BC", 2026)
        other_kind = next_number("FA", 2026)
        other_year = next_number("BC", 2027)
    assert (first, second) == ("BC-2026-00001", "BC-2026-00002")
    assert other_kind == "FA-2026-00001"
    assert other_year == "BC-2027-00001"


def test_a_rolled_back_creation_gives_its_number_back():
    with transaction.atomic():
        assert next_number("DA", 2026) == "DA-2026-00001"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number("DA", 2026) == "DA-2026-00002"
        raise RuntimeError("the document could not be saved")
    with transaction.atomic():
        assert next_number("DA", 2026) == "DA-2026-00002"
    assert DocumentSequence.objects.get(kind="DA", year=2026).last == 2


@pytest.mark.django_db(transaction=True)
def test_a_number_is_only_given_inside_the_creating_transaction():
    with pytest.raises(RuntimeError):
        next_number("DA", 2026)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2", Decimal("2.000")),
        ("1,5", Decimal("1.500")),
        (" 0.125 ", Decimal("0.125")),
        (3, Decimal("3.000")),
    ],
)
def test_quantities_accept_decimals_as_people_type_them(typed, expected):
    assert validate_quantity(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "supérieure à zéro"),
        ("0", "supérieure à zéro"),
        ("abc", "doit être un nombre"),
        (1.5, "doit être un nombre"),
        (None, "doit être un nombre"),
        (True, "doit être un nombre"),
        ("1.0001", "trois décimales"),
        ("1e30", "absurde"),
        ("NaN", "doit être un nombre"),
    ],
)
def test_bad_quantities_are_refused_in_french(typed, message):
    with pytest.raises(ProcurementError) as error:
        validate_quantity(typed)
    assert message in " ".join(error.value.messages)


def test_text_is_stripped_required_and_bounded():
    assert validate_text("  Licences  ", label="L’objet", max_length=20) == "Licences"
    with pytest.raises(ProcurementError, match="obligatoire"):
        validate_text("   ", label="L’objet", max_length=20)
    with pytest.raises(ProcurementError, match="trop long"):
        validate_text("x" * 21, label="L’objet", max_length=20)


def test_line_amounts_are_rounded_half_up_to_the_franc():
    assert line_amount(Decimal("2.5"), 15_001) == 37_503  # 37 502,5 -> 37 503
    assert line_amount(Decimal("0.333"), 1_000) == 333
    assert line_amount(Decimal("3"), 0) == 0
    assert round_francs(Decimal("-0.5")) == -1


def test_an_absurd_line_amount_is_refused():
    with pytest.raises(ProcurementError, match="absurde"):
        line_amount(Decimal("1000000"), 10**9)


def test_tgc_is_computed_per_rate_on_the_sum_of_its_lines():
    totals = document_totals(
        [
            (100_003, Decimal("22")),
            (200_001, Decimal("22")),
            (50_000, Decimal("11")),
            (7, Decimal("0")),
        ]
    )
    assert [(line.rate, line.base, line.tax) for line in totals.by_rate] == [
        (Decimal("22"), 300_004, 66_001),  # 66 000,88 -> 66 001, not 22 001 + 44 000
        (Decimal("11"), 50_000, 5_500),
        (Decimal("0"), 7, 0),
    ]
    assert (totals.ht, totals.tax, totals.ttc) == (350_011, 71_501, 421_512)


def test_no_lines_make_zero_totals():
    assert document_totals([]).ttc == 0


def test_the_reference_tgc_rates_are_in_the_database():
    rates = sorted(TaxRate.objects.values_list("rate", flat=True))
    assert rates == [Decimal(r) for r in ("0", "3", "6", "11", "22")]


def test_a_tgc_rate_is_found_by_percentage_id_or_object():
    rates = ensure_tax_rates()
    on = date(2026, 5, 1)
    assert resolve_tax_rate("22", on=on) == rates["22"]
    assert resolve_tax_rate("11,00 %", on=on) == rates["11"]
    assert resolve_tax_rate(Decimal("6"), on=on) == rates["6"]
    assert resolve_tax_rate(rates["3"], on=on) == rates["3"]


@pytest.mark.parametrize("rate", ["19.6", "abc", "", True])
def test_an_unknown_tgc_rate_is_refused_in_french(rate):
    ensure_tax_rates()
    with pytest.raises(ProcurementError) as error:
        resolve_tax_rate(rate, on=date(2026, 5, 1))
    assert "Taux de TGC inconnu" in " ".join(error.value.messages)


def test_a_tgc_rate_applies_only_within_its_dates():
    old = TaxRate.objects.create(
        rate=Decimal("5"),
        label="Ancien taux",
        valid_from=date(2018, 10, 1),
        valid_until=date(2019, 12, 31),
    )
    assert resolve_tax_rate("5", on=date(2019, 6, 1)) == old
    with pytest.raises(ProcurementError, match="01/01/2020"):
        resolve_tax_rate("5", on=date(2020, 1, 1))
    with pytest.raises(ProcurementError):
        resolve_tax_rate("22", on=date(2018, 9, 30))  # before the TGC
